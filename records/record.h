// Record: one resource record as the compiler produces it, before it is rendered into a
// precompiled answer. Names are folded wire names, kept apart from the fixed rdata bytes so the
// renderer can compress them.
//
//   rdata on the wire = rdata_prefix + name1 + name2 + rdata_suffix
//     A/AAAA/TXT: prefix only; PTR/CNAME/NS: name1; SRV: prefix (priority, weight, port) + name1;
//     SOA: name1 (mname) + name2 (rname) + suffix (serial … minimum).
//
// A record with glue_for != 0 is not answered at `owner` itself: it goes into the additional
// section of owner's answer of type glue_for (for SRV and NS), with RR owner `glue_owner`.
#pragma once

#include <cstdint>
#include <string>
#include <tuple>

namespace clusterdns::records {

struct Record {
  std::string owner;
  uint16_t type = 0;
  uint32_t ttl = 0;
  std::string rdata_prefix;
  std::string name1;
  std::string name2;
  std::string rdata_suffix;
  uint16_t glue_for = 0;
  std::string glue_owner;
  // Set on records under a legacy kube2sky base (s.n.Z): the table stores such a name as an alias
  // of its s.n.svc.Z twin instead of a second copy of the answers.
  bool legacy = false;

  // Orders records of one owner for rendering: answers before glue, by type, then by rdata.
  friend bool operator<(const Record& a, const Record& b) {
    return std::tie(a.owner, a.glue_for, a.type, a.glue_owner, a.rdata_prefix, a.name1, a.name2,
                    a.rdata_suffix) < std::tie(b.owner, b.glue_for, b.type, b.glue_owner,
                                               b.rdata_prefix, b.name1, b.name2, b.rdata_suffix);
  }
  friend bool operator==(const Record& a, const Record& b) {
    return a.owner == b.owner && a.type == b.type && a.glue_for == b.glue_for &&
           a.glue_owner == b.glue_owner && a.rdata_prefix == b.rdata_prefix &&
           a.name1 == b.name1 && a.name2 == b.name2 && a.rdata_suffix == b.rdata_suffix;
  }
};

}  // namespace clusterdns::records
