// Random query IDs and the in-flight map.
#include "controlplane/forward/inflight_table.h"

#include <sys/random.h>

#include <cerrno>
#include <memory>

namespace clusterdns::controlplane {

uint16_t RandomIdSource::Next() {
  constexpr size_t kCount = sizeof(buffer_) / sizeof(buffer_[0]);
  if (next_ == kCount) {
    size_t filled = 0;
    // getrandom with no flags only blocks before the kernel pool is first seeded (early boot),
    // and returns at most 256 bytes short only on a signal: loop until full.
    while (filled < sizeof(buffer_)) {
      const ssize_t n = ::getrandom(reinterpret_cast<uint8_t*>(buffer_) + filled,
                                    sizeof(buffer_) - filled, 0);
      if (n < 0) {
        if (errno == EINTR) continue;
        break;  // ENOSYS: Start() refused to run (Available() is false), so not reached
      }
      filled += static_cast<size_t>(n);
    }
    next_ = 0;
  }
  return buffer_[next_++];
}

bool RandomIdSource::Available() {
  uint8_t probe[2];
  ssize_t n;
  do {
    n = ::getrandom(probe, sizeof(probe), 0);
  } while (n < 0 && errno == EINTR);
  return n == static_cast<ssize_t>(sizeof(probe));
}

InflightTable::InflightTable()
    : source_([random = std::make_shared<RandomIdSource>()] { return random->Next(); }) {}

InflightTable::InflightTable(IdSource source) : source_(std::move(source)) {}

std::optional<uint16_t> InflightTable::Add(uint32_t upstream, uint64_t query_serial) {
  for (int i = 0; i < kMaxIdDraws; ++i) {
    const uint16_t id = source_();
    if (map_.try_emplace(Key(upstream, id), query_serial).second) return id;
  }
  return std::nullopt;
}

std::optional<uint64_t> InflightTable::Find(uint32_t upstream, uint16_t id) const {
  auto it = map_.find(Key(upstream, id));
  if (it == map_.end()) return std::nullopt;
  return it->second;
}

void InflightTable::Remove(uint32_t upstream, uint16_t id) { map_.erase(Key(upstream, id)); }

}  // namespace clusterdns::controlplane
