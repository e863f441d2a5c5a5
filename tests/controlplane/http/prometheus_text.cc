// Strict Prometheus text-format parser for tests (prometheus_text.h).
#include "tests/controlplane/http/prometheus_text.h"

#include <cmath>
#include <cstdlib>
#include <limits>
#include <set>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace clusterdns::testing {
namespace {

// Hand-written rather than std::regex: GCC 12's <regex> trips -Wmaybe-uninitialized under ASan.
bool IsAlpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// [a-zA-Z_:][a-zA-Z0-9_:]*
bool IsMetricName(std::string_view s) {
  if (s.empty() || IsDigit(s[0])) return false;
  for (char c : s) {
    if (!IsAlpha(c) && !IsDigit(c) && c != ':') return false;
  }
  return true;
}

// [a-zA-Z_][a-zA-Z0-9_]*, not reserved (__)
bool IsLabelName(std::string_view s) {
  if (s.empty() || IsDigit(s[0]) || s.substr(0, 2) == "__") return false;
  for (char c : s) {
    if (!IsAlpha(c) && !IsDigit(c)) return false;
  }
  return true;
}

// Digits from `i`; returns how many.
size_t Digits(std::string_view s, size_t i) {
  size_t n = 0;
  while (i + n < s.size() && IsDigit(s[i + n])) ++n;
  return n;
}

// Go's ParseFloat forms that Prometheus accepts: [+-]?(D+(.D*)?|.D+)([eE][+-]?D+)?, [+-]?Inf, NaN.
std::optional<double> ParseValue(std::string_view s) {
  if (s == "NaN") return std::numeric_limits<double>::quiet_NaN();
  size_t i = (!s.empty() && (s[0] == '+' || s[0] == '-')) ? 1 : 0;
  const std::string_view body = s.substr(i);
  if (body == "Inf" || body == "inf") {
    return s[0] == '-' ? -std::numeric_limits<double>::infinity()
                       : std::numeric_limits<double>::infinity();
  }
  size_t mantissa = Digits(s, i);
  i += mantissa;
  if (i < s.size() && s[i] == '.') {
    const size_t frac = Digits(s, i + 1);
    mantissa += frac;
    i += 1 + frac;
  }
  if (mantissa == 0) return std::nullopt;
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
    const size_t exp = Digits(s, i);
    if (exp == 0) return std::nullopt;
    i += exp;
  }
  if (i != s.size()) return std::nullopt;
  return std::strtod(std::string(s).c_str(), nullptr);
}

// An optional timestamp after the value: blanks, then -?D+.
bool IsTimestampTail(std::string_view s) {
  size_t i = 0;
  while (i < s.size() && (s[i] == ' ' || s[i] == '\t')) ++i;
  if (i == 0) return false;
  if (i < s.size() && s[i] == '-') ++i;
  const size_t n = Digits(s, i);
  return n > 0 && i + n == s.size();
}

absl::Status LineError(size_t line, std::string_view what, std::string_view text) {
  return absl::InvalidArgumentError(
      absl::StrCat("line ", line, ": ", std::string(what), ": \"", std::string(text), "\""));
}

// Unescapes a HELP docstring: only \\ and \n are escapes there.
std::optional<std::string> UnescapeHelp(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '\\') {
      out += s[i];
      continue;
    }
    if (++i == s.size()) return std::nullopt;
    if (s[i] == '\\') {
      out += '\\';
    } else if (s[i] == 'n') {
      out += '\n';
    } else {
      return std::nullopt;
    }
  }
  return out;
}

struct Parser {
  PromText result;
  std::map<std::string, size_t> family_index;  // name → index in result.families
  std::set<std::string> help_seen, type_seen;
  std::set<std::string> closed;  // families whose samples are over
  std::set<std::string> series_seen;
  std::string current;  // family whose samples are being read

  size_t FamilyFor(const std::string& name) {
    auto it = family_index.find(name);
    if (it != family_index.end()) return it->second;
    result.families.push_back(PromFamily{name, "", "", {}});
    family_index[name] = result.families.size() - 1;
    return result.families.size() - 1;
  }

  // The family a sample name belongs to, by the declared types.
  std::optional<std::string> FamilyOfSample(const std::string& name) const {
    auto typed = [&](const std::string& n) -> std::string {
      auto it = family_index.find(n);
      return it == family_index.end() ? "" : result.families[it->second].type;
    };
    const std::string t = typed(name);
    if (t == "counter" || t == "gauge" || t == "untyped" || t == "summary") return name;
    for (const char* suffix : {"_bucket", "_sum", "_count"}) {
      const std::string_view sv(suffix);
      if (name.size() > sv.size() && name.compare(name.size() - sv.size(), sv.size(), sv) == 0) {
        const std::string base = name.substr(0, name.size() - sv.size());
        const std::string bt = typed(base);
        if (bt == "histogram" || (bt == "summary" && sv != "_bucket")) return base;
      }
    }
    return std::nullopt;
  }

