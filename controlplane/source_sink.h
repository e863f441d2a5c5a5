// SourceSink: how a source of cluster objects (the Kubernetes informers, the objects file) hands
// what it learns to the controller that keeps the answer table. Sources know nothing of tables;
// the controller knows nothing of HTTP or files.
//
// A source reports a full listing as OnListStart(kind), the objects, OnListEnd(kind): objects of
// that kind that this source delivered before and did not deliver again between the two are gone.
// Between listings it reports single changes (OnService / OnSlice for added or modified objects,
// OnDelete). A listing that breaks off (connection lost mid-list, an HTTP error, a page that does
// not decode) ends with OnListAbort(kind): nothing is deleted, and what it delivered stands (each
// object as new as the source has seen it, as a watch event would deliver it). The source lists
// again later with a new OnListStart.
//
// Threads: each source calls its sink from one thread at a time (its own); different sources
// have different sink objects. Calls may block briefly (the controller takes a lock) but never on
// table builds.
#pragma once

#include <cstdint>
#include <string>

#include "records/model.h"

namespace clusterdns::controlplane {

enum class ObjectKind : uint8_t { kService, kEndpointSlice };

class SourceSink {
 public:
  virtual ~SourceSink() = default;
  virtual void OnListStart(ObjectKind kind) = 0;
  virtual void OnService(records::Service service) = 0;
  virtual void OnSlice(records::EndpointSlice slice) = 0;
  virtual void OnDelete(ObjectKind kind, std::string ns, std::string name) = 0;
  virtual void OnListEnd(ObjectKind kind) = 0;
  virtual void OnListAbort(ObjectKind kind) = 0;
};

}  // namespace clusterdns::controlplane
