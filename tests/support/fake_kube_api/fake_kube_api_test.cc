// Tests of the fake Kubernetes API server, through libcurl as the client: the list/watch wire
// format (pagination, replay, bookmarks, 410 after compaction), auth, TLS and every fault knob.
#include "tests/support/fake_kube_api/fake_kube_api.h"

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "simdjson.h"
#include "tests/support/fake_kube_api/http_test_client.h"
#include "tests/support/fake_kube_api/kube_wire.h"

namespace clusterdns::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr absl::Duration kWait = absl::Seconds(3);  // generous; a passing test never waits it out
const std::string kTlsDir = CDNS_TLS_TESTDATA_DIR;
constexpr char kServices[] = "/api/v1/services";
constexpr char kSlices[] = "/apis/discovery.k8s.io/v1/endpointslices";

// The string, integer or presence at a JSON pointer ("/metadata/resourceVersion") of `json`.
std::string Str(const std::string& json, std::string_view pointer) {
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (parser.parse(json).get(root)) return "<bad json>";
  std::string_view value;
  if (root.at_pointer(pointer).get(value)) return "<missing>";
  return std::string(value);
}
int64_t Int(const std::string& json, std::string_view pointer) {
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  int64_t value = -1;
  if (parser.parse(json).get(root) || root.at_pointer(pointer).get(value)) return -1;
  return value;
}
bool Has(const std::string& json, std::string_view pointer) {
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  return !parser.parse(json).get(root) && root.at_pointer(pointer).error() == simdjson::SUCCESS;
}
// "ns/name" of every list item, in order.
std::vector<std::string> ItemKeys(const std::string& list_json) {
  simdjson::dom::parser parser;
  simdjson::dom::array items;
  std::vector<std::string> keys;
  if (parser.parse(list_json)["items"].get(items)) return {"<no items>"};
  for (simdjson::dom::element item : items) {
    std::string_view ns, name;
    if (item["metadata"]["namespace"].get(ns) || item["metadata"]["name"].get(name)) {
      keys.push_back("<unnamed>");
    } else {
      keys.push_back(absl::StrCat(std::string(ns), "/", std::string(name)));
    }
  }
  return keys;
}
// "TYPE ns/name rv" of a watch line.
std::string Event(const std::string& line) {
  return absl::StrCat(Str(line, "/type"), " ", Str(line, "/object/metadata/namespace"), "/",
                      Str(line, "/object/metadata/name"), " ",
                      Str(line, "/object/metadata/resourceVersion"));
}

std::string ServiceJson(const std::string& ns, const std::string& name,
                        const std::string& ip = "10.96.0.10") {
  // kubectl's shape, with a stale resourceVersion the server must replace.
  return absl::StrCat(R"({"apiVersion":"v1","kind":"Service","metadata":{"name":")", name,
                      R"(","namespace":")", ns, R"(","resourceVersion":"42"},)",
                      R"("spec":{"clusterIP":")", ip,
                      R"(","ports":[{"name":"http","port":80,"protocol":"TCP"}]}})");
}

std::string SliceJson(const std::string& ns, const std::string& name) {
  return absl::StrCat(R"({"apiVersion":"discovery.k8s.io/v1","kind":"EndpointSlice",)",
                      R"("metadata":{"name":")", name, R"(","namespace":")", ns,
                      R"(","labels":{"kubernetes.io/service-name":"web"}},"addressType":"IPv4",)",
                      R"("endpoints":[{"addresses":["10.244.1.5"]}]})");
}

std::unique_ptr<FakeKubeApi> StartApi(FakeKubeApiOptions options = {}) {
  absl::StatusOr<std::unique_ptr<FakeKubeApi>> api = FakeKubeApi::Start(std::move(options));
  EXPECT_TRUE(api.ok()) << api.status();
  return api.ok() ? *std::move(api) : nullptr;
}