  absl::Status Meta(size_t line_no, std::string_view line) {
    const bool help = line.substr(0, 7) == "# HELP ";
    std::string_view rest = line.substr(7);
    const size_t space = rest.find(' ');
    const std::string name(rest.substr(0, space));
    if (!IsMetricName(name)) return LineError(line_no, "bad metric name", line);
    if (closed.count(name) || current == name) {
      return LineError(line_no, "HELP/TYPE after the family's samples", line);
    }
    PromFamily& family = result.families[FamilyFor(name)];
    if (help) {
      if (!help_seen.insert(name).second) return LineError(line_no, "second HELP", line);
      if (space == std::string_view::npos) return LineError(line_no, "HELP without text", line);
      std::optional<std::string> text = UnescapeHelp(rest.substr(space + 1));
      if (!text) return LineError(line_no, "bad escape in HELP", line);
      family.help = *text;
    } else {
      if (!type_seen.insert(name).second) return LineError(line_no, "second TYPE", line);
      if (space == std::string_view::npos) return LineError(line_no, "TYPE without a type", line);
      const std::string type(rest.substr(space + 1));
      static const std::set<std::string> kTypes = {"counter", "gauge", "histogram", "summary",
                                                   "untyped"};
      if (!kTypes.count(type)) return LineError(line_no, "unknown type", line);
      family.type = type;
    }
    return absl::OkStatus();
  }

  absl::Status Sample(size_t line_no, std::string_view line) {
    size_t i = 0;
    while (i < line.size() && line[i] != '{' && line[i] != ' ' && line[i] != '\t') ++i;
    PromSample sample;
    sample.name = std::string(line.substr(0, i));
    if (!IsMetricName(sample.name)) return LineError(line_no, "bad metric name", line);
    if (i < line.size() && line[i] == '{') {
      ++i;
      while (true) {
        if (i < line.size() && line[i] == '}') {
          ++i;
          break;
        }
        size_t eq = line.find('=', i);
        if (eq == std::string_view::npos) return LineError(line_no, "label without '='", line);
        const std::string label(line.substr(i, eq - i));
        if (!IsLabelName(label)) return LineError(line_no, "bad label name", line);
        i = eq + 1;
        if (i >= line.size() || line[i] != '"') {
          return LineError(line_no, "label value not quoted", line);
        }
        ++i;
        std::string value;
        bool closed_quote = false;
        while (i < line.size()) {
          const char c = line[i++];
          if (c == '"') {
            closed_quote = true;
            break;
          }
          if (c != '\\') {
            value += c;
            continue;
          }
          if (i >= line.size()) break;
          const char e = line[i++];
          if (e == '\\') {
            value += '\\';
          } else if (e == '"') {
            value += '"';
          } else if (e == 'n') {
            value += '\n';
          } else {
            return LineError(line_no, "bad escape in label value", line);
          }
        }
        if (!closed_quote) return LineError(line_no, "unterminated label value", line);
        if (!sample.labels.emplace(label, value).second) {
          return LineError(line_no, "duplicate label", line);
        }
        if (i < line.size() && line[i] == ',') {
          ++i;
        } else if (i >= line.size() || line[i] != '}') {
          return LineError(line_no, "expected ',' or '}' after a label", line);
        }
      }
    }
    if (i >= line.size() || (line[i] != ' ' && line[i] != '\t')) {
      return LineError(line_no, "expected a space before the value", line);
    }
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
    std::string_view rest = line.substr(i);
    const size_t space = rest.find_first_of(" \t");
    std::optional<double> value = ParseValue(rest.substr(0, space));
    if (!value) return LineError(line_no, "bad value", line);
    sample.value = *value;
    if (space != std::string_view::npos) {
      if (!IsTimestampTail(rest.substr(space))) {
        return LineError(line_no, "bad timestamp", line);
      }
    }

    std::optional<std::string> family_name = FamilyOfSample(sample.name);
    if (!family_name) return LineError(line_no, "sample before its TYPE line", line);
    if (!help_seen.count(*family_name)) {
      return LineError(line_no, "sample before its HELP line", line);
    }
    if (*family_name != current) {
      if (closed.count(*family_name)) {
        return LineError(line_no, "family samples not contiguous", line);
      }
      if (!current.empty()) closed.insert(current);
      current = *family_name;
    }
    PromFamily& family = result.families[family_index[*family_name]];
    const bool bucket = family.type == "histogram" && sample.name == family.name + "_bucket";
    if (bucket != (sample.labels.count("le") == 1)) {
      return LineError(line_no, "le label misplaced", line);
    }
    if (bucket && !ParseValue(sample.labels["le"])) return LineError(line_no, "bad le value", line);
    if (family.type == "counter" && !(sample.value >= 0 && std::isfinite(sample.value))) {
      return LineError(line_no, "counter not finite and non-negative", line);
    }
    std::string key = sample.name;
    for (const auto& [k, v] : sample.labels) absl::StrAppend(&key, "\x01", k, "\x02", v);
    if (!series_seen.insert(key).second) return LineError(line_no, "duplicate series", line);
    family.samples.push_back(std::move(sample));
    return absl::OkStatus();
  }
};

