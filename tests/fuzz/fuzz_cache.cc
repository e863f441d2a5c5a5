// libFuzzer target: AnswerCache::Offer on arbitrary upstream answers (bytes from the network),
// then respond() from what it stored. For every input:
//   - Offer never reads past the answer (ASan) and either stores it or says why not;
//   - when stored, the question it was stored under, asked in a query of its own (UDP without
//     and with EDNS, TCP), gets a reply that fits, decodes with the independent decoder of
//     tests/support, carries the query's ID and question bytes, and (for a name outside the
//     walkthrough zones) comes from the cache with the answer's rcode and TTLs no larger than
//     the cache's caps;
//   - offering it again replaces the entry; a cache of two entries stays within its bounds.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "records/answer_cache.h"
#include "records/answer_table.h"
#include "records/dns_constants.h"
#include "records/respond.h"
#include "tests/records/kube_dns_cluster.h"
#include "tests/support/dns_message.h"

namespace {

using namespace clusterdns;  // NOLINT: a fuzz target, not a library

[[noreturn]] void Fail(const char* what, const std::string& detail = "") {
  std::fprintf(stderr, "fuzz_cache: %s %s\n", what, detail.c_str());
  std::abort();
}
void Check(bool ok, const char* what, const std::string& detail = "") {
  if (!ok) Fail(what, detail);
}

constexpr uint32_t kNow = 5000;

// The query for the answer's question: its header's ID, RD, QDCOUNT 1, and its question bytes
// (Offer only stores answers whose question is uncompressed, so they end where it says).
std::vector<uint8_t> QueryFor(const uint8_t* data, size_t size, bool edns) {
  size_t pos = records::kHeaderSize;
  while (pos < size && data[pos] != 0) pos += 1 + data[pos];
  const size_t question_end = pos + 1 + 4;
  Check(question_end <= size, "stored an answer whose question runs out");
  std::vector<uint8_t> q(data, data + question_end);
  q[2] = 0x01;  // RD
  q[3] = 0;
  q[4] = 0, q[5] = 1;
  for (size_t i = 6; i < 12; ++i) q[i] = 0;
  if (edns) {
    q[11] = 1;
    const uint8_t opt[] = {0, 0, 41, 0x04, 0xd0, 0, 0, 0, 0, 0, 0};
    q.insert(q.end(), opt, opt + sizeof(opt));
  }
  return q;
}

void AskAndCheck(const records::AnswerTable& table, const records::AnswerCache& cache,
                 const std::vector<uint8_t>& query, records::Transport transport,
                 uint8_t want_rcode) {
  records::RespondOptions options;
  options.transport = transport;
  options.refuse_outside_zones = false;
  options.recursion_available = true;
  options.cache = &cache;
  options.now = kNow + 1;
  const size_t cap = transport == records::Transport::kTcp ? records::kTcpResponseRoom
                                                           : records::kUdpResponseRoom;
  std::vector<uint8_t> buf(query.begin(), query.end());
  buf.resize(std::max(cap, query.size()));
  const records::RespondResult r = records::Respond(table, buf.data(), query.size(), cap, options);
  if (r.verdict != records::Verdict::kReply) return;  // a zone name outside... or kForward: fine
  Check(r.size <= cap, "reply larger than its room");
  auto m = testing::DecodeMessage(buf.data(), r.size);
  if (!m.ok()) Fail("cached reply does not decode:", std::string(m.status().message()));
  Check(m->id == static_cast<uint16_t>((query[0] << 8) | query[1]), "reply ID differs");
  Check(std::memcmp(buf.data() + records::kHeaderSize, query.data() + records::kHeaderSize,
                    query.size() - records::kHeaderSize - (query[11] ? 11 : 0)) == 0,
        "question not echoed");
  if (!r.cached) return;  // answered by the cluster table (a name in its zones)
  Check(!m->aa, "a cached reply claims authority");
  Check(m->rcode == want_rcode, "cached rcode differs from the upstream's");
  if (m->tc) return;
  for (const auto* section : {&m->answer, &m->authority, &m->additional}) {
    for (const auto& rr : *section) {
      if (rr.type == records::kTypeOpt) continue;
      Check(rr.ttl >= 1 && rr.ttl <= cache.options().max_ttl, "cached TTL out of range");
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const auto* const table =
      new std::shared_ptr<const records::AnswerTable>(testing::KubeDnsBuilder()->Build());
  static records::NoReadersGracePeriod grace;
  if (size > records::kMaxMessageSize) return 0;
  // A copy of exactly `size` bytes, so that ASan sees any read past the answer.
  std::unique_ptr<uint8_t[]> answer(new uint8_t[size ? size : 1]);
  if (size) std::memcpy(answer.get(), data, size);
  const std::span<const uint8_t> bytes(answer.get(), size);

  records::AnswerCacheOptions options;
  options.max_entries = 2;
  options.max_bytes = 64 << 10;
  options.max_ttl = 600;
  options.max_negative_ttl = 60;
  records::AnswerCache cache(options, &grace);
  const records::CacheSkip skip = cache.Offer(bytes, kNow);
  if (skip != records::CacheSkip::kNone) {
    Check(cache.entries() == 0 && cache.bytes() == 0, "a refused answer left an entry");
    return 0;
  }
  Check(cache.entries() == 1 && cache.bytes() > 0, "a stored answer is not counted");
  const uint8_t rcode = data[3] & 0x0f;
  for (bool edns : {false, true}) {
    const std::vector<uint8_t> query = QueryFor(data, size, edns);
    AskAndCheck(**table, cache, query, records::Transport::kUdp, rcode);
    AskAndCheck(**table, cache, query, records::Transport::kTcp, rcode);
  }
  Check(cache.Offer(bytes, kNow + 1) == records::CacheSkip::kNone, "the same answer refused twice");
  Check(cache.entries() == 1, "offering the same answer again added an entry");
  cache.Reclaim();
  Check(!cache.reclaim_pending(), "Reclaim left entries");
  return 0;
}
