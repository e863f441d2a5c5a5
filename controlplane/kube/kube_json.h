// Small simdjson On-Demand readers shared by the watch event decoder (watch_event.h) and the list
// page reader (list_page.h): scalar fields of the envelopes the API server wraps objects in, and
// an object's metadata when the object itself is not decoded (DELETED, BOOKMARK). Services and
// EndpointSlices are decoded by objects_json.h, never here.
//
// Error codes, as in objects_json.h: kDataLoss when the JSON itself is broken (the document cannot
// be trusted), kInvalidArgument when it is well-formed but a value has the wrong type. Messages
// name the field ("metadata.continue: not a string"). Reentrant; nothing throws.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "simdjson.h"

namespace clusterdns::controlplane {

// kDataLoss "not valid JSON: <simdjson's message> (<where>)".
absl::Status JsonBroken(simdjson::error_code error, std::string_view where);

// After a getter answered INCORRECT_TYPE: SUCCESS if the value starts like some JSON value (so it
// is merely of another type), else the error (a stray ',' or '}' shows up as a wrong type).
simdjson::error_code StartsLikeAValue(simdjson::ondemand::value& value);

// A string field, copied out. null → "". `field` names it for messages.
absl::Status ReadStringField(simdjson::ondemand::value& value, std::string_view field,
                             std::string& out);

// An integer field (the "code" of a Status). null → 0.
absl::Status ReadIntField(simdjson::ondemand::value& value, std::string_view field, int64_t& out);

// An object's "kind" and metadata.namespace / name / resourceVersion, everything else skipped.
// Fields absent or null stay "". Walks the whole object.
struct ObjectMeta {
  std::string kind;
  std::string ns;
  std::string name;
  std::string resource_version;
};
absl::Status ReadObjectMeta(simdjson::ondemand::object& object, ObjectMeta& out);

// A Status object's code, reason and message (an ERROR watch event, a failed request's body).
struct ApiStatus {
  int64_t code = 0;
  std::string reason;   // "Expired", "Gone", "Unauthorized", ...
  std::string message;  // "too old resource version: 1 (5)"
};
absl::Status ReadApiStatus(simdjson::ondemand::object& object, ApiStatus& out);

// Parses a whole response body that should be a Status (for error messages): on success returns
// "410 Expired: too old resource version"; if the body is not a Status, its first 200 bytes,
// escaped. Never fails.
std::string DescribeErrorBody(std::string_view body);

}  // namespace clusterdns::controlplane
