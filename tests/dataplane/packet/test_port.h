// The port every packet test configures: our MAC (kOurMac) and served addresses 198.18.0.53,
// 198.18.1.53 and 2001:2::53, and a Classify() that hands ClassifyFrame an exactly sized heap
// copy of the frame, so that AddressSanitizer reports any read past its end.
#pragma once

#include <gtest/gtest.h>

#include <cstring>
#include <memory>

#include "dataplane/packet/frame.h"
#include "dataplane/packet/mac_address.h"
#include "dataplane/packet/served_addresses.h"
#include "records/ip_address.h"
#include "tests/dataplane/packet/frame_builder.h"

namespace clusterdns::testing {

inline dataplane::MacAddress OurMac() { return dataplane::MacAddress(kOurMac.data()); }

inline const dataplane::ServedAddresses& Served() {
  static const dataplane::ServedAddresses* served = [] {
    auto s = dataplane::ServedAddresses::Create({*records::IpAddress::Parse("198.18.0.53"),
                                                 *records::IpAddress::Parse("198.18.1.53"),
                                                 *records::IpAddress::Parse("2001:2::53")});
    if (!s.ok()) std::abort();
    return new dataplane::ServedAddresses(*s);
  }();
  return *served;
}

// The first `len` bytes of `frame` (all of it by default) classified from a buffer of exactly
// that size.
inline dataplane::ParsedFrame Classify(const Bytes& frame, size_t len = SIZE_MAX) {
  len = std::min(len, frame.size());
  std::unique_ptr<uint8_t[]> exact(new uint8_t[len]);
  if (len > 0) std::memcpy(exact.get(), frame.data(), len);
  return dataplane::ClassifyFrame(exact.get(), len, OurMac(), Served());
}

}  // namespace clusterdns::testing
