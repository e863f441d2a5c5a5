// Controller: queue from sources → TableBuilder → TablePublisher. See controller.h for the rules
// (coalescing, listings, ownership); this file is the one thread that enforces them.
#include "controlplane/controller.h"

#include <cstdio>
#include <utility>

#include "absl/strings/str_cat.h"

namespace clusterdns::controlplane {

struct Controller::Change {
  enum class Op : uint8_t { kService, kSlice, kDelete, kListStart, kListEnd, kListAbort };
  Op op;
  ObjectKind kind;
  size_t source;
  absl::Time arrived;
  records::Service service;
  records::EndpointSlice slice;
  std::string ns;
  std::string name;
};

class Controller::Sink final : public SourceSink {
 public:
  Sink(Controller* controller, size_t index) : controller_(controller), index_(index) {}
  void OnListStart(ObjectKind kind) override { Send(Change::Op::kListStart, kind); }
  void OnListEnd(ObjectKind kind) override { Send(Change::Op::kListEnd, kind); }
  void OnListAbort(ObjectKind kind) override { Send(Change::Op::kListAbort, kind); }
  void OnService(records::Service service) override {
    Change c = Make(Change::Op::kService, ObjectKind::kService);
    c.service = std::move(service);
    controller_->Enqueue(std::move(c));
  }
  void OnSlice(records::EndpointSlice slice) override {
    Change c = Make(Change::Op::kSlice, ObjectKind::kEndpointSlice);
    c.slice = std::move(slice);
    controller_->Enqueue(std::move(c));
  }
  void OnDelete(ObjectKind kind, std::string ns, std::string name) override {
    Change c = Make(Change::Op::kDelete, kind);
    c.ns = std::move(ns);
    c.name = std::move(name);
    controller_->Enqueue(std::move(c));
  }

 private:
  Change Make(Change::Op op, ObjectKind kind) const {
    Change c;
    c.op = op;
    c.kind = kind;
    c.source = index_;
    c.arrived = absl::Now();
    return c;
  }
  void Send(Change::Op op, ObjectKind kind) { controller_->Enqueue(Make(op, kind)); }

