// The Kubernetes informers feeding the controller, against the fake API server: how a failing
// source affects the table that the other one keeps changing.
#include <memory>
#include <string>

#include "controlplane/controller.h"
#include "controlplane/kube/kube_source.h"
#include "gtest/gtest.h"
#include "records/dns_constants.h"
#include "records/table_publisher.h"
#include "tests/controlplane/kube/client_test_util.h"
#include "tests/records/kube_dns_cluster.h"
#include "tests/records/responder.h"
#include "tests/support/fake_kube_api/fake_kube_api.h"

namespace clusterdns::controlplane {
namespace {

using testing::FakeKubeApi;
using testing::FakeResource;
using testing::ServiceJson;
using testing::WaitUntil;

// The EndpointSlices watch expires (an ERROR event with code 410) and every relist then fails
// with HTTP 500: Service changes from the healthy Services watch must still reach the table.
// Before OnListAbort, the open relist held every publish back for as long as it failed.
TEST(KubeController, AFailingRelistOfSlicesHoldsNoServiceChangeBack) {
  absl::StatusOr<std::unique_ptr<FakeKubeApi>> api = FakeKubeApi::Start({});
  ASSERT_TRUE(api.ok()) << api.status();
  (*api)->Apply(FakeResource::kServices, ServiceJson("a", "old", "10.254.1.1"));

  records::EpochGracePeriod grace(1);
  records::TablePublisher publisher(&grace);
  Controller controller(std::move(*records::TableBuilder::Create(testing::KubeDnsConfig())),
                        &publisher, {});
  SourceSink* services = controller.AddSource("kubernetes/services");
  SourceSink* slices = controller.AddSource("kubernetes/endpointslices");
  controller.Start();
  KubeConnection connection;
  connection.server = (*api)->url();
  InformerOptions options;
  options.seed = 3;
  options.backoff_initial = absl::Milliseconds(20);
  options.backoff_max = absl::Milliseconds(50);
  options.log = [](std::string_view) {};
  absl::StatusOr<std::unique_ptr<KubeSource>> kube =
      KubeSource::Create(connection, services, slices, options);
  ASSERT_TRUE(kube.ok()) << kube.status();
  (*kube)->Start();
  ASSERT_TRUE(WaitUntil([&] { return controller.Ready(); }));
  ASSERT_TRUE((*api)->WaitForOpenWatches(FakeResource::kEndpointSlices, 1, absl::Seconds(3)));
  ASSERT_TRUE((*api)->WaitForOpenWatches(FakeResource::kServices, 1, absl::Seconds(3)));

  (*api)->FailNextRequests(FakeResource::kEndpointSlices, 1000000, 500);
  (*api)->InjectWatchLine(
      FakeResource::kEndpointSlices,
      R"({"type":"ERROR","object":{"kind":"Status","apiVersion":"v1","status":"Failure",)"
      R"("message":"too old resource version","reason":"Expired","code":410}})");
  const std::vector<const SourceStats*> stats = (*kube)->stats();
  ASSERT_TRUE(WaitUntil([&] { return stats[1]->errors.load() >= 3; }));  // relists failing

  (*api)->Apply(FakeResource::kServices, ServiceJson("a", "new", "10.254.1.2"));
  (*api)->Delete(FakeResource::kServices, "a", "old");
  const auto rcode = [&](const char* name) {
    return testing::Ask(*publisher.Current(), name, records::kTypeA).message.rcode;
  };
  EXPECT_TRUE(WaitUntil([&] {
    return rcode("new.a.svc.cluster.local") == records::kRcodeNoError &&
           rcode("old.a.svc.cluster.local") == records::kRcodeNxDomain;
  })) << "new: " << int{rcode("new.a.svc.cluster.local")}
      << ", old: " << int{rcode("old.a.svc.cluster.local")};
  EXPECT_GE(stats[1]->errors.load(), 3u);  // and the slices relist is still failing
  (*kube)->Stop();
  controller.Stop();
}

}  // namespace
}  // namespace clusterdns::controlplane
