// Records → precompiled bodies. Runs on the control plane; the data plane only copies the bytes.
#include "records/answer_renderer.h"

#include <algorithm>
#include <cstring>

#include "records/byte_order.h"
#include "records/compiler.h"
#include "records/dns_constants.h"
#include "records/name_compressor.h"
#include "records/wire_name.h"

namespace clusterdns::records {
namespace {

// How much of the question a body may point into. Names below <ns>.svc.<cluster zone> are also
// answered for their legacy twins (<ns>.<zone>, see answer_table.h), which share only the labels
// above the namespace: pointers must not reach further.
size_t CompressibleQuestionPrefix(const ServedZones& zones, std::string_view key, int zone_index) {
  const ServedZone& zone = zones.zones[zone_index];
  if (zone.kind != ZoneKind::kCluster) return key.size();
  const size_t above = key.size() - zone.apex.size();  // bytes of labels above the apex
  // key = ... <ns> \3svc <apex>
  if (above < 4 + 2) return key.size();
  if (key.compare(above - 4, 4, std::string_view("\x03svc", 4)) != 0) return key.size();
  // Find the namespace label: the label that ends at above - 4.
  size_t pos = 0;
  size_t ns_start = std::string_view::npos;
  while (pos < above - 4) {
    ns_start = pos;
    pos += 1 + static_cast<uint8_t>(key[pos]);
  }
  if (pos != above - 4 || ns_start == std::string_view::npos) return key.size();
  return ns_start;
}

// Bodies over this cannot be sent even over TCP (65535 minus header, question and OPT); an RRset
// that large is cut at the last record that fits. A Service with thousands of ready endpoints
// gets there.
constexpr size_t kMaxBodySize = 65535 - kHeaderSize - 255 - 4 - kOptRecordSize;
// The largest RR we render: owner, fixed fields, two names and the SOA timers.
constexpr size_t kMaxRrSize = 255 + 10 + 255 + 255 + 20;

// Builds one body at a time; reused for every body a thread renders, so its buffers stop
// growing after the first few entries.
struct BodyWriter {
  std::string msg;  // the message so far; bytes before body_start are placeholders
  size_t body_start = 0;
  NameCompressor names;
  uint16_t count = 0;

