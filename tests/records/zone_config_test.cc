// ServedZones::FindZone: the most specific zone, with or without nesting, whatever the hint.
#include "records/zone_config.h"

#include <gtest/gtest.h>

#include "records/wire_name.h"

namespace clusterdns::records {
namespace {

std::string Wire(std::string_view text) { return *FoldedWireFromText(text); }

TEST(ServedZones, FindZoneWithoutNestingTakesTheOnlyMatchWhateverTheHint) {
  ZoneConfig config;
  config.service_cidrs = {*IpPrefix::Parse("10.96.0.0/12")};
  ServedZones zones = *ServedZones::FromConfig(config);
  EXPECT_FALSE(zones.nested);
  const int cluster = zones.FindZone(Wire("cluster.local"));
  ASSERT_EQ(cluster, 0);
  const int rev = zones.FindZone(Wire("1.0.100.10.in-addr.arpa"));
  ASSERT_GT(rev, 0);
  EXPECT_EQ(zones.zones[rev].apex, Wire("100.10.in-addr.arpa"));
  for (int hint : {-1, 0, rev, rev + 1, 1000}) {
    EXPECT_EQ(zones.FindZone(Wire("a.b.svc.cluster.local"), hint), cluster) << hint;
    EXPECT_EQ(zones.FindZone(Wire("1.0.100.10.in-addr.arpa"), hint), rev) << hint;
    EXPECT_EQ(zones.FindZone(Wire("example.com"), hint), -1) << hint;
    // A label boundary matters: "xcluster.local" is not under "cluster.local".
    EXPECT_EQ(zones.FindZone(Wire("xcluster.local"), hint), -1) << hint;
  }
}

TEST(ServedZones, NestedZonesPickTheMostSpecificEvenWithAHint) {
  ZoneConfig config;
  config.domains = {"cluster.local", "east.cluster.local"};
  ServedZones zones = *ServedZones::FromConfig(config);
  EXPECT_TRUE(zones.nested);
  for (int hint : {-1, 0, 1}) {
    EXPECT_EQ(zones.FindZone(Wire("a.east.cluster.local"), hint), 1) << hint;
    EXPECT_EQ(zones.FindZone(Wire("a.west.cluster.local"), hint), 0) << hint;
  }
}

}  // namespace
}  // namespace clusterdns::records
