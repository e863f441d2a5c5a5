// ListPageDecoder: recorded list pages (tests/testdata/list), items streamed to the sink,
// continue tokens and resourceVersion, malformed items, broken pages.
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "controlplane/kube/list_page.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/controlplane/kube/client_test_sink.h"

namespace clusterdns::controlplane {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing::RecordingSink;

std::string ReadTestdata(const std::string& name) {
  std::ifstream in(std::string(CDNS_LIST_TESTDATA_DIR) + "/" + name, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

struct Decoded {
  absl::StatusOr<ListPageInfo> info;
  std::vector<std::string> skipped;
};

Decoded Decode(ListPageDecoder& decoder, std::string_view json, RecordingSink& sink) {
  PaddedBuffer page;
  page.Assign(json);
  Decoded out;
  out.info = decoder.Decode(
      page, sink, [&](const absl::Status& status) { out.skipped.emplace_back(status.message()); });
  return out;
}

TEST(ListPage, StreamsAServiceListPageIntoTheSink) {
  ListPageDecoder decoder(ObjectKind::kService);
  RecordingSink sink;
  sink.OnListStart(ObjectKind::kService);
  Decoded first = Decode(decoder, ReadTestdata("services_page1.json"), sink);
  ASSERT_TRUE(first.info.ok()) << first.info.status();
  EXPECT_EQ(first.info->resource_version, "1200");
  EXPECT_EQ(first.info->continue_token,
            "eyJ2IjoibWV0YS5rOHMuaW8vdjEiLCJydiI6MTIwMCwic3RhcnQiOiJrdWJlLXN5c3RlbS9rdWJlLWRucy9c"
            "dTAwMDAifQ==");
  EXPECT_EQ(first.info->items, 2u);
  EXPECT_EQ(first.info->malformed, 1u);
  ASSERT_EQ(first.skipped.size(), 1u);
  EXPECT_THAT(first.skipped[0], HasSubstr("Service default/broken"));
  EXPECT_THAT(first.skipped[0], HasSubstr("spec.ports[0].protocol"));

  Decoded second = Decode(decoder, ReadTestdata("services_page2.json"), sink);  // reused decoder
  ASSERT_TRUE(second.info.ok()) << second.info.status();
  EXPECT_EQ(second.info->continue_token, "");
  EXPECT_EQ(second.info->items, 1u);
  sink.OnListEnd(ObjectKind::kService);
  EXPECT_THAT(sink.calls(), ElementsAre("start services", "service default/kubernetes rv=196",
                                        "service kube-system/kube-dns rv=254",
                                        "service shop/search rv=333", "end services"));
}

TEST(ListPage, StreamsAnEndpointSliceListPage) {
  ListPageDecoder decoder(ObjectKind::kEndpointSlice);
  RecordingSink sink;
  Decoded page = Decode(decoder, ReadTestdata("endpointslices_page.json"), sink);
  ASSERT_TRUE(page.info.ok()) << page.info.status();
  EXPECT_EQ(page.info->resource_version, "1300");
  EXPECT_EQ(page.info->items, 2u);
  EXPECT_THAT(sink.calls(),
              ElementsAre("slice kube-system/kube-dns-x7k2p rv=512", "slice shop/db-v6abc rv=530"));
}

TEST(ListPage, MetadataAfterItemsAndEmptyPages) {
  ListPageDecoder decoder(ObjectKind::kService);
  RecordingSink sink;
  Decoded page =
      Decode(decoder,
             R"({"items":[{"metadata":{"name":"a","namespace":"n","resourceVersion":"4"}}],)"
             R"("metadata":{"continue":"tok","resourceVersion":"9"},"kind":"ServiceList"})",
             sink);
  ASSERT_TRUE(page.info.ok()) << page.info.status();
  EXPECT_EQ(page.info->continue_token, "tok");
  EXPECT_EQ(page.info->resource_version, "9");
  EXPECT_THAT(sink.calls(), ElementsAre("service n/a rv=4"));

  for (std::string_view empty :
       {R"({"kind":"ServiceList","metadata":{"resourceVersion":"3"},"items":[]})",
        R"({"kind":"ServiceList","metadata":{"resourceVersion":"3"},"items":null})"}) {
    Decoded none = Decode(decoder, empty, sink);
    ASSERT_TRUE(none.info.ok()) << empty << " → " << none.info.status();
    EXPECT_EQ(none.info->items, 0u);
    EXPECT_EQ(none.info->resource_version, "3");
  }
}

TEST(ListPage, ItemsThatAreNotObjectsAreSkipped) {
  ListPageDecoder decoder(ObjectKind::kService);
  RecordingSink sink;
  Decoded page = Decode(
      decoder, R"({"kind":"ServiceList","items":[7,{"metadata":{"name":"b"}},"x",null]})", sink);
  ASSERT_TRUE(page.info.ok()) << page.info.status();
  EXPECT_EQ(page.info->items, 1u);
  EXPECT_EQ(page.info->malformed, 3u);
  EXPECT_THAT(page.skipped, ElementsAre("items[0]: not an object", "items[2]: not an object",
                                        "items[3]: not an object"));
}

TEST(ListPage, WrongDocumentsAreInvalidArgument) {
  ListPageDecoder decoder(ObjectKind::kService);
  RecordingSink sink;
  for (std::string_view json : {
           R"({"kind":"EndpointSliceList","items":[]})",
           R"({"kind":"Status","code":500})",
           R"({"kind":"ServiceList","items":{}})",
           R"({"kind":"ServiceList","metadata":{"continue":5},"items":[]})",
           R"([])",
       }) {
    Decoded page = Decode(decoder, json, sink);
    EXPECT_TRUE(absl::IsInvalidArgument(page.info.status())) << json << " → " << page.info.status();
  }
  EXPECT_TRUE(sink.calls().empty());
}

TEST(ListPage, BrokenJsonIsDataLossAfterTheItemsBeforeIt) {
  std::string page1 = ReadTestdata("services_page1.json");
  while (!page1.empty() && page1.back() == '\n') page1.pop_back();
  ListPageDecoder decoder(ObjectKind::kService);
  // Cut anywhere inside the items: DataLoss, never a crash, never a success.
  const size_t items_at = page1.find("\"items\"");
  ASSERT_NE(items_at, std::string::npos);
  for (size_t cut = items_at; cut < page1.size(); cut += 7) {
    RecordingSink sink;
    Decoded page = Decode(decoder, std::string_view(page1).substr(0, cut), sink);
    EXPECT_TRUE(absl::IsDataLoss(page.info.status()))
        << "cut " << cut << " → " << page.info.status();
  }
  RecordingSink sink;
  for (std::string_view json : {"garbage", R"({"kind":"ServiceList","items":[]} x)", ""}) {
    Decoded page = Decode(decoder, json, sink);
    EXPECT_TRUE(absl::IsDataLoss(page.info.status())) << json << " → " << page.info.status();
  }
}

}  // namespace
}  // namespace clusterdns::controlplane
