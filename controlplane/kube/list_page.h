// Decoding one page of a paginated Kubernetes list response (GET /api/v1/services?limit=500, a
// ServiceList or EndpointSliceList) with simdjson On-Demand, streaming each item to a SourceSink
// as it is decoded: the client never holds more than the page's bytes, never a decoded copy of
// the whole list (the sink, i.e. the controller, holds the only one).
//
// Items are decoded by objects_json.h (DecodeService / DecodeEndpointSlice). The page's
// metadata.continue and metadata.resourceVersion are returned; member order does not matter
// (the API server writes metadata before items; after them works too).
//
// Outcomes of Decode:
//  - OK: every valid item went to the sink (OnService / OnSlice, in order); each malformed item
//    (well-formed JSON, wrong for its kind) went to on_malformed instead, with a kInvalidArgument
//    status naming the object and the field; the page's continue token and resourceVersion.
//  - kDataLoss: the JSON is broken (a cut-off body, garbage). Items before the break were
//    delivered; the listing must be started again (OnListStart) from the first page.
//  - kInvalidArgument: not a list of the expected kind ("kind" names another kind, "items" is
//    not an array).
// The caller owns OnListStart / OnListEnd; Decode only delivers items.
//
// Not thread-safe: one decoder per informer (it keeps its parser, whose buffers are reused).
#pragma once

#include <cstddef>
#include <string>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "controlplane/kube/padded_buffer.h"
#include "controlplane/source_sink.h"
#include "simdjson.h"

namespace clusterdns::controlplane {

struct ListPageInfo {
  std::string resource_version;  // metadata.resourceVersion of the list
  std::string continue_token;    // metadata.continue; "" on the last page
  size_t items = 0;              // items delivered to the sink
  size_t malformed = 0;          // items skipped (each reported to on_malformed)
};

class ListPageDecoder {
 public:
  explicit ListPageDecoder(ObjectKind kind) : kind_(kind) {}

  absl::StatusOr<ListPageInfo> Decode(const PaddedBuffer& page, SourceSink& sink,
                                      absl::FunctionRef<void(const absl::Status&)> on_malformed);

 private:
  absl::Status DecodeItems(simdjson::ondemand::value& value, SourceSink& sink,
                           absl::FunctionRef<void(const absl::Status&)> on_malformed,
                           ListPageInfo& info);

  const ObjectKind kind_;
  simdjson::ondemand::parser parser_;
};

}  // namespace clusterdns::controlplane
