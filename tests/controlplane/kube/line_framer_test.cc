// LineFramer: lines split across chunks at every byte offset, many lines per chunk, the cap.
#include "controlplane/kube/line_framer.h"

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace clusterdns::controlplane {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

std::string ReadTestdata(const std::string& name) {
  std::ifstream in(std::string(CDNS_WATCH_TESTDATA_DIR) + "/" + name, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// Feeds the chunks in order; returns the lines (or "ERROR: ..." for a failed Feed).
std::vector<std::string> Frame(LineFramer& framer, const std::vector<std::string_view>& chunks) {
  std::vector<std::string> lines;
  for (std::string_view chunk : chunks) {
    absl::Status status = framer.Feed(chunk, [&](std::string_view line) {
      lines.emplace_back(line);
      return absl::OkStatus();
    });
    if (!status.ok()) {
      lines.push_back("ERROR: " + std::string(status.message()));
      break;
    }
  }
  return lines;
}

std::vector<std::string> LinesOf(const std::string& text) {
  std::vector<std::string> lines;
  for (absl::string_view line : absl::StrSplit(text, '\n', absl::SkipEmpty())) {
    lines.emplace_back(line);
  }
  return lines;
}

TEST(LineFramer, SplitsLinesWithinOneChunk) {
  LineFramer framer;
  EXPECT_THAT(Frame(framer, {"a\nbb\n\nccc\n"}), ElementsAre("a", "bb", "ccc"));
  EXPECT_EQ(framer.pending_bytes(), 0u);
}

TEST(LineFramer, JoinsALineSplitAcrossChunks) {
  LineFramer framer;
  EXPECT_THAT(Frame(framer, {"ab", "c", "d\ne", "f\n"}), ElementsAre("abcd", "ef"));
}

TEST(LineFramer, StripsCarriageReturnAndSkipsEmptyLines) {
  LineFramer framer;
  EXPECT_THAT(Frame(framer, {"one\r\n\r\n", "\n", "two\r", "\n"}), ElementsAre("one", "two"));
}

TEST(LineFramer, KeepsAnUnfinishedLastLine) {
  LineFramer framer;
  EXPECT_THAT(Frame(framer, {"done\npart"}), ElementsAre("done"));
  EXPECT_EQ(framer.pending_bytes(), 4u);
  framer.Reset();
  EXPECT_EQ(framer.pending_bytes(), 0u);
  EXPECT_THAT(Frame(framer, {"new\n"}), ElementsAre("new"));
}

TEST(LineFramer, EmptyChunkIsNothing) {
  LineFramer framer;
  EXPECT_THAT(Frame(framer, {"", std::string_view()}), IsEmpty());
}

TEST(LineFramer, RefusesALineLongerThanTheCap) {
  {
    LineFramer framer(8);
    EXPECT_THAT(Frame(framer, {"12345678\n"}), ElementsAre("12345678"));  // exactly the cap
  }
  {
    LineFramer framer(8);  // in one chunk
    std::vector<std::string> lines = Frame(framer, {"123456789\n"});
    ASSERT_EQ(lines.size(), 1u);
    EXPECT_THAT(lines[0], ::testing::StartsWith("ERROR: watch stream: a line longer than 8"));
  }
  {
    LineFramer framer(8);  // growing across chunks without a newline: refused before buffering
    std::vector<std::string> lines = Frame(framer, {"12345", "6789"});
    ASSERT_EQ(lines.size(), 1u);
    EXPECT_THAT(lines[0], ::testing::StartsWith("ERROR:"));
  }
  {
    LineFramer framer(8);  // a tail that is already too long
    std::vector<std::string> lines = Frame(framer, {"ok\n123456789"});
    EXPECT_THAT(lines, ElementsAre("ok", ::testing::StartsWith("ERROR:")));
  }
}

TEST(LineFramer, StopsAtTheCallbacksError) {
  LineFramer framer;
  std::vector<std::string> seen;
  absl::Status status = framer.Feed("a\nb\nc\n", [&](std::string_view line) {
    seen.emplace_back(line);
    return line == "b" ? absl::AbortedError("stop at b") : absl::OkStatus();
  });
  EXPECT_EQ(status, absl::AbortedError("stop at b"));
  EXPECT_THAT(seen, ElementsAre("a", "b"));
}

class RecordedStream : public ::testing::TestWithParam<std::string> {};

// STYLE.md: replay recorded watch streams split at every byte offset.
TEST_P(RecordedStream, SameLinesWhereverTheStreamIsSplit) {
  const std::string stream = ReadTestdata(GetParam());
  ASSERT_FALSE(stream.empty()) << GetParam();
  const std::vector<std::string> expected = LinesOf(stream);
  ASSERT_GE(expected.size(), 2u);
  const std::string_view all(stream);
  for (size_t cut = 0; cut <= all.size(); ++cut) {
    LineFramer framer;
    ASSERT_EQ(Frame(framer, {all.substr(0, cut), all.substr(cut)}), expected) << "cut " << cut;
    ASSERT_EQ(framer.pending_bytes(), 0u);
  }
  // Three pieces: every first cut, a second cut a prime stride after it.
  for (size_t first = 0; first <= all.size(); ++first) {
    for (size_t second = first; second <= all.size(); second += 97) {
      LineFramer framer;
      ASSERT_EQ(Frame(framer, {all.substr(0, first), all.substr(first, second - first),
                               all.substr(second)}),
                expected)
          << "cuts " << first << ", " << second;
    }
  }
  // One byte at a time.
  LineFramer framer;
  std::vector<std::string_view> bytes;
  for (size_t i = 0; i < all.size(); ++i) bytes.push_back(all.substr(i, 1));
  EXPECT_EQ(Frame(framer, bytes), expected);
}

INSTANTIATE_TEST_SUITE_P(Watch, RecordedStream,
                         ::testing::Values("services.jsonl", "endpointslices.jsonl",
                                           "error_410.jsonl", "malformed_object.jsonl",
                                           "garbage_line.jsonl"),
                         [](const auto& param_info) {
                           return param_info.param.substr(0, param_info.param.find('.'));
                         });

}  // namespace
}  // namespace clusterdns::controlplane
