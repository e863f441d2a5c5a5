// libFuzzer target: respond() and RespondBurst() on arbitrary bytes (STYLE.md example 7, as Knot's
// tests-fuzz/). For every input and every RespondOptions variant:
//   - a kReply response fits the room given, never writes past it, and is accepted by the
//     independent decoder of tests/support, with the query's ID and QR set;
//   - kDrop and kForward leave the buffer untouched;
//   - with a buffer of exactly the query's size (so ASan sees any read past the query), the
//     response still fits or the verdict is a drop;
//   - RespondBurst over several copies gives the same results and bytes as Respond, and so does
//     RespondWalkingLabels (which reads the name label by label, where Respond guesses its end).
// Any violation aborts, which libFuzzer reports as a crash with the input saved.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "records/answer_table.h"
#include "records/dns_constants.h"
#include "records/respond.h"
#include "tests/records/kube_dns_cluster.h"
#include "tests/support/dns_message.h"

namespace {

using namespace clusterdns;  // NOLINT: a fuzz target, not a library

constexpr uint8_t kCanary = 0xa7;
constexpr size_t kCanaryBytes = 64;
constexpr size_t kBurstCopies = 5;

// Buffers allocated once and reused (each input costs memsets, not 64 KiB allocations): the
// in-place run, the single run the burst is compared with, the burst's copies and the
// label-by-label run, each with
// room for the largest query, a TCP response and the canary.
constexpr size_t kPoolBufferSize =
    records::kMaxMessageSize + records::kTcpResponseRoom + kCanaryBytes;
uint8_t* PoolBuffer(size_t i) {
  static uint8_t* const pool = new uint8_t[(kBurstCopies + 3) * kPoolBufferSize];
  return pool + i * kPoolBufferSize;
}

// Copies the query into `buf` and puts the canary after its `cap` bytes of room. The room
// between keeps what earlier inputs left there: respond() must not read it (the exact-size run
// below lets ASan check that).
uint8_t* Prepare(uint8_t* buf, const uint8_t* data, size_t size, size_t cap) {
  if (size) std::memcpy(buf, data, size);
  std::memset(buf + cap, kCanary, kCanaryBytes);
  return buf;
}

[[noreturn]] void Fail(const char* what, const std::string& detail = "") {
  std::fprintf(stderr, "fuzz_respond: %s %s\n", what, detail.c_str());
  std::abort();
}

void Check(bool ok, const char* what, const std::string& detail = "") {
  if (!ok) Fail(what, detail);
}

// The walkthrough cluster with pod records on (so the pod-name synthesis is reached) and a
// headless Service large enough to need TC over UDP.
std::shared_ptr<const records::AnswerTable> BuildTable() {
  records::ZoneConfig config = testing::KubeDnsConfig();
  config.pod_records = records::PodRecords::kInsecure;
  auto builder = testing::KubeDnsBuilder(config);
  records::Service big;
  big.ns = "default";
  big.name = "big";
  big.headless = true;
  big.ports = {{"http", records::Protocol::kTcp, 80}};
  builder->UpsertService(big);
  records::EndpointSlice slice;
  slice.ns = "default";
  slice.name = "big-slice";
  slice.service_name = "big";
  for (int i = 0; i < 120; ++i) {
    records::Endpoint e;
    e.addresses = {testing::Ip(("10.244.50." + std::to_string(i + 1)).c_str())};
    e.ready = true;
    slice.endpoints.push_back(e);
  }
  slice.ports = {{"http", records::Protocol::kTcp, 80}};
  builder->UpsertSlice(slice);
  return builder->Build();
}

size_t RoomFor(const records::RespondOptions& options) {
  return options.transport == records::Transport::kTcp ? records::kTcpResponseRoom
                                                       : records::kUdpResponseRoom;
}

// Checks one result against the query it answered; `buf` has `cap` bytes of room and
// kCanaryBytes of canary after them.
void CheckResult(const records::RespondResult& r, const uint8_t* query, size_t query_len,
                 const uint8_t* buf, size_t cap, const records::RespondOptions& options) {
  for (size_t i = 0; i < kCanaryBytes; ++i) Check(buf[cap + i] == kCanary, "wrote past buf_cap");
  if (query_len < records::kHeaderSize) {
    Check(r.verdict == records::Verdict::kDrop && r.drop == records::DropReason::kShortHeader,
          "short query not dropped as kShortHeader");
  }
  if (r.verdict != records::Verdict::kReply) {
    Check(std::memcmp(buf, query, query_len) == 0, "kDrop/kForward changed the query");
    if (r.verdict == records::Verdict::kDrop) Check(r.drop != records::DropReason::kNone, "no reason");
    if (r.verdict == records::Verdict::kForward) {
      Check(!options.refuse_outside_zones, "kForward with refuse_outside_zones");
    }
    return;
  }
  Check(r.size >= records::kHeaderSize, "reply shorter than a header");
  Check(r.size <= cap, "reply larger than buf_cap");
  Check(r.size <= RoomFor(options), "reply larger than the transport allows");
  auto m = testing::DecodeMessage(buf, r.size);
  if (!m.ok()) Fail("reply does not decode:", std::string(m.status().message()));
  Check(m->qr, "reply without QR");
  Check(m->id == static_cast<uint16_t>((query[0] << 8) | query[1]), "reply ID differs");
  Check(m->tc == r.truncated, "TC bit and result.truncated differ");
  Check(testing::ExtendedRcode(*m) == r.rcode, "rcode differs");
  if (m->qdcount == 1) {
    // The question is the query's own bytes.
    const auto& q = m->question[0];
    Check(q.offset == records::kHeaderSize &&
              std::memcmp(q.raw.data(), query + records::kHeaderSize, q.raw.size()) == 0,
          "question not echoed byte for byte");
  }
}

bool SameResult(const records::RespondResult& a, const records::RespondResult& b) {
  return a.verdict == b.verdict && a.drop == b.drop && a.rcode == b.rcode && a.qtype == b.qtype &&
         a.size == b.size && a.truncated == b.truncated;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const auto* const table =
      new std::shared_ptr<const records::AnswerTable>(BuildTable());
  if (size > records::kMaxMessageSize) return 0;  // a DNS message is at most 64 KiB

  records::RespondOptions udp_refuse;
  records::RespondOptions udp_forward;
  udp_forward.refuse_outside_zones = false;
  udp_forward.recursion_available = true;
  records::RespondOptions tcp;
  tcp.transport = records::Transport::kTcp;
  tcp.refuse_outside_zones = false;

  for (const records::RespondOptions* options : {&udp_refuse, &udp_forward, &tcp}) {
    // In place, with the room the transport needs beyond the query.
    const size_t cap = size + RoomFor(*options);
    uint8_t* buf = Prepare(PoolBuffer(0), data, size, cap);
    const records::RespondResult r = records::Respond(**table, buf, size, cap, *options);
    CheckResult(r, data, size, buf, cap, *options);

    // Exactly the query's size: a read or write past it is an ASan report.
    auto exact = std::make_unique<uint8_t[]>(size + kCanaryBytes);
    if (size) std::memcpy(exact.get(), data, size);
    std::memset(exact.get() + size, kCanary, kCanaryBytes);
    const records::RespondResult small = records::Respond(**table, exact.get(), size, size, *options);
    CheckResult(small, data, size, exact.get(), size, *options);
    if (small.verdict != records::Verdict::kReply) {
      Check(small.verdict == r.verdict || small.drop == records::DropReason::kNoRoom,
            "verdict depends on the room");
    }

    // A burst of copies answers exactly as Respond did (job lengths and caps are 16-bit).
    const uint16_t job_cap = static_cast<uint16_t>(
        cap > records::kMaxMessageSize ? records::kMaxMessageSize : cap);
    if (job_cap < size) continue;
    uint8_t* single_buf = Prepare(PoolBuffer(1), data, size, job_cap);
    const records::RespondResult single =
        records::Respond(**table, single_buf, size, job_cap, *options);
    const size_t compared = single.verdict == records::Verdict::kReply ? single.size : size;
    uint8_t* walked_buf = Prepare(PoolBuffer(2 + kBurstCopies), data, size, job_cap);
    const records::RespondResult walked =
        records::RespondWalkingLabels(**table, walked_buf, size, job_cap, *options);
    Check(SameResult(walked, single), "Respond result differs from RespondWalkingLabels");
    Check(std::memcmp(walked_buf, single_buf, compared) == 0,
          "Respond bytes differ from RespondWalkingLabels");
    records::RespondJob jobs[kBurstCopies];
    for (size_t i = 0; i < kBurstCopies; ++i) {
      jobs[i] = records::RespondJob{Prepare(PoolBuffer(2 + i), data, size, job_cap),
                                    static_cast<uint16_t>(size), job_cap, {}};
    }
    records::RespondBurst(**table, jobs, kBurstCopies, *options);
    for (size_t i = 0; i < kBurstCopies; ++i) {
      const records::RespondResult& b = jobs[i].result;
      CheckResult(b, data, size, jobs[i].buf, job_cap, *options);
      Check(SameResult(b, single), "RespondBurst result differs from Respond");
      Check(std::memcmp(jobs[i].buf, single_buf, compared) == 0,
            "RespondBurst bytes differ from Respond");
    }
  }
  return 0;
}
