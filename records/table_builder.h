// TableBuilder: the cluster's Services and EndpointSlices, kept in step with their source, and
// compiled into AnswerTables. Each Build() rebuilds only the shards that changes since the last
// Build() touched and shares every other shard with the previous table, so a one-Service change
// costs the same at 100 or 100k Services.
//
// Single-threaded: owned by the control plane thread. The tables it returns are immutable and may
// be read by any thread (publish them with TablePublisher).
//
//   auto builder = TableBuilder::Create(config);           // StatusOr
//   (*builder)->UpsertService(service);
//   (*builder)->UpsertSlice(slice);
//   std::shared_ptr<const AnswerTable> table = (*builder)->Build();
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "records/answer_table.h"
#include "records/compiler.h"
#include "records/model.h"
#include "records/record.h"
#include "records/zone_config.h"

namespace clusterdns::records {

struct BuildStats {
  size_t shards_rebuilt = 0;
  size_t services_compiled = 0;
};

// Which source delivered an object, in which of its listings: the controller's bookkeeping,
// kept by TableBuilder beside each object instead of in sets of keys of the controller's own.
struct ObjectOrigin {
  uint16_t source = 0;
  uint32_t listing = 0;
};

class TableBuilder {
 public:
  // shard_bits < 0: chosen at the first Build from the number of Services, and grown (one full
  // rebuild) when the cluster outgrows it.
  static absl::StatusOr<std::unique_ptr<TableBuilder>> Create(const ZoneConfig& config,
                                                              int shard_bits = -1);

  using Origin = ObjectOrigin;

  void UpsertService(Service service, Origin origin = {});
  void DeleteService(std::string_view ns, std::string_view name);
  void UpsertSlice(EndpointSlice slice, Origin origin = {});
  void DeleteSlice(std::string_view ns, std::string_view name);
  // Deletes what `listing.source` last delivered before its listing `listing.listing`: what a
  // completed listing no longer holds. Objects another source delivered since are not its.
  // Returns how many were deleted.
  size_t DeleteServicesNotIn(Origin listing);
  size_t DeleteSlicesNotIn(Origin listing);
  // Drops every object (before a relist is applied as a whole).
  void Clear();

  // A new table with every change so far. Cheap when nothing changed (returns the last table).
  std::shared_ptr<const AnswerTable> Build();

  // Lines naming objects that could not be compiled since the last call.
  std::vector<std::string> TakeProblems() { return std::move(problems_); }
  const BuildStats& last_build_stats() const { return stats_; }
  const ServedZones& zones() const { return zones_; }
  const ZoneConfig& config() const { return config_; }
  // Services known, counting deletions that the next Build() has yet to apply.
  size_t service_count() const { return service_ids_.size(); }

  // Every record of the current objects (for clusterdns-zone and tests), sorted.
  std::vector<Record> AllRecords();

 private:
  TableBuilder(ZoneConfig config, ServedZones zones, int shard_bits);

  struct ServiceState {
    std::string key;  // "ns/name"
    Service service;
    Origin origin;
    std::vector<uint32_t> shards;   // shards its records are in, as of the last Build
    std::vector<uint64_t> parents;  // hashes of the parent names it holds a reference on
  };
  // A parent name (an ancestor of some Service's names below its zone apex), kept once per shard
  // with the number of Services that reference it; Services keep only its hash.
  struct Parent {
    std::string name;
    uint32_t refs = 0;
  };
  // Parent names that CompileAndRender found and parents_ did not hold yet, per thread; deduped.
  struct NewParents {
    std::vector<std::pair<uint64_t, std::string>> names;
    absl::flat_hash_set<uint64_t> seen;
  };
  struct ShardWork;  // a shard being rebuilt (table_builder.cc)

  void MarkChanged(const std::string& service_key);
  // The Service's EndpointSlices, unpacked, by name.
  std::vector<EndpointSlice> SlicesOf(const ServiceState& state) const;
  // The table wants legacy names as alias markers; AllRecords wants them in full.
  void Compile(const ServiceState& state, std::vector<Record>* out,
               LegacyRecords legacy = LegacyRecords::kMarkers);
  // Thread-safe for distinct states: writes only `out` and `problems`.
  void CompileInto(const ServiceState& state, std::vector<Record>* out,
                   std::vector<std::string>* problems, LegacyRecords legacy) const;
  // Compiles Service `id`, records its shards and parent names in its own state, and renders
  // its names into `work`. Touches no state shared with other ids: full builds run it on
  // several threads.
  // `work` is indexed by shard >> group_shift (0: one ShardWork per shard).
  void CompileAndRender(uint32_t id, std::vector<Record>* records, std::vector<ShardWork>& work,
                        int group_shift, NewParents* new_parents,
                        std::vector<std::string>* problems) const;
  // Marks Service `id`'s shards dirty and adds its parent names' references (from its state).
  void AddReferences(uint32_t id);
  size_t BuildThreads(size_t services) const;
  void RenderOwner(uint32_t id, const std::vector<Record>& records, std::string_view key,
                   uint64_t hash, ShardWork& w) const;
  // Slots, merged names and parent entries of dirty shard `s`, left in `w` (slots, arena, names).
  void FinishShard(uint32_t s, ShardWork& w, std::vector<std::string>* problems) const;
  void SplitGroup(size_t g, int group_shift, std::vector<std::vector<ShardWork>>& pieces,
                  std::vector<ShardWork>& work) const;
  void ChooseShardBits();
  uint32_t ShardOf(uint64_t hash) const {
    return shard_bits_ == 0 ? 0 : static_cast<uint32_t>(hash >> (64 - shard_bits_));
  }
  void MarkDirty(uint32_t shard);
  // Parent reference counting by name hash. InsertParentName first makes sure the entry has its
  // name (names are learnt once, from the compile that first reaches them).
  void InsertParentName(uint64_t hash, std::string name);
  void AddParent(uint64_t hash);
  void DropParent(uint64_t hash);

  ZoneConfig config_;
  ServedZones zones_;
  bool auto_shard_bits_;
  int shard_bits_;
  size_t sized_for_services_ = 0;

  std::vector<ServiceState> services_;  // by id; id 0 is the zone apexes' records
  std::vector<uint32_t> free_ids_;
  absl::flat_hash_map<std::string, uint32_t> service_ids_;
  // An EndpointSlice between builds: its owning Service's name and its DNS content, packed
  // (packed_slice.h): a few dozen bytes instead of ~500 in vectors and strings.
  struct StoredSlice {
    std::string service_name;
    std::string packed;
    Origin origin;
  };
  absl::flat_hash_map<std::string, StoredSlice> slices_;  // "ns/slice"
  absl::flat_hash_map<std::string, std::vector<std::string>> slices_by_service_;
  absl::flat_hash_set<std::string> changed_;  // service keys changed since the last Build

  std::vector<absl::flat_hash_map<uint64_t, Parent>> parents_;  // per shard: name hash → parent
  // Per shard, as of the last Build: each entry that came from Services (not parent entries),
  // once per contributor, by offset. A rebuild copies the entries of unchanged contributors.
  struct ShardItem {
    uint64_t hash;
    uint32_t offset;
    uint32_t id;
  };
  std::vector<std::vector<ShardItem>> shard_items_;
  std::vector<Record> apex_records_;
  std::vector<uint32_t> dirty_list_;
  std::vector<bool> dirty_;

  std::shared_ptr<const AnswerTable> current_;
  uint64_t generation_ = 0;
  std::vector<std::string> problems_;
  BuildStats stats_;
};

}  // namespace clusterdns::records
