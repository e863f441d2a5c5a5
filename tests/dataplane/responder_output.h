// Reads what dataplane-responder prints at exit: lines of "kind key=value key=value ...".
//   std::vector<Fields> workers = ParseLines(stdout_text, "worker");
//   EXPECT_EQ(workers[0].at("rx"), 13);
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"

namespace clusterdns::testing {

using Fields = std::map<std::string, uint64_t>;

// Every line that starts with `kind` and a space, its key=value pairs with numeric values.
inline std::vector<Fields> ParseLines(const std::string& text, const std::string& kind) {
  std::vector<Fields> out;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    std::vector<std::string> words = absl::StrSplit(line, ' ', absl::SkipEmpty());
    if (words.empty() || words[0] != kind) continue;
    Fields fields;
    for (size_t i = 1; i < words.size(); ++i) {
      const size_t eq = words[i].find('=');
      uint64_t value = 0;
      if (eq == std::string::npos || !absl::SimpleAtoi(words[i].substr(eq + 1), &value)) continue;
      fields[words[i].substr(0, eq)] = value;
    }
    out.push_back(std::move(fields));
  }
  return out;
}

// fields[key], 0 when absent (reason counters are printed only when nonzero).
inline uint64_t Get(const Fields& fields, const std::string& key) {
  auto it = fields.find(key);
  return it == fields.end() ? 0 : it->second;
}

}  // namespace clusterdns::testing
