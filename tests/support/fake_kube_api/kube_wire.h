// JSON pieces of the Kubernetes wire format for the fake API server (fake_kube_api.h): stored
// objects rendered with a resourceVersion, Status bodies, watch event lines and list continue
// tokens. Pure functions, no server state; simdjson (error codes, no exceptions) for parsing.
//
// An object is kept as a template split around its resourceVersion, so any rv (the Apply's, or
// the Delete's for the DELETED event) renders without reparsing:
//   ObjectTemplate t = *ParseObject(json, "Service", "v1");
//   t.Full(1234)  == {"kind":"Service","apiVersion":"v1",...,"metadata":{...,"resourceVersion":"1234"},...}
//   t.Item(1234)  == the same without kind/apiVersion (a list item, as the real API server writes it)
// Everything is minified (one line), whatever the input layout was.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace clusterdns::testing::kube_wire {

struct ObjectTemplate {
  std::string ns;    // metadata.namespace ("" when absent)
  std::string name;  // metadata.name
  std::string full_prefix;  // {"kind":..,"apiVersion":..,<fields>,"metadata":{<fields>,"resourceVersion":"
  std::string item_prefix;  // {<fields>,"metadata":{<fields>,"resourceVersion":"
  std::string suffix;       // "}<,fields>}

  // The store's key: "ns/name"; lists are sorted by it (as etcd's keys are).
  std::string Key() const { return ns + "/" + name; }
  std::string Full(uint64_t rv) const;
  std::string Item(uint64_t rv) const;
};

// Parses one object (any whitespace layout). kind/apiVersion in the input are dropped and
// replaced by the given ones; metadata.resourceVersion is dropped (the template supplies it).
// InvalidArgument when the JSON is malformed, not an object, or lacks metadata.name.
absl::StatusOr<ObjectTemplate> ParseObject(std::string_view json, std::string_view kind,
                                           std::string_view api_version);

// A JSON string literal, quotes included.
std::string JsonQuote(std::string_view s);

// The Status reason kube-apiserver uses for an HTTP status ("Expired" for 410, ...).
std::string ReasonForCode(int code);
// {"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":..,"reason":..,"code":..}
std::string StatusJson(int code, std::string_view message);

// One watch line, "\n" included: {"type":"ADDED","object":<object_json>}
std::string WatchLine(std::string_view type, std::string_view object_json);
// A BOOKMARK line: {"type":"BOOKMARK","object":{"kind":K,"apiVersion":A,"metadata":{"resourceVersion":"R"}}}
std::string BookmarkLine(std::string_view kind, std::string_view api_version, uint64_t rv);

// The continue token of kube-apiserver: base64 of {"v":"meta.k8s.io/v1","rv":R,"start":"KEY\u0000"}
// where the next page starts at the first key >= start (just after `last_key`).
std::string EncodeContinue(uint64_t rv, std::string_view last_key);
struct ContinuePoint {
  uint64_t rv = 0;
  std::string start;  // first key to serve (compare with ObjectTemplate::Key())
};
// InvalidArgument for a token that is not base64 of such a JSON object.
absl::StatusOr<ContinuePoint> DecodeContinue(std::string_view token);

}  // namespace clusterdns::testing::kube_wire
