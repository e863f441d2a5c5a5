// Controller: sources' changes reach the published table, listings delete what they no longer
// list and publish once at their end, bursts are coalesced, and readiness follows the sources.
#include "controlplane/controller.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <thread>

#include "absl/strings/str_cat.h"

#include "records/dns_constants.h"
#include "tests/records/kube_dns_cluster.h"
#include "tests/records/responder.h"

namespace clusterdns::testing {
namespace {

using controlplane::Controller;
using controlplane::ControllerOptions;
using controlplane::ObjectKind;
using controlplane::PublishReport;
using controlplane::SourceSink;
using records::kRcodeNoError;
using records::kRcodeNxDomain;
using records::kTypeA;

records::Service Svc(const std::string& ns, const std::string& name, const char* ip) {
  return ClusterIpService(ns.c_str(), name.c_str(), {Ip(ip)}, {{"http", records::Protocol::kTcp, 80}});
}

class ControllerTest : public ::testing::Test {
 protected:
  explicit ControllerTest(ControllerOptions options = {})
      : grace_(4), publisher_(&grace_) {
    controller_ = std::make_unique<Controller>(
        std::move(*records::TableBuilder::Create(KubeDnsConfig())), &publisher_, options);
  }
  uint8_t Rcode(std::string_view name) {
    return Ask(*publisher_.Current(), name, kTypeA).message.rcode;
  }
  void List(SourceSink* sink, std::vector<records::Service> services) {
    sink->OnListStart(ObjectKind::kService);
    for (auto& s : services) sink->OnService(std::move(s));
    sink->OnListEnd(ObjectKind::kService);
  }

