// An EndpointSlice packed into one string: what TableBuilder keeps of every slice between builds.
// At 100k slices the decoded form (vectors of endpoints, each with a vector of addresses and a
// hostname string) costs ~500 bytes a slice in small allocations; packed, a slice with a few
// endpoints is one allocation of a few dozen bytes. Only the DNS content is packed (address type,
// endpoints, ports); namespace, name and owning Service are kept beside it by the caller.
//
// The encoding is deterministic: two slices with the same DNS content pack to the same bytes, so
// comparing packed strings is TableBuilder's change filter for slices.
#pragma once

#include <string>
#include <string_view>

#include "records/model.h"

namespace clusterdns::records {

std::string PackSliceContent(const EndpointSlice& slice);

// The inverse of PackSliceContent: fills address_type, endpoints and ports of `*out` (the other
// fields are left as they are). `packed` must come from PackSliceContent.
void UnpackSliceContent(std::string_view packed, EndpointSlice* out);

}  // namespace clusterdns::records
