// Publishing AnswerTables to readers and reclaiming old ones after a grace period (DESIGN.md
// "Publishing tables"). The dataplane implements GracePeriod with rte_rcu_qsbr; EpochGracePeriod
// here is the plain implementation for kernel-socket threads and tests.
//
// Readers (any thread, hot path):
//   const AnswerTable* table = publisher.Current();   // once per burst
//   ... answer the burst ...
//   grace.Quiescent(reader_id);                        // once per loop, also when idle
// Writer (one control-plane thread):
//   publisher.Publish(builder->Build());               // returns after the old table is unused
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

#include "records/answer_table.h"

namespace clusterdns::records {

class GracePeriod {
 public:
  virtual ~GracePeriod() = default;
  // Blocks until every registered reader has passed a quiescent state that began after the
  // call. Writer side only; never called on the data path.
  virtual void Synchronize() = 0;
};

// For a process whose only reader is the writer's own thread.
class NoReadersGracePeriod final : public GracePeriod {
 public:
  void Synchronize() override {}
};

// Epoch-based grace periods for ordinary threads. Each reader reports the global epoch it has
// seen; Synchronize bumps the epoch and waits until every online reader has reported it.
class EpochGracePeriod final : public GracePeriod {
 public:
  explicit EpochGracePeriod(size_t max_readers);
  // Reader ids are 0 .. max_readers-1, chosen by the caller; a reader starts offline.
  void Online(size_t reader);
  void Offline(size_t reader);  // a blocked reader (waiting in poll) must be offline
  void Quiescent(size_t reader) noexcept {
    // release: every read of the old table by this reader happens before the writer sees the
    // epoch and frees it.
    slots_[reader].seen.store(epoch_.load(std::memory_order_acquire), std::memory_order_release);
  }
  void Synchronize() override;

 private:
  struct alignas(64) Slot {
    std::atomic<uint64_t> seen{0};
    std::atomic<bool> online{false};
  };
  std::atomic<uint64_t> epoch_{1};
  std::unique_ptr<Slot[]> slots_;
  size_t max_readers_;
};

// Several kinds of readers at once (DPDK workers under rte_rcu_qsbr, kernel-socket threads under
// EpochGracePeriod): a grace period has passed when it has passed for every kind.
class CombinedGracePeriod final : public GracePeriod {
 public:
  explicit CombinedGracePeriod(std::vector<GracePeriod*> parts) : parts_(std::move(parts)) {}
  void Synchronize() override {
    for (GracePeriod* part : parts_) part->Synchronize();
  }

 private:
  std::vector<GracePeriod*> parts_;
};

class TablePublisher {
 public:
  explicit TablePublisher(GracePeriod* grace) : grace_(grace) {}

  // acquire: pairs with the release store in Publish, so a reader sees the table fully built.
  const AnswerTable* Current() const noexcept { return current_.load(std::memory_order_acquire); }

  // Makes `table` current, waits for the grace period, then drops the previous table (and with
  // it every shard the new table does not share). One writer thread.
  void Publish(std::shared_ptr<const AnswerTable> table);

  std::shared_ptr<const AnswerTable> current_shared() const;

 private:
  GracePeriod* grace_;
  std::atomic<const AnswerTable*> current_{nullptr};
  mutable std::mutex mu_;  // guards owned_ for current_shared(); never taken by readers
  std::shared_ptr<const AnswerTable> owned_;
};

}  // namespace clusterdns::records
