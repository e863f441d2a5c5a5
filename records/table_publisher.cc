// Table publication and the epoch grace period.
#include "records/table_publisher.h"

#include <thread>

namespace clusterdns::records {

EpochGracePeriod::EpochGracePeriod(size_t max_readers)
    : slots_(new Slot[max_readers]), max_readers_(max_readers) {}

void EpochGracePeriod::Online(size_t reader) {
  slots_[reader].seen.store(epoch_.load(std::memory_order_acquire), std::memory_order_release);
  // seq_cst store, then a seq_cst fence before the reader's next load of the table pointer: the
  // store-buffering pattern against Synchronize (store epoch / load online). Either the writer
  // sees this reader online, or this reader's table load sees the writer's new pointer.
  slots_[reader].online.store(true, std::memory_order_seq_cst);
  std::atomic_thread_fence(std::memory_order_seq_cst);
}

void EpochGracePeriod::Offline(size_t reader) {
  // release: the reader's last table accesses happen before it is seen offline.
  slots_[reader].online.store(false, std::memory_order_release);
}

void EpochGracePeriod::Synchronize() {
  // seq_cst: orders the new epoch after the caller's table pointer store.
  const uint64_t target = epoch_.fetch_add(1, std::memory_order_seq_cst) + 1;
  // seq_cst fence: pairs with the fence in Online (see there) before reading `online`.
  std::atomic_thread_fence(std::memory_order_seq_cst);
  for (size_t i = 0; i < max_readers_; ++i) {
    // acquire on both loads: pairs with the readers' release stores.
    while (slots_[i].online.load(std::memory_order_acquire) &&
           slots_[i].seen.load(std::memory_order_acquire) < target) {
      std::this_thread::yield();
    }
  }
}

void TablePublisher::Publish(std::shared_ptr<const AnswerTable> table) {
  std::shared_ptr<const AnswerTable> old;
  {
    std::lock_guard<std::mutex> lock(mu_);
    old = owned_;
    owned_ = table;
  }
  // release: the table's contents are visible before its pointer.
  current_.store(table.get(), std::memory_order_release);
  if (old && old != table) grace_->Synchronize();
  // `old` is released here, after no reader can still hold it.
}

std::shared_ptr<const AnswerTable> TablePublisher::current_shared() const {
  std::lock_guard<std::mutex> lock(mu_);
  return owned_;
}

}  // namespace clusterdns::records