  void Reset(std::string_view key, size_t compressible) {
    body_start = kHeaderSize + key.size() + 4;
    msg.assign(body_start, '\0');
    names.Clear();
    // The question, but only the suffixes that start before `compressible`.
    names.Remember(key, kHeaderSize, compressible);
    // A body that may follow its legacy twin's question (4 bytes shorter) cannot point into
    // itself: its offsets would be off by 4 there.
    if (compressible < key.size()) names.Freeze();
    count = 0;
  }
  // Appends one RR; false (and nothing appended) when it would make the body too large to send.
  bool Rr(std::string_view owner, const Record& r) {
    const size_t before = msg.size();
    // Only a body near the limit can overflow with this RR; only then keep a way back.
    const bool near_limit = before - body_start + kMaxRrSize > kMaxBodySize;
    NameCompressor saved;
    if (near_limit) saved = names;
    names.Write(owner, &msg);
    PutBe16(&msg, r.type);
    PutBe16(&msg, kClassIn);
    PutBe32(&msg, r.ttl);
    size_t rdlen_pos = msg.size();
    PutBe16(&msg, 0);
    msg.append(r.rdata_prefix);
    if (r.type == kTypeSrv) {
      // The target is never compressed (RFC 2782; RFC 3597 4), as Knot, NSD and CoreDNS write
      // it. In a body shared with a legacy twin (see Reset) it therefore names the svc form.
      names.WriteLiteral(r.name1, &msg);
    } else if (!r.name1.empty()) {
      names.Write(r.name1, &msg);
    }
    if (!r.name2.empty()) names.Write(r.name2, &msg);
    msg.append(r.rdata_suffix);
    SetBe16(&msg, rdlen_pos, static_cast<uint16_t>(msg.size() - rdlen_pos - 2));
    if (msg.size() - body_start > kMaxBodySize) {
      msg.resize(before);
      names = std::move(saved);
      return false;
    }
    ++count;
    return true;
  }
  std::string_view body() const { return std::string_view(msg).substr(body_start); }
};

}  // namespace

uint32_t RenderEntry(const ServedZones& zones, std::string_view key, uint8_t zone_index,
                     EntryKind kind, std::vector<const Record*>& records, std::string* arena) {
  while (arena->size() % 4 != 0) arena->push_back('\0');
  const uint32_t offset = static_cast<uint32_t>(arena->size());
  // The key is stored without the zone's apex (see answer_table.h).
  const std::string_view stored_key =
      key.substr(0, key.size() - zones.zones[zone_index].apex.size());
  EntryHeader header{static_cast<uint8_t>(stored_key.size()), 0, zone_index, 0};
  // A legacy name whose every record came from the legacy base is its svc twin's alias.
  if (kind == EntryKind::kRecords && !records.empty() &&
      std::all_of(records.begin(), records.end(), [](const Record* r) { return r->legacy; })) {
    kind = EntryKind::kAlias;
  }
  if (kind == EntryKind::kAlias) header.flags |= kEntryFlagAlias;
  if (kind != EntryKind::kRecords) {
    arena->append(reinterpret_cast<const char*>(&header), sizeof(header));
    arena->append(stored_key);
    return offset;
  }
  // One Service's records arrive sorted; only names with several contributors need the sort.
  auto less = [](const Record* a, const Record* b) { return *a < *b; };
  if (!std::is_sorted(records.begin(), records.end(), less)) {
    std::sort(records.begin(), records.end(), less);
  }
  records.erase(std::unique(records.begin(), records.end(),
                            [](const Record* a, const Record* b) { return *a == *b; }),
                records.end());

  thread_local std::vector<uint16_t> types;
  types.clear();
  for (const Record* r : records) {
    if (r->glue_for == 0 && r->type != 0 &&
        std::find(types.begin(), types.end(), r->type) == types.end()) {
      types.push_back(r->type);
    }
  }
  bool cname = std::find(types.begin(), types.end(), kTypeCname) != types.end();
  if (cname) {
    types = {kTypeCname};  // a CNAME stands alone (RFC 1034 3.6.2)
    header.flags |= kEntryFlagCname;
  }
  if (types.empty()) {
    arena->append(reinterpret_cast<const char*>(&header), sizeof(header));
    arena->append(stored_key);
    return offset;
  }
  const size_t compressible = CompressibleQuestionPrefix(zones, key, zone_index);

  thread_local std::vector<TypeEntry> entries;
  thread_local std::string bodies;
  entries.clear();
  bodies.clear();
  // ANY is answered by respond() with the first RRset (RFC 8482 4.2): no entry of its own.
  thread_local BodyWriter w;
  for (uint16_t type : types) {
    w.Reset(key, compressible);
    for (const Record* r : records) {
      if (r->glue_for == 0 && r->type == type && !w.Rr(key, *r)) break;
    }
    uint16_t an = w.count;
    w.count = 0;
    for (const Record* r : records) {
      if (r->glue_for == type && !w.Rr(r->glue_owner, *r)) break;
    }
    uint16_t ar = w.count;
    std::string_view body = w.body();
    TypeEntry t{};
    t.qtype = type;
    t.body_len = static_cast<uint16_t>(body.size());
    t.ancount = an;
    t.arcount = ar;
    entries.push_back(t);
    bodies.append(body);
  }
  header.ntypes = static_cast<uint8_t>(entries.size());
  arena->append(reinterpret_cast<const char*>(&header), sizeof(header));
  arena->append(stored_key);
  arena->append(reinterpret_cast<const char*>(entries.data()), entries.size() * sizeof(TypeEntry));
  arena->append(bodies);
  return offset;
}

std::vector<ZoneAnswerInfo> MakeZoneAnswerInfo(const ServedZones& zones, const ZoneConfig& config) {
  std::vector<ZoneAnswerInfo> out;
  const std::string timers = SoaTimers(config);
  for (const ServedZone& zone : zones.zones) {
    ZoneAnswerInfo info;
    info.apex_len = static_cast<uint8_t>(zone.apex.size());
    std::memcpy(info.apex, zone.apex.data(), zone.apex.size());
    if (zone.apex.size() >= 8) std::memcpy(&info.apex_tail, zone.apex.data() + zone.apex.size() - 8, 8);
    info.kind = zone.kind;
    info.pod_records = zone.pod_records;
    info.legacy_names = config.legacy_names && zone.kind == ZoneKind::kCluster;
    info.ttl = config.ttl;
    std::string body;
    std::vector<uint16_t> pointers;
    auto write_pointer = [&] {
      pointers.push_back(static_cast<uint16_t>(body.size()));
      PutBe16(&body, 0xC000);
    };
    auto write_name = [&](const std::string& name) {
      if (IsSubdomain(name, zone.apex)) {
        body.append(name, 0, name.size() - zone.apex.size());
        write_pointer();
      } else {
        body.append(name);
      }
    };
    write_pointer();  // owner: the apex
    PutBe16(&body, kTypeSoa);
    PutBe16(&body, kClassIn);
    PutBe32(&body, config.ttl);  // min(SOA minimum, TTL): both are the TTL (RFC 2308 5)
    size_t rdlen_pos = body.size();
    PutBe16(&body, 0);
    write_name(zones.ns_name);
    write_name(zones.hostmaster_name);
    body.append(timers);
    SetBe16(&body, rdlen_pos, static_cast<uint16_t>(body.size() - rdlen_pos - 2));
    std::memcpy(info.soa_body, body.data(), body.size());
    info.soa_body_len = static_cast<uint16_t>(body.size());
    info.soa_pointer_count = static_cast<uint8_t>(pointers.size());
    // Unused slots repeat the owner's pointer: respond() patches all three, without a loop.
    for (size_t i = 0; i < 3; ++i) info.soa_pointer_pos[i] = pointers[i < pointers.size() ? i : 0];
    out.push_back(info);
  }
  return out;
}

}  // namespace clusterdns::records