  Controller* controller_;
  size_t index_;
};

namespace {

size_t KindIndex(ObjectKind kind) { return kind == ObjectKind::kService ? 0 : 1; }

const char* KindName(ObjectKind kind) {
  return kind == ObjectKind::kService ? "Services" : "EndpointSlices";
}

}  // namespace

Controller::Controller(std::unique_ptr<records::TableBuilder> builder,
                       records::TablePublisher* publisher, ControllerOptions options)
    : builder_(std::move(builder)), publisher_(publisher), options_(options) {}

Controller::~Controller() { Stop(); }

SourceSink* Controller::AddSource(std::string name) {
  sinks_.push_back(std::make_unique<Sink>(this, sinks_.size()));
  sources_.emplace_back();
  sources_.back().name = std::move(name);
  return sinks_.back().get();
}

void Controller::SetPublishCallback(std::function<void(const PublishReport&)> callback) {
  on_publish_ = std::move(callback);
}

void Controller::Enqueue(Change change) {
  std::unique_lock lock(mu_);
  space_cv_.wait(lock, [&] { return stop_ || queue_.size() < options_.max_queued_changes; });
  if (stop_) return;  // shutting down: nothing will be published any more
  queue_.push_back(std::move(change));
  ++enqueued_;
  if (queue_.size() == 1) changed_cv_.notify_one();
}

void Controller::Start() {
  if (started_) return;
  started_ = true;
  {
    std::lock_guard lock(mu_);
    not_ready_ = "no table published yet";
  }
  PublishIfDue(/*force=*/true);
  thread_ = std::thread([this] { Run(); });
}

void Controller::Stop() {
  {
    std::lock_guard lock(mu_);
    if (stop_) return;
    stop_ = true;
  }
  changed_cv_.notify_all();
  space_cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  applied_cv_.notify_all();
}

void Controller::Run() {
  std::vector<Change> batch;
  for (;;) {
    {
      std::unique_lock lock(mu_);
      changed_cv_.wait(lock, [&] { return stop_ || !queue_.empty(); });
      if (!stop_ && !AnyListingOpen()) {
        // The coalescing window: let the rest of a burst of changes arrive. While a listing is
        // open nothing is published anyway, so there is nothing to wait for.
        changed_cv_.wait_for(lock, absl::ToChronoNanoseconds(options_.coalesce_window),
                             [&] { return stop_; });
      }
    }
    // Drain until the queue stays empty, so a listing streams through the bounded queue.
    while (Drain(batch) > 0) {
    }
    PublishIfDue(/*force=*/false);
    {
      std::lock_guard lock(mu_);
      settled_ = enqueued_ - queue_.size();
      if (stop_ && queue_.empty()) break;
    }
    applied_cv_.notify_all();
  }
  {
    std::lock_guard lock(mu_);
    finished_ = true;
  }
  applied_cv_.notify_all();
}

size_t Controller::Drain(std::vector<Change>& batch) {
  batch.clear();
  {
    std::lock_guard lock(mu_);
    while (!queue_.empty() && batch.size() < 1024) {
      batch.push_back(std::move(queue_.front()));
      queue_.pop_front();
    }
  }
  space_cv_.notify_all();
  for (Change& c : batch) Apply(c);
  return batch.size();
}

void Controller::Apply(Change& c) {
  SourceState& src = sources_[c.source];
  const size_t k = KindIndex(c.kind);
  switch (c.op) {
    case Change::Op::kListStart:
      src.listing[k] = true;
      src.started_kind[k] = true;
      ++src.listing_number[k];
      return;
    case Change::Op::kListEnd: {
      if (!src.listing[k]) return;  // an end without a start: nothing to settle
      const records::TableBuilder::Origin listing{static_cast<uint16_t>(c.source),
                                                  src.listing_number[k]};
      const size_t removed = c.kind == ObjectKind::kService ? builder_->DeleteServicesNotIn(listing)
                                                            : builder_->DeleteSlicesNotIn(listing);
      src.listing[k] = false;
      src.completed_kind[k] = true;
      if (removed > 0) {
        std::fprintf(stderr, "clusterdns: source %s: listing of %s removed %zu objects\n",
                     src.name.c_str(), KindName(c.kind), removed);
      }
      dirty_ = true;
      pending_arrivals_.push_back(c.arrived);
      return;
    }
    case Change::Op::kListAbort:
      // Nothing is deleted: what the listing delivered is published with what was there, and
      // the other sources' and kinds' changes are no longer held back while this one retries.
      if (!src.listing[k]) return;
      src.listing[k] = false;
      std::fprintf(stderr, "clusterdns: source %s: listing of %s broke off; nothing deleted\n",
                   src.name.c_str(), KindName(c.kind));
      dirty_ = true;
      pending_arrivals_.push_back(c.arrived);
      return;
    case Change::Op::kService:
      builder_->UpsertService(std::move(c.service), {static_cast<uint16_t>(c.source),
                                                     src.listing_number[k]});
      break;
    case Change::Op::kSlice:
      builder_->UpsertSlice(std::move(c.slice), {static_cast<uint16_t>(c.source),
                                                 src.listing_number[k]});
      break;
    case Change::Op::kDelete:
      if (c.kind == ObjectKind::kService) {
        builder_->DeleteService(c.ns, c.name);
      } else {
        builder_->DeleteSlice(c.ns, c.name);
      }
      break;
  }
  dirty_ = true;
  pending_arrivals_.push_back(c.arrived);
}

bool Controller::AnyListingOpen() const {
  for (const SourceState& s : sources_) {
    if (s.listing[0] || s.listing[1]) return true;
  }
  return false;
}

bool Controller::AllSourcesSynced() const {
  for (const SourceState& s : sources_) {
    for (size_t k = 0; k < 2; ++k) {
      if (s.started_kind[k] && !s.completed_kind[k]) return false;
    }
    if (!s.completed_kind[0] && !s.completed_kind[1]) return false;
  }
  return true;
}

void Controller::PublishIfDue(bool force) {
  if (!force && (!dirty_ || AnyListingOpen())) return;
  std::shared_ptr<const records::AnswerTable> table = builder_->Build();
  for (const std::string& line : builder_->TakeProblems()) {
    std::fprintf(stderr, "clusterdns: skipped %s\n", line.c_str());
  }
  publisher_->Publish(table);
  const absl::Time now = absl::Now();
  publishes_.fetch_add(1, std::memory_order_relaxed);
  PublishReport report;
  report.names = table->name_count();
  report.bytes = table->bytes();
  report.shards = table->shard_count();
  report.generation = table->generation();
  report.shards_rebuilt = builder_->last_build_stats().shards_rebuilt;
  report.services_compiled = builder_->last_build_stats().services_compiled;
  report.latencies_seconds.reserve(pending_arrivals_.size());
  for (absl::Time t : pending_arrivals_) {
    report.latencies_seconds.push_back(absl::ToDoubleSeconds(now - t));
  }
  pending_arrivals_.clear();
  dirty_ = false;

  const bool synced = AllSourcesSynced();
  std::string why;
  if (!synced) {
    for (const SourceState& s : sources_) {
      if (!s.completed_kind[0] && !s.completed_kind[1]) {
        why = absl::StrCat("source ", s.name, ": first listing not complete");
        break;
      }
      for (size_t k = 0; k < 2; ++k) {
        if (s.started_kind[k] && !s.completed_kind[k]) {
          why = absl::StrCat("source ", s.name, ": first listing of ",
                             KindName(k == 0 ? ObjectKind::kService : ObjectKind::kEndpointSlice),
                             " not complete");
        }
      }
      if (!why.empty()) break;
    }
  }
  {
    std::lock_guard lock(mu_);
    not_ready_ = why;
  }
  // release: a reader that sees ready also sees the table published above.
  ready_.store(synced, std::memory_order_release);
  if (on_publish_) on_publish_(report);
}

bool Controller::Ready(std::string* why) const {
  // acquire: pairs with the release store after a publish.
  if (ready_.load(std::memory_order_acquire)) return true;
  if (why != nullptr) {
    std::lock_guard lock(mu_);
    *why = not_ready_;
  }
  return false;
}

bool Controller::WaitApplied(absl::Duration timeout) {
  std::unique_lock lock(mu_);
  const uint64_t target = enqueued_;
  return applied_cv_.wait_for(lock, absl::ToChronoNanoseconds(timeout),
                              [&] { return settled_ >= target || finished_; });
}

}  // namespace clusterdns::controlplane