  records::EpochGracePeriod grace_;
  records::TablePublisher publisher_;
  std::unique_ptr<Controller> controller_;
};

TEST_F(ControllerTest, ListingReachesTheTableAndMakesItReady) {
  SourceSink* sink = controller_->AddSource("file");
  controller_->Start();
  std::string why;
  EXPECT_FALSE(controller_->Ready(&why));
  EXPECT_THAT(why, ::testing::HasSubstr("file"));
  ASSERT_NE(publisher_.Current(), nullptr);  // the empty zone is served from the start
  EXPECT_EQ(Rcode("redis-master.default.svc.cluster.local"), kRcodeNxDomain);
  List(sink, KubeDnsServices());
  ASSERT_TRUE(controller_->WaitApplied(absl::Seconds(5)));
  EXPECT_TRUE(controller_->Ready());
  EXPECT_EQ(Rcode("redis-master.default.svc.cluster.local"), kRcodeNoError);
}

TEST_F(ControllerTest, WatchEventsAddModifyDelete) {
  SourceSink* sink = controller_->AddSource("kubernetes/services");
  controller_->Start();
  List(sink, {});
  sink->OnService(Svc("default", "web", "10.254.1.1"));
  ASSERT_TRUE(controller_->WaitApplied(absl::Seconds(5)));
  EXPECT_THAT(AnswerTexts(Ask(*publisher_.Current(), "web.default.svc.cluster.local", kTypeA).message),
              ::testing::ElementsAre("web.default.svc.cluster.local. 30 IN A 10.254.1.1"));
  sink->OnService(Svc("default", "web", "10.254.1.2"));
  ASSERT_TRUE(controller_->WaitApplied(absl::Seconds(5)));
  EXPECT_THAT(AnswerTexts(Ask(*publisher_.Current(), "web.default.svc.cluster.local", kTypeA).message),
              ::testing::ElementsAre("web.default.svc.cluster.local. 30 IN A 10.254.1.2"));
  sink->OnDelete(ObjectKind::kService, "default", "web");
  ASSERT_TRUE(controller_->WaitApplied(absl::Seconds(5)));
  EXPECT_EQ(Rcode("web.default.svc.cluster.local"), kRcodeNxDomain);
}

TEST_F(ControllerTest, RelistDeletesWhatItNoLongerListsAndPublishesOnceAtItsEnd) {
  SourceSink* sink = controller_->AddSource("kubernetes/services");
  controller_->Start();
  List(sink, {Svc("a", "one", "10.254.1.1"), Svc("a", "two", "10.254.1.2")});
  ASSERT_TRUE(controller_->WaitApplied(absl::Seconds(5)));
  const records::AnswerTable* before = publisher_.Current();
  const uint64_t publishes = controller_->publishes();

  sink->OnListStart(ObjectKind::kService);
  sink->OnService(Svc("a", "two", "10.254.1.2"));
  sink->OnService(Svc("a", "three", "10.254.1.3"));
  ASSERT_TRUE(controller_->WaitApplied(absl::Seconds(5)));
  // Mid-listing: the old table is still served, nothing was published.
  EXPECT_EQ(publisher_.Current(), before);
  EXPECT_EQ(controller_->publishes(), publishes);
  EXPECT_EQ(Rcode("one.a.svc.cluster.local"), kRcodeNoError);
  EXPECT_EQ(Rcode("three.a.svc.cluster.local"), kRcodeNxDomain);

  sink->OnListEnd(ObjectKind::kService);
  ASSERT_TRUE(controller_->WaitApplied(absl::Seconds(5)));
  EXPECT_EQ(controller_->publishes(), publishes + 1);
  EXPECT_EQ(Rcode("one.a.svc.cluster.local"), kRcodeNxDomain);
  EXPECT_EQ(Rcode("two.a.svc.cluster.local"), kRcodeNoError);
  EXPECT_EQ(Rcode("three.a.svc.cluster.local"), kRcodeNoError);
}

// A relist that breaks off (and may keep failing for minutes, on an HTTP 403 or 500) must not
// hold back the other kinds' and sources' changes: it deletes nothing and publishes what arrived.
TEST_F(ControllerTest, ABrokenListingDeletesNothingAndHoldsNothingBack) {
  SourceSink* services = controller_->AddSource("kubernetes/services");
  SourceSink* slices = controller_->AddSource("kubernetes/endpointslices");
  controller_->Start();
  List(services, {Svc("a", "one", "10.254.1.1"), Svc("a", "two", "10.254.1.2")});
  slices->OnListStart(ObjectKind::kEndpointSlice);
  slices->OnListEnd(ObjectKind::kEndpointSlice);
  ASSERT_TRUE(controller_->WaitApplied(absl::Seconds(5)));
  ASSERT_TRUE(controller_->Ready());

  slices->OnListStart(ObjectKind::kEndpointSlice);  // a relist, say after a watch's 410
  services->OnService(Svc("a", "three", "10.254.1.3"));
  ASSERT_TRUE(controller_->WaitApplied(absl::Seconds(5)));
  EXPECT_EQ(Rcode("three.a.svc.cluster.local"), kRcodeNxDomain);  // held while it lists

  slices->OnListAbort(ObjectKind::kEndpointSlice);  // the relist fails
  ASSERT_TRUE(controller_->WaitApplied(absl::Seconds(5)));
  EXPECT_EQ(Rcode("three.a.svc.cluster.local"), kRcodeNoError);
  // Later changes go out at once while the relist waits to retry.
  services->OnDelete(ObjectKind::kService, "a", "one");
  ASSERT_TRUE(controller_->WaitApplied(absl::Seconds(5)));
  EXPECT_EQ(Rcode("one.a.svc.cluster.local"), kRcodeNxDomain);
  EXPECT_TRUE(controller_->Ready());

  // A broken relist of Services deletes nothing: "two" was not delivered again, "four" was.
  services->OnListStart(ObjectKind::kService);
  services->OnService(Svc("a", "four", "10.254.1.4"));
  services->OnListAbort(ObjectKind::kService);
  ASSERT_TRUE(controller_->WaitApplied(absl::Seconds(5)));
  EXPECT_EQ(Rcode("two.a.svc.cluster.local"), kRcodeNoError);
  EXPECT_EQ(Rcode("four.a.svc.cluster.local"), kRcodeNoError);
  // The next complete listing settles it: only what it lists stays.
  List(services, {Svc("a", "four", "10.254.1.4")});
  ASSERT_TRUE(controller_->WaitApplied(absl::Seconds(5)));
  EXPECT_EQ(Rcode("two.a.svc.cluster.local"), kRcodeNxDomain);
  EXPECT_EQ(Rcode("three.a.svc.cluster.local"), kRcodeNxDomain);
  EXPECT_EQ(Rcode("four.a.svc.cluster.local"), kRcodeNoError);
}

// The objects file opens both kinds' listings before it ends either: the file reaches the table in
// one publish, never as new Services with the old slices.
TEST_F(ControllerTest, NestedListingsPublishOnceWhenTheLastEnds) {
  SourceSink* file = controller_->AddSource("file");
  controller_->Start();
  List(file, {Svc("a", "one", "10.254.1.1")});
  ASSERT_TRUE(controller_->WaitApplied(absl::Seconds(5)));
  const uint64_t publishes = controller_->publishes();
  file->OnListStart(ObjectKind::kService);
  file->OnListStart(ObjectKind::kEndpointSlice);
  file->OnService(Svc("a", "two", "10.254.1.2"));
  file->OnListEnd(ObjectKind::kService);
  ASSERT_TRUE(controller_->WaitApplied(absl::Seconds(5)));
  EXPECT_EQ(controller_->publishes(), publishes);
  EXPECT_EQ(Rcode("one.a.svc.cluster.local"), kRcodeNoError);
  EXPECT_EQ(Rcode("two.a.svc.cluster.local"), kRcodeNxDomain);
  file->OnListEnd(ObjectKind::kEndpointSlice);
  ASSERT_TRUE(controller_->WaitApplied(absl::Seconds(5)));
  EXPECT_EQ(controller_->publishes(), publishes + 1);
  EXPECT_EQ(Rcode("one.a.svc.cluster.local"), kRcodeNxDomain);
  EXPECT_EQ(Rcode("two.a.svc.cluster.local"), kRcodeNoError);
}

TEST_F(ControllerTest, AListingOnlyDeletesItsOwnSourcesObjects) {
  SourceSink* file = controller_->AddSource("file");
  SourceSink* kube = controller_->AddSource("kubernetes/services");
  controller_->Start();
  List(file, {Svc("f", "from-file", "10.254.2.1")});
  List(kube, {Svc("k", "from-kube", "10.254.2.2")});
  ASSERT_TRUE(controller_->WaitApplied(absl::Seconds(5)));
  List(kube, {});
  ASSERT_TRUE(controller_->WaitApplied(absl::Seconds(5)));
  EXPECT_EQ(Rcode("from-file.f.svc.cluster.local"), kRcodeNoError);
  EXPECT_EQ(Rcode("from-kube.k.svc.cluster.local"), kRcodeNxDomain);
}

TEST_F(ControllerTest, ReadyWaitsForEverySourceAndEveryKindItLists) {
  SourceSink* services = controller_->AddSource("kubernetes/services");
  SourceSink* slices = controller_->AddSource("kubernetes/endpointslices");
  controller_->Start();
  List(services, KubeDnsServices());
  ASSERT_TRUE(controller_->WaitApplied(absl::Seconds(5)));
  std::string why;
  EXPECT_FALSE(controller_->Ready(&why));
  EXPECT_THAT(why, ::testing::HasSubstr("kubernetes/endpointslices"));
  slices->OnListStart(ObjectKind::kEndpointSlice);
  for (auto& s : KubeDnsSlices()) slices->OnSlice(s);
  ASSERT_TRUE(controller_->WaitApplied(absl::Seconds(5)));
  EXPECT_FALSE(controller_->Ready());
  slices->OnListEnd(ObjectKind::kEndpointSlice);
  ASSERT_TRUE(controller_->WaitApplied(absl::Seconds(5)));
  EXPECT_TRUE(controller_->Ready());
  EXPECT_EQ(Rcode("nginx.default.svc.cluster.local"), kRcodeNoError);
}

class CoalescingTest : public ControllerTest {
 protected:
  CoalescingTest() : ControllerTest(ControllerOptions{absl::Milliseconds(200), 4096}) {}
};

TEST_F(CoalescingTest, ABurstOfChangesIsOnePublishWithItsLatencies) {
  SourceSink* sink = controller_->AddSource("kubernetes/services");
  std::vector<PublishReport> reports;
  std::mutex mu;
  controller_->SetPublishCallback([&](const PublishReport& r) {
    std::lock_guard lock(mu);
    reports.push_back(r);
  });
  controller_->Start();
  List(sink, {});
  ASSERT_TRUE(controller_->WaitApplied(absl::Seconds(5)));
  const uint64_t publishes = controller_->publishes();
  for (int i = 0; i < 100; ++i) {
    sink->OnService(Svc("burst", absl::StrCat("s", i), "10.254.3.1"));
  }
  ASSERT_TRUE(controller_->WaitApplied(absl::Seconds(5)));
  EXPECT_EQ(controller_->publishes(), publishes + 1);
  std::lock_guard lock(mu);
  ASSERT_FALSE(reports.empty());
  const PublishReport& last = reports.back();
  EXPECT_EQ(last.latencies_seconds.size(), 100u);
  for (double s : last.latencies_seconds) {
    EXPECT_GE(s, 0.0);
    EXPECT_LT(s, 5.0);
  }
  EXPECT_GT(last.names, 100u);
  EXPECT_GT(last.bytes, 0u);
}

TEST(ControllerQueue, AListingLargerThanTheQueueStreamsThrough) {
  records::EpochGracePeriod grace(1);
  records::TablePublisher publisher(&grace);
  Controller controller(std::move(*records::TableBuilder::Create(KubeDnsConfig())), &publisher,
                        ControllerOptions{absl::Milliseconds(1), 16});
  SourceSink* sink = controller.AddSource("file");
  controller.Start();
  sink->OnListStart(ObjectKind::kService);
  for (int i = 0; i < 2000; ++i) {
    uint8_t b[4] = {10, 254, static_cast<uint8_t>(100 + i / 250), static_cast<uint8_t>(i % 250)};
    sink->OnService(ClusterIpService("big", (absl::StrCat("s", i)).c_str(),
                                     {records::IpAddress::V4(b)}, {}));
  }
  sink->OnListEnd(ObjectKind::kService);
  ASSERT_TRUE(controller.WaitApplied(absl::Seconds(10)));
  EXPECT_EQ(Ask(*publisher.Current(), "s1999.big.svc.cluster.local", kTypeA).message.rcode,
            kRcodeNoError);
  controller.Stop();
}

TEST(ControllerStop, StopsPromptlyAndUnblocksSources) {
  records::EpochGracePeriod grace(1);
  records::TablePublisher publisher(&grace);
  Controller controller(std::move(*records::TableBuilder::Create(KubeDnsConfig())), &publisher,
                        ControllerOptions{absl::Milliseconds(1), 4});
  SourceSink* sink = controller.AddSource("file");
  controller.Start();
  std::thread producer([&] {
    sink->OnListStart(ObjectKind::kService);
    for (int i = 0; i < 100000; ++i) sink->OnService(Svc("x", absl::StrCat("s", i % 50), "10.254.4.4"));
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  const absl::Time start = absl::Now();
  controller.Stop();
  producer.join();
  EXPECT_LT(absl::Now() - start, absl::Seconds(2));
}

}  // namespace
}  // namespace clusterdns::testing
