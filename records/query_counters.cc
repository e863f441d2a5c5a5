// Label values for QueryCounters (records/query_counters.h), shared by every metrics exporter.
#include "records/query_counters.h"

#include <string>

namespace clusterdns::records {

std::string_view QtypeSlotName(QtypeSlot slot) {
  switch (slot) {
    case QtypeSlot::kA: return "A";
    case QtypeSlot::kAaaa: return "AAAA";
    case QtypeSlot::kSrv: return "SRV";
    case QtypeSlot::kPtr: return "PTR";
    case QtypeSlot::kTxt: return "TXT";
    case QtypeSlot::kSoa: return "SOA";
    case QtypeSlot::kNs: return "NS";
    case QtypeSlot::kCname: return "CNAME";
    case QtypeSlot::kAny: return "ANY";
    case QtypeSlot::kOther:
    case QtypeSlot::kCount: break;
  }
  return "other";
}

std::string RcodeName(uint8_t rcode) {
  switch (rcode) {
    case kRcodeNoError: return "NOERROR";
    case kRcodeFormErr: return "FORMERR";
    case kRcodeServFail: return "SERVFAIL";
    case kRcodeNxDomain: return "NXDOMAIN";
    case kRcodeNotImp: return "NOTIMP";
    case kRcodeRefused: return "REFUSED";
    case kRcodeBadVers: return "BADVERS";
    default: return std::to_string(rcode);
  }
}

std::string_view DropReasonName(DropReason reason) {
  switch (reason) {
    case DropReason::kShortHeader: return "short_header";
    case DropReason::kResponse: return "response";
    case DropReason::kNoRoom: return "no_room";
    case DropReason::kNone:
    case DropReason::kCount: break;
  }
  return "none";
}

}  // namespace clusterdns::records
