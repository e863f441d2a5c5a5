// List page decoding: see list_page.h.
#include "controlplane/kube/list_page.h"

#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "controlplane/kube/kube_json.h"
#include "controlplane/objects_json.h"

namespace clusterdns::controlplane {
namespace {

namespace od = simdjson::ondemand;
using simdjson::error_code;

const char* ListKindName(ObjectKind kind) {
  return kind == ObjectKind::kService ? "ServiceList" : "EndpointSliceList";
}

}  // namespace

absl::StatusOr<ListPageInfo> ListPageDecoder::Decode(
    const PaddedBuffer& page, SourceSink& sink,
    absl::FunctionRef<void(const absl::Status&)> on_malformed) {
  ListPageInfo info;
  od::document doc;
  if (error_code error = parser_.iterate(page.data(), page.size(), page.capacity()).get(doc)) {
    return JsonBroken(error, "list page");
  }
  od::object root;
  error_code error = doc.get_object().get(root);
  if (error == simdjson::INCORRECT_TYPE) {
    od::json_type type{};
    if ((error = doc.type().get(type))) return JsonBroken(error, "list page");
    return absl::InvalidArgumentError(
        absl::StrCat("not a ", ListKindName(kind_), " (not an object)"));
  }
  if (error) return JsonBroken(error, "list page");
  bool items_seen = false;
  for (auto field : root) {
    od::raw_json_string key;
    if ((error = field.key().get(key))) return JsonBroken(error, "list page");
    od::value value;
    if ((error = field.value().get(value))) return JsonBroken(error, "list page");
    if (key == "kind") {
      std::string kind;
      if (absl::Status status = ReadStringField(value, "kind", kind); !status.ok()) return status;
      if (!kind.empty() && kind != ListKindName(kind_)) {
        return absl::InvalidArgumentError(absl::StrCat("not a ", ListKindName(kind_), " (kind \"",
                                                       absl::CHexEscape(kind.substr(0, 32)),
                                                       "\")"));
      }
    } else if (key == "metadata") {
      od::object metadata;
      error = value.get_object().get(metadata);
      if (error == simdjson::INCORRECT_TYPE) {
        if ((error = StartsLikeAValue(value))) return JsonBroken(error, "metadata");
        continue;  // null or odd: treated as no continue token and no version
      }
      if (error) return JsonBroken(error, "metadata");
      for (auto meta_field : metadata) {
        od::raw_json_string meta_key;
        if ((error = meta_field.key().get(meta_key))) return JsonBroken(error, "metadata");
        od::value meta_value;
        if ((error = meta_field.value().get(meta_value))) return JsonBroken(error, "metadata");
        absl::Status status;
        if (meta_key == "continue") {
          status = ReadStringField(meta_value, "metadata.continue", info.continue_token);
        } else if (meta_key == "resourceVersion") {
          status = ReadStringField(meta_value, "metadata.resourceVersion", info.resource_version);
        }
        if (!status.ok()) return status;
      }
    } else if (key == "items") {
      items_seen = true;
      if (absl::Status status = DecodeItems(value, sink, on_malformed, info); !status.ok()) {
        return status;
      }
    }
  }
  const char* trailing = nullptr;
  if (doc.current_location().get(trailing) == simdjson::SUCCESS) {
    return absl::DataLossError(
        absl::StrCat("not valid JSON: content after the list (byte ", trailing - page.data(), ")"));
  }
  if (!items_seen) {
    // The API server writes "items": [] for an empty page; a body without it is not a list.
    return absl::InvalidArgumentError(absl::StrCat("not a ", ListKindName(kind_), " (no items)"));
  }
  return info;
}

absl::Status ListPageDecoder::DecodeItems(od::value& value, SourceSink& sink,
                                          absl::FunctionRef<void(const absl::Status&)> on_malformed,
                                          ListPageInfo& info) {
  od::array items;
  error_code error = value.get_array().get(items);
  if (error == simdjson::INCORRECT_TYPE) {
    if ((error = StartsLikeAValue(value))) return JsonBroken(error, "items");
    bool is_null = false;
    if ((error = value.is_null().get(is_null))) return JsonBroken(error, "items");
    if (is_null) return absl::OkStatus();
    return absl::InvalidArgumentError(
        absl::StrCat("not a ", ListKindName(kind_), " (items is not an array)"));
  }
  if (error) return JsonBroken(error, "items");
  size_t index = 0;
  for (auto element : items) {
    od::value item;
    if ((error = std::move(element).get(item))) return JsonBroken(error, "items");
    od::object object;
    error = item.get_object().get(object);
    if (error == simdjson::INCORRECT_TYPE) {
      if ((error = StartsLikeAValue(item))) return JsonBroken(error, "items");
      ++info.malformed;
      on_malformed(absl::InvalidArgumentError(absl::StrCat("items[", index++, "]: not an object")));
      continue;
    }
    if (error) return JsonBroken(error, "items");
    if (kind_ == ObjectKind::kService) {
      absl::StatusOr<records::Service> service = DecodeService(object);
      if (service.ok()) {
        ++info.items;
        sink.OnService(std::move(*service));
      } else if (absl::IsDataLoss(service.status())) {
        return service.status();
      } else {
        ++info.malformed;
        on_malformed(service.status());
      }
    } else {
      absl::StatusOr<records::EndpointSlice> slice = DecodeEndpointSlice(object);
      if (slice.ok()) {
        ++info.items;
        sink.OnSlice(std::move(*slice));
      } else if (absl::IsDataLoss(slice.status())) {
        return slice.status();
      } else {
        ++info.malformed;
        on_malformed(slice.status());
      }
    }
    ++index;
  }
  return absl::OkStatus();
}

}  // namespace clusterdns::controlplane
