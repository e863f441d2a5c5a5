// KubeSource: both informers, one sink each, against the fake API server.
#include <memory>

#include "controlplane/kube/kube_source.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/controlplane/kube/client_test_sink.h"
#include "tests/controlplane/kube/client_test_util.h"
#include "tests/support/fake_kube_api/fake_kube_api.h"

namespace clusterdns::controlplane {
namespace {

using testing::FakeKubeApi;
using testing::FakeResource;
using testing::LogCapture;
using testing::RecordingSink;
using testing::WaitUntil;

TEST(KubeSource, SyncsServicesAndEndpointSlicesIntoTheirOwnSinks) {
  absl::StatusOr<std::unique_ptr<FakeKubeApi>> api = FakeKubeApi::Start({.bearer_token = "tok"});
  ASSERT_TRUE(api.ok()) << api.status();
  (*api)->Apply(FakeResource::kServices, testing::ServiceJson("default", "web", "10.96.0.10"));
  (*api)->Apply(FakeResource::kEndpointSlices,
                testing::SliceJson("default", "web-abc", "web", "10.244.0.5"));

  RecordingSink services;
  RecordingSink slices;
  LogCapture log;
  KubeConnection connection;
  connection.server = (*api)->url();
  connection.token = "tok";
  InformerOptions options;
  options.seed = 7;
  options.backoff_initial = absl::Milliseconds(5);
  options.backoff_max = absl::Milliseconds(20);
  options.log = log.Sink();
  absl::StatusOr<std::unique_ptr<KubeSource>> source =
      KubeSource::Create(connection, &services, &slices, options);
  ASSERT_TRUE(source.ok()) << source.status();
  EXPECT_FALSE((*source)->synced());
  (*source)->Start();
  ASSERT_TRUE(WaitUntil([&] { return (*source)->synced(); })) << log.Joined();
  EXPECT_TRUE(services.Has("default/web"));
  EXPECT_TRUE(slices.Has("default/web-abc"));
  EXPECT_TRUE(services.WaitForListEnds(1));
  EXPECT_THAT(slices.calls(),
              ::testing::ElementsAre("start endpointslices", "slice default/web-abc rv=1002",
                                     "end endpointslices"));

  ASSERT_TRUE((*api)->WaitForOpenWatches(FakeResource::kEndpointSlices, 1, absl::Seconds(3)));
  (*api)->Delete(FakeResource::kEndpointSlices, "default", "web-abc");
  EXPECT_TRUE(slices.WaitForNoKey("default/web-abc"));
  EXPECT_TRUE(services.Has("default/web"));

  const std::vector<const SourceStats*> stats = (*source)->stats();
  ASSERT_EQ(stats.size(), 2u);
  EXPECT_EQ(stats[0]->name, "kubernetes/services");
  EXPECT_EQ(stats[1]->name, "kubernetes/endpointslices");
  EXPECT_EQ(stats[0]->lists.load(), 1u);
  EXPECT_EQ(stats[1]->deleted.load(), 1u);
  EXPECT_TRUE(log.Contains("kubernetes/endpointslices: listed 1 objects")) << log.Joined();
  EXPECT_FALSE(services.saw_two_threads());
  EXPECT_FALSE(slices.saw_two_threads());

  const absl::Time start = absl::Now();
  (*source)->Stop();
  EXPECT_LT(absl::Now() - start, absl::Milliseconds(400));
  (*source)->Stop();
}

TEST(KubeSource, CreateRefusesMissingSinksAndBadUrls) {
  RecordingSink sink;
  KubeConnection connection;
  connection.server = "http://127.0.0.1:1";
  EXPECT_TRUE(absl::IsInvalidArgument(
      KubeSource::Create(connection, &sink, nullptr, InformerOptions()).status()));
  connection.server = "no scheme at all";
  EXPECT_TRUE(absl::IsInvalidArgument(
      KubeSource::Create(connection, &sink, &sink, InformerOptions()).status()));
}

}  // namespace
}  // namespace clusterdns::controlplane