TEST(FakeKubeApi, ListsSortedItemsWithoutKindAndTheGlobalResourceVersion) {
  auto api = StartApi();
  ASSERT_NE(api, nullptr);
  EXPECT_EQ(api->url(), absl::StrCat("http://127.0.0.1:", api->port()));
  const uint64_t first = api->Apply(FakeResource::kServices, ServiceJson("b", "web"));
  api->Apply(FakeResource::kServices, ServiceJson("a", "zeta"));
  api->Apply(FakeResource::kServices, ServiceJson("a", "alpha"));
  const uint64_t slice_rv = api->Apply(FakeResource::kEndpointSlices, SliceJson("b", "web-x1"));
  EXPECT_EQ(first, 1001u);
  EXPECT_EQ(slice_rv, 1004u);  // one counter across both resources
  EXPECT_EQ(api->resource_version(), 1004u);

  HttpResult r = HttpGet(api->url() + kServices);
  ASSERT_EQ(r.code, CURLE_OK) << r.error;
  EXPECT_EQ(r.status, 200);
  EXPECT_THAT(r.headers, HasSubstr("content-type: application/json"));
  EXPECT_EQ(Str(r.body, "/kind"), "ServiceList");
  EXPECT_EQ(Str(r.body, "/apiVersion"), "v1");
  EXPECT_EQ(Str(r.body, "/metadata/resourceVersion"), "1004");
  EXPECT_FALSE(Has(r.body, "/metadata/continue"));
  EXPECT_THAT(ItemKeys(r.body), ElementsAre("a/alpha", "a/zeta", "b/web"));
  EXPECT_FALSE(Has(r.body, "/items/0/kind"));
  EXPECT_FALSE(Has(r.body, "/items/0/apiVersion"));
  EXPECT_EQ(Str(r.body, "/items/2/metadata/resourceVersion"), "1001");
  EXPECT_EQ(Str(r.body, "/items/2/spec/clusterIP"), "10.96.0.10");

  r = HttpGet(api->url() + kSlices);
  EXPECT_EQ(Str(r.body, "/kind"), "EndpointSliceList");
  EXPECT_EQ(Str(r.body, "/apiVersion"), "discovery.k8s.io/v1");
  EXPECT_THAT(ItemKeys(r.body), ElementsAre("b/web-x1"));
  EXPECT_EQ(Str(r.body, "/items/0/addressType"), "IPv4");

  r = HttpGet(api->url() + "/api/v1/namespaces/a/services");
  EXPECT_THAT(ItemKeys(r.body), ElementsAre("a/alpha", "a/zeta"));
}

TEST(FakeKubeApi, ListPaginatesOneSnapshotWithContinueTokens) {
  auto api = StartApi();
  ASSERT_NE(api, nullptr);
  for (int i = 0; i < 7; ++i) api->Apply(FakeResource::kServices, ServiceJson("ns", absl::StrCat("s", i)));
  const std::string rv = std::to_string(api->resource_version());

  HttpResult page1 = HttpGet(api->url() + kServices + "?limit=3");
  EXPECT_EQ(Str(page1.body, "/metadata/resourceVersion"), rv);
  EXPECT_EQ(Int(page1.body, "/metadata/remainingItemCount"), 4);
  EXPECT_THAT(ItemKeys(page1.body), ElementsAre("ns/s0", "ns/s1", "ns/s2"));
  const std::string token1 = Str(page1.body, "/metadata/continue");
  ASSERT_THAT(token1, Not(HasSubstr("<")));

  // Changes after the first page do not show in the later pages: they read the same snapshot.
  api->Apply(FakeResource::kServices, ServiceJson("ns", "s3", "10.96.9.9"));
  api->Delete(FakeResource::kServices, "ns", "s4");
  api->Apply(FakeResource::kServices, ServiceJson("ns", "s35"));

  HttpResult page2 = HttpGet(api->url() + kServices + "?limit=3&continue=" + token1);
  ASSERT_EQ(page2.status, 200) << page2.body;
  EXPECT_EQ(Str(page2.body, "/metadata/resourceVersion"), rv);
  EXPECT_EQ(Int(page2.body, "/metadata/remainingItemCount"), 1);
  EXPECT_THAT(ItemKeys(page2.body), ElementsAre("ns/s3", "ns/s4", "ns/s5"));
  EXPECT_EQ(Str(page2.body, "/items/0/spec/clusterIP"), "10.96.0.10");
  const std::string token2 = Str(page2.body, "/metadata/continue");
  EXPECT_NE(token2, token1);

  HttpResult page3 = HttpGet(api->url() + kServices + "?limit=3&continue=" + token2);
  EXPECT_EQ(Str(page3.body, "/metadata/resourceVersion"), rv);
  EXPECT_THAT(ItemKeys(page3.body), ElementsAre("ns/s6"));
  EXPECT_FALSE(Has(page3.body, "/metadata/continue"));
  EXPECT_FALSE(Has(page3.body, "/metadata/remainingItemCount"));

  // The token is kube-apiserver's: base64 JSON naming the rv.
  absl::StatusOr<kube_wire::ContinuePoint> point = kube_wire::DecodeContinue(token1);
  ASSERT_TRUE(point.ok()) << point.status();
  EXPECT_EQ(std::to_string(point->rv), rv);

  // A fresh list sees the changes.
  HttpResult fresh = HttpGet(api->url() + kServices);
  EXPECT_THAT(ItemKeys(fresh.body),
              ElementsAre("ns/s0", "ns/s1", "ns/s2", "ns/s3", "ns/s35", "ns/s5", "ns/s6"));

  const std::vector<FakeKubeApi::Request> requests = api->requests();
  ASSERT_EQ(requests.size(), 4u);
  EXPECT_EQ(requests[1].path, kServices);
  EXPECT_EQ(requests[1].params.at("continue"), token1);
  EXPECT_EQ(requests[1].params.at("limit"), "3");
  EXPECT_FALSE(requests[1].watch);
  EXPECT_EQ(requests[1].status, 200);
}

