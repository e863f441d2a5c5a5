// DNS protocol numbers used across clusterdns (RFC 1035, 3596, 2782, 6891, 8482). Host byte order;
// the wire helpers in wire_header.h convert. No logic here.
#pragma once

#include <cstddef>
#include <cstdint>

namespace clusterdns::records {

// Resource record types (RFC 1035 3.2.2, RFC 3596, RFC 2782, RFC 6891).
inline constexpr uint16_t kTypeA = 1;
inline constexpr uint16_t kTypeNs = 2;
inline constexpr uint16_t kTypeCname = 5;
inline constexpr uint16_t kTypeSoa = 6;
inline constexpr uint16_t kTypePtr = 12;
inline constexpr uint16_t kTypeHinfo = 13;
inline constexpr uint16_t kTypeTxt = 16;
inline constexpr uint16_t kTypeAaaa = 28;
inline constexpr uint16_t kTypeSrv = 33;
inline constexpr uint16_t kTypeOpt = 41;
inline constexpr uint16_t kTypeTkey = 249;
inline constexpr uint16_t kTypeTsig = 250;
inline constexpr uint16_t kTypeIxfr = 251;
inline constexpr uint16_t kTypeAxfr = 252;
inline constexpr uint16_t kTypeMailb = 253;
inline constexpr uint16_t kTypeMaila = 254;
inline constexpr uint16_t kTypeAny = 255;

inline constexpr uint16_t kClassIn = 1;

// Response codes. kRcodeBadVers (16) does not fit the header's 4 bits: it is carried as
// extended rcode 1 in the OPT record with header rcode 0 (RFC 6891 6.1.3).
inline constexpr uint8_t kRcodeNoError = 0;
inline constexpr uint8_t kRcodeFormErr = 1;
inline constexpr uint8_t kRcodeServFail = 2;
inline constexpr uint8_t kRcodeNxDomain = 3;
inline constexpr uint8_t kRcodeNotImp = 4;
inline constexpr uint8_t kRcodeRefused = 5;
inline constexpr uint16_t kRcodeBadVers = 16;

inline constexpr uint8_t kOpcodeQuery = 0;

// Sizes and limits (RFC 1035 2.3.4, RFC 6891, DNS flag day 2020).
inline constexpr size_t kHeaderSize = 12;
inline constexpr size_t kMaxNameWireLength = 255;
inline constexpr size_t kMaxLabelLength = 63;
inline constexpr size_t kMaxUdpPayloadWithoutEdns = 512;
// The EDNS buffer size we advertise and the cap on what a client may ask for: 1232 avoids IP
// fragmentation on every path with an MTU of at least 1280 (DNS flag day 2020).
inline constexpr uint16_t kEdnsUdpPayloadSize = 1232;
inline constexpr size_t kMaxMessageSize = 65535;  // TCP frames carry a 16-bit length.
inline constexpr size_t kOptRecordSize = 11;      // root owner, type, class, ttl, rdlen = 0

// Header flag bits in the 16-bit flags word (host order).
inline constexpr uint16_t kFlagQr = 0x8000;
inline constexpr uint16_t kFlagAa = 0x0400;
inline constexpr uint16_t kFlagTc = 0x0200;
inline constexpr uint16_t kFlagRd = 0x0100;
inline constexpr uint16_t kFlagRa = 0x0080;
inline constexpr uint16_t kFlagAd = 0x0020;
inline constexpr uint16_t kFlagCd = 0x0010;
inline constexpr uint16_t kOpcodeMask = 0x7800;
inline constexpr int kOpcodeShift = 11;
inline constexpr uint16_t kRcodeMask = 0x000f;

// EDNS flags in the OPT TTL field's low 16 bits.
inline constexpr uint16_t kEdnsFlagDo = 0x8000;

}  // namespace clusterdns::records
