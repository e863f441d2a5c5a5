// Tests of controlplane/objects_json: Service and EndpointSlice decoding, Lists and objects files.
#include "controlplane/objects_json.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "records/ip_address.h"
#include "records/model.h"

namespace clusterdns::controlplane {
namespace {

using records::AddressType;
using records::EndpointSlice;
using records::IpAddress;
using records::Protocol;
using records::Service;
using records::ServiceType;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::StartsWith;

namespace od = simdjson::ondemand;

std::string Testdata(std::string_view name) {
  return std::string(CDNS_OBJECTS_TESTDATA_DIR) + "/" + std::string(name);
}

IpAddress Ip(std::string_view text) {
  std::optional<IpAddress> ip = IpAddress::Parse(text);
  EXPECT_TRUE(ip.has_value()) << text;
  return ip.value_or(IpAddress());
}

const Service* FindService(const ObjectList& list, std::string_view ns, std::string_view name) {
  for (const Service& service : list.services) {
    if (service.ns == ns && service.name == name) return &service;
  }
  return nullptr;
}

const EndpointSlice* FindSlice(const ObjectList& list, std::string_view ns,
                               std::string_view name) {
  for (const EndpointSlice& slice : list.slices) {
    if (slice.ns == ns && slice.name == name) return &slice;
  }
  return nullptr;
}

std::vector<std::string> ServiceNames(const ObjectList& list) {
  std::vector<std::string> names;
  for (const Service& service : list.services) names.push_back(service.ns + "/" + service.name);
  return names;
}

std::vector<std::string> SliceNames(const ObjectList& list) {
  std::vector<std::string> names;
  for (const EndpointSlice& slice : list.slices) names.push_back(slice.ns + "/" + slice.name);
  return names;
}

// A kubectl-style List of the given items.
std::string List(std::string_view items) {
  return R"({"apiVersion":"v1","items":[)" + std::string(items) +
         R"(],"kind":"List","metadata":{"resourceVersion":""}})";
}

// A well-formed Service that follows each malformed item, to show the list goes on.
constexpr std::string_view kGoodService =
    R"({"apiVersion":"v1","kind":"Service","metadata":{"name":"after","namespace":"default"},)"
    R"("spec":{"clusterIP":"10.254.9.9","ports":[{"port":80}]}})";

// Decodes one object with DecodeService / DecodeEndpointSlice, the way the watch will.
template <typename T>
absl::StatusOr<T> DecodeOne(std::string_view json) {
  simdjson::padded_string padded(json);
  od::parser parser;
  od::document doc;
  if (parser.iterate(padded).get(doc) != simdjson::SUCCESS) return absl::InternalError("iterate");
  od::object object;
  if (doc.get_object().get(object) != simdjson::SUCCESS) return absl::InternalError("object");
  if constexpr (std::is_same_v<T, Service>) {
    return DecodeService(object);
  } else {
    return DecodeEndpointSlice(object);
  }
}

// --- Lists from files ---------------------------------------------------------------------------

TEST(ObjectsJson, DecodesTheKubeDnsWalkthroughCluster) {
  absl::StatusOr<ObjectList> list = LoadObjectsFile(Testdata("kube_dns_walkthrough.json"));
  ASSERT_TRUE(list.ok()) << list.status();
  EXPECT_THAT(list->skipped, IsEmpty());
  EXPECT_EQ(list->ignored_other_kinds, 0u);
  EXPECT_EQ(list->resource_version, "");
  EXPECT_THAT(ServiceNames(*list),
              ElementsAre("default/kubernetes", "kube-system/kube-dns", "default/redis-master"));
  EXPECT_THAT(SliceNames(*list), ElementsAre("default/kubernetes", "kube-system/kube-dns-x7k2p",
                                             "default/redis-master-9qzvd"));

  const Service* dns = FindService(*list, "kube-system", "kube-dns");
  ASSERT_NE(dns, nullptr);
  EXPECT_EQ(dns->resource_version, "291");
  EXPECT_EQ(dns->type, ServiceType::kClusterIP);
  EXPECT_FALSE(dns->headless);
  EXPECT_THAT(dns->cluster_ips, ElementsAre(Ip("10.254.0.3")));
  ASSERT_EQ(dns->ports.size(), 2u);
  EXPECT_EQ(dns->ports[0].name, "dns");
  EXPECT_EQ(dns->ports[0].protocol, Protocol::kUdp);
  EXPECT_EQ(dns->ports[0].port, 53);
  EXPECT_EQ(dns->ports[1].name, "dns-tcp");
  EXPECT_EQ(dns->ports[1].protocol, Protocol::kTcp);
  EXPECT_EQ(dns->ports[1].port, 53);
  EXPECT_FALSE(dns->publish_not_ready_addresses);
  EXPECT_EQ(dns->external_name, "");

  const Service* redis = FindService(*list, "default", "redis-master");
  ASSERT_NE(redis, nullptr);
  EXPECT_THAT(redis->cluster_ips, ElementsAre(Ip("10.254.7.160")));
  ASSERT_EQ(redis->ports.size(), 1u);
  EXPECT_EQ(redis->ports[0].name, "");
  EXPECT_EQ(redis->ports[0].protocol, Protocol::kTcp);
  EXPECT_EQ(redis->ports[0].port, 6379);

  const EndpointSlice* dns_slice = FindSlice(*list, "kube-system", "kube-dns-x7k2p");
  ASSERT_NE(dns_slice, nullptr);
  EXPECT_EQ(dns_slice->service_name, "kube-dns");
  EXPECT_EQ(dns_slice->resource_version, "305");
  EXPECT_EQ(dns_slice->address_type, AddressType::kIPv4);
  ASSERT_EQ(dns_slice->endpoints.size(), 1u);
  EXPECT_THAT(dns_slice->endpoints[0].addresses, ElementsAre(Ip("10.244.0.5")));
  EXPECT_EQ(dns_slice->endpoints[0].ready, true);
  EXPECT_EQ(dns_slice->endpoints[0].serving, true);
  EXPECT_EQ(dns_slice->endpoints[0].terminating, false);
  EXPECT_EQ(dns_slice->endpoints[0].hostname, "");
  ASSERT_EQ(dns_slice->ports.size(), 2u);
  EXPECT_EQ(dns_slice->ports[0].name, "dns-tcp");
  EXPECT_EQ(dns_slice->ports[0].protocol, Protocol::kTcp);
  EXPECT_EQ(dns_slice->ports[0].port, std::optional<uint16_t>(53));
  EXPECT_EQ(dns_slice->ports[1].name, "dns");
  EXPECT_EQ(dns_slice->ports[1].protocol, Protocol::kUdp);

  const EndpointSlice* redis_slice = FindSlice(*list, "default", "redis-master-9qzvd");
  ASSERT_NE(redis_slice, nullptr);
  EXPECT_EQ(redis_slice->service_name, "redis-master");
  ASSERT_EQ(redis_slice->ports.size(), 1u);
  EXPECT_EQ(redis_slice->ports[0].name, "");
  EXPECT_EQ(redis_slice->ports[0].port, std::optional<uint16_t>(6379));

  const EndpointSlice* api_slice = FindSlice(*list, "default", "kubernetes");
  ASSERT_NE(api_slice, nullptr);
  ASSERT_EQ(api_slice->endpoints.size(), 1u);
  EXPECT_EQ(api_slice->endpoints[0].ready, true);
  EXPECT_EQ(api_slice->endpoints[0].serving, std::nullopt);
  EXPECT_EQ(api_slice->endpoints[0].terminating, std::nullopt);
}

TEST(ObjectsJson, DecodesHeadlessServiceAndEndpointConditions) {
  absl::StatusOr<ObjectList> list = LoadObjectsFile(Testdata("headless.json"));
  ASSERT_TRUE(list.ok()) << list.status();
  EXPECT_THAT(list->skipped, IsEmpty());

  const Service* web = FindService(*list, "default", "web");
  ASSERT_NE(web, nullptr);
  EXPECT_TRUE(web->headless);
  EXPECT_THAT(web->cluster_ips, IsEmpty());
  EXPECT_FALSE(web->publish_not_ready_addresses);
  ASSERT_EQ(web->ports.size(), 1u);
  EXPECT_EQ(web->ports[0].name, "web");
  EXPECT_EQ(web->ports[0].port, 80);

  const EndpointSlice* slice = FindSlice(*list, "default", "web-8xk2q");
  ASSERT_NE(slice, nullptr);
  EXPECT_EQ(slice->service_name, "web");
  ASSERT_EQ(slice->endpoints.size(), 4u);
  const records::Endpoint& web0 = slice->endpoints[0];
  EXPECT_THAT(web0.addresses, ElementsAre(Ip("10.244.1.5")));
  EXPECT_EQ(web0.hostname, "web-0");
  EXPECT_EQ(web0.ready, true);
  EXPECT_EQ(web0.serving, true);
  EXPECT_EQ(web0.terminating, false);
  const records::Endpoint& web1 = slice->endpoints[1];
  EXPECT_EQ(web1.hostname, "web-1");
  EXPECT_EQ(web1.ready, false);  // present and false, not absent
  EXPECT_EQ(web1.serving, false);
  const records::Endpoint& web2 = slice->endpoints[2];  // "conditions": {}
  EXPECT_EQ(web2.hostname, "web-2");
  EXPECT_EQ(web2.ready, std::nullopt);
  EXPECT_EQ(web2.serving, std::nullopt);
  EXPECT_EQ(web2.terminating, std::nullopt);
  const records::Endpoint& old = slice->endpoints[3];
  EXPECT_THAT(old.addresses, ElementsAre(Ip("10.244.1.8")));
  EXPECT_EQ(old.hostname, "");
  EXPECT_EQ(old.ready, false);
  EXPECT_EQ(old.serving, true);
  EXPECT_EQ(old.terminating, true);

  const Service* etcd = FindService(*list, "storage", "etcd-peers");
  ASSERT_NE(etcd, nullptr);
  EXPECT_TRUE(etcd->headless);
  EXPECT_TRUE(etcd->publish_not_ready_addresses);
  const EndpointSlice* etcd_slice = FindSlice(*list, "storage", "etcd-peers-m2v9t");
  ASSERT_NE(etcd_slice, nullptr);
  ASSERT_EQ(etcd_slice->ports.size(), 2u);
  EXPECT_EQ(etcd_slice->ports[0].port, std::optional<uint16_t>(2379));
  EXPECT_EQ(etcd_slice->ports[1].name, "peer");
  EXPECT_EQ(etcd_slice->ports[1].port, std::nullopt);  // absent: "all ports"
}

TEST(ObjectsJson, DecodesDualStackClusterIpsAndIpv6Slices) {
  absl::StatusOr<ObjectList> list = LoadObjectsFile(Testdata("dual_stack.json"));
  ASSERT_TRUE(list.ok()) << list.status();
  EXPECT_THAT(list->skipped, IsEmpty());

  const Service* frontend = FindService(*list, "shop", "frontend");
  ASSERT_NE(frontend, nullptr);
  EXPECT_EQ(frontend->type, ServiceType::kNodePort);
  EXPECT_THAT(frontend->cluster_ips, ElementsAre(Ip("10.254.12.34"), Ip("fd00:10:96::c0a8")));

  const Service* api = FindService(*list, "shop", "api-v6");
  ASSERT_NE(api, nullptr);
  EXPECT_EQ(api->type, ServiceType::kLoadBalancer);
  EXPECT_THAT(api->cluster_ips, ElementsAre(Ip("fd00:10:96::a")));
  ASSERT_EQ(api->ports.size(), 2u);
  EXPECT_EQ(api->ports[1].name, "sctp-feed");
  EXPECT_EQ(api->ports[1].protocol, Protocol::kSctp);
  EXPECT_EQ(api->ports[1].port, 9091);

  const EndpointSlice* v4 = FindSlice(*list, "shop", "frontend-4hx7w");
  ASSERT_NE(v4, nullptr);
  EXPECT_EQ(v4->address_type, AddressType::kIPv4);
  const EndpointSlice* v6 = FindSlice(*list, "shop", "frontend-9rj2m");
  ASSERT_NE(v6, nullptr);
  EXPECT_EQ(v6->address_type, AddressType::kIPv6);
  EXPECT_EQ(v6->service_name, "frontend");
  ASSERT_EQ(v6->endpoints.size(), 2u);
  EXPECT_THAT(v6->endpoints[0].addresses, ElementsAre(Ip("fd00:10:244:1::14")));
  // Any RFC 4291 text form is accepted; the address is kept, not the text.
  EXPECT_THAT(v6->endpoints[1].addresses, ElementsAre(Ip("fd00:10:244:2::1b")));
}

TEST(ObjectsJson, DecodesExternalNameAndKeepsNoFqdnAddresses) {
  absl::StatusOr<ObjectList> list = LoadObjectsFile(Testdata("external_name.json"));
  ASSERT_TRUE(list.ok()) << list.status();
  EXPECT_THAT(list->skipped, IsEmpty());
  const Service* db = FindService(*list, "prod", "my-database");
  ASSERT_NE(db, nullptr);
  EXPECT_EQ(db->type, ServiceType::kExternalName);
  EXPECT_EQ(db->external_name, "db.example.com");
  EXPECT_THAT(db->cluster_ips, IsEmpty());
  EXPECT_FALSE(db->headless);
  EXPECT_THAT(db->ports, IsEmpty());

  const EndpointSlice* fqdn = FindSlice(*list, "prod", "my-database-fqdn");
  ASSERT_NE(fqdn, nullptr);
  EXPECT_EQ(fqdn->address_type, AddressType::kFqdn);
  ASSERT_EQ(fqdn->endpoints.size(), 2u);
  EXPECT_THAT(fqdn->endpoints[0].addresses, IsEmpty());
  EXPECT_THAT(fqdn->endpoints[1].addresses, IsEmpty());
  EXPECT_EQ(fqdn->endpoints[0].ready, true);
}

TEST(ObjectsJson, DecodesTypedServiceList) {
  absl::StatusOr<ObjectList> list = LoadObjectsFile(Testdata("service_list_typed.json"));
  ASSERT_TRUE(list.ok()) << list.status();
  EXPECT_THAT(list->skipped, IsEmpty());
  EXPECT_EQ(list->resource_version, "48213");
  EXPECT_THAT(list->slices, IsEmpty());
  EXPECT_THAT(ServiceNames(*list), ElementsAre("kube-system/kube-dns", "default/redis-master"));
  const Service* redis = FindService(*list, "default", "redis-master");
  ASSERT_NE(redis, nullptr);
  EXPECT_EQ(redis->resource_version, "2240");
  EXPECT_THAT(redis->cluster_ips, ElementsAre(Ip("10.254.7.160")));
  ASSERT_EQ(redis->ports.size(), 1u);
  EXPECT_EQ(redis->ports[0].name, "redis");
  EXPECT_EQ(redis->ports[0].port, 6379);
  const Service* dns = FindService(*list, "kube-system", "kube-dns");
  ASSERT_NE(dns, nullptr);
  ASSERT_EQ(dns->ports.size(), 2u);
  EXPECT_EQ(dns->ports[0].protocol, Protocol::kUdp);
}

TEST(ObjectsJson, DecodesTypedEndpointSliceList) {
  absl::StatusOr<ObjectList> list = LoadObjectsFile(Testdata("endpointslice_list_typed.json"));
  ASSERT_TRUE(list.ok()) << list.status();
  EXPECT_THAT(list->skipped, IsEmpty());
  EXPECT_EQ(list->resource_version, "48220");
  EXPECT_THAT(list->services, IsEmpty());
  EXPECT_THAT(SliceNames(*list), ElementsAre("kube-system/kube-dns-x7k2p", "default/web-6c2vn"));
  const EndpointSlice* dns = FindSlice(*list, "kube-system", "kube-dns-x7k2p");
  ASSERT_NE(dns, nullptr);
  ASSERT_EQ(dns->endpoints.size(), 2u);
  EXPECT_THAT(dns->endpoints[1].addresses, ElementsAre(Ip("10.244.2.6")));
  const EndpointSlice* web = FindSlice(*list, "default", "web-6c2vn");
  ASSERT_NE(web, nullptr);
  EXPECT_EQ(web->address_type, AddressType::kIPv6);
  ASSERT_EQ(web->endpoints.size(), 1u);
  EXPECT_EQ(web->endpoints[0].hostname, "web-2");
  EXPECT_THAT(web->endpoints[0].addresses, ElementsAre(Ip("fd00:10:244:3::9")));
}

TEST(ObjectsJson, IgnoresAndCountsOtherKinds) {
  absl::StatusOr<ObjectList> list = LoadObjectsFile(Testdata("mixed_kinds.json"));
  ASSERT_TRUE(list.ok()) << list.status();
  EXPECT_THAT(list->skipped, IsEmpty());
  EXPECT_EQ(list->ignored_other_kinds, 4u);  // Namespace, Pod, ConfigMap, Endpoints
  EXPECT_THAT(ServiceNames(*list), ElementsAre("kube-system/kube-dns"));
  EXPECT_THAT(SliceNames(*list), ElementsAre("kube-system/kube-dns-x7k2p"));
}

TEST(ObjectsJson, SkipsEachMalformedItemAndDecodesTheRest) {
  absl::StatusOr<ObjectList> list = LoadObjectsFile(Testdata("malformed.json"));
  ASSERT_TRUE(list.ok()) << list.status();
  EXPECT_THAT(
      list->skipped,
      ElementsAre(
          R"(Service default/bad-ip: spec.clusterIPs[0]: not an IP address "10.254.0.300")",
          "Service default/port-zero: spec.ports[0].port: not an integer in 1..65535",
          "Service default/port-too-big: spec.ports[1].port: not an integer in 1..65535",
          "Service default/port-string: spec.ports[0].port: not an integer in 1..65535",
          R"(Service default/bad-protocol: spec.ports[0].protocol: unknown protocol "ICMP")",
          "items[6] Service default/<no name>: metadata.name: missing",
          "Service default/no-external-name: spec.externalName: missing for type ExternalName",
          "EndpointSlice default/wrong-family-k2j4d: endpoints[0].addresses[0]: IPv6 address "
          R"("fd00:10:244::5" in an IPv4 slice)",
          "EndpointSlice default/bad-address-p8f2s: endpoints[1].addresses[0]: not an IP "
          R"(address "10.244.1.999")",
          "Service default/port-missing: spec.ports[0].port: missing"));
  EXPECT_THAT(ServiceNames(*list), ElementsAre("default/good-1", "default/good-2"));
  EXPECT_THAT(SliceNames(*list), ElementsAre("default/good-1-x9c4v"));
  const Service* good2 = FindService(*list, "default", "good-2");
  ASSERT_NE(good2, nullptr);
  EXPECT_THAT(good2->cluster_ips, ElementsAre(Ip("10.254.1.13")));
}

TEST(ObjectsJson, EmptyItemsList) {
  absl::StatusOr<ObjectList> list = LoadObjectsFile(Testdata("empty.json"));
  ASSERT_TRUE(list.ok()) << list.status();
  EXPECT_THAT(list->services, IsEmpty());
  EXPECT_THAT(list->slices, IsEmpty());
  EXPECT_THAT(list->skipped, IsEmpty());
  EXPECT_EQ(list->ignored_other_kinds, 0u);
}

// --- File errors ---------------------------------------------------------------------------------

TEST(ObjectsJson, TruncatedFileIsAnErrorNamingTheFile) {
  const std::string path = Testdata("truncated.json");
  absl::StatusOr<ObjectList> list = LoadObjectsFile(path);
  ASSERT_FALSE(list.ok());
  EXPECT_EQ(list.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(std::string(list.status().message()),
              StartsWith("objects file " + path + ": not valid JSON: "));
}

TEST(ObjectsJson, MissingFileIsAnErrorNamingTheFile) {
  const std::string path = Testdata("no_such_file.json");
  absl::StatusOr<ObjectList> list = LoadObjectsFile(path);
  ASSERT_FALSE(list.ok());
  EXPECT_EQ(list.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(list.status().message(),
            "objects file " + path + ": cannot open: No such file or directory");
}

TEST(ObjectsJson, DirectoryIsAnErrorNamingIt) {
  const std::string path = Testdata("");
  absl::StatusOr<ObjectList> list = LoadObjectsFile(path);
  ASSERT_FALSE(list.ok());
  EXPECT_THAT(std::string(list.status().message()), StartsWith("objects file " + path + ": "));
}

TEST(ObjectsJson, SingleObjectFileIsNotAList) {
  const std::string path = Testdata("not_a_list.json");
  absl::StatusOr<ObjectList> list = LoadObjectsFile(path);
  ASSERT_FALSE(list.ok());
  EXPECT_EQ(list.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(list.status().message(),
            "objects file " + path + R"(: not a List (kind "Service"))");
}

// --- Lists from strings --------------------------------------------------------------------------

TEST(ObjectsJson, TruncationAtAnItemBoundaryIsAnError) {
  // Ends with a '}' as a whole document would; the items array and the list are never closed.
  std::string json = List(std::string(kGoodService) + "," + std::string(kGoodService));
  json.resize(json.find("]}},") + 3);
  ASSERT_EQ(json.back(), '}');
  absl::StatusOr<ObjectList> list = DecodeObjectList(json);
  ASSERT_FALSE(list.ok());
  EXPECT_EQ(list.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(std::string(list.status().message()), StartsWith("not valid JSON: "));
}

// Every proper prefix of a good file (as a file cut short by a crash or a partial copy) is
// refused as a whole, wherever the cut falls.
class EveryTruncation : public ::testing::TestWithParam<const char*> {};

TEST_P(EveryTruncation, IsAnError) {
  absl::StatusOr<ObjectList> whole = LoadObjectsFile(Testdata(GetParam()));
  ASSERT_TRUE(whole.ok()) << whole.status();
  std::string text;
  std::FILE* file = std::fopen(Testdata(GetParam()).c_str(), "rb");
  ASSERT_NE(file, nullptr);
  char chunk[4096];
  size_t got = 0;
  while ((got = std::fread(chunk, 1, sizeof(chunk), file)) > 0) text.append(chunk, got);
  std::fclose(file);
  const size_t end = text.rfind('}');
  ASSERT_NE(end, std::string::npos);
  for (size_t length = 0; length <= end; ++length) {
    absl::StatusOr<ObjectList> list = DecodeObjectList(std::string_view(text).substr(0, length));
    ASSERT_FALSE(list.ok()) << "decoded a document cut at byte " << length;
    ASSERT_EQ(list.status().code(), absl::StatusCode::kDataLoss) << length << ": " << list.status();
  }
}

INSTANTIATE_TEST_SUITE_P(ObjectsJson, EveryTruncation,
                         ::testing::Values("kube_dns_walkthrough.json", "headless.json",
                                           "dual_stack.json", "external_name.json",
                                           "service_list_typed.json",
                                           "endpointslice_list_typed.json", "mixed_kinds.json",
                                           "malformed.json", "empty.json"),
                         [](const ::testing::TestParamInfo<const char*>& file_info) {
                           std::string name = file_info.param;
                           return name.substr(0, name.find('.'));
                         });

TEST(ObjectsJson, ContentAfterTheListIsAnError) {
  for (const std::string& tail : {std::string("}"), std::string(" {}"), std::string("[]")}) {
    absl::StatusOr<ObjectList> list = DecodeObjectList(List(kGoodService) + tail);
    ASSERT_FALSE(list.ok()) << tail;
    EXPECT_EQ(list.status().code(), absl::StatusCode::kDataLoss) << tail;
    EXPECT_THAT(std::string(list.status().message()), StartsWith("not valid JSON: ")) << tail;
  }
}

TEST(ObjectsJson, BrokenJsonInsideASkippedFieldIsAnError) {
  // managedFields is skipped unparsed, but its brackets still have to match.
  const std::string item =
      R"({"apiVersion":"v1","kind":"Service","metadata":{"managedFields":[{"fieldsV1":{"f:spec":{]}],)"
      R"("name":"x","namespace":"default"},"spec":{"clusterIP":"10.254.0.9"}})";
  absl::StatusOr<ObjectList> list = DecodeObjectList(List(item + "," + std::string(kGoodService)));
  ASSERT_FALSE(list.ok());
  EXPECT_EQ(list.status().code(), absl::StatusCode::kDataLoss);
}

TEST(ObjectsJson, BrokenJsonAfterAMalformedValueIsStillAnError) {
  // The port is malformed (the item would be skipped), and the JSON after it is broken: the
  // whole list fails rather than being read on from a broken place.
  const std::string item =
      R"({"kind":"Service","metadata":{"name":"x"},"spec":{"ports":[{"port":"http"},}]}})";
  absl::StatusOr<ObjectList> list = DecodeObjectList(List(item + "," + std::string(kGoodService)));
  ASSERT_FALSE(list.ok());
  EXPECT_EQ(list.status().code(), absl::StatusCode::kDataLoss);
}

TEST(ObjectsJson, InvalidNumberIsAnError) {
  const std::string item =
      R"({"kind":"Service","metadata":{"name":"x"},"spec":{"ports":[{"port":12x}]}})";
  absl::StatusOr<ObjectList> list = DecodeObjectList(List(item));
  ASSERT_FALSE(list.ok());
  EXPECT_EQ(list.status().code(), absl::StatusCode::kDataLoss);
}

TEST(ObjectsJson, RootThatIsNotAnObjectIsNotAList) {
  absl::StatusOr<ObjectList> list = DecodeObjectList("[1, 2, 3]");
  ASSERT_FALSE(list.ok());
  EXPECT_EQ(list.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(list.status().message(), "not a List (not an object)");
}

TEST(ObjectsJson, KindAfterItemsInATypedList) {
  // Items without a kind of their own, and the list kind only at the end.
  const std::string json =
      R"({"items":[{"metadata":{"name":"a","namespace":"n"},"spec":{"clusterIP":"10.254.0.10"}},)"
      R"({"metadata":{"name":"b"},"spec":{"clusterIP":"None"}}],)"
      R"("metadata":{"resourceVersion":"77"},"kind":"ServiceList","apiVersion":"v1"})";
  absl::StatusOr<ObjectList> list = DecodeObjectList(json);
  ASSERT_TRUE(list.ok()) << list.status();
  EXPECT_THAT(ServiceNames(*list), ElementsAre("n/a", "default/b"));
  EXPECT_THAT(list->skipped, IsEmpty());
  EXPECT_EQ(list->resource_version, "77");
  EXPECT_TRUE(list->services[1].headless);
}

TEST(ObjectsJson, KindAfterItemsInAGenericList) {
  // kubectl's own order: items first, every item with its kind.
  absl::StatusOr<ObjectList> list =
      DecodeObjectList(R"({"items":[)" + std::string(kGoodService) + R"(],"kind":"List"})");
  ASSERT_TRUE(list.ok()) << list.status();
  EXPECT_THAT(ServiceNames(*list), ElementsAre("default/after"));
}

TEST(ObjectsJson, ItemWithoutKindInAGenericListIsSkipped) {
  const std::string item = R"({"metadata":{"name":"anon"},"spec":{"clusterIP":"10.254.0.11"}})";
  absl::StatusOr<ObjectList> list = DecodeObjectList(List(item + "," + std::string(kGoodService)));
  ASSERT_TRUE(list.ok()) << list.status();
  EXPECT_THAT(list->skipped, ElementsAre(R"(items[0]: no "kind")"));
  EXPECT_THAT(ServiceNames(*list), ElementsAre("default/after"));
}

TEST(ObjectsJson, ItemThatIsNotAnObjectIsSkipped) {
  absl::StatusOr<ObjectList> list =
      DecodeObjectList(List(R"("Service", 7, )" + std::string(kGoodService)));
  ASSERT_TRUE(list.ok()) << list.status();
  EXPECT_THAT(list->skipped, ElementsAre("items[0]: not an object", "items[1]: not an object"));
  EXPECT_THAT(ServiceNames(*list), ElementsAre("default/after"));
}

TEST(ObjectsJson, NullCountsAsAbsent) {
  const std::string service =
      R"({"kind":"Service","metadata":{"name":"nulls","namespace":null,"labels":null,)"
      R"("resourceVersion":null},"spec":{"type":null,"clusterIPs":null,"clusterIP":"10.254.3.3",)"
      R"("ports":[null,{"name":null,"protocol":null,"port":8080}],"externalName":null,)"
      R"("publishNotReadyAddresses":null},"status":null})";
  const std::string slice =
      R"({"kind":"EndpointSlice","metadata":{"name":"nulls-1","labels":null},)"
      R"("addressType":"IPv4","endpoints":[{"addresses":null,"conditions":null,)"
      R"("hostname":null},null,{"addresses":["10.244.3.3"],"conditions":{"ready":null}}],)"
      R"("ports":null})";
  const std::string empty_slice =
      R"({"kind":"EndpointSlice","metadata":{"name":"nulls-2"},"addressType":"IPv6",)"
      R"("endpoints":null,"ports":[{"port":null}]})";
  absl::StatusOr<ObjectList> list =
      DecodeObjectList(List(service + "," + slice + "," + empty_slice));
  ASSERT_TRUE(list.ok()) << list.status();
  EXPECT_THAT(list->skipped, IsEmpty());
  ASSERT_EQ(list->services.size(), 1u);
  const Service& s = list->services[0];
  EXPECT_EQ(s.ns, "default");
  EXPECT_EQ(s.type, ServiceType::kClusterIP);
  EXPECT_THAT(s.cluster_ips, ElementsAre(Ip("10.254.3.3")));  // clusterIPs null: clusterIP used
  ASSERT_EQ(s.ports.size(), 1u);
  EXPECT_EQ(s.ports[0].name, "");
  EXPECT_EQ(s.ports[0].protocol, Protocol::kTcp);
  EXPECT_EQ(s.ports[0].port, 8080);
  ASSERT_EQ(list->slices.size(), 2u);
  const EndpointSlice& e = list->slices[0];
  EXPECT_EQ(e.service_name, "");
  ASSERT_EQ(e.endpoints.size(), 2u);
  EXPECT_THAT(e.endpoints[0].addresses, IsEmpty());
  EXPECT_EQ(e.endpoints[0].ready, std::nullopt);
  EXPECT_THAT(e.endpoints[1].addresses, ElementsAre(Ip("10.244.3.3")));
  EXPECT_EQ(e.endpoints[1].ready, std::nullopt);
  EXPECT_THAT(e.ports, IsEmpty());
  EXPECT_THAT(list->slices[1].endpoints, IsEmpty());
  ASSERT_EQ(list->slices[1].ports.size(), 1u);
  EXPECT_EQ(list->slices[1].ports[0].port, std::nullopt);
}

TEST(ObjectsJson, FieldOrderDoesNotMatter) {
  // Kind last, spec before metadata, addressType after endpoints.
  const std::string service =
      R"({"spec":{"ports":[{"port":53,"protocol":"UDP","name":"dns"}],"clusterIPs":["10.254.0.3"]},)"
      R"("metadata":{"resourceVersion":"9","namespace":"kube-system","name":"kube-dns"},)"
      R"("kind":"Service"})";
  const std::string slice =
      R"({"ports":[{"port":53}],"endpoints":[{"hostname":"a","addresses":["fd00::5"]}],)"
      R"("metadata":{"labels":{"kubernetes.io/service-name":"kube-dns"},"name":"kube-dns-v6"},)"
      R"("addressType":"IPv6","kind":"EndpointSlice"})";
  absl::StatusOr<ObjectList> list = DecodeObjectList(List(service + "," + slice));
  ASSERT_TRUE(list.ok()) << list.status();
  EXPECT_THAT(list->skipped, IsEmpty());
  ASSERT_EQ(list->services.size(), 1u);
  EXPECT_EQ(list->services[0].ns, "kube-system");
  EXPECT_EQ(list->services[0].resource_version, "9");
  EXPECT_THAT(list->services[0].cluster_ips, ElementsAre(Ip("10.254.0.3")));
  ASSERT_EQ(list->services[0].ports.size(), 1u);
  EXPECT_EQ(list->services[0].ports[0].protocol, Protocol::kUdp);
  ASSERT_EQ(list->slices.size(), 1u);
  EXPECT_EQ(list->slices[0].service_name, "kube-dns");
  EXPECT_EQ(list->slices[0].address_type, AddressType::kIPv6);
  ASSERT_EQ(list->slices[0].endpoints.size(), 1u);
  EXPECT_THAT(list->slices[0].endpoints[0].addresses, ElementsAre(Ip("fd00::5")));
}

TEST(ObjectsJson, FqdnSliceWithAddressTypeLastKeepsNoAddresses) {
  const std::string slice =
      R"({"endpoints":[{"addresses":["db1.example.com","10.0.0.7"]}],"metadata":{"name":"f"},)"
      R"("addressType":"FQDN","kind":"EndpointSlice"})";
  absl::StatusOr<ObjectList> list = DecodeObjectList(List(slice));
  ASSERT_TRUE(list.ok()) << list.status();
  EXPECT_THAT(list->skipped, IsEmpty());
  ASSERT_EQ(list->slices.size(), 1u);
  ASSERT_EQ(list->slices[0].endpoints.size(), 1u);
  EXPECT_THAT(list->slices[0].endpoints[0].addresses, IsEmpty());
}

TEST(ObjectsJson, EscapedStringsAreDecoded) {
  const std::string service =
      R"({"kind":"Service","metadata":{"name":"db","namespace":"prod"},)"
      R"("spec":{"type":"ExternalName","externalName":"db\u002eexample\/com"}})";
  absl::StatusOr<ObjectList> list = DecodeObjectList(List(service));
  ASSERT_TRUE(list.ok()) << list.status();
  ASSERT_EQ(list->services.size(), 1u);
  EXPECT_EQ(list->services[0].external_name, "db.example/com");
}

TEST(ObjectsJson, AcceptsEveryStringForm) {
  const std::string text = List(kGoodService);
  const simdjson::padded_string padded(text);
  absl::StatusOr<ObjectList> from_string = DecodeObjectList(text);
  absl::StatusOr<ObjectList> from_view = DecodeObjectList(std::string_view(text));
  absl::StatusOr<ObjectList> from_padded = DecodeObjectList(padded);
  absl::StatusOr<ObjectList> from_literal = DecodeObjectList(R"({"kind":"List","items":[]})");
  ASSERT_TRUE(from_string.ok()) << from_string.status();
  ASSERT_TRUE(from_view.ok()) << from_view.status();
  ASSERT_TRUE(from_padded.ok()) << from_padded.status();
  ASSERT_TRUE(from_literal.ok()) << from_literal.status();
  EXPECT_EQ(from_string->services.size(), 1u);
  EXPECT_EQ(from_view->services.size(), 1u);
  EXPECT_EQ(from_padded->services.size(), 1u);
  EXPECT_THAT(from_literal->services, IsEmpty());
}

TEST(ObjectsJson, ManyServices) {
  std::string items;
  constexpr int kCount = 5000;
  for (int i = 0; i < kCount; ++i) {
    if (i > 0) items += ",";
    items += R"({"apiVersion":"v1","kind":"Service","metadata":{"name":"svc-)" +
             std::to_string(i) + R"(","namespace":"ns-)" + std::to_string(i % 7) +
             R"("},"spec":{"clusterIP":"10.96.)" + std::to_string(i / 256) + "." +
             std::to_string(i % 256) + R"(","ports":[{"name":"http","port":80}]}})";
  }
  absl::StatusOr<ObjectList> list = DecodeObjectList(List(items));
  ASSERT_TRUE(list.ok()) << list.status();
  ASSERT_EQ(list->services.size(), static_cast<size_t>(kCount));
  EXPECT_THAT(list->skipped, IsEmpty());
  EXPECT_EQ(list->services[4321].name, "svc-4321");
  EXPECT_EQ(list->services[4321].ns, "ns-2");
  EXPECT_THAT(list->services[4321].cluster_ips, ElementsAre(Ip("10.96.16.225")));
}

// --- Each malformed case, one at a time ----------------------------------------------------------

struct MalformedCase {
  const char* test_name;
  const char* item;
  const char* skipped;  // the expected line
};

class MalformedItem : public ::testing::TestWithParam<MalformedCase> {};

TEST_P(MalformedItem, IsSkippedWithAMessageAndTheListGoesOn) {
  absl::StatusOr<ObjectList> list =
      DecodeObjectList(List(std::string(GetParam().item) + "," + std::string(kGoodService)));
  ASSERT_TRUE(list.ok()) << list.status();
  EXPECT_THAT(list->skipped, ElementsAre(GetParam().skipped));
  EXPECT_THAT(ServiceNames(*list), ElementsAre("default/after"));
  EXPECT_THAT(list->slices, IsEmpty());
}

// Services are "s" in namespace "n", slices "e" in "n", so that only the field varies.
#define CDNS_SVC(spec) \
  R"({"kind":"Service","metadata":{"name":"s","namespace":"n"},"spec":)" spec "}"
#define CDNS_SLICE(body) \
  R"({"kind":"EndpointSlice","metadata":{"name":"e","namespace":"n"},)" body "}"

const MalformedCase kMalformedCases[] = {
    {"BadClusterIps", CDNS_SVC(R"({"clusterIPs":["10.254.0.1","10.254.0.256"]})"),
     R"(Service n/s: spec.clusterIPs[1]: not an IP address "10.254.0.256")"},
    {"BadClusterIp", CDNS_SVC(R"({"clusterIP":"10.254.00.1"})"),
     R"(Service n/s: spec.clusterIP: not an IP address "10.254.00.1")"},
    {"ClusterIpNotAString", CDNS_SVC(R"({"clusterIP":167641091})"),
     "Service n/s: spec.clusterIP: not a string"},
    {"ClusterIpsNotAnArray", CDNS_SVC(R"({"clusterIPs":"10.254.0.1"})"),
     "Service n/s: spec.clusterIPs: not an array"},
    {"PortZero", CDNS_SVC(R"({"ports":[{"port":0}]})"),
     "Service n/s: spec.ports[0].port: not an integer in 1..65535"},
    {"Port70000", CDNS_SVC(R"({"ports":[{"port":53},{"port":70000}]})"),
     "Service n/s: spec.ports[1].port: not an integer in 1..65535"},
    {"PortString", CDNS_SVC(R"({"ports":[{"port":"53"}]})"),
     "Service n/s: spec.ports[0].port: not an integer in 1..65535"},
    {"PortNegative", CDNS_SVC(R"({"ports":[{"port":-53}]})"),
     "Service n/s: spec.ports[0].port: not an integer in 1..65535"},
    {"PortFraction", CDNS_SVC(R"({"ports":[{"port":53.5}]})"),
     "Service n/s: spec.ports[0].port: not an integer in 1..65535"},
    {"PortHuge", CDNS_SVC(R"({"ports":[{"port":123456789012345678901234567890}]})"),
     "Service n/s: spec.ports[0].port: not an integer in 1..65535"},
    {"PortMissing", CDNS_SVC(R"({"ports":[{"name":"http","targetPort":80}]})"),
     "Service n/s: spec.ports[0].port: missing"},
    {"PortNull", CDNS_SVC(R"({"ports":[{"port":null}]})"),
     "Service n/s: spec.ports[0].port: missing"},
    {"UnknownProtocol", CDNS_SVC(R"({"ports":[{"port":7,"protocol":"ICMP"}]})"),
     R"(Service n/s: spec.ports[0].protocol: unknown protocol "ICMP")"},
    {"LowercaseProtocol", CDNS_SVC(R"({"ports":[{"port":53,"protocol":"udp"}]})"),
     R"(Service n/s: spec.ports[0].protocol: unknown protocol "udp")"},
    {"PortsNotAnArray", CDNS_SVC(R"({"ports":{"port":53}})"),
     "Service n/s: spec.ports: not an array"},
    {"PortNotAnObject", CDNS_SVC(R"({"ports":[53]})"),
     "Service n/s: spec.ports[0]: not an object"},
    {"UnknownType", CDNS_SVC(R"({"type":"Magic"})"),
     R"(Service n/s: spec.type: unknown type "Magic")"},
    {"ExternalNameWithoutExternalName", CDNS_SVC(R"({"type":"ExternalName"})"),
     "Service n/s: spec.externalName: missing for type ExternalName"},
    {"ExternalNameEmpty", CDNS_SVC(R"({"type":"ExternalName","externalName":""})"),
     "Service n/s: spec.externalName: missing for type ExternalName"},
    {"PublishNotReadyNotABoolean", CDNS_SVC(R"({"publishNotReadyAddresses":"true"})"),
     "Service n/s: spec.publishNotReadyAddresses: not a boolean"},
    {"SpecNotAnObject", CDNS_SVC(R"("ClusterIP")"), "Service n/s: spec: not an object"},
    {"ServiceWithoutName",
     R"({"kind":"Service","metadata":{"namespace":"n"},"spec":{"clusterIP":"10.254.0.1"}})",
     "items[0] Service n/<no name>: metadata.name: missing"},
    {"NameNotAString", R"({"kind":"Service","metadata":{"name":["s"],"namespace":"n"}})",
     "items[0] Service n/<no name>: metadata.name: not a string"},
    {"MetadataNotAnObject", R"({"kind":"Service","metadata":"s"})",
     "items[0] Service default/<no name>: metadata: not an object"},
    {"ProblemReportedBeforeLaterName",
     R"({"kind":"Service","spec":{"ports":[{"port":0}]},"metadata":{"name":"s","namespace":"n"}})",
     "Service n/s: spec.ports[0].port: not an integer in 1..65535"},
    {"Ipv6AddressInIpv4Slice",
     CDNS_SLICE(R"("addressType":"IPv4","endpoints":[{"addresses":["fd00::1"]}])"),
     R"(EndpointSlice n/e: endpoints[0].addresses[0]: IPv6 address "fd00::1" in an IPv4 slice)"},
    {"Ipv4AddressInIpv6Slice",
     CDNS_SLICE(R"("addressType":"IPv6","endpoints":[{"addresses":["fd00::1","10.244.0.1"]}])"),
     "EndpointSlice n/e: endpoints[0].addresses[1]: IPv4 address \"10.244.0.1\" in an IPv6 "
     "slice"},
    {"WrongFamilyBeforeAddressType",
     CDNS_SLICE(R"("endpoints":[{"addresses":["10.244.0.1"]}],"addressType":"IPv6")"),
     "EndpointSlice n/e: endpoints[0].addresses[0]: IPv4 address \"10.244.0.1\" in an IPv6 "
     "slice"},
    {"BadAddressBeforeAddressType",
     CDNS_SLICE(R"("endpoints":[{"addresses":["10.244.0.1"]},{"addresses":["node-a"]}],)"
                R"("addressType":"IPv4")"),
     R"(EndpointSlice n/e: endpoints[1].addresses[0]: not an IP address "node-a")"},
    {"BadAddress", CDNS_SLICE(R"("addressType":"IPv4","endpoints":[{"addresses":["10.1.2"]}])"),
     R"(EndpointSlice n/e: endpoints[0].addresses[0]: not an IP address "10.1.2")"},
    {"AddressWithZone",
     CDNS_SLICE(R"("addressType":"IPv6","endpoints":[{"addresses":["fe80::1%eth0"]}])"),
     R"(EndpointSlice n/e: endpoints[0].addresses[0]: not an IP address "fe80::1%eth0")"},
    {"AddressNotAString",
     CDNS_SLICE(R"("addressType":"IPv4","endpoints":[{"addresses":[{"ip":"10.0.0.1"}]}])"),
     "EndpointSlice n/e: endpoints[0].addresses[0]: not a string"},
    {"UnknownAddressType", CDNS_SLICE(R"("addressType":"IPv5","endpoints":[])"),
     R"(EndpointSlice n/e: addressType: unknown address type "IPv5")"},
    {"MissingAddressType", CDNS_SLICE(R"("endpoints":[{"addresses":["10.0.0.1"]}])"),
     "EndpointSlice n/e: addressType: missing"},
    {"ReadyNotABoolean",
     CDNS_SLICE(R"("addressType":"IPv4","endpoints":[{"addresses":["10.0.0.1"],)"
                R"("conditions":{"ready":"yes"}}])"),
     "EndpointSlice n/e: endpoints[0].conditions.ready: not a boolean"},
    {"SlicePortZero", CDNS_SLICE(R"("addressType":"IPv4","ports":[{"name":"x","port":0}])"),
     "EndpointSlice n/e: ports[0].port: not an integer in 1..65535"},
    {"SliceUnknownProtocol",
     CDNS_SLICE(R"("addressType":"IPv4","ports":[{"port":80,"protocol":"QUIC"}])"),
     R"(EndpointSlice n/e: ports[0].protocol: unknown protocol "QUIC")"},
    {"LongValueIsCutShort",
     CDNS_SVC(R"({"clusterIPs":["10.254.0.1.aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"]})"),
     "Service n/s: spec.clusterIPs[0]: not an IP address "
     R"("10.254.0.1.aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa...")"},
};

#undef CDNS_SVC
#undef CDNS_SLICE

INSTANTIATE_TEST_SUITE_P(ObjectsJson, MalformedItem, ::testing::ValuesIn(kMalformedCases),
                         [](const ::testing::TestParamInfo<MalformedCase>& case_info) {
                           return std::string(case_info.param.test_name);
                         });

// --- One object, as the watch passes it ----------------------------------------------------------

TEST(DecodeService, DecodesTheObjectOfAWatchEventAndLeavesTheEventReadable) {
  const simdjson::padded_string event(std::string_view(
      R"({"type":"ADDED","object":{"kind":"Service","apiVersion":"v1","metadata":{"name":"kube-dns",)"
      R"("namespace":"kube-system","resourceVersion":"291","managedFields":[{"manager":"x"}]},)"
      R"("spec":{"clusterIP":"10.254.0.3","clusterIPs":["10.254.0.3"],"ports":[{"name":"dns",)"
      R"("protocol":"UDP","port":53},{"name":"dns-tcp","protocol":"TCP","port":53}]},)"
      R"("status":{"loadBalancer":{}}},"next":42})"));
  od::parser parser;
  od::document doc;
  ASSERT_EQ(parser.iterate(event).get(doc), simdjson::SUCCESS);
  std::string_view type;
  ASSERT_EQ(doc["type"].get_string().get(type), simdjson::SUCCESS);
  EXPECT_EQ(type, "ADDED");
  od::object object;
  ASSERT_EQ(doc["object"].get_object().get(object), simdjson::SUCCESS);
  absl::StatusOr<Service> service = DecodeService(object);
  ASSERT_TRUE(service.ok()) << service.status();
  EXPECT_EQ(service->ns, "kube-system");
  EXPECT_EQ(service->name, "kube-dns");
  EXPECT_EQ(service->resource_version, "291");
  EXPECT_THAT(service->cluster_ips, ElementsAre(Ip("10.254.0.3")));
  ASSERT_EQ(service->ports.size(), 2u);
  EXPECT_EQ(service->ports[1].name, "dns-tcp");
  int64_t next = 0;
  ASSERT_EQ(doc["next"].get_int64().get(next), simdjson::SUCCESS);
  EXPECT_EQ(next, 42);
}

TEST(DecodeService, MalformedObjectIsAnErrorAndTheEventStaysReadable) {
  const simdjson::padded_string event(std::string_view(
      R"({"type":"MODIFIED","object":{"kind":"Service","metadata":{"name":"foo","namespace":"default"},)"
      R"("spec":{"ports":[{"port":53},{"port":70000,"name":"x"}],"clusterIP":"10.254.0.4"}},"next":7})"));
  od::parser parser;
  od::document doc;
  ASSERT_EQ(parser.iterate(event).get(doc), simdjson::SUCCESS);
  od::object object;
  ASSERT_EQ(doc["object"].get_object().get(object), simdjson::SUCCESS);
  absl::StatusOr<Service> service = DecodeService(object);
  ASSERT_FALSE(service.ok());
  EXPECT_EQ(service.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(service.status().message(),
            "Service default/foo: spec.ports[1].port: not an integer in 1..65535");
  int64_t next = 0;
  ASSERT_EQ(doc["next"].get_int64().get(next), simdjson::SUCCESS);
  EXPECT_EQ(next, 7);
}

TEST(DecodeService, ObjectWithoutKindIsTakenAsAService) {
  absl::StatusOr<Service> service =
      DecodeOne<Service>(R"({"metadata":{"name":"x"},"spec":{"clusterIP":"None"}})");
  ASSERT_TRUE(service.ok()) << service.status();
  EXPECT_EQ(service->ns, "default");
  EXPECT_TRUE(service->headless);
}

TEST(DecodeService, OtherKindIsAnError) {
  absl::StatusOr<Service> service = DecodeOne<Service>(
      R"({"addressType":"IPv4","endpoints":[],"kind":"EndpointSlice","metadata":{"name":"x"}})");
  ASSERT_FALSE(service.ok());
  EXPECT_EQ(service.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(service.status().message(), R"(not a Service (kind "EndpointSlice"))");
}

TEST(DecodeService, BrokenJsonIsDataLoss) {
  absl::StatusOr<Service> service = DecodeOne<Service>(
      R"({"kind":"Service","metadata":{"name":"x"},"spec":{"ports":[{"port":53},}]}})");
  ASSERT_FALSE(service.ok());
  EXPECT_EQ(service.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(std::string(service.status().message()), HasSubstr("not valid JSON"));
}

TEST(DecodeEndpointSlice, DecodesAKubectlOrderedSlice) {
  absl::StatusOr<EndpointSlice> slice = DecodeOne<EndpointSlice>(
      R"({"addressType":"IPv4","apiVersion":"discovery.k8s.io/v1","endpoints":[{"addresses":)"
      R"(["10.244.1.5","10.244.1.6"],"conditions":{"ready":true,"serving":true,"terminating":false},)"
      R"("hostname":"web-0","nodeName":"node-a"}],"kind":"EndpointSlice","metadata":{"labels":)"
      R"({"kubernetes.io/service-name":"web"},"name":"web-abc","namespace":"default",)"
      R"("resourceVersion":"12"},"ports":[{"name":"web","port":80,"protocol":"TCP"}]})");
  ASSERT_TRUE(slice.ok()) << slice.status();
  EXPECT_EQ(slice->name, "web-abc");
  EXPECT_EQ(slice->service_name, "web");
  EXPECT_EQ(slice->resource_version, "12");
  ASSERT_EQ(slice->endpoints.size(), 1u);
  EXPECT_THAT(slice->endpoints[0].addresses, ElementsAre(Ip("10.244.1.5"), Ip("10.244.1.6")));
  EXPECT_EQ(slice->endpoints[0].hostname, "web-0");
  ASSERT_EQ(slice->ports.size(), 1u);
  EXPECT_EQ(slice->ports[0].port, std::optional<uint16_t>(80));
}

TEST(DecodeEndpointSlice, WrongFamilyIsAnErrorNamingTheSlice) {
  absl::StatusOr<EndpointSlice> slice = DecodeOne<EndpointSlice>(
      R"({"kind":"EndpointSlice","metadata":{"name":"web-abc","namespace":"default"},)"
      R"("addressType":"IPv6","endpoints":[{"addresses":["10.244.1.5"]}]})");
  ASSERT_FALSE(slice.ok());
  EXPECT_EQ(slice.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(slice.status().message(),
            "EndpointSlice default/web-abc: endpoints[0].addresses[0]: IPv4 address "
            "\"10.244.1.5\" in an IPv6 slice");
}

TEST(DecodeEndpointSlice, ServiceIsAnError) {
  absl::StatusOr<EndpointSlice> slice =
      DecodeOne<EndpointSlice>(R"({"kind":"Service","metadata":{"name":"x"}})");
  ASSERT_FALSE(slice.ok());
  EXPECT_EQ(slice.status().message(), R"(not an EndpointSlice (kind "Service"))");
}

}  // namespace
}  // namespace clusterdns::controlplane