TEST(FakeKubeApi, MaxPageSizeCapsEveryPage) {
  auto api = StartApi({.max_page_size = 2});
  ASSERT_NE(api, nullptr);
  for (int i = 0; i < 3; ++i) api->Apply(FakeResource::kServices, ServiceJson("ns", absl::StrCat("s", i)));
  HttpResult r = HttpGet(api->url() + kServices + "?limit=500");
  EXPECT_THAT(ItemKeys(r.body), ElementsAre("ns/s0", "ns/s1"));
  r = HttpGet(api->url() + kServices);  // no limit: capped all the same
  EXPECT_THAT(ItemKeys(r.body), ElementsAre("ns/s0", "ns/s1"));
  r = HttpGet(api->url() + kServices + "?limit=1");
  EXPECT_THAT(ItemKeys(r.body), ElementsAre("ns/s0"));
  r = HttpGet(api->url() + kServices + "?continue=" + Str(r.body, "/metadata/continue"));
  EXPECT_THAT(ItemKeys(r.body), ElementsAre("ns/s1", "ns/s2"));
}

TEST(FakeKubeApi, ContinueTokenExpiresAfterCompaction) {
  auto api = StartApi();
  ASSERT_NE(api, nullptr);
  for (int i = 0; i < 3; ++i) api->Apply(FakeResource::kServices, ServiceJson("ns", absl::StrCat("s", i)));
  HttpResult page1 = HttpGet(api->url() + kServices + "?limit=1");
  const std::string token = Str(page1.body, "/metadata/continue");
  api->CompactHistory();
  HttpResult r = HttpGet(api->url() + kServices + "?limit=1&continue=" + token);
  EXPECT_EQ(r.status, 410);
  EXPECT_EQ(Str(r.body, "/kind"), "Status");
  EXPECT_EQ(Str(r.body, "/status"), "Failure");
  EXPECT_EQ(Str(r.body, "/reason"), "Expired");
  EXPECT_EQ(Int(r.body, "/code"), 410);
  EXPECT_THAT(Str(r.body, "/message"), HasSubstr("continue parameter is too old"));

  r = HttpGet(api->url() + kServices + "?continue=not-a-token");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(Str(r.body, "/reason"), "BadRequest");
}

TEST(FakeKubeApi, UnknownPathIsNotFound) {
  auto api = StartApi();
  ASSERT_NE(api, nullptr);
  HttpResult r = HttpGet(api->url() + "/api/v1/pods");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(Str(r.body, "/reason"), "NotFound");
  EXPECT_EQ(Int(r.body, "/code"), 404);
}

