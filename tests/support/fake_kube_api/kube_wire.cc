// JSON pieces of the Kubernetes wire format; see kube_wire.h.
#include "tests/support/fake_kube_api/kube_wire.h"

#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "simdjson.h"

namespace clusterdns::testing::kube_wire {
namespace {

absl::Status Invalid(std::string_view what, simdjson::error_code error) {
  return absl::InvalidArgumentError(
      absl::StrCat("object JSON: ", std::string(what), ": ", simdjson::error_message(error)));
}

// "key":<raw value>, with the key re-escaped (it was unescaped to compare it).
std::string Member(std::string_view key, std::string_view raw_value) {
  return absl::StrCat(JsonQuote(key), ":", std::string(raw_value));
}

}  // namespace

std::string ObjectTemplate::Full(uint64_t rv) const {
  return absl::StrCat(full_prefix, rv, suffix);
}

std::string ObjectTemplate::Item(uint64_t rv) const {
  return absl::StrCat(item_prefix, rv, suffix);
}

absl::StatusOr<ObjectTemplate> ParseObject(std::string_view json, std::string_view kind,
                                           std::string_view api_version) {
  // Minify first: the raw spans copied below become one line, whatever the layout was.
  std::string minified(json.size() + simdjson::SIMDJSON_PADDING, '\0');
  size_t length = 0;
  if (simdjson::error_code e = simdjson::minify(json.data(), json.size(), minified.data(), length)) {
    return Invalid("minify", e);
  }
  minified.resize(length);
  const simdjson::padded_string padded(minified);

  // The DOM parser validates the whole document; On-Demand below only skims what it copies.
  simdjson::dom::parser dom_parser;
  simdjson::dom::element root;
  if (simdjson::error_code e = dom_parser.parse(padded).get(root)) return Invalid("parse", e);
  if (!root.is_object()) return absl::InvalidArgumentError("object JSON: not a JSON object");

  simdjson::ondemand::parser parser;
  simdjson::ondemand::document doc;
  simdjson::ondemand::object object;
  if (simdjson::error_code e = parser.iterate(padded).get(doc)) return Invalid("iterate", e);
  if (simdjson::error_code e = doc.get_object().get(object)) return Invalid("top level", e);

  ObjectTemplate t;
  std::vector<std::string> before;  // members before metadata, rendered
  std::vector<std::string> after;   // members after it
  std::vector<std::string> meta;    // metadata members except resourceVersion
  bool seen_metadata = false;
  bool seen_name = false;
  for (auto member : object) {
    simdjson::ondemand::field field;
    std::string_view key_view;
    if (simdjson::error_code e = std::move(member).get(field)) return Invalid("member", e);
    if (simdjson::error_code e = field.unescaped_key().get(key_view)) return Invalid("key", e);
    const std::string key(key_view);
    if (key == "kind" || key == "apiVersion") continue;  // replaced by the resource's own
    simdjson::ondemand::value value = field.value();
    if (key != "metadata") {
      std::string_view raw;
      if (simdjson::error_code e = simdjson::to_json_string(value).get(raw)) {
        return Invalid(key, e);
      }
      (seen_metadata ? after : before).push_back(Member(key, raw));
      continue;
    }
    seen_metadata = true;
    simdjson::ondemand::object metadata;
    if (simdjson::error_code e = value.get_object().get(metadata)) return Invalid("metadata", e);
    for (auto meta_member : metadata) {
      simdjson::ondemand::field meta_field;
      if (simdjson::error_code e = std::move(meta_member).get(meta_field)) return Invalid("metadata", e);
      if (simdjson::error_code e = meta_field.unescaped_key().get(key_view)) {
        return Invalid("metadata key", e);
      }
      const std::string meta_key(key_view);
      if (meta_key == "resourceVersion") continue;  // the server's to assign
      simdjson::ondemand::value meta_value = meta_field.value();
      if (meta_key == "name" || meta_key == "namespace") {
        std::string_view text;
        if (simdjson::error_code e = meta_value.get_string().get(text)) {
          return Invalid("metadata." + meta_key, e);
        }
        (meta_key == "name" ? t.name : t.ns) = std::string(text);
        if (meta_key == "name") seen_name = true;
        meta.push_back(Member(meta_key, JsonQuote(text)));
        continue;
      }
      std::string_view raw;
      if (simdjson::error_code e = simdjson::to_json_string(meta_value).get(raw)) {
        return Invalid("metadata." + meta_key, e);
      }
      meta.push_back(Member(meta_key, raw));
    }
  }
  if (!seen_name || t.name.empty()) {
    return absl::InvalidArgumentError("object JSON: no metadata.name");
  }

  std::string body = absl::StrJoin(before, ",");
  if (!body.empty()) body += ",";
  absl::StrAppend(&body, "\"metadata\":{", absl::StrJoin(meta, ","), meta.empty() ? "" : ",",
                  "\"resourceVersion\":\"");
  t.full_prefix = absl::StrCat("{\"kind\":", JsonQuote(kind), ",\"apiVersion\":",
                               JsonQuote(api_version), ",", body);
  t.item_prefix = absl::StrCat("{", body);
  t.suffix = absl::StrCat("\"}", after.empty() ? "" : ",", absl::StrJoin(after, ","), "}");
  return t;
}

std::string JsonQuote(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c == '\r') {
      out += "\\r";
    } else if (u < 0x20) {
      static constexpr char kHex[] = "0123456789abcdef";
      out += "\\u00";
      out += kHex[u >> 4];
      out += kHex[u & 0xf];
    } else {
      out += c;
    }
  }
  out += '"';
  return out;
}

