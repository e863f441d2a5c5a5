// WatchEventDecoder: recorded watch streams (tests/testdata/watch), replayed whole and split at
// every byte offset through the LineFramer; envelopes in any member order; broken lines.
#include "controlplane/kube/watch_event.h"

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "controlplane/kube/line_framer.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace clusterdns::controlplane {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::string ReadTestdata(const std::string& name) {
  std::ifstream in(std::string(CDNS_WATCH_TESTDATA_DIR) + "/" + name, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// One line per decoded event, enough to tell every field the informer uses.
std::string Summary(const absl::StatusOr<WatchEvent>& event) {
  if (!event.ok()) return absl::StrCat("FAILED ", absl::StatusCodeToString(event.status().code()));
  std::string out = absl::StrCat(WatchEventTypeName(event->type), " rv=", event->resource_version);
  if (!event->object_error.ok()) absl::StrAppend(&out, " SKIPPED ", event->object_error.message());
  if (event->service.has_value()) {
    const records::Service& s = *event->service;
    absl::StrAppend(&out, " service ", s.ns, "/", s.name, s.headless ? " headless" : "");
    for (const auto& ip : s.cluster_ips) absl::StrAppend(&out, " ", ip.ToString());
    if (!s.external_name.empty()) absl::StrAppend(&out, " cname ", s.external_name);
    absl::StrAppend(&out, " ports=", s.ports.size());
  }
  if (event->slice.has_value()) {
    const records::EndpointSlice& s = *event->slice;
    absl::StrAppend(&out, " slice ", s.ns, "/", s.name, " of ", s.service_name,
                    " endpoints=", s.endpoints.size(), " ports=", s.ports.size());
  }
  if (event->type == WatchEventType::kDeleted)
    absl::StrAppend(&out, " ", event->ns, "/", event->name);
  if (event->type == WatchEventType::kError) {
    absl::StrAppend(&out, " code=", event->error_code, " ", event->error_reason, ": ",
                    event->error_message);
  }
  return out;
}

std::vector<std::string> DecodeStream(ObjectKind kind,
                                      const std::vector<std::string_view>& chunks) {
  WatchEventDecoder decoder(kind);
  LineFramer framer;
  std::vector<std::string> out;
  for (std::string_view chunk : chunks) {
    absl::Status status = framer.Feed(chunk, [&](std::string_view line) {
      out.push_back(Summary(decoder.Decode(line)));
      return absl::OkStatus();
    });
    if (!status.ok()) out.push_back(absl::StrCat("FRAMER ", status.message()));
  }
  return out;
}

struct Recorded {
  std::string file;
  ObjectKind kind;
  std::vector<std::string> expected;
};

std::vector<Recorded> RecordedStreams() {
  return {
      {"services.jsonl",
       ObjectKind::kService,
       {"ADDED rv=196 service default/kubernetes 10.96.0.1 ports=1",
        "ADDED rv=254 service kube-system/kube-dns 10.96.0.10 ports=3",
        "MODIFIED rv=301 service kube-system/kube-dns 10.96.0.10 fd00:10:96::a ports=2",
        "ADDED rv=320 service shop/db headless ports=1",
        "ADDED rv=333 service shop/search cname search.example.com ports=0", "BOOKMARK rv=400",
        "DELETED rv=412 shop/search"}},
      {"endpointslices.jsonl",
       ObjectKind::kEndpointSlice,
       {"ADDED rv=512 slice kube-system/kube-dns-x7k2p of kube-dns endpoints=2 ports=2",
        "ADDED rv=530 slice shop/db-v6abc of db endpoints=1 ports=1",
        "MODIFIED rv=540 slice kube-system/kube-dns-x7k2p of kube-dns endpoints=1 ports=2",
        "BOOKMARK rv=600", "DELETED rv=611 shop/db-v6abc"}},
      {"error_410.jsonl",
       ObjectKind::kService,
       {"ADDED rv=700 service default/web 10.96.5.5 ports=1",
        "ERROR rv= code=410 Expired: too old resource version: 700 (2000)"}},
      {"malformed_object.jsonl",
       ObjectKind::kService,
       {"ADDED rv=801 service default/good-1 10.96.8.1 ports=1",
        "ADDED rv= SKIPPED Service default/bad-port: spec.ports[0].port: not an integer in "
        "1..65535",
        "ADDED rv=803 service default/good-2 10.96.8.3 ports=1"}},
      {"garbage_line.jsonl",
       ObjectKind::kService,
       {"ADDED rv=901 service default/before 10.96.9.1 ports=0", "FAILED DATA_LOSS",
        "ADDED rv=903 service default/after 10.96.9.3 ports=0"}},
  };
}

TEST(WatchEventDecoder, DecodesRecordedStreams) {
  for (const Recorded& recorded : RecordedStreams()) {
    const std::string stream = ReadTestdata(recorded.file);
    ASSERT_FALSE(stream.empty()) << recorded.file;
    EXPECT_EQ(DecodeStream(recorded.kind, {stream}), recorded.expected) << recorded.file;
  }
}

// STYLE.md: the same events whatever byte offset the stream is split at.
TEST(WatchEventDecoder, RecordedStreamsSplitAtEveryByteOffset) {
  for (const Recorded& recorded : RecordedStreams()) {
    const std::string stream = ReadTestdata(recorded.file);
    const std::string_view all(stream);
    for (size_t cut = 0; cut <= all.size(); ++cut) {
      ASSERT_EQ(DecodeStream(recorded.kind, {all.substr(0, cut), all.substr(cut)}),
                recorded.expected)
          << recorded.file << " cut at " << cut;
    }
  }
}

absl::StatusOr<WatchEvent> DecodeOne(ObjectKind kind, std::string_view line) {
  WatchEventDecoder decoder(kind);
  return decoder.Decode(line);
}

TEST(WatchEventDecoder, ObjectBeforeTypeIsDecodedToo) {
  EXPECT_EQ(Summary(DecodeOne(ObjectKind::kService,
                              R"({"object":{"metadata":{"name":"a","namespace":"n",)"
                              R"("resourceVersion":"7"},"spec":{"clusterIP":"10.0.0.1"}},)"
                              R"("type":"MODIFIED"})")),
            "MODIFIED rv=7 service n/a 10.0.0.1 ports=0");
  EXPECT_EQ(Summary(DecodeOne(ObjectKind::kEndpointSlice,
                              R"({"object":{"metadata":{"name":"s","namespace":"n",)"
                              R"("resourceVersion":"9"}},"extra":[1,2],"type":"DELETED"})")),
            "DELETED rv=9 n/s");
}

TEST(WatchEventDecoder, DeletedNeedsOnlyTheIdentity) {
  // A deleted object is removed even if it never decoded (a bad port here), and a missing
  // namespace means "default", as the object decoders say.
  EXPECT_EQ(
      Summary(DecodeOne(ObjectKind::kService,
                        R"({"type":"DELETED","object":{"kind":"Service","metadata":)"
                        R"({"name":"x","resourceVersion":"5"},"spec":{"ports":[{"port":0}]}}})")),
      "DELETED rv=5 default/x");
  absl::StatusOr<WatchEvent> nameless =
      DecodeOne(ObjectKind::kService, R"({"type":"DELETED","object":{"metadata":{}}})");
  EXPECT_TRUE(absl::IsInvalidArgument(nameless.status())) << nameless.status();
}

TEST(WatchEventDecoder, WrongKindIsASkippedObject) {
  absl::StatusOr<WatchEvent> event =
      DecodeOne(ObjectKind::kEndpointSlice,
                R"({"type":"ADDED","object":{"kind":"Service","metadata":{"name":"a"}}})");
  ASSERT_TRUE(event.ok()) << event.status();
  EXPECT_TRUE(absl::IsInvalidArgument(event->object_error));
  EXPECT_THAT(event->object_error.message(), HasSubstr("Service"));
  EXPECT_FALSE(event->slice.has_value());
  absl::StatusOr<WatchEvent> bookmark = DecodeOne(
      ObjectKind::kEndpointSlice,
      R"({"type":"BOOKMARK","object":{"kind":"Pod","metadata":{"resourceVersion":"3"}}})");
  EXPECT_TRUE(absl::IsInvalidArgument(bookmark.status())) << bookmark.status();
}

TEST(WatchEventDecoder, UnusableEventsAreInvalidArgument) {
  for (std::string_view line : {
           R"({})",
           R"({"object":{"metadata":{"name":"a"}}})",
           R"({"type":"ADDED"})",
           R"({"type":"SYNC","object":{}})",
           R"({"type":7,"object":{}})",
           R"({"type":"ADDED","object":"text"})",
           R"({"type":"ERROR","object":{"code":"x"}})",
           R"([1,2])",
       }) {
    absl::StatusOr<WatchEvent> event = DecodeOne(ObjectKind::kService, line);
    EXPECT_TRUE(absl::IsInvalidArgument(event.status())) << line << " → " << event.status();
  }
}

TEST(WatchEventDecoder, BrokenLinesAreDataLoss) {
  for (std::string_view line : {
           "garbage",
           "<html>502 Bad Gateway</html>",
           R"({"type":"ADDED","object":{"metadata":{"name":"a")",
           R"({"type":"ADDED","object":{"metadata":{"name":"a"}}} {"type":"ADDED"})",
           R"({"type":"ADDED","object":{"metadata":{"name":"a"}}}})",
           R"({"type":"ADDED","object":{"metadata":{"name":"a"},"spec":{"ports":[,]}}})",
           R"({"type":"BOOKMARK","object":{"metadata":{"resourceVersion":}}})",
           "\x01\x02\x03",
       }) {
    absl::StatusOr<WatchEvent> event = DecodeOne(ObjectKind::kService, line);
    EXPECT_TRUE(absl::IsDataLoss(event.status())) << line << " → " << event.status();
  }
}

TEST(WatchEventDecoder, ReusesItsBuffersAcrossLinesOfAnySize) {
  WatchEventDecoder decoder(ObjectKind::kService);
  std::string big = R"({"type":"ADDED","object":{"metadata":{"name":"big","namespace":"n",)"
                    R"("resourceVersion":"1","annotations":{"a":")";
  big += std::string(1 << 20, 'x');
  big += R"("}},"spec":{"clusterIP":"10.1.1.1"}}})";
  EXPECT_EQ(Summary(decoder.Decode(big)), "ADDED rv=1 service n/big 10.1.1.1 ports=0");
  EXPECT_EQ(Summary(decoder.Decode(
                R"({"type":"BOOKMARK","object":{"metadata":{"resourceVersion":"2"}}})")),
            "BOOKMARK rv=2");
  EXPECT_EQ(Summary(decoder.Decode("nope")), "FAILED DATA_LOSS");
  EXPECT_EQ(
      Summary(decoder.Decode(
          R"({"type":"DELETED","object":{"metadata":{"name":"big","namespace":"n",)"
          R"("resourceVersion":"3"}}})")),
      "DELETED rv=3 n/big");
}

}  // namespace
}  // namespace clusterdns::controlplane