TEST(FakeKubeApi, WatchWithoutVersionStartsWithAddedThenLiveEvents) {
  auto api = StartApi();
  ASSERT_NE(api, nullptr);
  api->Apply(FakeResource::kServices, ServiceJson("b", "two"));
  api->Apply(FakeResource::kServices, ServiceJson("a", "one"));
  WatchStream watch(api->url() + kServices + "?watch=true");
  ASSERT_TRUE(watch.WaitForLines(2, kWait));
  ASSERT_TRUE(api->WaitForOpenWatches(FakeResource::kServices, 1, kWait));
  EXPECT_EQ(watch.status(), 200);
  EXPECT_THAT(watch.headers(), HasSubstr("content-type: application/json"));
  EXPECT_THAT(watch.headers(), HasSubstr("transfer-encoding: chunked"));

  const uint64_t modified = api->Apply(FakeResource::kServices, ServiceJson("a", "one", "10.96.1.1"));
  const uint64_t deleted = api->Delete(FakeResource::kServices, "b", "two");
  EXPECT_EQ(deleted, modified + 1);
  EXPECT_EQ(api->Delete(FakeResource::kServices, "b", "two"), 0u);
  ASSERT_TRUE(watch.WaitForLines(4, kWait));
  const std::vector<std::string> lines = watch.lines();
  EXPECT_THAT(lines, ElementsAre(HasSubstr(R"({"type":"ADDED","object":{"kind":"Service","apiVersion":"v1",)"),
                                 HasSubstr("ADDED"), HasSubstr("MODIFIED"), HasSubstr("DELETED")));
  EXPECT_EQ(Event(lines[0]), "ADDED a/one 1002");
  EXPECT_EQ(Event(lines[1]), "ADDED b/two 1001");
  EXPECT_EQ(Event(lines[2]), absl::StrCat("MODIFIED a/one ", modified));
  EXPECT_EQ(Str(lines[2], "/object/spec/clusterIP"), "10.96.1.1");
  EXPECT_EQ(Event(lines[3]), absl::StrCat("DELETED b/two ", deleted));
  EXPECT_EQ(Str(lines[3], "/object/kind"), "Service");
  EXPECT_EQ(watch.partial(), "");
  EXPECT_FALSE(watch.ended());

  // Other resources and other namespaces' watches do not see these.
  WatchStream slices(api->url() + kSlices + "?watch=1&resourceVersion=0");
  WatchStream ns_a(api->url() + "/api/v1/namespaces/a/services?watch=1&resourceVersion=" +
                   std::to_string(deleted));
  ASSERT_TRUE(api->WaitForOpenWatches(FakeResource::kEndpointSlices, 1, kWait));
  ASSERT_TRUE(api->WaitForOpenWatches(FakeResource::kServices, 2, kWait));
  api->Apply(FakeResource::kServices, ServiceJson("b", "three"));
  api->Apply(FakeResource::kServices, ServiceJson("a", "four"));
  api->Apply(FakeResource::kEndpointSlices, SliceJson("a", "four-x"));
  ASSERT_TRUE(ns_a.WaitForLines(1, kWait));
  ASSERT_TRUE(slices.WaitForLines(1, kWait));
  ASSERT_TRUE(watch.WaitForLines(6, kWait));
  EXPECT_THAT(Event(ns_a.lines()[0]), HasSubstr("ADDED a/four"));
  EXPECT_THAT(Event(slices.lines()[0]), HasSubstr("ADDED a/four-x"));
  EXPECT_EQ(Str(slices.lines()[0], "/object/kind"), "EndpointSlice");
  EXPECT_EQ(Str(slices.lines()[0], "/object/apiVersion"), "discovery.k8s.io/v1");
  absl::SleepFor(absl::Milliseconds(50));
  EXPECT_EQ(ns_a.lines().size(), 1u);
  EXPECT_EQ(slices.lines().size(), 1u);
}

TEST(FakeKubeApi, WatchReplaysEventsAfterTheGivenVersion) {
  auto api = StartApi();
  ASSERT_NE(api, nullptr);
  const uint64_t rv1 = api->Apply(FakeResource::kServices, ServiceJson("ns", "a"));
  api->Apply(FakeResource::kServices, ServiceJson("ns", "b"));
  api->Apply(FakeResource::kEndpointSlices, SliceJson("ns", "a-x"));
  api->Apply(FakeResource::kServices, ServiceJson("ns", "a", "10.96.3.3"));
  api->Delete(FakeResource::kServices, "ns", "b");
  WatchStream watch(api->url() + kServices + "?watch=1&resourceVersion=" + std::to_string(rv1));
  ASSERT_TRUE(watch.WaitForLines(3, kWait));
  std::vector<std::string> events;
  for (const std::string& line : watch.lines()) events.push_back(Event(line));
  EXPECT_THAT(events, ElementsAre("ADDED ns/b 1002", "MODIFIED ns/a 1004", "DELETED ns/b 1005"));
}