absl::Status CheckHistogram(const PromFamily& family) {
  struct Group {
    std::vector<std::pair<double, double>> buckets;  // (le, count) in text order
    std::optional<double> count, sum;
  };
  std::map<std::map<std::string, std::string>, Group> groups;
  for (const PromSample& s : family.samples) {
    std::map<std::string, std::string> labels = s.labels;
    const std::string le = labels.count("le") ? labels["le"] : "";
    labels.erase("le");
    Group& g = groups[labels];
    if (s.name == family.name + "_bucket") {
      g.buckets.emplace_back(*ParseValue(le), s.value);
    } else if (s.name == family.name + "_count") {
      g.count = s.value;
    } else {
      g.sum = s.value;
    }
  }
  for (const auto& [labels, g] : groups) {
    const std::string where = absl::StrCat("histogram ", family.name, ": ");
    if (g.buckets.empty()) return absl::InvalidArgumentError(where + "no buckets");
    if (!g.count || !g.sum) return absl::InvalidArgumentError(where + "missing _count or _sum");
    for (size_t i = 1; i < g.buckets.size(); ++i) {
      if (!(g.buckets[i].first > g.buckets[i - 1].first)) {
        return absl::InvalidArgumentError(where + "le not ascending");
      }
      if (g.buckets[i].second < g.buckets[i - 1].second) {
        return absl::InvalidArgumentError(where + "bucket counts not cumulative");
      }
    }
    if (!std::isinf(g.buckets.back().first)) {
      return absl::InvalidArgumentError(where + "no +Inf bucket");
    }
    if (g.buckets.back().second != *g.count) {
      return absl::InvalidArgumentError(where + "+Inf bucket differs from _count");
    }
  }
  return absl::OkStatus();
}

}  // namespace

const PromFamily* PromText::Find(std::string_view family) const {
  for (const PromFamily& f : families) {
    if (f.name == family) return &f;
  }
  return nullptr;
}

std::optional<double> PromText::Value(std::string_view name,
                                      const std::map<std::string, std::string>& labels) const {
  for (const PromFamily& f : families) {
    for (const PromSample& s : f.samples) {
      if (s.name == name && s.labels == labels) return s.value;
    }
  }
  return std::nullopt;
}

absl::StatusOr<PromText> ParsePromText(std::string_view text) {
  if (text.empty()) return absl::InvalidArgumentError("empty exposition");
  if (text.back() != '\n') return absl::InvalidArgumentError("the last line has no newline");
  Parser parser;
  size_t line_no = 0;
  size_t start = 0;
  while (start < text.size()) {
    const size_t end = text.find('\n', start);
    const std::string_view line = text.substr(start, end - start);
    start = end + 1;
    ++line_no;
    if (line.empty()) continue;
    if (line.back() == '\r') return LineError(line_no, "carriage return", line);
    absl::Status status;
    if (line.substr(0, 7) == "# HELP " || line.substr(0, 7) == "# TYPE ") {
      status = parser.Meta(line_no, line);
    } else if (line[0] == '#') {
      continue;  // a comment
    } else {
      status = parser.Sample(line_no, line);
    }
    if (!status.ok()) return status;
  }
  for (const PromFamily& f : parser.result.families) {
    if (!parser.help_seen.count(f.name)) return absl::InvalidArgumentError("no HELP for " + f.name);
    if (!parser.type_seen.count(f.name)) return absl::InvalidArgumentError("no TYPE for " + f.name);
    if (f.type == "histogram") {
      absl::Status status = CheckHistogram(f);
      if (!status.ok()) return status;
    }
  }
  return std::move(parser.result);
}

}  // namespace clusterdns::testing
