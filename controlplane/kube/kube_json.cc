// Shared On-Demand readers: see kube_json.h.
#include "controlplane/kube/kube_json.h"

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "controlplane/kube/padded_buffer.h"

namespace clusterdns::controlplane {
namespace {

namespace od = simdjson::ondemand;
using simdjson::error_code;

// Debian's abseil has its own string_view; bridge for StrCat.
absl::string_view Sv(std::string_view text) { return {text.data(), text.size()}; }

absl::Status WrongType(od::value& value, std::string_view field, std::string_view expected) {
  if (error_code error = StartsLikeAValue(value)) return JsonBroken(error, field);
  return absl::InvalidArgumentError(absl::StrCat(Sv(field), ": not ", Sv(expected)));
}

bool IsNull(od::value& value) {
  bool is_null = false;
  return value.is_null().get(is_null) == simdjson::SUCCESS && is_null;
}

// Walks an object's fields; fn(key, value) returns a Status, the first non-OK stops the walk.
template <typename Fn>
absl::Status ForEachField(od::object& object, std::string_view where, Fn&& fn) {
  for (auto field : object) {
    od::raw_json_string key;
    if (error_code error = field.key().get(key)) return JsonBroken(error, where);
    od::value value;
    if (error_code error = field.value().get(value)) return JsonBroken(error, where);
    if (absl::Status status = fn(key, value); !status.ok()) return status;
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status JsonBroken(error_code error, std::string_view where) {
  return absl::DataLossError(
      absl::StrCat("not valid JSON: ", simdjson::error_message(error), " (", Sv(where), ")"));
}

error_code StartsLikeAValue(od::value& value) {
  od::json_type type{};
  return value.type().get(type);
}

absl::Status ReadStringField(od::value& value, std::string_view field, std::string& out) {
  std::string_view text;
  error_code error = value.get_string().get(text);
  if (error == simdjson::SUCCESS) {
    out.assign(text);
    return absl::OkStatus();
  }
  out.clear();
  if (error != simdjson::INCORRECT_TYPE) return JsonBroken(error, field);
  if (error = StartsLikeAValue(value); error) return JsonBroken(error, field);
  if (IsNull(value)) return absl::OkStatus();
  return WrongType(value, field, "a string");
}

absl::Status ReadIntField(od::value& value, std::string_view field, int64_t& out) {
  out = 0;
  error_code error = value.get_int64().get(out);
  if (error == simdjson::SUCCESS) return absl::OkStatus();
  out = 0;
  if (error != simdjson::INCORRECT_TYPE && error != simdjson::NUMBER_OUT_OF_RANGE) {
    return JsonBroken(error, field);
  }
  if (error = StartsLikeAValue(value); error) return JsonBroken(error, field);
  if (IsNull(value)) return absl::OkStatus();
  return WrongType(value, field, "an integer");
}

absl::Status ReadObjectMeta(od::object& object, ObjectMeta& out) {
  return ForEachField(object, "object", [&](od::raw_json_string key, od::value& value) {
    if (key == "kind") return ReadStringField(value, "kind", out.kind);
    if (key != "metadata") return absl::OkStatus();
    od::object metadata;
    error_code error = value.get_object().get(metadata);
    if (error == simdjson::INCORRECT_TYPE) {
      if (error = StartsLikeAValue(value); error) return JsonBroken(error, "metadata");
      if (IsNull(value)) return absl::OkStatus();
      return WrongType(value, "metadata", "an object");
    }
    if (error) return JsonBroken(error, "metadata");
    return ForEachField(metadata, "metadata", [&](od::raw_json_string field, od::value& v) {
      if (field == "namespace") return ReadStringField(v, "metadata.namespace", out.ns);
      if (field == "name") return ReadStringField(v, "metadata.name", out.name);
      if (field == "resourceVersion") {
        return ReadStringField(v, "metadata.resourceVersion", out.resource_version);
      }
      return absl::OkStatus();
    });
  });
}

absl::Status ReadApiStatus(od::object& object, ApiStatus& out) {
  return ForEachField(object, "Status", [&](od::raw_json_string key, od::value& value) {
    if (key == "code") return ReadIntField(value, "code", out.code);
    if (key == "reason") return ReadStringField(value, "reason", out.reason);
    if (key == "message") return ReadStringField(value, "message", out.message);
    return absl::OkStatus();
  });
}

std::string DescribeErrorBody(std::string_view body) {
  constexpr size_t kMaxQuoted = 200;  // enough for a Status message; bounds log lines
  if (!body.empty()) {
    PaddedBuffer padded;
    padded.Assign(body);
    od::parser parser;
    od::document doc;
    od::object object;
    ApiStatus status;
    if (parser.iterate(padded.data(), padded.size(), padded.capacity()).get(doc) ==
            simdjson::SUCCESS &&
        doc.get_object().get(object) == simdjson::SUCCESS && ReadApiStatus(object, status).ok() &&
        (status.code != 0 || !status.message.empty())) {
      return absl::StrCat(status.code, " ", status.reason, ": ",
                          absl::CHexEscape(status.message.substr(0, kMaxQuoted)));
    }
  }
  std::string out = absl::StrCat("\"", absl::CHexEscape(Sv(body.substr(0, kMaxQuoted))), "\"");
  if (body.size() > kMaxQuoted) out += "...";
  return out;
}

}  // namespace clusterdns::controlplane