TEST(FakeKubeApi, WatchFromACompactedVersionGetsExpiredThenEnds) {
  auto api = StartApi();
  ASSERT_NE(api, nullptr);
  const uint64_t old_rv = api->Apply(FakeResource::kServices, ServiceJson("ns", "a"));
  api->Apply(FakeResource::kServices, ServiceJson("ns", "b"));
  api->CompactHistory();
  WatchStream watch(api->url() + kServices + "?watch=1&resourceVersion=" + std::to_string(old_rv));
  ASSERT_TRUE(watch.WaitForEnd(kWait));
  EXPECT_EQ(watch.result(), CURLE_OK);  // a clean end, terminating chunk included
  EXPECT_EQ(watch.status(), 200);
  ASSERT_EQ(watch.lines().size(), 1u);
  const std::string line = watch.lines()[0];
  EXPECT_EQ(Str(line, "/type"), "ERROR");
  EXPECT_EQ(Str(line, "/object/kind"), "Status");
  EXPECT_EQ(Str(line, "/object/reason"), "Expired");
  EXPECT_EQ(Int(line, "/object/code"), 410);
  EXPECT_EQ(Str(line, "/object/message"), "too old resource version: 1001 (1002)");

  // From the compaction point on, watching works.
  WatchStream current(api->url() + kServices + "?watch=1&resourceVersion=1002");
  ASSERT_TRUE(api->WaitForOpenWatches(FakeResource::kServices, 1, kWait));
  api->Apply(FakeResource::kServices, ServiceJson("ns", "c"));
  ASSERT_TRUE(current.WaitForLines(1, kWait));
  EXPECT_EQ(Event(current.lines()[0]), "ADDED ns/c 1003");
}

TEST(FakeKubeApi, BookmarksOnlyForWatchesThatAskForThem) {
  auto api = StartApi();
  ASSERT_NE(api, nullptr);
  api->Apply(FakeResource::kServices, ServiceJson("ns", "a"));
  const std::string from = "&resourceVersion=" + std::to_string(api->resource_version());
  WatchStream with(api->url() + kServices + "?watch=1&allowWatchBookmarks=true" + from);
  WatchStream without(api->url() + kServices + "?watch=1" + from);
  ASSERT_TRUE(api->WaitForOpenWatches(FakeResource::kServices, 2, kWait));
  api->SendBookmark(FakeResource::kServices);
  api->SendBookmark(FakeResource::kEndpointSlices);  // nobody watches slices
  api->Apply(FakeResource::kServices, ServiceJson("ns", "b"));
  ASSERT_TRUE(with.WaitForLines(2, kWait));
  ASSERT_TRUE(without.WaitForLines(1, kWait));
  EXPECT_EQ(with.lines()[0],
            R"({"type":"BOOKMARK","object":{"kind":"Service","apiVersion":"v1","metadata":{"resourceVersion":"1001"}}})");
  EXPECT_EQ(Event(with.lines()[1]), "ADDED ns/b 1002");
  EXPECT_EQ(Event(without.lines()[0]), "ADDED ns/b 1002");
  absl::SleepFor(absl::Milliseconds(50));
  EXPECT_EQ(without.lines().size(), 1u);
}

TEST(FakeKubeApi, BearerTokenIsCheckedAndRotates) {
  auto api = StartApi({.bearer_token = "first"});
  ASSERT_NE(api, nullptr);
  HttpResult none = HttpGet(api->url() + kServices);
  EXPECT_EQ(none.status, 401);
  EXPECT_EQ(Str(none.body, "/kind"), "Status");
  EXPECT_EQ(Str(none.body, "/reason"), "Unauthorized");
  EXPECT_EQ(Int(none.body, "/code"), 401);
  EXPECT_EQ(HttpGet(api->url() + kServices, {.token = "wrong"}).status, 401);
  EXPECT_EQ(HttpGet(api->url() + kServices, {.token = "first"}).status, 200);
  EXPECT_EQ(HttpGet(api->url() + "/api/v1/pods").status, 401);  // auth before routing

  api->SetBearerToken("second");
  EXPECT_EQ(HttpGet(api->url() + kServices, {.token = "first"}).status, 401);
  EXPECT_EQ(HttpGet(api->url() + kServices, {.token = "second"}).status, 200);
  WatchStream watch(api->url() + kServices + "?watch=1", {.token = "first"});
  ASSERT_TRUE(watch.WaitForEnd(kWait));
  EXPECT_EQ(watch.status(), 401);

  const std::vector<FakeKubeApi::Request> requests = api->requests();
  ASSERT_EQ(requests.size(), 7u);
  EXPECT_EQ(requests[0].authorization, "");
  EXPECT_EQ(requests[0].status, 401);
  EXPECT_EQ(requests[2].authorization, "Bearer first");
  EXPECT_EQ(requests[2].status, 200);
  EXPECT_TRUE(requests[6].watch);
  EXPECT_EQ(requests[6].params.at("watch"), "1");
}

