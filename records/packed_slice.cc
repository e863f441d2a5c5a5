// PackSliceContent / UnpackSliceContent: see packed_slice.h. Layout (counts and lengths as
// LEB128 varints):
//   address_type:u8  endpoints:n  { conditions:u8  addresses:n { family:u8 bytes[4|16] }
//                                   hostname:n bytes }
//   ports:n { protocol:u8  has_port:u8  port:u16le  name:n bytes }
// conditions: two bits each for ready, serving, terminating: 0 absent, 1 false, 2 true.
#include "records/packed_slice.h"

#include <cstdint>

namespace clusterdns::records {
namespace {

void PutVarint(uint64_t v, std::string* out) {
  while (v >= 0x80) {
    out->push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out->push_back(static_cast<char>(v));
}

void PutString(std::string_view s, std::string* out) {
  PutVarint(s.size(), out);
  out->append(s);
}

uint8_t Condition(const std::optional<bool>& c) { return c ? (*c ? 2 : 1) : 0; }

std::optional<bool> ConditionFrom(uint8_t bits) {
  if (bits == 0) return std::nullopt;
  return bits == 2;
}

// Reads what PutVarint / PutString wrote, from a string PackSliceContent made.
class Reader {
 public:
  explicit Reader(std::string_view data) : data_(data) {}
  uint8_t Byte() { return pos_ < data_.size() ? static_cast<uint8_t>(data_[pos_++]) : 0; }
  uint64_t Varint() {
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      const uint8_t b = Byte();
      v |= uint64_t{b & 0x7fu} << shift;
      if ((b & 0x80) == 0) break;
    }
    return v;
  }
  std::string_view Bytes(size_t n) {
    n = std::min(n, data_.size() - pos_);
    std::string_view out = data_.substr(pos_, n);
    pos_ += n;
    return out;
  }

 private:
  std::string_view data_;
  size_t pos_ = 0;
};

}  // namespace

std::string PackSliceContent(const EndpointSlice& slice) {
  std::string out;
  out.push_back(static_cast<char>(slice.address_type));
  PutVarint(slice.endpoints.size(), &out);
  for (const Endpoint& ep : slice.endpoints) {
    out.push_back(static_cast<char>(Condition(ep.ready) | Condition(ep.serving) << 2 |
                                    Condition(ep.terminating) << 4));
    PutVarint(ep.addresses.size(), &out);
    for (const IpAddress& ip : ep.addresses) {
      out.push_back(static_cast<char>(ip.family()));
      out.append(reinterpret_cast<const char*>(ip.bytes()), ip.size());
    }
    PutString(ep.hostname, &out);
  }
  PutVarint(slice.ports.size(), &out);
  for (const EndpointPort& port : slice.ports) {
    out.push_back(static_cast<char>(port.protocol));
    out.push_back(port.port.has_value() ? 1 : 0);
    const uint16_t number = port.port.value_or(0);
    out.push_back(static_cast<char>(number & 0xff));
    out.push_back(static_cast<char>(number >> 8));
    PutString(port.name, &out);
  }
  return out;
}

void UnpackSliceContent(std::string_view packed, EndpointSlice* out) {
  Reader in(packed);
  out->address_type = static_cast<AddressType>(in.Byte());
  out->endpoints.clear();
  out->endpoints.resize(in.Varint());
  for (Endpoint& ep : out->endpoints) {
    const uint8_t conditions = in.Byte();
    ep.ready = ConditionFrom(conditions & 3);
    ep.serving = ConditionFrom((conditions >> 2) & 3);
    ep.terminating = ConditionFrom((conditions >> 4) & 3);
    ep.addresses.resize(in.Varint());
    for (IpAddress& ip : ep.addresses) {
      const uint8_t family = in.Byte();
      const std::string_view bytes = in.Bytes(family == 6 ? 16 : 4);
      uint8_t raw[16] = {};
      std::copy(bytes.begin(), bytes.end(), raw);
      ip = family == 6 ? IpAddress::V6(raw) : IpAddress::V4(raw);
    }
    ep.hostname = std::string(in.Bytes(in.Varint()));
  }
  out->ports.clear();
  out->ports.resize(in.Varint());
  for (EndpointPort& port : out->ports) {
    port.protocol = static_cast<Protocol>(in.Byte());
    const bool has_port = in.Byte() != 0;
    const uint16_t lo = in.Byte();
    const uint16_t hi = in.Byte();
    port.port = has_port ? std::optional<uint16_t>(static_cast<uint16_t>(lo | hi << 8)) : std::nullopt;
    port.name = std::string(in.Bytes(in.Varint()));
  }
}

}  // namespace clusterdns::records
