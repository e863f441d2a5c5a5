// TableBuilder: membership bookkeeping and shard rebuilds. See table_builder.h for the contract.
//
// Bookkeeping: per Service, the shards its names are in and its shared parent names; per shard,
// the shared parent names there with how many references (parents_) and which Service gave each
// entry (shard_items_). A Service's own empty non-terminals (_tcp.<svc>.<ns>.svc.<zone>) are
// entries it renders itself, like its records; only shallow parents that many Services share
// (<ns>.svc.<zone>) are counted, so parents_ holds about one name per namespace. A Build then:
//   A. compiles every changed Service once, moves its bookkeeping, and renders its names straight
//      into the arenas of the (now dirty) shards they fall in;
//   B. copies into each dirty shard the entries of the previous one whose contributors did not
//      change (a memcpy, no compile), and renders names shared with a changed Service again;
//   C. finishes each dirty shard: slot array, names with several contributors re-rendered
//      together, parents without records of their own added as empty entries.
// A full build is the case where everything changed: each Service is compiled exactly once and
// no compiled records outlive the Service's own rendering, so memory stays near the table's size.
#include "records/table_builder.h"

#include <algorithm>
#include <bit>
#include <thread>

#include "absl/strings/str_cat.h"
#include "records/answer_renderer.h"
#include "records/arena_packer.h"
#include "records/compiler.h"
#include "records/name_hash.h"
#include "records/packed_slice.h"
#include "records/wire_name.h"

