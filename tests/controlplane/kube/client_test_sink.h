// Test doubles for the kube client's tests: a SourceSink that behaves like the controller's
// table (a listing replaces the table only when it completes) and records every call, and a log
// capture for InformerOptions::log.
//
// Thread-safe: the informer thread writes, the test thread reads and waits (absl::Mutex).
#pragma once

#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "controlplane/source_sink.h"
#include "records/model.h"

namespace clusterdns::testing {

class RecordingSink : public controlplane::SourceSink {
 public:
  using ObjectKind = controlplane::ObjectKind;

  void OnListStart(ObjectKind kind) override {
    absl::MutexLock lock(&mu_);
    CheckThread();
    calls_.push_back(absl::StrCat("start ", KindName(kind)));
    in_list_ = true;
    listing_.clear();
    ++list_starts_;
  }
  void OnService(records::Service service) override {
    absl::MutexLock lock(&mu_);
    CheckThread();
    const std::string key = absl::StrCat(service.ns, "/", service.name);
    calls_.push_back(absl::StrCat("service ", key, " rv=", service.resource_version));
    std::string value = service.resource_version;
    for (const auto& ip : service.cluster_ips) absl::StrAppend(&value, " ", ip.ToString());
    (in_list_ ? listing_ : table_)[key] = value;
  }
  void OnSlice(records::EndpointSlice slice) override {
    absl::MutexLock lock(&mu_);
    CheckThread();
    const std::string key = absl::StrCat(slice.ns, "/", slice.name);
    calls_.push_back(absl::StrCat("slice ", key, " rv=", slice.resource_version));
    (in_list_ ? listing_ : table_)[key] =
        absl::StrCat(slice.resource_version, " ", slice.endpoints.size(), " endpoints");
  }
  void OnDelete(ObjectKind kind, std::string ns, std::string name) override {
    absl::MutexLock lock(&mu_);
    CheckThread();
    const std::string key = absl::StrCat(ns, "/", name);
    calls_.push_back(absl::StrCat("delete ", KindName(kind), " ", key));
    (in_list_ ? listing_ : table_).erase(key);
  }
  void OnListEnd(ObjectKind kind) override {
    absl::MutexLock lock(&mu_);
    CheckThread();
    calls_.push_back(absl::StrCat("end ", KindName(kind)));
    table_ = std::move(listing_);
    listing_.clear();
    in_list_ = false;
    ++list_ends_;
  }
  void OnListAbort(ObjectKind kind) override {
    absl::MutexLock lock(&mu_);
    CheckThread();
    calls_.push_back(absl::StrCat("abort ", KindName(kind)));
    // What the broken listing delivered stands; nothing is deleted.
    for (auto& [key, value] : listing_) table_[key] = std::move(value);
    listing_.clear();
    in_list_ = false;
  }

  // What the controller would serve: the last complete listing plus the changes since.
  std::map<std::string, std::string> table() const {
    absl::MutexLock lock(&mu_);
    return table_;
  }
  bool Has(const std::string& key) const {
    absl::MutexLock lock(&mu_);
    return table_.count(key) != 0;
  }
  std::vector<std::string> calls() const {
    absl::MutexLock lock(&mu_);
    return calls_;
  }
  int list_starts() const {
    absl::MutexLock lock(&mu_);
    return list_starts_;
  }
  int list_ends() const {
    absl::MutexLock lock(&mu_);
    return list_ends_;
  }
  // More than one thread called this sink (SourceSink allows one).
  bool saw_two_threads() const {
    absl::MutexLock lock(&mu_);
    return saw_two_threads_;
  }

  // Waits until pred(table) holds (true) or the timeout passes (false).
  bool WaitForTable(const std::function<bool(const std::map<std::string, std::string>&)>& pred,
                    absl::Duration timeout = absl::Seconds(3)) const {
    absl::MutexLock lock(&mu_);
    auto ready = [&]() { return pred(table_); };
    return mu_.AwaitWithTimeout(absl::Condition(&ready), timeout);
  }
  bool WaitForKey(const std::string& key, absl::Duration timeout = absl::Seconds(3)) const {
    return WaitForTable([&](const auto& table) { return table.count(key) != 0; }, timeout);
  }
  bool WaitForValue(const std::string& key, std::string_view value_prefix,
                    absl::Duration timeout = absl::Seconds(3)) const {
    return WaitForTable(
        [&](const auto& table) {
          auto it = table.find(key);
          return it != table.end() &&
                 absl::StartsWith(it->second,
                                  absl::string_view(value_prefix.data(), value_prefix.size()));
        },
        timeout);
  }
  bool WaitForNoKey(const std::string& key, absl::Duration timeout = absl::Seconds(3)) const {
    return WaitForTable([&](const auto& table) { return table.count(key) == 0; }, timeout);
  }
  bool WaitForListEnds(int n, absl::Duration timeout = absl::Seconds(3)) const {
    absl::MutexLock lock(&mu_);
    auto ready = [&]() { return list_ends_ >= n; };
    return mu_.AwaitWithTimeout(absl::Condition(&ready), timeout);
  }

 private:
  static const char* KindName(ObjectKind kind) {
    return kind == ObjectKind::kService ? "services" : "endpointslices";
  }
  void CheckThread() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    // The informer thread of one run; a new Start (another test) makes another sink.
    if (thread_ == std::thread::id()) thread_ = std::this_thread::get_id();
    if (thread_ != std::this_thread::get_id()) saw_two_threads_ = true;
  }

  mutable absl::Mutex mu_;
  std::map<std::string, std::string> table_ ABSL_GUARDED_BY(mu_);    // key → "rv ips..."
  std::map<std::string, std::string> listing_ ABSL_GUARDED_BY(mu_);  // during a listing
  bool in_list_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<std::string> calls_ ABSL_GUARDED_BY(mu_);
  int list_starts_ ABSL_GUARDED_BY(mu_) = 0;
  int list_ends_ ABSL_GUARDED_BY(mu_) = 0;
  std::thread::id thread_ ABSL_GUARDED_BY(mu_);
  bool saw_two_threads_ ABSL_GUARDED_BY(mu_) = false;
};

// Collects InformerOptions::log lines.
class LogCapture {
 public:
  std::function<void(std::string_view)> Sink() {
    return [this](std::string_view line) {
      absl::MutexLock lock(&mu_);
      lines_.emplace_back(line);
    };
  }
  std::vector<std::string> lines() const {
    absl::MutexLock lock(&mu_);
    return lines_;
  }
  bool Contains(std::string_view text) const {
    absl::MutexLock lock(&mu_);
    for (const std::string& line : lines_) {
      if (absl::StrContains(line, absl::string_view(text.data(), text.size()))) return true;
    }
    return false;
  }
  std::string Joined() const {
    absl::MutexLock lock(&mu_);
    std::string out;
    for (const std::string& line : lines_) absl::StrAppend(&out, line, "\n");
    return out;
  }

 private:
  mutable absl::Mutex mu_;
  std::vector<std::string> lines_ ABSL_GUARDED_BY(mu_);
};

}  // namespace clusterdns::testing