TEST(FakeKubeApi, DropWatchConnectionsEndsStreamsAbruptly) {
  auto api = StartApi();
  ASSERT_NE(api, nullptr);
  api->Apply(FakeResource::kServices, ServiceJson("ns", "a"));
  WatchStream watch(api->url() + kServices + "?watch=1");
  ASSERT_TRUE(watch.WaitForLines(1, kWait));
  ASSERT_TRUE(api->WaitForOpenWatches(FakeResource::kServices, 1, kWait));
  api->DropWatchConnections();
  EXPECT_EQ(api->open_watches(FakeResource::kServices), 0);
  ASSERT_TRUE(watch.WaitForEnd(kWait));
  // No terminating chunk: curl reports the body as cut short.
  EXPECT_EQ(watch.result(), CURLE_PARTIAL_FILE) << curl_easy_strerror(watch.result());

  // The next watch works again.
  WatchStream again(api->url() + kServices + "?watch=1");
  ASSERT_TRUE(again.WaitForLines(1, kWait));
  EXPECT_EQ(api->open_watches(FakeResource::kServices), 1);
}

TEST(FakeKubeApi, InjectedLinesArriveRawAndInOrder) {
  auto api = StartApi();
  ASSERT_NE(api, nullptr);
  WatchStream watch(api->url() + kServices + "?watch=1");
  ASSERT_TRUE(api->WaitForOpenWatches(FakeResource::kServices, 1, kWait));
  api->Apply(FakeResource::kServices, ServiceJson("ns", "a"));
  api->InjectWatchLine(FakeResource::kServices, R"({"type":"ADDED","object":{"kind":)");
  api->Apply(FakeResource::kServices, ServiceJson("ns", "b"));
  ASSERT_TRUE(watch.WaitForLines(3, kWait));
  const std::vector<std::string> lines = watch.lines();
  EXPECT_EQ(Event(lines[0]), "ADDED ns/a 1001");
  EXPECT_EQ(lines[1], R"({"type":"ADDED","object":{"kind":)");
  EXPECT_EQ(Event(lines[2]), "ADDED ns/b 1002");
}

TEST(FakeKubeApi, FailNextRequestsAnswersTheStatusThenRecovers) {
  auto api = StartApi();
  ASSERT_NE(api, nullptr);
  api->FailNextRequests(FakeResource::kServices, 2, 500);
  HttpResult r = HttpGet(api->url() + kServices);
  EXPECT_EQ(r.status, 500);
  EXPECT_EQ(Str(r.body, "/reason"), "InternalError");
  EXPECT_EQ(Int(r.body, "/code"), 500);
  EXPECT_EQ(HttpGet(api->url() + kSlices).status, 200);  // other resource unaffected
  WatchStream watch(api->url() + kServices + "?watch=1");
  ASSERT_TRUE(watch.WaitForEnd(kWait));
  EXPECT_EQ(watch.status(), 500);
  EXPECT_EQ(HttpGet(api->url() + kServices).status, 200);

  api->FailNextRequests(FakeResource::kEndpointSlices, 1, 429);
  r = HttpGet(api->url() + kSlices);
  EXPECT_EQ(r.status, 429);
  EXPECT_EQ(Str(r.body, "/reason"), "TooManyRequests");
}

TEST(FakeKubeApi, TimeoutSecondsEndsTheWatchCleanly) {
  auto api = StartApi();
  ASSERT_NE(api, nullptr);
  const auto start = std::chrono::steady_clock::now();
  WatchStream watch(api->url() + kServices + "?watch=1&timeoutSeconds=1");
  ASSERT_TRUE(watch.WaitForEnd(kWait));
  const auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(watch.result(), CURLE_OK);
  EXPECT_EQ(watch.status(), 200);
  EXPECT_GE(elapsed, std::chrono::milliseconds(950));
  EXPECT_LT(elapsed, std::chrono::milliseconds(2000));
  EXPECT_EQ(api->open_watches(FakeResource::kServices), 0);
}

