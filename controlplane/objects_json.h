// Decoding Kubernetes Service and EndpointSlice JSON into the object model of records/model.h,
// with simdjson On-Demand and its error-code API (nothing here throws).
//
// Two entry points:
//  - DecodeService / DecodeEndpointSlice: one API object that the caller has already positioned
//    (the watch passes the "object" member of each watch event).
//  - DecodeObjectList / LoadObjectsFile: a whole List, as printed by
//    `kubectl get services,endpointslices -A -o json` (kind "List", every item names its kind), or
//    a typed list as the API server returns it (kind "ServiceList" / "EndpointSliceList", items
//    without a kind of their own).
//
// What is decoded (everything else, managedFields, annotations, status and so on, is skipped):
//  - Service: metadata.namespace (missing → "default"), metadata.name (required),
//    metadata.resourceVersion; spec.type; spec.clusterIP ("None" → headless); spec.clusterIPs
//    (preferred over spec.clusterIP; "" and "None" skipped); spec.externalName (required for
//    type ExternalName); spec.ports[].name/protocol/port (port required, 1..65535; protocol TCP by
//    default, UDP, SCTP); spec.publishNotReadyAddresses.
//  - EndpointSlice: metadata.namespace/name/resourceVersion, the label
//    kubernetes.io/service-name, addressType (required: IPv4, IPv6, FQDN), endpoints[] (addresses
//    parsed for IPv4/IPv6 slices and of that family; none kept for FQDN slices, which DNS does not
//    answer), conditions.ready/serving/terminating (absent stays nullopt), hostname; ports[]
//    name/protocol/port (port may be absent).
//  - JSON null where a value is expected counts as absent. Object keys are matched as written
//    (a key spelled with JSON escapes is not recognised; Kubernetes never writes one).
//
// Errors are absl::Status values naming the object and the field:
//   kInvalidArgument  the object (or the list) is well-formed JSON but wrong for its kind:
//                     "Service default/foo: spec.ports[1].port: not an integer in 1..65535"
//   kDataLoss         the JSON itself is broken (truncated, bad syntax): nothing after it can be
//                     trusted, the caller must drop the whole document or stream.
// How much is validated: what On-Demand reads, plus the document's shape (a truncated or
// unbalanced document, or content after its end, is always kDataLoss). A syntax error deep inside
// a field that is skipped unread (managedFields, say) may pass unnoticed; its value is not used.
//
// Thread safety: every function is reentrant; each call uses its own parser. Usage:
//
//   absl::StatusOr<ObjectList> list = LoadObjectsFile("/etc/clusterdns/objects.json");
//   if (!list.ok()) return list.status();           // names the file and what is wrong
//   for (const std::string& line : list->skipped) LOG(WARNING) << line;
//   Compile(list->services, list->slices);
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "absl/status/statusor.h"
#include "records/model.h"
#include "simdjson.h"

namespace clusterdns::controlplane {

// Decodes one Service. The object must be a Service: its "kind", if present, must say so.
// Consumes (or abandons part of) `object`; on return the caller may go on iterating the parent.
// Strings are copied out, so the result does not refer to the parser's buffers.
absl::StatusOr<records::Service> DecodeService(simdjson::ondemand::object object);

// Decodes one EndpointSlice; as DecodeService otherwise.
absl::StatusOr<records::EndpointSlice> DecodeEndpointSlice(simdjson::ondemand::object object);

// The decoded content of a List. Order of services and slices is the order of the items.
struct ObjectList {
  std::vector<records::Service> services;
  std::vector<records::EndpointSlice> slices;
  // One line per malformed item, naming its kind, namespace/name and the field:
  // "Service default/foo: spec.ports[1].port: not an integer in 1..65535". The item is left out;
  // the other items are decoded.
  std::vector<std::string> skipped;
  std::string resource_version;    // metadata.resourceVersion of the list; may be empty
  size_t ignored_other_kinds = 0;  // items of other kinds (Namespace, Pod, ...)
};

// Decodes a List document. The text is copied into a padded buffer first, as simdjson needs
// SIMDJSON_PADDING readable bytes past the end; pass a simdjson::padded_string to avoid the copy.
// Errors: kDataLoss "not valid JSON: ..." (anywhere in the document, trailing content included),
// kInvalidArgument "not a List (kind \"Service\")".
absl::StatusOr<ObjectList> DecodeObjectList(std::string_view json);

// As above without the copy. A constrained template only so that a std::string or a string
// literal argument picks the std::string_view overload instead of being ambiguous.
absl::StatusOr<ObjectList> DecodePaddedObjectList(const simdjson::padded_string& json);
template <typename T>
  requires std::is_same_v<T, simdjson::padded_string>
absl::StatusOr<ObjectList> DecodeObjectList(const T& json) {
  return DecodePaddedObjectList(json);
}

// Reads the file and decodes it with DecodeObjectList. Every error names the file:
//   "objects file /x/y.json: cannot open: No such file or directory"  (code from errno)
//   "objects file /x/y.json: not valid JSON: ..."                       (kDataLoss)
//   "objects file /x/y.json: not a List (kind \"Service\")"           (kInvalidArgument)
absl::StatusOr<ObjectList> LoadObjectsFile(const std::string& path);

}  // namespace clusterdns::controlplane