namespace clusterdns::records {
namespace {

// Aim for about this many names per shard: a one-Service change then re-renders a few shards of
// a few hundred names, and the ShardRef array stays small enough to live in L2.
constexpr size_t kNamesPerShard = 64;
constexpr size_t kNamesPerServiceEstimate = 8;
constexpr int kMaxShardBits = 16;
// Slots per name: load factor ≤ 0.7 keeps linear-probe chains short.
constexpr size_t kSlotNumerator = 10;
constexpr size_t kSlotDenominator = 7;
constexpr size_t kMinSlots = kCacheLine / sizeof(uint64_t);
// An arena starts with this many zero bytes: entry offset 0 would read as an empty slot.
constexpr size_t kArenaHeadPadding = 4;
// A full build uses a thread per this many Services, up to kMaxBuildThreads.
constexpr size_t kServicesPerBuildThread = 5000;
constexpr size_t kMaxBuildThreads = 8;
// Readable bytes after the last entry of an arena: NameEquals reads a key in whole vectors, up
// to kNameReadSlack bytes past its end (bodies are copied exactly).
constexpr size_t kArenaTailPadding = kNameReadSlack;
// Ancestors this many labels or more below their zone's apex (_tcp.<svc>.<ns>.svc.<zone>, and
// <svc>.<ns>.svc.<zone> itself) lie inside one Service's names: the Service renders them as
// empty entries of its own. Shallower ones (<ns>.svc.<zone>, svc.<zone>, <ns>.<zone>) are shared
// by many Services and reference counted in parents_. Either is correct for any name (a deep name
// that two Services reach is merged like any shared name); the split keeps parents_ small and
// shared entries few.
constexpr size_t kOwnAncestorDepth = 3;
// A parallel full build renders into an arena per thread and group of 2^this shards (~170 KB
// each at 100k Services: the allocator's large extents, returned whole when the group is done).
constexpr int kShardsPerGroupBits = 6;

// Runs fn(0) … fn(threads - 1) on that many threads and waits for them.
template <typename Fn>
void RunOnThreads(size_t threads, Fn&& fn) {
  std::vector<std::thread> pool;
  pool.reserve(threads);
  for (size_t t = 0; t < threads; ++t) pool.emplace_back([&fn, t] { fn(t); });
  for (std::thread& thread : pool) thread.join();
}

std::string ServiceKey(std::string_view ns, std::string_view name) {
  return absl::StrCat(std::string(ns), "/", std::string(name));
}

}  // namespace

struct TableBuilder::ShardWork {
  using Item = ShardItem;
  std::vector<uint64_t> slots;  // filled by FinishShard
  uint32_t names = 0;
  bool active = false;
  std::string arena;
  std::vector<Item> items;
};

// Moves the entries of group `g` from every thread's piece into the shards of the group, each
// shard's arena sized once (no growth, so no slack), and frees the pieces: a parallel build
// holds each entry twice only for one group at a time. Entries are position-independent; only
// the item offsets change. Items keep the order of the threads, as one thread would have.
void TableBuilder::SplitGroup(size_t g, int group_shift, std::vector<std::vector<ShardWork>>& pieces,
                              std::vector<ShardWork>& work) const {
  const uint32_t first = static_cast<uint32_t>(g << group_shift);
  const uint32_t count = uint32_t{1} << group_shift;
  thread_local std::vector<size_t> bytes;
  thread_local std::vector<uint32_t> items;
  bytes.assign(count, 0);
  items.assign(count, 0);
  for (auto& thread_pieces : pieces) {
    const ShardWork& from = thread_pieces[g];
    const uint8_t* arena = reinterpret_cast<const uint8_t*>(from.arena.data());
    for (const ShardWork::Item& item : from.items) {
      const uint32_t s = ShardOf(item.hash) - first;
      bytes[s] += (EntrySize(arena + item.offset) + 3) & ~size_t{3};
      ++items[s];
    }
  }
  for (uint32_t k = 0; k < count; ++k) {
    if (items[k] == 0) continue;
    ShardWork& into = work[first + k];
    into.arena.reserve(kArenaHeadPadding + bytes[k] + kArenaTailPadding);
    into.arena.assign(kArenaHeadPadding, '\0');
    into.items.reserve(items[k]);
  }
  for (auto& thread_pieces : pieces) {
    ShardWork& from = thread_pieces[g];
    const uint8_t* arena = reinterpret_cast<const uint8_t*>(from.arena.data());
    for (const ShardWork::Item& item : from.items) {
      ShardWork& into = work[ShardOf(item.hash)];
      while (into.arena.size() % 4 != 0) into.arena.push_back('\0');
      const uint32_t offset = static_cast<uint32_t>(into.arena.size());
      into.arena.append(reinterpret_cast<const char*>(arena + item.offset),
                        EntrySize(arena + item.offset));
      into.items.push_back(ShardWork::Item{item.hash, offset, item.id});
    }
    std::string().swap(from.arena);
    std::vector<ShardWork::Item>().swap(from.items);
  }
}

absl::StatusOr<std::unique_ptr<TableBuilder>> TableBuilder::Create(const ZoneConfig& config,
                                                                   int shard_bits) {
  auto zones = ServedZones::FromConfig(config);
  if (!zones.ok()) return zones.status();
  if (shard_bits > kMaxShardBits) {
    return absl::InvalidArgumentError(absl::StrCat("shard bits ", shard_bits, " > ", kMaxShardBits));
  }
  return std::unique_ptr<TableBuilder>(new TableBuilder(config, *std::move(zones), shard_bits));
}

TableBuilder::TableBuilder(ZoneConfig config, ServedZones zones, int shard_bits)
    : config_(std::move(config)),
      zones_(std::move(zones)),
      auto_shard_bits_(shard_bits < 0),
      shard_bits_(shard_bits < 0 ? 0 : shard_bits) {
  CompileZoneApexes(zones_, config_, &apex_records_);
  std::sort(apex_records_.begin(), apex_records_.end());
  services_.push_back(ServiceState{"", Service{}, {}, {}});  // id 0: the zone apexes
}

void TableBuilder::MarkChanged(const std::string& service_key) {
  if (service_ids_.contains(service_key)) changed_.insert(service_key);
}

void TableBuilder::UpsertService(Service service, Origin origin) {
  std::string key = ServiceKey(service.ns, service.name);
  auto it = service_ids_.find(key);
  if (it == service_ids_.end()) {
    uint32_t id;
    if (!free_ids_.empty()) {
      id = free_ids_.back();
      free_ids_.pop_back();
    } else {
      id = static_cast<uint32_t>(services_.size());
      services_.emplace_back();
    }
    services_[id] = ServiceState{key, std::move(service), origin, {}, {}};
    it = service_ids_.emplace(key, id).first;
  } else {
    services_[it->second].origin = origin;
    Service& stored = services_[it->second].service;
    // The change filter: a deleted-pending state has an empty name, so it never matches.
    if (SameDnsContent(stored, service)) {
      stored.resource_version = std::move(service.resource_version);
      return;
    }
    stored = std::move(service);
  }
  changed_.insert(key);
}

void TableBuilder::DeleteService(std::string_view ns, std::string_view name) {
  std::string key = ServiceKey(ns, name);
  auto it = service_ids_.find(key);
  if (it == service_ids_.end()) return;
  changed_.insert(key);
  // The id is released in Build, once its old membership has been removed.
  services_[it->second].service.name.clear();
}

void TableBuilder::UpsertSlice(EndpointSlice slice, Origin origin) {
  std::string key = ServiceKey(slice.ns, slice.name);
  std::string owner = slice.service_name.empty() ? "" : ServiceKey(slice.ns, slice.service_name);
  std::string packed = PackSliceContent(slice);
  auto it = slices_.find(key);
  if (it != slices_.end() && it->second.service_name == slice.service_name &&
      it->second.packed == packed) {
    it->second.origin = origin;
    return;  // the same DNS content
  }
  if (it != slices_.end()) {
    const std::string& old_name = it->second.service_name;
    std::string old_owner = old_name.empty() ? "" : ServiceKey(slice.ns, old_name);
    if (old_owner != owner && !old_owner.empty()) {
      auto& list = slices_by_service_[old_owner];
      list.erase(std::remove(list.begin(), list.end(), key), list.end());
      if (list.empty()) slices_by_service_.erase(old_owner);
      MarkChanged(old_owner);
    }
    it->second = StoredSlice{std::move(slice.service_name), std::move(packed), origin};
    if (old_owner != owner && !owner.empty()) slices_by_service_[owner].push_back(key);
  } else {
    if (!owner.empty()) slices_by_service_[owner].push_back(key);
    slices_.emplace(std::move(key),
                    StoredSlice{std::move(slice.service_name), std::move(packed), origin});
  }
  if (!owner.empty()) MarkChanged(owner);
}

void TableBuilder::DeleteSlice(std::string_view ns, std::string_view name) {
  std::string key = ServiceKey(ns, name);
  auto it = slices_.find(key);
  if (it == slices_.end()) return;
  if (!it->second.service_name.empty()) {
    std::string owner = ServiceKey(ns, it->second.service_name);
    auto& list = slices_by_service_[owner];
    list.erase(std::remove(list.begin(), list.end(), key), list.end());
    if (list.empty()) slices_by_service_.erase(owner);
    MarkChanged(owner);
  }
  slices_.erase(it);
}

size_t TableBuilder::DeleteServicesNotIn(Origin listing) {
  std::vector<std::string> gone;
  for (const auto& [key, id] : service_ids_) {
    const ServiceState& state = services_[id];
    if (!state.service.name.empty() && state.origin.source == listing.source &&
        state.origin.listing != listing.listing) {
      gone.push_back(key);
    }
  }
  for (const std::string& key : gone) {
    const size_t slash = key.find('/');
    DeleteService(std::string_view(key).substr(0, slash), std::string_view(key).substr(slash + 1));
  }
  return gone.size();
}

size_t TableBuilder::DeleteSlicesNotIn(Origin listing) {
  std::vector<std::string> gone;
  for (const auto& [key, slice] : slices_) {
    if (slice.origin.source == listing.source && slice.origin.listing != listing.listing) {
      gone.push_back(key);
    }
  }
  for (const std::string& key : gone) {
    const size_t slash = key.find('/');
    DeleteSlice(std::string_view(key).substr(0, slash), std::string_view(key).substr(slash + 1));
  }
  return gone.size();
}

void TableBuilder::Clear() {
  for (auto& [key, id] : service_ids_) {
    services_[id].service.name.clear();
    changed_.insert(key);
  }
  slices_.clear();
  slices_by_service_.clear();
}

std::vector<EndpointSlice> TableBuilder::SlicesOf(const ServiceState& state) const {
  std::vector<EndpointSlice> out;
  auto it = slices_by_service_.find(state.key);
  if (it == slices_by_service_.end()) return out;
  for (const std::string& key : it->second) {
    auto s = slices_.find(key);
    if (s == slices_.end()) continue;
    EndpointSlice& slice = out.emplace_back();
    slice.ns = state.service.ns;
    slice.name = key.substr(state.service.ns.size() + 1);
    slice.service_name = s->second.service_name;
    UnpackSliceContent(s->second.packed, &slice);
  }
  // Slices come and go in any order; answer in a stable one.
  std::sort(out.begin(), out.end(),
            [](const EndpointSlice& a, const EndpointSlice& b) { return a.name < b.name; });
  return out;
}

void TableBuilder::CompileInto(const ServiceState& state, std::vector<Record>* out,
                               std::vector<std::string>* problems, LegacyRecords legacy) const {
  if (&state == &services_[0]) {
    *out = apex_records_;
    return;
  }
  out->clear();
  std::vector<EndpointSlice> slices;
  if (state.service.headless) slices = SlicesOf(state);
  std::vector<const EndpointSlice*> pointers;
  for (const EndpointSlice& slice : slices) pointers.push_back(&slice);
  CompileService(zones_, config_, state.service, pointers, out, problems, legacy);
}

void TableBuilder::Compile(const ServiceState& state, std::vector<Record>* out,
                           LegacyRecords legacy) {
  CompileInto(state, out, &problems_, legacy);
  ++stats_.services_compiled;
}

void TableBuilder::ChooseShardBits() {
  const size_t services = service_ids_.size();
  size_t shards = std::max<size_t>(1, services * kNamesPerServiceEstimate / kNamesPerShard);
  int bits = std::min<int>(kMaxShardBits, std::bit_width(shards - 1));
  shard_bits_ = bits;
  sized_for_services_ = std::max<size_t>(services, 1);
}

void TableBuilder::MarkDirty(uint32_t shard) {
  if (!dirty_[shard]) {
    dirty_[shard] = true;
    dirty_list_.push_back(shard);
  }
}

void TableBuilder::InsertParentName(uint64_t hash, std::string name) {
  auto [it, inserted] = parents_[ShardOf(hash)].try_emplace(hash);
  if (inserted) {
    it->second.name = std::move(name);
  } else if (it->second.name != name) {
    // Two names with one 64-bit hash: the second name loses its empty-non-terminal entry.
    problems_.push_back(absl::StrCat("parent name hash collision: ", it->second.name.size(),
                                     "-byte and ", name.size(), "-byte names share a hash"));
  }
}

void TableBuilder::AddParent(uint64_t hash) {
  const uint32_t s = ShardOf(hash);
  if (parents_[s][hash].refs++ == 0) MarkDirty(s);
}

void TableBuilder::DropParent(uint64_t hash) {
  const uint32_t s = ShardOf(hash);
  auto it = parents_[s].find(hash);
  if (it == parents_[s].end()) return;
  if (--it->second.refs == 0) {
    parents_[s].erase(it);
    MarkDirty(s);
  }
}

// Renders the one name `key` of Service `id` (records sorted by owner) into `w`.
void TableBuilder::RenderOwner(uint32_t id, const std::vector<Record>& records,
                               std::string_view key, uint64_t hash, ShardWork& w) const {
  std::vector<const Record*> group;
  for (const Record& r : records) {
    if (r.owner == key) group.push_back(&r);
  }
  // No records at `key`: the entry was one of the Service's own empty non-terminals.
  int zone = zones_.FindZone(key);
  if (zone < 0) return;
  uint32_t offset = RenderEntry(zones_, key, static_cast<uint8_t>(zone),
                                group.empty() ? EntryKind::kEmpty : EntryKind::kRecords, group,
                                &w.arena);
  w.items.push_back(ShardWork::Item{hash, offset, id});
}


size_t TableBuilder::BuildThreads(size_t services) const {
  if (services < kServicesPerBuildThread) return 1;
  const size_t cores = std::max(1u, std::thread::hardware_concurrency());
  return std::min({cores, kMaxBuildThreads, services / kServicesPerBuildThread});
}

void TableBuilder::CompileAndRender(uint32_t id, std::vector<Record>* records,
                                    std::vector<ShardWork>& work, int group_shift,
                                    NewParents* new_parents,
                                    std::vector<std::string>* problems) const {
  ServiceState& state = const_cast<ServiceState&>(services_[id]);  // this id's own state only
  CompileInto(state, records, problems, LegacyRecords::kMarkers);
  // One pass over the names (records are sorted by owner): shard, ancestors, entry.
  thread_local std::vector<const Record*> group;
  thread_local std::vector<std::string_view> owners;
  thread_local std::vector<std::string_view> ancestors;
  thread_local std::vector<std::pair<std::string_view, int>> local_ancestors;  // name, zone
  owners.clear();
  ancestors.clear();
  local_ancestors.clear();
  int zone = -1;
  size_t i = 0;
  while (i < records->size()) {
    const std::string& owner = (*records)[i].owner;
    group.clear();
    while (i < records->size() && (*records)[i].owner == owner) group.push_back(&(*records)[i++]);
    zone = zones_.FindZone(owner, zone);
    if (zone < 0) continue;
    owners.push_back(owner);
    const uint64_t hash = HashName(owner);
    const uint32_t s = ShardOf(hash);
    state.shards.push_back(s);
    // Ancestors come deepest first: the last one is one label below the apex.
    const size_t first = ancestors.size();
    AncestorsBelowApex(owner, zones_.zones[zone].apex.size(), &ancestors);
    const size_t found = ancestors.size() - first;
    const size_t deep = found >= kOwnAncestorDepth ? found - (kOwnAncestorDepth - 1) : 0;
    for (size_t k = 0; k < deep; ++k) local_ancestors.emplace_back(ancestors[first + k], zone);
    ancestors.erase(ancestors.begin() + first, ancestors.begin() + first + deep);
    ShardWork& w = work[s >> group_shift];
    w.active = true;
    if (w.arena.empty()) w.arena.assign(kArenaHeadPadding, '\0');  // offset 0 reads as empty
    const uint32_t offset =
        RenderEntry(zones_, owner, static_cast<uint8_t>(zone), EntryKind::kRecords, group, &w.arena);
    w.items.push_back(ShardWork::Item{hash, offset, id});
  }
  // The Service's own empty non-terminals (deep ancestors such as _tcp.<svc>.<ns>.svc.<zone>):
  // entries of its own, like its records, so they need no reference counts.
  std::sort(owners.begin(), owners.end());
  std::sort(local_ancestors.begin(), local_ancestors.end());
  local_ancestors.erase(std::unique(local_ancestors.begin(), local_ancestors.end()),
                        local_ancestors.end());
  for (const auto& [name, name_zone] : local_ancestors) {
    if (std::binary_search(owners.begin(), owners.end(), name)) continue;  // has records
    const uint64_t hash = HashName(name);
    const uint32_t s = ShardOf(hash);
    state.shards.push_back(s);
    ShardWork& w = work[s >> group_shift];
    w.active = true;
    if (w.arena.empty()) w.arena.assign(kArenaHeadPadding, '\0');
    std::vector<const Record*> none;
    const uint32_t offset = RenderEntry(zones_, name, static_cast<uint8_t>(name_zone),
                                        EntryKind::kEmpty, none, &w.arena);
    w.items.push_back(ShardWork::Item{hash, offset, id});
  }
  std::sort(state.shards.begin(), state.shards.end());
  state.shards.erase(std::unique(state.shards.begin(), state.shards.end()), state.shards.end());
  std::sort(ancestors.begin(), ancestors.end());
  ancestors.erase(std::unique(ancestors.begin(), ancestors.end()), ancestors.end());
  // Shallow ancestors (a namespace, svc.<zone>) are shared by many Services: reference counted.
  for (std::string_view a : ancestors) {
    // A name the Service has records at needs no reference from it: its records keep it.
    if (std::binary_search(owners.begin(), owners.end(), a)) continue;
    const uint64_t hash = HashName(a);
    state.parents.push_back(hash);
    // parents_ is only read here (no thread writes it while Services compile).
    if (!parents_[ShardOf(hash)].contains(hash) && new_parents->seen.insert(hash).second) {
      new_parents->names.emplace_back(hash, std::string(a));
    }
  }
}

void TableBuilder::AddReferences(uint32_t id) {
  const ServiceState& state = services_[id];
  for (uint32_t s : state.shards) {
    MarkDirty(s);
  }
  for (uint64_t hash : state.parents) AddParent(hash);
}

void TableBuilder::FinishShard(uint32_t s, ShardWork& w, std::vector<std::string>* problems) const {
  std::vector<Record> records;
  std::string arena = std::move(w.arena);
  if (arena.empty()) arena.assign(kArenaHeadPadding, '\0');
  const size_t names = w.items.size() + parents_[s].size();
  // At least a cache line of slots: the arena that follows them then starts on a line.
  size_t capacity =
      std::bit_ceil(std::max<size_t>(kMinSlots, names * kSlotNumerator / kSlotDenominator + 1));
  std::vector<uint64_t> slots(capacity, 0);
  std::vector<uint32_t> slot_item(capacity, 0);
  const uint64_t mask = capacity - 1;
  absl::flat_hash_map<uint32_t, std::vector<uint32_t>> merged;  // slot → item indices
  auto entry_at = [&](uint32_t offset) {
    return EntryView{reinterpret_cast<const uint8_t*>(arena.data()) + offset};
  };
  // A name's zone is a function of the name: two entries are of the same name when their zones
  // and stored keys are the same.
  auto same_name = [&](uint32_t a, uint32_t b) {
    return entry_at(a).header()->zone == entry_at(b).header()->zone &&
           entry_at(a).stored_key() == entry_at(b).stored_key();
  };
  auto entry_is = [&](uint32_t offset, std::string_view name) {
    const EntryView e = entry_at(offset);
    const std::string& apex = zones_.zones[e.header()->zone].apex;
    return e.stored_key().size() + apex.size() == name.size() && name.ends_with(apex) &&
           name.starts_with(e.stored_key());
  };
  // Inserts or finds; returns the slot index and whether it was already there.
  auto place = [&](uint64_t hash, uint32_t offset, uint32_t item) {
    size_t i = AnswerTable::HomeSlot(hash, mask);
    const uint32_t tag = AnswerTable::TagOf(hash);
    while (slots[i] != 0) {
      if (AnswerTable::SlotTag(slots[i]) == tag &&
          same_name(AnswerTable::SlotOffset(slots[i]), offset)) {
        return std::pair<size_t, bool>(i, true);
      }
      i = (i + 1) & mask;
    }
    slots[i] = AnswerTable::MakeSlot(tag, offset, 0);
    slot_item[i] = item;
    return std::pair<size_t, bool>(i, false);
  };
  for (uint32_t n = 0; n < w.items.size(); ++n) {
    const auto& item = w.items[n];
    auto [slot, existed] = place(item.hash, item.offset, n);
    if (existed) {
      auto& indices = merged[slot];
      if (indices.empty()) indices.push_back(slot_item[slot]);
      indices.push_back(n);
    }
  }
  // Names with several contributors: render again from all of them together.
  for (auto& [slot, indices] : merged) {
    const EntryView first = entry_at(static_cast<uint32_t>(slots[slot]));
    const std::string key = first.key(zones_.zones[first.header()->zone].apex);
    std::vector<Record> all;
    std::vector<uint32_t> ids;
    for (uint32_t index : indices) ids.push_back(w.items[index].id);
    std::sort(ids.begin(), ids.end());
    ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
    for (uint32_t id : ids) {
      CompileInto(services_[id], &records, problems, LegacyRecords::kMarkers);
      for (Record& r : records) {
        if (r.owner == key) all.push_back(std::move(r));
      }
    }
    std::vector<const Record*> group;
    for (const Record& r : all) group.push_back(&r);
    int zone = zones_.FindZone(key);
    // Every contributor may hold the name only as an empty non-terminal of its own.
    uint32_t offset = RenderEntry(zones_, key, static_cast<uint8_t>(zone),
                                  group.empty() ? EntryKind::kEmpty : EntryKind::kRecords, group,
                                  &arena);
    slots[slot] = AnswerTable::MakeSlot(AnswerTable::SlotTag(slots[slot]), offset, 0);
    for (uint32_t index : indices) w.items[index].offset = offset;
  }
  size_t distinct = 0;
  for (uint64_t v : slots) distinct += v != 0;
  // Leave w.items naming the entries the slots point to (the next build copies them from here).
  // Parents that have no records of their own.
  for (const auto& [hash, parent] : parents_[s]) {
    const std::string& name = parent.name;
    int zone = zones_.FindZone(name);
    if (zone < 0) continue;
    size_t i = AnswerTable::HomeSlot(hash, mask);
    const uint32_t tag = AnswerTable::TagOf(hash);
    bool found = false;
    while (slots[i] != 0) {
      if (AnswerTable::SlotTag(slots[i]) == tag &&
          entry_is(AnswerTable::SlotOffset(slots[i]), name)) {
        found = true;
        break;
      }
      i = (i + 1) & mask;
    }
    if (found) continue;
    std::vector<const Record*> none;
    uint32_t offset = RenderEntry(zones_, name, static_cast<uint8_t>(zone), EntryKind::kEmpty, none,
                                  &arena);
    slots[i] = AnswerTable::MakeSlot(tag, offset, 0);
    ++distinct;
  }
  const uint32_t names_in_shard = static_cast<uint32_t>(distinct);
  // The entries laid out anew with their hot bytes within a cache line (arena_packer.h); the
  // renderings that merges superseded are left behind.
  std::vector<uint32_t> entries;
  entries.reserve(distinct);
  for (uint64_t v : slots) {
    if (v != 0) entries.push_back(AnswerTable::SlotOffset(v));
  }
  std::vector<uint32_t> moved;
  arena = PackArena(arena, entries, kArenaHeadPadding, &moved);
  size_t k = 0;  // entries[] were taken from the slots in this order
  for (uint64_t& v : slots) {
    if (v == 0) continue;
    const uint32_t offset = moved[k++];
    // The arena starts on a line (Shard::Make), so offsets count lines as addresses will.
    const size_t hot = EntryHotBytes(reinterpret_cast<const uint8_t*>(arena.data()) + offset);
    const size_t more = (offset % kCacheLine + hot - 1) / kCacheLine;
    const auto hint = static_cast<unsigned>(std::min<size_t>(more, AnswerTable::kMaxMoreLines));
    v = AnswerTable::MakeSlot(AnswerTable::SlotTag(v), offset, hint);
  }
  // Items name entries by offset, several items one entry.
  absl::flat_hash_map<uint32_t, uint32_t> new_offset;
  new_offset.reserve(entries.size());
  for (size_t e = 0; e < entries.size(); ++e) new_offset.emplace(entries[e], moved[e]);
  for (ShardWork::Item& item : w.items) item.offset = new_offset.at(item.offset);
  arena.append(kArenaTailPadding, '\0');  // NameEquals' whole vectors
  w.slots = std::move(slots);
  w.arena = std::move(arena);
  w.names = names_in_shard;
}

std::shared_ptr<const AnswerTable> TableBuilder::Build() {
  stats_ = BuildStats{};
  const size_t present = service_ids_.size();
  bool full = !current_;
  if (auto_shard_bits_ && (full || present > 4 * sized_for_services_)) {
    int before = shard_bits_;
    ChooseShardBits();
    full = full || shard_bits_ != before;
  }
  if (!full && changed_.empty()) return current_;

  const size_t shard_count = size_t{1} << shard_bits_;
  std::vector<ShardWork> work(shard_count);
  dirty_.assign(shard_count, false);
  dirty_list_.clear();
  if (full) {
    parents_.assign(shard_count, {});
    for (auto& state : services_) {
      state.shards.clear();
      state.parents.clear();
    }
    for (uint32_t s = 0; s < shard_count; ++s) MarkDirty(s);
  }

  // A: changed Services (all of them, and the apexes, in a full build).
  std::vector<uint32_t> changed_ids;
  if (full) {
    changed_ids.push_back(0);
    for (auto& [key, id] : service_ids_) changed_ids.push_back(id);
  } else {
    for (const std::string& key : changed_) changed_ids.push_back(service_ids_.at(key));
  }
  std::sort(changed_ids.begin(), changed_ids.end());
  changed_.clear();
  absl::flat_hash_set<uint32_t> changed_set(changed_ids.begin(), changed_ids.end());

  // Old references first, for every changed Service: the shards its names were in are dirty
  // whatever it becomes.
  for (uint32_t id : changed_ids) {
    ServiceState& state = services_[id];
    for (uint32_t s : state.shards) MarkDirty(s);
    for (uint64_t hash : state.parents) DropParent(hash);
    state.shards.clear();
    state.parents.clear();
  }
  // Deleted Services leave; the rest are compiled and rendered, on several threads in a full
  // build (each thread renders into shard arenas of its own, joined afterwards).
  std::vector<uint32_t> live_ids;
  live_ids.reserve(changed_ids.size());
  for (uint32_t id : changed_ids) {
    ServiceState& state = services_[id];
    if (id != 0 && state.service.name.empty()) {
      service_ids_.erase(state.key);
      free_ids_.push_back(id);
      state = ServiceState{};
    } else {
      live_ids.push_back(id);
    }
  }
  const size_t threads = full ? BuildThreads(live_ids.size()) : 1;
  // Parallel builds: [thread][group of shards], an arena per group large enough to be freed
  // back to the allocator whole once its shards are made.
  std::vector<std::vector<ShardWork>> thread_work;
  const int group_shift = std::min(shard_bits_, kShardsPerGroupBits);
  if (threads <= 1) {
    std::vector<Record> records;
    NewParents new_parents;
    for (uint32_t id : live_ids) {
      CompileAndRender(id, &records, work, /*group_shift=*/0, &new_parents, &problems_);
      for (auto& [hash, name] : new_parents.names) InsertParentName(hash, std::move(name));
      new_parents.names.clear();
      AddReferences(id);
    }
  } else {
    thread_work.resize(threads);
    std::vector<std::vector<std::string>> thread_problems(threads);
    std::vector<NewParents> thread_parents(threads);
    RunOnThreads(threads, [&](size_t t) {
      thread_work[t].resize(shard_count >> group_shift);
      std::vector<Record> records;
      for (size_t i = t; i < live_ids.size(); i += threads) {
        CompileAndRender(live_ids[i], &records, thread_work[t], group_shift, &thread_parents[t],
                         &thread_problems[t]);
      }
      thread_parents[t].seen = {};
    });
    // Parent names, then references: thread t owns the shards s with s % threads == t. Every
    // shard is dirty in a full build already.
    RunOnThreads(threads, [&](size_t t) {
      for (NewParents& found : thread_parents) {
        for (auto& [hash, name] : found.names) {
          const uint32_t s = ShardOf(hash);
          if (s % threads != t) continue;
          auto [it, inserted] = parents_[s].try_emplace(hash);
          if (inserted) it->second.name = name;
        }
      }
      for (uint32_t id : live_ids) {
        for (uint64_t hash : services_[id].parents) {
          const uint32_t s = ShardOf(hash);
          if (s % threads == t) ++parents_[s][hash].refs;
        }
      }
    });
    thread_parents.clear();
    for (auto& p : thread_problems) problems_.insert(problems_.end(), p.begin(), p.end());
    // The threads' pieces of each shard are joined when the shard is finished, in parallel.
  }

  stats_.services_compiled +=
      std::count_if(live_ids.begin(), live_ids.end(), [](uint32_t id) { return id != 0; });

  // B: what the dirty shards keep. An entry whose contributors all stayed the same is copied
  // from the previous shard as it is; a name shared with a changed Service is rendered again from
  // its unchanged contributors here and merged in C.
  for (uint32_t s : dirty_list_) work[s].active = true;
  if (!full) {
    absl::flat_hash_map<uint32_t, std::vector<Record>> compiled;  // unchanged ids, this build
    for (uint32_t s : dirty_list_) {
      std::vector<ShardWork::Item>& old_items = shard_items_[s];
      if (old_items.empty()) continue;
      const uint8_t* old_arena = current_->shard_ref(s).arena();
      ShardWork& w = work[s];
      if (w.arena.empty()) w.arena.assign(kArenaHeadPadding, '\0');
      size_t i = 0;
      while (i < old_items.size()) {
        size_t j = i;
        bool any_changed = false;
        while (j < old_items.size() && old_items[j].offset == old_items[i].offset) {
          any_changed |= changed_set.contains(old_items[j].id);
          ++j;
        }
        const uint8_t* entry = old_arena + old_items[i].offset;
        if (!any_changed) {
          while (w.arena.size() % 4 != 0) w.arena.push_back('\0');
          const uint32_t offset = static_cast<uint32_t>(w.arena.size());
          w.arena.append(reinterpret_cast<const char*>(entry), EntrySize(entry));
          for (size_t k = i; k < j; ++k) {
            w.items.push_back(ShardWork::Item{old_items[k].hash, offset, old_items[k].id});
          }
        } else {
          const EntryView view{entry};
          const std::string key = view.key(zones_.zones[view.header()->zone].apex);
          for (size_t k = i; k < j; ++k) {
            const uint32_t id = old_items[k].id;
            if (changed_set.contains(id)) continue;
            auto it = compiled.find(id);
            if (it == compiled.end()) {
              it = compiled.emplace(id, std::vector<Record>()).first;
              Compile(services_[id], &it->second);
            }
            RenderOwner(id, it->second, key, old_items[k].hash, w);
          }
        }
        i = j;
      }
    }
  }

  // C: finish the dirty shards.
  std::vector<std::shared_ptr<const Shard>> shards(shard_count);
  if (!full) {
    for (size_t s = 0; s < shard_count; ++s) shards[s] = current_->shard(s);
  }
  // Each shard's block is made as soon as the shard is finished, and its working copy freed, so
  // a full build never holds a second copy of the whole table. (The programs allocate with
  // jemalloc, whose arenas are alike on every thread; with glibc, blocks made on worker threads
  // would land in arenas that transparent huge pages do not back.)
  auto make = [&](uint32_t s) {
    shards[s] = Shard::Make(work[s].slots, work[s].arena, work[s].names);
    std::vector<uint64_t>().swap(work[s].slots);
    std::string().swap(work[s].arena);
  };
  if (full && threads > 1) {
    std::vector<std::vector<std::string>> thread_problems(threads);
    // Every shard is dirty in a full build.
    const size_t groups = shard_count >> group_shift;
    RunOnThreads(threads, [&](size_t t) {
      for (size_t g = t; g < groups; g += threads) {
        SplitGroup(g, group_shift, thread_work, work);
        for (size_t k = 0; k < (size_t{1} << group_shift); ++k) {
          const uint32_t s = static_cast<uint32_t>((g << group_shift) + k);
          FinishShard(s, work[s], &thread_problems[t]);
          make(s);
        }
      }
    });
    for (auto& p : thread_problems) problems_.insert(problems_.end(), p.begin(), p.end());
  } else {
    for (uint32_t s : dirty_list_) {
      FinishShard(s, work[s], &problems_);
      make(s);
    }
  }
  if (full) shard_items_.assign(shard_count, {});
  for (uint32_t s : dirty_list_) {
    auto by_offset = [](const ShardWork::Item& a, const ShardWork::Item& b) {
      return a.offset < b.offset;
    };
    auto& items = work[s].items;
    if (!std::is_sorted(items.begin(), items.end(), by_offset)) {
      std::sort(items.begin(), items.end(), by_offset);
    }
    shard_items_[s] = std::move(work[s].items);
  }
  stats_.shards_rebuilt = dirty_list_.size();
  dirty_list_.clear();
  current_ = std::make_shared<const AnswerTable>(shard_bits_, std::move(shards),
                                                 MakeZoneAnswerInfo(zones_, config_), ++generation_);
  return current_;
}

std::vector<Record> TableBuilder::AllRecords() {
  std::vector<Record> all = apex_records_;
  std::vector<Record> records;
  for (auto& [key, id] : service_ids_) {
    if (services_[id].service.name.empty()) continue;
    CompileInto(services_[id], &records, &problems_, LegacyRecords::kFull);
    all.insert(all.end(), records.begin(), records.end());
  }
  std::sort(all.begin(), all.end());
  all.erase(std::unique(all.begin(), all.end()), all.end());
  return all;
}

}  // namespace clusterdns::records