TEST(FakeKubeApi, StallSilencesWatchesAndHangsLists) {
  auto api = StartApi();
  ASSERT_NE(api, nullptr);
  WatchStream watch(api->url() + kServices + "?watch=1");
  ASSERT_TRUE(api->WaitForOpenWatches(FakeResource::kServices, 1, kWait));
  api->SetStall(true);
  api->Apply(FakeResource::kServices, ServiceJson("ns", "a"));
  api->SendBookmark(FakeResource::kServices);
  EXPECT_FALSE(watch.WaitForLines(1, absl::Milliseconds(200)));
  HttpResult list = HttpGet(api->url() + kServices, {.timeout_ms = 200});
  EXPECT_EQ(list.code, CURLE_OPERATION_TIMEDOUT);
  api->SetStall(false);
  ASSERT_TRUE(watch.WaitForLines(1, kWait));
  EXPECT_EQ(Event(watch.lines()[0]), "ADDED ns/a 1001");
  EXPECT_EQ(HttpGet(api->url() + kServices).status, 200);
}

TEST(FakeKubeApi, ResponseDelaySlowsEveryResponse) {
  auto api = StartApi();
  ASSERT_NE(api, nullptr);
  api->SetResponseDelay(absl::Milliseconds(300));
  auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(HttpGet(api->url() + kServices).status, 200);
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(300));
  api->SetResponseDelay(absl::ZeroDuration());
  start = std::chrono::steady_clock::now();
  EXPECT_EQ(HttpGet(api->url() + kServices).status, 200);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(300));
}

TEST(FakeKubeApi, ClientHangUpClosesTheWatchEvenWhenSilent) {
  auto api = StartApi();
  ASSERT_NE(api, nullptr);
  auto watch = std::make_unique<WatchStream>(api->url() + kServices + "?watch=1");
  ASSERT_TRUE(api->WaitForOpenWatches(FakeResource::kServices, 1, kWait));
  api->SetStall(true);  // nothing is ever written, so only the hang-up check can notice
  watch.reset();
  const absl::Time give_up = absl::Now() + kWait;
  while (api->open_watches(FakeResource::kServices) > 0 && absl::Now() < give_up) {
    absl::SleepFor(absl::Milliseconds(5));
  }
  EXPECT_EQ(api->open_watches(FakeResource::kServices), 0);
}

TEST(FakeKubeApi, WatchIsNotCompressedWhenTheClientAcceptsGzip) {
  auto api = StartApi();
  ASSERT_NE(api, nullptr);
  WatchStream watch(api->url() + kServices + "?watch=1", {.accept_encoding = "gzip"});
  ASSERT_TRUE(api->WaitForOpenWatches(FakeResource::kServices, 1, kWait));
  api->Apply(FakeResource::kServices, ServiceJson("ns", "a"));
  ASSERT_TRUE(watch.WaitForLines(1, kWait));  // a buffering compressor would hold it back
  EXPECT_THAT(watch.headers(), Not(HasSubstr("content-encoding")));
}

TEST(FakeKubeApi, ApplyNormalizesLayoutAndRejectsBrokenJson) {
  auto api = StartApi();
  ASSERT_NE(api, nullptr);
  WatchStream watch(api->url() + kServices + "?watch=1");
  ASSERT_TRUE(api->WaitForOpenWatches(FakeResource::kServices, 1, kWait));
  EXPECT_EQ(api->Apply(FakeResource::kServices, "{\"metadata\": {\"name\": \"x\""), 0u);
  EXPECT_EQ(api->Apply(FakeResource::kServices, R"({"metadata":{"namespace":"ns"}})"), 0u);
  EXPECT_EQ(api->Apply(FakeResource::kServices, "[1,2]"), 0u);
  EXPECT_EQ(api->resource_version(), 1000u);
  const uint64_t rv = api->Apply(FakeResource::kServices, R"({
    "kind": "Service",
    "metadata": {
      "annotations": {"note": "line one\nline \"two\""},
      "name": "pretty",
      "namespace": "ns",
      "resourceVersion": "551200"
    },
    "spec": {"clusterIP": "10.96.7.7"}
  })");
  EXPECT_EQ(rv, 1001u);
  ASSERT_TRUE(watch.WaitForLines(1, kWait));
  const std::string line = watch.lines()[0];
  EXPECT_EQ(line,
            R"({"type":"ADDED","object":{"kind":"Service","apiVersion":"v1","metadata":{"annotations":{"note":"line one\nline \"two\""},"name":"pretty","namespace":"ns","resourceVersion":"1001"},"spec":{"clusterIP":"10.96.7.7"}}})");
}

