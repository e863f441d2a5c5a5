// Watch event decoding: see watch_event.h.
#include "controlplane/kube/watch_event.h"

#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "controlplane/kube/kube_json.h"
#include "controlplane/objects_json.h"

namespace clusterdns::controlplane {
namespace {

namespace od = simdjson::ondemand;
using simdjson::error_code;

absl::string_view Sv(std::string_view text) { return {text.data(), text.size()}; }

bool ParseType(std::string_view text, WatchEventType& type) {
  if (text == "ADDED") {
    type = WatchEventType::kAdded;
  } else if (text == "MODIFIED") {
    type = WatchEventType::kModified;
  } else if (text == "DELETED") {
    type = WatchEventType::kDeleted;
  } else if (text == "BOOKMARK") {
    type = WatchEventType::kBookmark;
  } else if (text == "ERROR") {
    type = WatchEventType::kError;
  } else {
    return false;
  }
  return true;
}

const char* KindName(ObjectKind kind) {
  return kind == ObjectKind::kService ? "Service" : "EndpointSlice";
}

}  // namespace

const char* WatchEventTypeName(WatchEventType type) {
  switch (type) {
    case WatchEventType::kAdded:
      return "ADDED";
    case WatchEventType::kModified:
      return "MODIFIED";
    case WatchEventType::kDeleted:
      return "DELETED";
    case WatchEventType::kBookmark:
      return "BOOKMARK";
    case WatchEventType::kError:
      return "ERROR";
  }
  return "?";
}

absl::Status WatchEventDecoder::NotJson(error_code error, std::string_view where) {
  return JsonBroken(error, where);
}

absl::StatusOr<WatchEvent> WatchEventDecoder::Decode(std::string_view line) {
  line_.Assign(line);
  od::document doc;
  if (error_code error = parser_.iterate(line_.data(), line_.size(), line_.capacity()).get(doc)) {
    return NotJson(error, "watch event");
  }
  WatchEvent event;
  bool type_seen = false;
  bool object_seen = false;
  bool object_before_type = false;
  // Pass 1 reads "type" and, if it came first (as the API server writes it), "object" too.
  // Pass 2 (after a rewind) only when "object" came before "type".
  for (int pass = 0; pass < 2; ++pass) {
    od::object root;
    error_code error = doc.get_object().get(root);
    if (error == simdjson::INCORRECT_TYPE) {
      // A bare scalar or array: is it at least JSON? Either way it is no event.
      od::json_type type{};
      if ((error = doc.type().get(type))) return NotJson(error, "watch event");
      if (type == od::json_type::array) {
        return absl::InvalidArgumentError("watch event: not an object (an array)");
      }
      // A bare word ("garbage") or number: not a watch stream line at all.
      return absl::DataLossError(absl::StrCat("not valid JSON: watch line starts with ",
                                              absl::CHexEscape(Sv(line.substr(0, 16)))));
    }
    if (error) return NotJson(error, "watch event");
    for (auto field : root) {
      od::raw_json_string key;
      if ((error = field.key().get(key))) return NotJson(error, "watch event");
      od::value value;
      if ((error = field.value().get(value))) return NotJson(error, "watch event");
      if (key == "type" && pass == 0) {
        std::string type_text;
        if (absl::Status status = ReadStringField(value, "type", type_text); !status.ok()) {
          return status;
        }
        if (!ParseType(type_text, event.type)) {
          return absl::InvalidArgumentError(absl::StrCat(
              "watch event: unknown type \"", absl::CHexEscape(type_text.substr(0, 32)), "\""));
        }
        type_seen = true;
      } else if (key == "object") {
        if (!type_seen) {
          object_before_type = true;  // skipped unread now; decoded in pass 2
          continue;
        }
        if (object_seen) continue;  // pass 2 met it again, or a duplicate key: first one wins
        object_seen = true;
        if (absl::Status status = DecodeObject(value, event); !status.ok()) return status;
      }
    }
    // The root is closed: anything after it is not one event per line.
    const char* trailing = nullptr;
    if (doc.current_location().get(trailing) == simdjson::SUCCESS) {
      return absl::DataLossError(absl::StrCat("not valid JSON: content after the event (byte ",
                                              trailing - line_.data(), ")"));
    }
    if (!type_seen) return absl::InvalidArgumentError("watch event: no \"type\"");
    if (!object_before_type || object_seen) break;
    doc.rewind();
  }
  if (!object_seen) return absl::InvalidArgumentError("watch event: no \"object\"");
  return event;
}

absl::Status WatchEventDecoder::DecodeObject(od::value& value, WatchEvent& event) {
  od::object object;
  error_code error = value.get_object().get(object);
  if (error == simdjson::INCORRECT_TYPE) {
    if ((error = StartsLikeAValue(value))) return NotJson(error, "object");
    return absl::InvalidArgumentError(
        absl::StrCat("watch event ", WatchEventTypeName(event.type), ": object is not an object"));
  }
  if (error) return NotJson(error, "object");

  switch (event.type) {
    case WatchEventType::kAdded:
    case WatchEventType::kModified: {
      if (kind_ == ObjectKind::kService) {
        absl::StatusOr<records::Service> service = DecodeService(object);
        if (service.ok()) {
          event.resource_version = service->resource_version;
          event.service = std::move(*service);
        } else if (absl::IsDataLoss(service.status())) {
          return service.status();
        } else {
          event.object_error = service.status();
        }
      } else {
        absl::StatusOr<records::EndpointSlice> slice = DecodeEndpointSlice(object);
        if (slice.ok()) {
          event.resource_version = slice->resource_version;
          event.slice = std::move(*slice);
        } else if (absl::IsDataLoss(slice.status())) {
          return slice.status();
        } else {
          event.object_error = slice.status();
        }
      }
      return absl::OkStatus();
    }
    case WatchEventType::kDeleted:
    case WatchEventType::kBookmark: {
      // Only the identity (and version) matter: a deleted object is removed whatever its spec
      // says, even one that never decoded; a bookmark carries nothing but its version.
      ObjectMeta meta;
      if (absl::Status status = ReadObjectMeta(object, meta); !status.ok()) {
        if (absl::IsDataLoss(status)) return status;
        return absl::InvalidArgumentError(
            absl::StrCat("watch event ", WatchEventTypeName(event.type), ": ", status.message()));
      }
      if (!meta.kind.empty() && meta.kind != KindName(kind_)) {
        return absl::InvalidArgumentError(absl::StrCat(
            "watch event ", WatchEventTypeName(event.type), ": object of kind \"",
            absl::CHexEscape(meta.kind.substr(0, 32)), "\", expected ", KindName(kind_)));
      }
      event.resource_version = std::move(meta.resource_version);
      if (event.type == WatchEventType::kDeleted) {
        if (meta.name.empty()) {
          return absl::InvalidArgumentError(
              absl::StrCat("watch event DELETED: ", KindName(kind_), " without metadata.name"));
        }
        event.ns = meta.ns.empty() ? "default" : std::move(meta.ns);
        event.name = std::move(meta.name);
      }
      return absl::OkStatus();
    }
    case WatchEventType::kError: {
      ApiStatus status;
      if (absl::Status read = ReadApiStatus(object, status); !read.ok()) {
        if (absl::IsDataLoss(read)) return read;
        return absl::InvalidArgumentError(absl::StrCat("watch event ERROR: ", read.message()));
      }
      event.error_code = static_cast<int>(status.code);
      event.error_reason = std::move(status.reason);
      event.error_message = std::move(status.message);
      return absl::OkStatus();
    }
  }
  return absl::OkStatus();
}

}  // namespace clusterdns::controlplane
