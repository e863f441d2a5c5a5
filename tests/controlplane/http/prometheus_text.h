// A strict parser of the Prometheus text exposition format 0.0.4, written independently of
// prometheus-cpp so that the tests check what the serializer writes instead of trusting it.
//
// Stricter than Prometheus itself where our output should be: every family needs exactly one
// HELP and one TYPE line, both before its samples; a family's samples are contiguous; a series
// appears once; counters are finite and non-negative; histograms have _bucket (le ascending,
// cumulative, ending at +Inf), _sum and _count with _count equal to the +Inf bucket.
//
//   absl::StatusOr<PromText> text = ParsePromText(body);
//   ASSERT_TRUE(text.ok()) << text.status();
//   EXPECT_EQ(text->Value("clusterdns_queries_total", {{"path", "listen"}, {"rcode", "NOERROR"}}),
//   3);
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace clusterdns::testing {

struct PromSample {
  std::string name;                           // the sample name (family name plus _bucket etc.)
  std::map<std::string, std::string> labels;  // unescaped values
  double value = 0;
};

struct PromFamily {
  std::string name;
  std::string help;  // unescaped
  std::string type;  // counter, gauge, histogram, summary, untyped
  std::vector<PromSample> samples;
};

struct PromText {
  std::vector<PromFamily> families;  // in the order of the text

  const PromFamily* Find(std::string_view family) const;
  // The value of the sample `name` with exactly these labels, if present.
  std::optional<double> Value(std::string_view name,
                              const std::map<std::string, std::string>& labels = {}) const;
};

// Errors name the line number and what is wrong with it.
absl::StatusOr<PromText> ParsePromText(std::string_view text);

}  // namespace clusterdns::testing