TEST(FakeKubeApi, ServesHttpsWithTheTestCertificate) {
  auto api = StartApi({.tls_cert_file = kTlsDir + "/server.crt", .tls_key_file = kTlsDir + "/server.key"});
  ASSERT_NE(api, nullptr);
  EXPECT_EQ(api->url(), absl::StrCat("https://127.0.0.1:", api->port()));
  api->Apply(FakeResource::kServices, ServiceJson("ns", "a"));
  HttpResult r = HttpGet(api->url() + kServices, {.ca_file = kTlsDir + "/ca.crt"});
  ASSERT_EQ(r.code, CURLE_OK) << r.error;
  EXPECT_THAT(ItemKeys(r.body), ElementsAre("ns/a"));
  // "localhost" is in the certificate too.
  r = HttpGet(absl::StrCat("https://localhost:", api->port(), kServices), {.ca_file = kTlsDir + "/ca.crt"});
  EXPECT_EQ(r.code, CURLE_OK) << r.error;
  // Without the test CA the chain does not verify.
  r = HttpGet(api->url() + kServices, {.ca_file = kTlsDir + "/client.crt"});
  EXPECT_EQ(r.code, CURLE_PEER_FAILED_VERIFICATION) << r.error;
  r = HttpGet(api->url() + kServices);
  EXPECT_EQ(r.code, CURLE_PEER_FAILED_VERIFICATION) << r.error;

  WatchStream watch(api->url() + kServices + "?watch=1", {.ca_file = kTlsDir + "/ca.crt"});
  ASSERT_TRUE(watch.WaitForLines(1, kWait));
  ASSERT_TRUE(api->WaitForOpenWatches(FakeResource::kServices, 1, kWait));
  api->DropWatchConnections();
  ASSERT_TRUE(watch.WaitForEnd(kWait));
  EXPECT_NE(watch.result(), CURLE_OK);
}

TEST(FakeKubeApi, RequiresAClientCertificateWhenGivenAClientCa) {
  auto api = StartApi({.tls_cert_file = kTlsDir + "/server.crt",
                       .tls_key_file = kTlsDir + "/server.key",
                       .client_ca_file = kTlsDir + "/ca.crt"});
  ASSERT_NE(api, nullptr);
  HttpResult r = HttpGet(api->url() + kServices, {.ca_file = kTlsDir + "/ca.crt"});
  EXPECT_NE(r.code, CURLE_OK);
  r = HttpGet(api->url() + kServices, {.ca_file = kTlsDir + "/ca.crt",
                                       .client_cert = kTlsDir + "/client.crt",
                                       .client_key = kTlsDir + "/client.key"});
  EXPECT_EQ(r.code, CURLE_OK) << r.error;
  EXPECT_EQ(r.status, 200);
}

TEST(FakeKubeApi, StartFailsOnAMissingCertificate) {
  absl::StatusOr<std::unique_ptr<FakeKubeApi>> api =
      FakeKubeApi::Start({.tls_cert_file = "/nonexistent.crt", .tls_key_file = "/nonexistent.key"});
  EXPECT_FALSE(api.ok());
  api = FakeKubeApi::Start({.tls_cert_file = kTlsDir + "/server.crt"});
  EXPECT_FALSE(api.ok());
}

TEST(FakeKubeApi, DestructorIsFastWithOpenWatchesAndHangingLists) {
  auto api = StartApi();
  ASSERT_NE(api, nullptr);
  WatchStream w1(api->url() + kServices + "?watch=1");
  WatchStream w2(api->url() + kSlices + "?watch=1&allowWatchBookmarks=true");
  WatchStream w3(api->url() + kServices + "?watch=1&timeoutSeconds=60");
  ASSERT_TRUE(api->WaitForOpenWatches(FakeResource::kServices, 2, kWait));
  ASSERT_TRUE(api->WaitForOpenWatches(FakeResource::kEndpointSlices, 1, kWait));
  api->SetResponseDelay(absl::Seconds(30));
  WatchStream delayed(api->url() + kServices);  // a list held by the delay
  absl::SleepFor(absl::Milliseconds(50));
  const auto start = std::chrono::steady_clock::now();
  api.reset();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(1000));
  ASSERT_TRUE(w1.WaitForEnd(kWait));
  EXPECT_NE(w1.result(), CURLE_OK);
  ASSERT_TRUE(delayed.WaitForEnd(kWait));
}

}  // namespace
}  // namespace clusterdns::testing
