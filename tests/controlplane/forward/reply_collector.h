// ReplyCollector: receives the forwarder's reply callbacks for a test, with the time and thread
// of each, and lets the test wait for them (with a timeout, so a missing reply fails the test
// instead of hanging it).
//
//   ReplyCollector replies;
//   forwarder.Submit(replies.Request(BuildQuery("example.com", kTypeA)));
//   ASSERT_TRUE(replies.WaitFor(1));
//   DecodedMessage m = DecodeOrFail(replies.at(0).bytes);
//
// Thread-safe: callbacks arrive on the forwarder thread while the test reads.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <span>
#include <thread>
#include <vector>

#include "controlplane/forward/forwarder.h"
#include "tests/support/dns_message.h"

namespace clusterdns::testing {

class ReplyCollector {
 public:
  using Clock = std::chrono::steady_clock;
  struct Entry {
    size_t tag = 0;  // the Request's tag
    std::vector<uint8_t> bytes;
    Clock::time_point at;
    std::thread::id thread;
  };

  // A request whose reply lands here with `tag`.
  controlplane::ForwardRequest Request(std::vector<uint8_t> query, size_t tag = 0,
                                       records::Transport transport = records::Transport::kUdp) {
    controlplane::ForwardRequest r;
    r.query = std::move(query);
    r.transport = transport;
    r.reply = [this, tag](std::span<const uint8_t> reply) {
      std::lock_guard<std::mutex> lock(mutex_);
      entries_.push_back({tag, std::vector<uint8_t>(reply.begin(), reply.end()), Clock::now(),
                          std::this_thread::get_id()});
      changed_.notify_all();
    };
    return r;
  }

  // True once `count` replies have arrived; false after `timeout_ms`.
  bool WaitFor(size_t count, int timeout_ms = 2000) {
    std::unique_lock<std::mutex> lock(mutex_);
    return changed_.wait_for(lock, std::chrono::milliseconds(timeout_ms),
                             [&] { return entries_.size() >= count; });
  }

  size_t size() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return entries_.size();
  }
  Entry at(size_t i) const {
    std::lock_guard<std::mutex> lock(mutex_);
    return entries_.at(i);
  }
  std::vector<Entry> entries() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return entries_;
  }

 private:
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<Entry> entries_;
};

// Decodes with the strict decoder of tests/support; fails the test if it is malformed.
inline DecodedMessage DecodeOrFail(const std::vector<uint8_t>& bytes) {
  auto m = DecodeMessage(bytes);
  EXPECT_TRUE(m.ok()) << m.status();
  return m.ok() ? *m : DecodedMessage{};
}

// The answer section as "name ttl IN TYPE rdata" lines.
inline std::vector<std::string> Answers(const DecodedMessage& m) {
  std::vector<std::string> out;
  for (const DecodedRecord& r : m.answer) out.push_back(RecordToText(r));
  return out;
}

inline int64_t MillisBetween(ReplyCollector::Clock::time_point a,
                             ReplyCollector::Clock::time_point b) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(b - a).count();
}

// Polls `condition` every millisecond until it holds or `timeout_ms` passes.
template <typename F>
bool Eventually(F condition, int timeout_ms = 2000) {
  for (int waited = 0; waited <= timeout_ms; ++waited) {
    if (condition()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return condition();
}

}  // namespace clusterdns::testing
