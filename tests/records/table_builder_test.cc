// TableBuilder: incremental rebuilds touch only the shards a change reaches, answers follow
// every change, and TablePublisher frees an old table only after its readers moved on.
#include "records/table_builder.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <thread>

#include "records/dns_constants.h"
#include "records/name_hash.h"
#include "records/table_publisher.h"
#include "records/wire_name.h"
#include "tests/records/kube_dns_cluster.h"
#include "tests/records/responder.h"

namespace clusterdns::testing {
namespace {

using records::kRcodeNoError;
using records::kRcodeNxDomain;
using ::testing::ElementsAre;
using ::testing::UnorderedElementsAre;

std::unique_ptr<records::TableBuilder> ManyServices(size_t n, int shard_bits) {
  auto builder = std::move(*records::TableBuilder::Create(KubeDnsConfig(), shard_bits));
  for (size_t i = 0; i < n; ++i) {
    uint8_t b[4] = {10, 254, static_cast<uint8_t>(100 + i / 250), static_cast<uint8_t>(i % 250)};
    builder->UpsertService(ClusterIpService("ns", ("svc-" + std::to_string(i)).c_str(),
                                            {records::IpAddress::V4(b)},
                                            {{"http", records::Protocol::kTcp, 80}}));
  }
  return builder;
}

TEST(TableBuilder, OneChangeRebuildsOnlyTouchedShards) {
  auto builder = ManyServices(2000, 8);
  auto before = builder->Build();
  ASSERT_EQ(before->shard_count(), 256u);
  builder->UpsertService(ClusterIpService("ns", "svc-7", {Ip("10.254.50.50")},
                                          {{"http", records::Protocol::kTcp, 81}}));
  auto after = builder->Build();
  const size_t rebuilt = builder->last_build_stats().shards_rebuilt;
  EXPECT_GT(rebuilt, 0u);
  EXPECT_LE(rebuilt, 16u);  // the Service's names, its old and new PTR
  size_t shared = 0;
  for (size_t s = 0; s < after->shard_count(); ++s) shared += after->shard(s) == before->shard(s);
  EXPECT_EQ(shared, after->shard_count() - rebuilt);
  // Only the changed Service was compiled again: the other entries of its shards were copied.
  EXPECT_EQ(builder->last_build_stats().services_compiled, 1u);
  EXPECT_THAT(AnswerTexts(Ask(*after, "svc-7.ns.svc.cluster.local", records::kTypeA).message),
              ElementsAre("svc-7.ns.svc.cluster.local. 30 IN A 10.254.50.50"));
  EXPECT_EQ(Ask(*after, "50.50.254.10.in-addr.arpa", records::kTypePtr).message.answer.size(), 1u);
  EXPECT_EQ(Ask(*after, "7.100.254.10.in-addr.arpa", records::kTypePtr).message.rcode, kRcodeNxDomain);
  // The old table is unchanged.
  EXPECT_THAT(AnswerTexts(Ask(*before, "svc-7.ns.svc.cluster.local", records::kTypeA).message),
              ElementsAre("svc-7.ns.svc.cluster.local. 30 IN A 10.254.100.7"));
  // Every other Service still answers.
  for (int i : {0, 1, 500, 1999}) {
    std::string name = "svc-" + std::to_string(i) + ".ns.svc.cluster.local";
    EXPECT_EQ(Ask(*after, name, records::kTypeA).message.answer.size(), 1u) << name;
  }
}

TEST(TableBuilder, NothingChangedReturnsTheSameTable) {
  auto builder = KubeDnsBuilder();
  auto a = builder->Build();
  auto b = builder->Build();
  EXPECT_EQ(a, b);
}

TEST(TableBuilder, UnchangedObjectsRebuildNothing) {
  // A relist delivers every object again; those DNS does not see change (resourceVersion only)
  // must not rebuild anything.
  auto builder = ManyServices(300, 4);
  auto before = builder->Build();
  records::Service relisted = ClusterIpService("ns", "svc-5", {Ip("10.254.100.5")},
                                               {{"http", records::Protocol::kTcp, 80}});
  relisted.resource_version = "999";
  builder->UpsertService(relisted);
  EXPECT_EQ(builder->Build(), before);
  // A real change still rebuilds.
  relisted.ports[0].port = 81;
  builder->UpsertService(relisted);
  EXPECT_NE(builder->Build(), before);
  EXPECT_EQ(builder->last_build_stats().services_compiled, 1u);
}

TEST(TableBuilder, UnchangedSlicesRebuildNothing) {
  auto builder = KubeDnsBuilder();
  auto before = builder->Build();
  for (records::EndpointSlice slice : KubeDnsSlices()) {
    slice.resource_version = "12345";
    builder->UpsertSlice(std::move(slice));
  }
  EXPECT_EQ(builder->Build(), before);
}

TEST(TableBuilder, DeleteAndReAdd) {
  auto builder = KubeDnsBuilder();
  builder->Build();
  builder->DeleteService("default", "redis-master");
  auto gone = builder->Build();
  EXPECT_EQ(Ask(*gone, "redis-master.default.svc.cluster.local", records::kTypeA).message.rcode,
            kRcodeNxDomain);
  EXPECT_EQ(Ask(*gone, "redis-master.default.cluster.local", records::kTypeA).message.rcode,
            kRcodeNxDomain);
  EXPECT_EQ(Ask(*gone, "160.7.254.10.in-addr.arpa", records::kTypePtr).message.rcode, kRcodeNxDomain);
  // default still has Services: its parent name stays.
  EXPECT_EQ(Ask(*gone, "default.svc.cluster.local", records::kTypeA).message.rcode, kRcodeNoError);
  builder->UpsertService(KubeDnsServices()[1]);
  auto back = builder->Build();
  EXPECT_EQ(Ask(*back, "redis-master.default.svc.cluster.local", records::kTypeA).message.answer.size(), 1u);
}

TEST(TableBuilder, LastServiceOfANamespaceRemovesItsParentName) {
  auto builder = KubeDnsBuilder();
  builder->Build();
  EXPECT_EQ(Ask(*builder->Build(), "kube-system.svc.cluster.local", records::kTypeA).message.rcode,
            kRcodeNoError);
  builder->DeleteService("kube-system", "kube-dns");
  auto table = builder->Build();
  EXPECT_EQ(Ask(*table, "kube-system.svc.cluster.local", records::kTypeA).message.rcode, kRcodeNxDomain);
  EXPECT_EQ(Ask(*table, "kube-system.cluster.local", records::kTypeA).message.rcode, kRcodeNxDomain);
  EXPECT_EQ(Ask(*table, "svc.cluster.local", records::kTypeA).message.rcode, kRcodeNoError);
}

// A Service's deep empty non-terminals (_tcp.<svc>.<ns>.svc.<zone>) are entries of its own:
// they come and go with its named ports, in incremental builds too.
TEST(TableBuilder, OwnEmptyNonTerminalsFollowTheService) {
  auto builder = KubeDnsBuilder();
  uint8_t ip[4] = {10, 254, 9, 9};
  builder->UpsertService(ClusterIpService("shop", "cart", {records::IpAddress::V4(ip)},
                                          {{"http", records::Protocol::kTcp, 80}}));
  builder->Build();
  const char* kEnt = "_tcp.cart.shop.svc.cluster.local";
  Asked before = Ask(*builder->Build(), kEnt, records::kTypeA);
  EXPECT_EQ(before.message.rcode, kRcodeNoError);
  EXPECT_TRUE(before.message.answer.empty());
  // An unnamed port has no SRV names: the empty non-terminal goes with them.
  builder->UpsertService(ClusterIpService("shop", "cart", {records::IpAddress::V4(ip)},
                                          {{"", records::Protocol::kTcp, 80}}));
  auto unnamed = builder->Build();
  EXPECT_EQ(Ask(*unnamed, kEnt, records::kTypeA).message.rcode, kRcodeNxDomain);
  EXPECT_EQ(Ask(*unnamed, "cart.shop.svc.cluster.local", records::kTypeA).message.answer.size(), 1u);
  builder->UpsertService(ClusterIpService("shop", "cart", {records::IpAddress::V4(ip)},
                                          {{"grpc", records::Protocol::kUdp, 90}}));
  auto udp = builder->Build();
  EXPECT_EQ(Ask(*udp, "_udp.cart.shop.svc.cluster.local", records::kTypeA).message.rcode,
            kRcodeNoError);
  EXPECT_EQ(Ask(*udp, kEnt, records::kTypeA).message.rcode, kRcodeNxDomain);
  builder->DeleteService("shop", "cart");
  auto gone = builder->Build();
  EXPECT_EQ(Ask(*gone, "_udp.cart.shop.svc.cluster.local", records::kTypeA).message.rcode,
            kRcodeNxDomain);
  EXPECT_EQ(Ask(*gone, "shop.svc.cluster.local", records::kTypeA).message.rcode, kRcodeNxDomain);
}

// One name, two roles: the legacy name of Service "a" in namespace "svc" (a.svc.<zone>) is also
// the parent of every name in namespace "a". Whichever goes first, the other keeps the name.
TEST(TableBuilder, NameThatIsOneServicesRecordsAndAnothersParent) {
  for (bool service_first : {true, false}) {
    records::ZoneConfig config = KubeDnsConfig();
    config.legacy_names = true;
    auto builder = std::move(*records::TableBuilder::Create(config));
    uint8_t a_ip[4] = {10, 254, 1, 1}, x_ip[4] = {10, 254, 1, 2};
    builder->UpsertService(ClusterIpService("svc", "a", {records::IpAddress::V4(a_ip)}, {}));
    builder->UpsertService(ClusterIpService("a", "x", {records::IpAddress::V4(x_ip)}, {}));
    auto both = builder->Build();
    EXPECT_EQ(Ask(*both, "a.svc.cluster.local", records::kTypeA).message.answer.size(), 1u);
    if (service_first) {
      builder->DeleteService("svc", "a");
      Asked parent = Ask(*builder->Build(), "a.svc.cluster.local", records::kTypeA);
      EXPECT_EQ(parent.message.rcode, kRcodeNoError) << "namespace a still has x";
      EXPECT_TRUE(parent.message.answer.empty());
      builder->DeleteService("a", "x");
      EXPECT_EQ(Ask(*builder->Build(), "a.svc.cluster.local", records::kTypeA).message.rcode,
                kRcodeNxDomain);
    } else {
      builder->DeleteService("a", "x");
      EXPECT_EQ(Ask(*builder->Build(), "a.svc.cluster.local", records::kTypeA).message.answer.size(),
                1u);
      builder->DeleteService("svc", "a");
      EXPECT_EQ(Ask(*builder->Build(), "a.svc.cluster.local", records::kTypeA).message.rcode,
                kRcodeNxDomain);
    }
  }
}

// A completed listing deletes what its source delivered before it and not in it, and nothing
// that another source (or a later listing) delivered.
TEST(TableBuilder, DeleteNotInListingKeepsOtherSourcesAndTheListingsOwn) {
  auto builder = std::move(*records::TableBuilder::Create(KubeDnsConfig()));
  auto service = [](const char* name, uint8_t last) {
    uint8_t ip[4] = {10, 254, 3, last};
    return ClusterIpService("ns", name, {records::IpAddress::V4(ip)}, {});
  };
  builder->UpsertService(service("old", 1), {/*source=*/0, /*listing=*/1});
  builder->UpsertService(service("kept", 2), {0, 1});
  builder->UpsertService(service("other", 3), {1, 1});
  builder->UpsertService(service("moved", 4), {0, 1});
  builder->UpsertService(service("moved", 4), {1, 1});  // now source 1's
  builder->UpsertService(service("kept", 2), {0, 2});  // unchanged content, listing 2
  EXPECT_EQ(builder->DeleteServicesNotIn({0, 2}), 1u);
  auto table = builder->Build();
  EXPECT_EQ(Ask(*table, "old.ns.svc.cluster.local", records::kTypeA).message.rcode, kRcodeNxDomain);
  for (const char* name : {"kept", "other", "moved"}) {
    EXPECT_EQ(Ask(*table, std::string(name) + ".ns.svc.cluster.local", records::kTypeA)
                  .message.answer.size(), 1u) << name;
  }
  records::EndpointSlice slice;
  slice.ns = "ns";
  slice.name = "s1";
  builder->UpsertSlice(slice, {0, 1});
  slice.name = "s2";
  builder->UpsertSlice(slice, {0, 2});
  EXPECT_EQ(builder->DeleteSlicesNotIn({0, 2}), 1u);
  EXPECT_EQ(builder->DeleteSlicesNotIn({0, 2}), 0u);
}

TEST(TableBuilder, SliceChangesFollowHeadlessAnswers) {
  auto builder = KubeDnsBuilder();
  builder->Build();
  auto slice = KubeDnsSlices()[0];
  slice.endpoints[0].ready = false;  // 10.244.1.5 leaves
  builder->UpsertSlice(slice);
  auto table = builder->Build();
  EXPECT_THAT(AnswerTexts(Ask(*table, "nginx.default.svc.cluster.local", records::kTypeA).message),
              ElementsAre("nginx.default.svc.cluster.local. 30 IN A 10.244.2.7"));
  builder->DeleteSlice("default", "nginx-abcde");
  table = builder->Build();
  // No ready endpoint at all: the name does not exist.
  EXPECT_EQ(Ask(*table, "nginx.default.svc.cluster.local", records::kTypeA).message.rcode, kRcodeNxDomain);
  EXPECT_EQ(Ask(*table, "_http._tcp.nginx.default.svc.cluster.local", records::kTypeSrv).message.rcode,
            kRcodeNxDomain);
}

TEST(TableBuilder, SliceBeforeServiceAndAddressInTwoSlices) {
  auto builder = std::move(*records::TableBuilder::Create(KubeDnsConfig()));
  auto slice = KubeDnsSlices()[0];
  builder->UpsertSlice(slice);
  auto second = slice;
  second.name = "nginx-fghij";
  second.endpoints = {slice.endpoints[0]};  // 10.244.1.5 again
  builder->UpsertSlice(second);
  builder->Build();
  builder->UpsertService(KubeDnsServices()[2]);  // the headless Service arrives last
  auto table = builder->Build();
  EXPECT_THAT(AnswerTexts(Ask(*table, "nginx.default.svc.cluster.local", records::kTypeA).message),
              UnorderedElementsAre("nginx.default.svc.cluster.local. 30 IN A 10.244.1.5",
                                   "nginx.default.svc.cluster.local. 30 IN A 10.244.2.7"));
}

TEST(TableBuilder, PublishNotReadyAddresses) {
  auto builder = KubeDnsBuilder();
  auto svc = KubeDnsServices()[2];
  svc.publish_not_ready_addresses = true;
  builder->UpsertService(svc);
  auto table = builder->Build();
  EXPECT_EQ(Ask(*table, "nginx.default.svc.cluster.local", records::kTypeA).message.answer.size(), 3u);
}

// A second headless Service, default/nginx-alias, selecting the same pods as default/nginx:
// their endpoints' PTR names have two contributors.
records::Service AddHeadlessTwin(records::TableBuilder& builder) {
  auto other = KubeDnsServices()[2];
  other.name = "nginx-alias";
  builder.UpsertService(other);
  auto slice = KubeDnsSlices()[0];
  slice.name = "nginx-alias-xyz";
  slice.service_name = "nginx-alias";
  builder.UpsertSlice(slice);
  return other;
}

TEST(TableBuilder, SharedPtrNameHasBothTargets) {
  auto builder = KubeDnsBuilder();
  AddHeadlessTwin(*builder);
  auto table = builder->Build();
  EXPECT_THAT(AnswerTexts(Ask(*table, "5.1.244.10.in-addr.arpa", records::kTypePtr).message),
              UnorderedElementsAre(
                  "5.1.244.10.in-addr.arpa. 30 IN PTR 10-244-1-5.nginx.default.svc.cluster.local.",
                  "5.1.244.10.in-addr.arpa. 30 IN PTR 10-244-1-5.nginx-alias.default.svc.cluster.local."));
}

TEST(TableBuilder, SharedNameFollowsEachContributorIncrementally) {
  auto builder = KubeDnsBuilder();
  const records::Service other = AddHeadlessTwin(*builder);
  builder->Build();
  // An unrelated change: the shared PTR entry is copied with both targets.
  builder->UpsertService(ClusterIpService("default", "unrelated", {Ip("10.254.8.8")}, {}));
  auto table = builder->Build();
  EXPECT_EQ(Ask(*table, "5.1.244.10.in-addr.arpa", records::kTypePtr).message.answer.size(), 2u);
  // One contributor goes: the other's target stays.
  builder->DeleteService("default", "nginx-alias");
  table = builder->Build();
  EXPECT_THAT(AnswerTexts(Ask(*table, "5.1.244.10.in-addr.arpa", records::kTypePtr).message),
              ElementsAre("5.1.244.10.in-addr.arpa. 30 IN PTR 10-244-1-5.nginx.default.svc.cluster.local."));
  // And it comes back.
  builder->UpsertService(other);
  table = builder->Build();
  EXPECT_EQ(Ask(*table, "5.1.244.10.in-addr.arpa", records::kTypePtr).message.answer.size(), 2u);
  // A change to one contributor re-renders the name from both.
  auto changed = KubeDnsServices()[2];
  changed.publish_not_ready_addresses = true;
  builder->UpsertService(changed);
  table = builder->Build();
  EXPECT_EQ(Ask(*table, "5.1.244.10.in-addr.arpa", records::kTypePtr).message.answer.size(), 2u);
  EXPECT_EQ(Ask(*table, "nginx.default.svc.cluster.local", records::kTypeA).message.answer.size(), 3u);
}

// Many single changes in a row: the last table answers every name exactly like a table built
// from scratch from the same objects.
TEST(TableBuilder, IncrementalBuildsMatchAFullBuild) {
  auto incremental = ManyServices(300, 4);
  incremental->Build();
  std::map<int, records::Service> live;
  for (int i = 0; i < 300; ++i) {
    uint8_t b[4] = {10, 254, static_cast<uint8_t>(100 + i / 250), static_cast<uint8_t>(i % 250)};
    live[i] = ClusterIpService("ns", ("svc-" + std::to_string(i)).c_str(), {records::IpAddress::V4(b)},
                               {{"http", records::Protocol::kTcp, 80}});
  }
  for (int round = 0; round < 60; ++round) {
    const int i = (round * 37) % 300;
    if (round % 3 == 0) {
      incremental->DeleteService("ns", "svc-" + std::to_string(i));
      live.erase(i);
    } else {
      uint8_t b[4] = {10, 254, 60, static_cast<uint8_t>(round)};
      live[i] = ClusterIpService("ns", ("svc-" + std::to_string(i)).c_str(),
                                 {records::IpAddress::V4(b)}, {{"http", records::Protocol::kTcp, 8080}});
      incremental->UpsertService(live[i]);
    }
    incremental->Build();
  }
  auto table = incremental->Build();
  auto fresh = std::move(*records::TableBuilder::Create(KubeDnsConfig(), 4));
  for (const auto& [i, service] : live) fresh->UpsertService(service);
  auto expected = fresh->Build();
  EXPECT_EQ(table->name_count(), expected->name_count());
  size_t checked = 0;
  for (const records::Record& r : fresh->AllRecords()) {
    if (r.glue_for != 0 || r.type == 0) continue;
    const std::string name = records::TextFromWire(r.owner);
    Asked got = Ask(*table, name, r.type);
    Asked want = Ask(*expected, name, r.type);
    ASSERT_EQ(got.bytes, want.bytes) << name << "\n" << ToText(got.message) << "\n" << ToText(want.message);
    ++checked;
  }
  EXPECT_GT(checked, 1000u);
  // And names that no longer exist are gone from both.
  for (int i = 0; i < 300; i += 3) {
    if (live.count(i)) continue;
    const std::string name = "svc-" + std::to_string(i) + ".ns.svc.cluster.local";
    EXPECT_EQ(Ask(*table, name, records::kTypeA).message.rcode, kRcodeNxDomain) << name;
  }
}

TEST(TableBuilder, GrowsItsShardsAsTheClusterGrows) {
  auto builder = ManyServices(10, -1);
  auto small = builder->Build();
  for (size_t i = 10; i < 3000; ++i) {
    uint8_t b[4] = {10, 254, static_cast<uint8_t>(100 + i / 250), static_cast<uint8_t>(i % 250)};
    builder->UpsertService(ClusterIpService("ns", ("svc-" + std::to_string(i)).c_str(),
                                            {records::IpAddress::V4(b)}, {}));
  }
  auto big = builder->Build();
  EXPECT_GT(big->shard_count(), small->shard_count());
  for (int i : {0, 9, 10, 2999}) {
    std::string name = "svc-" + std::to_string(i) + ".ns.svc.cluster.local";
    EXPECT_EQ(Ask(*big, name, records::kTypeA).message.answer.size(), 1u) << name;
  }
}

TEST(TableBuilder, MalformedServiceIsSkippedAndNamed) {
  auto builder = KubeDnsBuilder();
  auto bad = ClusterIpService("default", "bad.name", {Ip("10.254.1.1")}, {});
  builder->UpsertService(bad);
  auto table = builder->Build();
  auto problems = builder->TakeProblems();
  ASSERT_FALSE(problems.empty());
  EXPECT_THAT(problems[0], ::testing::HasSubstr("default/bad.name"));
  EXPECT_EQ(Ask(*table, "redis-master.default.svc.cluster.local", records::kTypeA).message.answer.size(), 1u);
}

TEST(TablePublisher, CombinedGracePeriodWaitsForEveryKindOfReader) {
  records::EpochGracePeriod workers(1);
  records::EpochGracePeriod sockets(1);
  records::CombinedGracePeriod both({&workers, &sockets});
  std::atomic<bool> second_passed{false};
  sockets.Online(0);  // a reader of the second kind that has not passed a quiescent state
  std::thread writer([&] {
    both.Synchronize();
    second_passed = true;
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_FALSE(second_passed);  // the first kind has no reader online; the second blocks
  sockets.Quiescent(0);
  writer.join();
  EXPECT_TRUE(second_passed);
  sockets.Offline(0);
}

TEST(TablePublisher, FreesTheOldTableOnlyAfterReadersPassAQuiescentState) {
  records::EpochGracePeriod grace(1);
  records::TablePublisher publisher(&grace);
  auto builder = KubeDnsBuilder();
  publisher.Publish(builder->Build());
  std::weak_ptr<const records::AnswerTable> first = publisher.current_shared();

  std::atomic<bool> holding{false}, release{false}, stop{false};
  std::thread reader([&] {
    grace.Online(0);
    const records::AnswerTable* t = publisher.Current();
    holding = true;
    while (!release) std::this_thread::yield();
    EXPECT_EQ(t->zone_count(), 4u);  // still readable: not freed yet
    grace.Quiescent(0);
    while (!stop) {
      grace.Quiescent(0);
      std::this_thread::yield();
    }
    grace.Offline(0);
  });
  while (!holding) std::this_thread::yield();
  builder->DeleteService("default", "redis-master");
  std::atomic<bool> published{false};
  std::thread writer([&] {
    publisher.Publish(builder->Build());
    published = true;
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_FALSE(published);          // blocked on the reader
  EXPECT_FALSE(first.expired());    // the old table lives
  release = true;
  writer.join();
  EXPECT_TRUE(published);
  EXPECT_TRUE(first.expired());
  stop = true;
  reader.join();
  EXPECT_EQ(Ask(*publisher.Current(), "redis-master.default.svc.cluster.local", records::kTypeA)
                .message.rcode,
            kRcodeNxDomain);
}

}  // namespace
}  // namespace clusterdns::testing

namespace clusterdns::testing {
namespace {

TEST(NameHash, UnpaddedAndPaddedHashesAgree) {
  for (const char* text : {"", "a", "abcdefg", "abcdefgh", "redis-master.default.svc.cluster.local"}) {
    std::string wire = *records::FoldedWireFromText(text);
    for (size_t len = 0; len <= wire.size(); ++len) {
      std::string_view prefix(wire.data(), len);
      EXPECT_EQ(records::HashName(prefix), records::NameKey(prefix).hash) << text << " " << len;
    }
  }
}

}  // namespace
}  // namespace clusterdns::testing

namespace clusterdns::testing {
namespace {

// One shard holding thousands of names: probe chains cross slots whose tags and home slots
// collide, and every name must still be found by its full key, every absent one missed.
TEST(AnswerTable, DenseShardFindsEveryNameByItsFullKey) {
  auto builder = ManyServices(3000, 0);
  auto table = builder->Build();
  ASSERT_EQ(table->shard_count(), 1u);
  for (int i = 0; i < 3000; i += 7) {
    std::string name = "svc-" + std::to_string(i) + ".ns.svc.cluster.local";
    EXPECT_EQ(Ask(*table, name, records::kTypeA).message.answer.size(), 1u) << name;
    std::string absent = "svc-" + std::to_string(i + 3000) + ".ns.svc.cluster.local";
    EXPECT_EQ(Ask(*table, absent, records::kTypeA).message.rcode, kRcodeNxDomain) << absent;
  }
}

// Keys that agree on the hash-derived slot and tag but differ in bytes must not match: the
// table compares whole names, never hashes alone.
TEST(AnswerTable, SameTagDifferentNameIsAMiss) {
  auto builder = ManyServices(50, 0);
  auto table = builder->Build();
  records::NameKey present(*records::FoldedWireFromText("svc-1.ns.svc.cluster.local"));
  ASSERT_NE(table->Find(present.hash, present.bytes, present.len), nullptr);
  // Same hash, same length, one byte changed: only the byte compare can tell them apart.
  records::NameKey other = present;
  other.bytes[1] = 'x';
  EXPECT_EQ(table->Find(present.hash, other.bytes, other.len), nullptr);
  // Same hash, shorter key.
  EXPECT_EQ(table->Find(present.hash, present.bytes, present.len - 1), nullptr);
  // Same hash and the same labels above the zone, one byte of the apex changed ("locax"): the
  // entry stores only "svc-1.ns.svc", so the apex must be compared with the zone's.
  records::NameKey other_apex = present;
  other_apex.bytes[other_apex.len - 2] = 'x';
  EXPECT_EQ(table->Find(present.hash, other_apex.bytes, other_apex.len), nullptr);
}

}  // namespace
}  // namespace clusterdns::testing

namespace clusterdns::testing {
namespace {

// Big enough for a full build on several threads: every name answers, merged arenas included.
TEST(TableBuilder, FullBuildOnSeveralThreadsAnswersEveryService) {
  auto builder = ManyServices(12000, -1);
  auto table = builder->Build();
  EXPECT_EQ(builder->last_build_stats().services_compiled, 12000u);
  for (int i = 0; i < 12000; i += 13) {
    std::string name = "svc-" + std::to_string(i) + ".ns.svc.cluster.local";
    Asked a = Ask(*table, name, records::kTypeA);
    ASSERT_EQ(a.message.answer.size(), 1u) << name;
    Asked legacy = Ask(*table, "_http._tcp.svc-" + std::to_string(i) + ".ns.cluster.local", records::kTypeSrv);
    ASSERT_EQ(legacy.message.answer.size(), 1u) << name;
  }
  EXPECT_EQ(Ask(*table, "ns.svc.cluster.local", records::kTypeA).message.rcode, kRcodeNoError);
  builder->DeleteService("ns", "svc-5");
  table = builder->Build();
  EXPECT_EQ(Ask(*table, "svc-5.ns.svc.cluster.local", records::kTypeA).message.rcode, kRcodeNxDomain);
  EXPECT_EQ(Ask(*table, "svc-6.ns.svc.cluster.local", records::kTypeA).message.answer.size(), 1u);
}

}  // namespace
}  // namespace clusterdns::testing

namespace clusterdns::testing {
namespace {

// Readers answer without pause while the writer publishes a new table per change and frees the
// old ones after each grace period. Under ASan a reader touching a freed shard fails the run;
// every answer must be one of the two states the Service goes through.
TEST(TablePublisher, ReadersNeverSeeAFreedOrHalfBuiltTable) {
  constexpr size_t kReaders = 2;
  constexpr int kPublishes = 150;
  records::EpochGracePeriod grace(kReaders);
  records::TablePublisher publisher(&grace);
  auto builder = ManyServices(400, -1);
  publisher.Publish(builder->Build());

  std::atomic<bool> stop{false};
  std::atomic<uint64_t> answered{0};
  std::atomic<uint64_t> wrong{0};
  std::atomic<size_t> started{0};
  std::vector<std::thread> readers;
  for (size_t r = 0; r < kReaders; ++r) {
    readers.emplace_back([&, r] {
      grace.Online(r);
      const std::vector<uint8_t> query = BuildQuery("svc-7.ns.svc.cluster.local", records::kTypeA);
      std::vector<uint8_t> buf(records::kUdpResponseRoom);
      bool counted = false;
      while (!stop.load(std::memory_order_relaxed)) {
        // One table pointer per "burst" of queries, as a worker holds it: the writer must not
        // free it until the quiescent state below.
        const records::AnswerTable* table = publisher.Current();
        for (int q = 0; q < 64; ++q) {
          std::copy(query.begin(), query.end(), buf.begin());
          auto result = records::Respond(*table, buf.data(), query.size(), buf.size(), {});
          auto decoded = DecodeMessage(buf.data(), result.size);
          // svc-7 is one A record in every state it goes through.
          if (!decoded.ok() || decoded->rcode != records::kRcodeNoError ||
              decoded->answer.size() != 1) {
            wrong.fetch_add(1, std::memory_order_relaxed);
          }
          answered.fetch_add(1, std::memory_order_relaxed);
        }
        if (!counted) {
          counted = true;
          started.fetch_add(1);
        }
        grace.Quiescent(r);
      }
      grace.Offline(r);
    });
  }
  // Publish only once every reader is answering: on a loaded machine the writer could otherwise
  // finish before a reader ever ran (and the test would prove nothing).
  while (started.load() < kReaders) std::this_thread::yield();
  for (int i = 0; i < kPublishes; ++i) {
    uint8_t b[4] = {10, 254, 61, static_cast<uint8_t>(i)};
    builder->UpsertService(ClusterIpService("ns", "svc-7", {records::IpAddress::V4(b)}, {}));
    // Another Service comes and goes, so whole shards are replaced and freed too.
    if (i % 2 == 0) {
      builder->DeleteService("ns", "svc-8");
    } else {
      builder->UpsertService(ClusterIpService("ns", "svc-8", {Ip("10.254.100.8")}, {}));
    }
    publisher.Publish(builder->Build());
  }
  stop = true;
  for (auto& t : readers) t.join();
  EXPECT_EQ(wrong.load(), 0u) << "of " << answered.load();
  EXPECT_GT(answered.load(), 0u);
}

}  // namespace
}  // namespace clusterdns::testing
