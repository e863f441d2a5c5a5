// PackSliceContent / UnpackSliceContent: every field of an EndpointSlice's DNS content survives
// the round trip (absent conditions stay absent, absent ports stay absent, IPv6, hostnames, many
// endpoints), and equal content packs to equal bytes while any difference shows.
#include "records/packed_slice.h"

#include <gtest/gtest.h>

namespace clusterdns::testing {
namespace {

using records::EndpointSlice;

EndpointSlice Sample() {
  EndpointSlice s;
  s.ns = "default";
  s.name = "web-abcde";
  s.service_name = "web";
  s.address_type = records::AddressType::kIPv6;
  for (int i = 0; i < 300; ++i) {  // > 127: counts take two varint bytes
    records::Endpoint ep;
    uint8_t v6[16] = {0x20, 0x01, 0x00, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
                      static_cast<uint8_t>(i >> 8), static_cast<uint8_t>(i)};
    ep.addresses = {*records::IpAddress::Parse("198.18.0.7"), records::IpAddress::V6(v6)};
    if (i % 3 == 0) ep.ready = i % 2 == 0;
    if (i % 5 == 0) ep.serving = true;
    if (i % 7 == 0) ep.terminating = false;
    if (i % 4 == 0) ep.hostname = std::string(i % 64, 'h');
    s.endpoints.push_back(ep);
  }
  s.ports = {{"http", records::Protocol::kTcp, 80},
             {"", records::Protocol::kUdp, 65535},
             {"all", records::Protocol::kSctp, std::nullopt}};
  return s;
}

TEST(PackedSlice, RoundTripKeepsEveryField) {
  const EndpointSlice in = Sample();
  EndpointSlice out;
  records::UnpackSliceContent(records::PackSliceContent(in), &out);
  EXPECT_EQ(out.address_type, in.address_type);
  EXPECT_EQ(out.endpoints, in.endpoints);
  EXPECT_EQ(out.ports, in.ports);
  EXPECT_FALSE(out.endpoints[1].ready.has_value());
  EXPECT_EQ(out.endpoints[3].ready, std::optional<bool>(false));
  EXPECT_FALSE(out.ports[2].port.has_value());
}

TEST(PackedSlice, EmptySliceRoundTrips) {
  EndpointSlice in;
  in.address_type = records::AddressType::kFqdn;
  EndpointSlice out = Sample();
  records::UnpackSliceContent(records::PackSliceContent(in), &out);
  EXPECT_EQ(out.address_type, records::AddressType::kFqdn);
  EXPECT_TRUE(out.endpoints.empty());
  EXPECT_TRUE(out.ports.empty());
}

TEST(PackedSlice, EqualContentPacksEquallyAndAnyDifferenceShows) {
  const EndpointSlice a = Sample();
  EndpointSlice b = Sample();
  b.name = "other-name";  // not DNS content of the slice itself
  EXPECT_TRUE(records::PackSliceContent(a) == records::PackSliceContent(b));
  b = Sample();
  b.endpoints[42].terminating = true;
  EXPECT_TRUE(records::PackSliceContent(a) != records::PackSliceContent(b));
  b = Sample();
  b.endpoints[9].ready = std::nullopt;  // absent is not false
  EXPECT_TRUE(records::PackSliceContent(a) != records::PackSliceContent(b));
  b = Sample();
  b.ports[1].port = 65534;
  EXPECT_TRUE(records::PackSliceContent(a) != records::PackSliceContent(b));
  b = Sample();
  b.endpoints[8].hostname += "x";
  EXPECT_TRUE(records::PackSliceContent(a) != records::PackSliceContent(b));
}

}  // namespace
}  // namespace clusterdns::testing
