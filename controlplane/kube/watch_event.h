// Decoding one line of a Kubernetes watch stream (a JSON WatchEvent: {"type": ..., "object": ...})
// into a WatchEvent, with simdjson On-Demand. The object itself is decoded by objects_json.h
// (DecodeService / DecodeEndpointSlice); this file adds the event envelope, the metadata of
// DELETED and BOOKMARK objects and the Status of ERROR events.
//
// Outcomes of Decode(line):
//  - OK: a WatchEvent. For ADDED / MODIFIED, object_error is non-OK (kInvalidArgument, naming the
//    object and field: "Service default/foo: spec.ports[0].port: ...") when the object is
//    well-formed JSON but not a valid Service / EndpointSlice: skip it, count it, keep watching.
//  - kInvalidArgument: the line is valid JSON but not a usable event (no "type", an unknown type,
//    no "object"): skip it, keep watching.
//  - kDataLoss: the line is not JSON (garbage, a cut-off document, content after its end): the
//    stream cannot be trusted any more; restart the watch from the last good resourceVersion.
//
// Member order does not matter ("type" usually comes first; if "object" comes first the line is
// walked twice). The line is copied into a reused padded buffer and parsed with a reused parser,
// so a steady stream allocates only when a longer line than any before arrives.
//
// Not thread-safe: one decoder per watch stream. Usage:
//   WatchEventDecoder decoder(ObjectKind::kService);
//   absl::StatusOr<WatchEvent> event = decoder.Decode(line);
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "controlplane/kube/padded_buffer.h"
#include "controlplane/source_sink.h"
#include "records/model.h"
#include "simdjson.h"

namespace clusterdns::controlplane {

enum class WatchEventType : uint8_t { kAdded, kModified, kDeleted, kBookmark, kError };

// "ADDED", "MODIFIED", ...: for logs.
const char* WatchEventTypeName(WatchEventType type);

struct WatchEvent {
  WatchEventType type = WatchEventType::kAdded;
  // metadata.resourceVersion of the object (of the bookmark, for kBookmark); "" when absent or
  // when the object was malformed.
  std::string resource_version;

  // kAdded / kModified with object_error OK: the object, per the decoder's kind.
  std::optional<records::Service> service;
  std::optional<records::EndpointSlice> slice;
  absl::Status object_error;  // kAdded / kModified: why the object was skipped

  // kDeleted: which object ("default" when metadata.namespace is absent, as the decoders do).
  std::string ns;
  std::string name;

  // kError: the Status object the server sent ("code": 410, "reason": "Expired", "message").
  int error_code = 0;
  std::string error_reason;
  std::string error_message;
};

class WatchEventDecoder {
 public:
  explicit WatchEventDecoder(ObjectKind kind) : kind_(kind) {}

  // Decodes one line (without its newline). See the file comment for the outcomes.
  absl::StatusOr<WatchEvent> Decode(std::string_view line);

 private:
  absl::Status DecodeObject(simdjson::ondemand::value& value, WatchEvent& event);
  absl::Status NotJson(simdjson::error_code error, std::string_view where);

  const ObjectKind kind_;
  PaddedBuffer line_;
  simdjson::ondemand::parser parser_;
};

}  // namespace clusterdns::controlplane