std::string ReasonForCode(int code) {
  switch (code) {
    case 400: return "BadRequest";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "NotFound";
    case 405: return "MethodNotAllowed";
    case 409: return "Conflict";
    case 410: return "Expired";
    case 422: return "Invalid";
    case 429: return "TooManyRequests";
    case 500: return "InternalError";
    case 503: return "ServiceUnavailable";
    case 504: return "Timeout";
    default: return "Unknown";
  }
}

std::string StatusJson(int code, std::string_view message) {
  return absl::StrCat(
      "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":\"Failure\",\"message\":",
      JsonQuote(message), ",\"reason\":", JsonQuote(ReasonForCode(code)), ",\"code\":", code, "}");
}

std::string WatchLine(std::string_view type, std::string_view object_json) {
  return absl::StrCat("{\"type\":", JsonQuote(type), ",\"object\":", std::string(object_json),
                      "}\n");
}

std::string BookmarkLine(std::string_view kind, std::string_view api_version, uint64_t rv) {
  return WatchLine("BOOKMARK", absl::StrCat("{\"kind\":", JsonQuote(kind), ",\"apiVersion\":",
                                            JsonQuote(api_version),
                                            ",\"metadata\":{\"resourceVersion\":\"", rv, "\"}}"));
}

std::string EncodeContinue(uint64_t rv, std::string_view last_key) {
  // "\u0000" after the key: the next page starts strictly after it, as kube-apiserver encodes it.
  const std::string json =
      absl::StrCat("{\"v\":\"meta.k8s.io/v1\",\"rv\":", rv, ",\"start\":",
                   JsonQuote(absl::StrCat(std::string(last_key), std::string(1, '\0'))), "}");
  return absl::Base64Escape(json);
}

absl::StatusOr<ContinuePoint> DecodeContinue(std::string_view token) {
  std::string json;
  if (!absl::Base64Unescape(std::string(token), &json)) {
    return absl::InvalidArgumentError("continue key is not valid: not base64");
  }
  const simdjson::padded_string padded(json);
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  ContinuePoint point;
  std::string_view start;
  if (parser.parse(padded).get(root) || root["rv"].get(point.rv) ||
      root["start"].get(start)) {
    return absl::InvalidArgumentError("continue key is not valid: bad JSON");
  }
  point.start = std::string(start);
  return point;
}

}  // namespace clusterdns::testing::kube_wire
