// AnswerCache and respond()'s use of it: what is stored and for how long (positive, RFC 2308
// negative, the bounds), what is refused, the answers given from it (re-decoded by the
// independent decoder), eviction, reclamation, and readers racing the writer.
#include "records/answer_cache.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "records/byte_order.h"
#include "records/dns_constants.h"
#include "records/name_hash.h"
#include "records/query_counters.h"
#include "records/wire_name.h"
#include "records/respond.h"
#include "records/table_publisher.h"
#include "tests/records/kube_dns_cluster.h"
#include "tests/records/responder.h"

namespace clusterdns::testing {
namespace {

using records::AnswerCache;
using records::AnswerCacheOptions;
using records::CacheSkip;
using ::testing::ElementsAre;

constexpr uint32_t kNow = 1000;

// An upstream answer: the question of BuildQuery, QR|RD|RA and `rcode`, then records appended
// with Rr (owner 0xC00C is the question name).
struct Answer {
  std::vector<uint8_t> bytes;
  uint16_t an = 0, ns = 0, ar = 0;

  Answer(std::string_view name, uint16_t qtype, uint8_t rcode = 0, uint16_t id = 0x4242) {
    QueryOptions o;
    o.id = id;
    bytes = BuildQuery(name, qtype, o);
    SetFlags(bytes, static_cast<uint16_t>(0x8000 | 0x0100 | 0x0080 | rcode));
  }
  static std::vector<uint8_t> Pointer(uint16_t offset) {
    return {static_cast<uint8_t>(0xC0 | (offset >> 8)), static_cast<uint8_t>(offset)};
  }
  // Appends one record to the section `section` (0 answer, 1 authority, 2 additional); returns
  // the offset of its rdata.
  size_t Rr(int section, const std::vector<uint8_t>& owner, uint16_t type, uint32_t ttl,
            const std::vector<uint8_t>& rdata) {
    AppendBytes(bytes, owner);
    std::vector<uint8_t> fixed = {static_cast<uint8_t>(type >> 8), static_cast<uint8_t>(type), 0, 1,
                                  static_cast<uint8_t>(ttl >> 24), static_cast<uint8_t>(ttl >> 16),
                                  static_cast<uint8_t>(ttl >> 8), static_cast<uint8_t>(ttl),
                                  static_cast<uint8_t>(rdata.size() >> 8),
                                  static_cast<uint8_t>(rdata.size())};
    AppendBytes(bytes, fixed);
    const size_t at = bytes.size();
    AppendBytes(bytes, rdata);
    (section == 0 ? an : section == 1 ? ns : ar)++;
    SetAncount(bytes, an);
    SetNscount(bytes, ns);
    SetArcount(bytes, ar);
    return at;
  }
  void A(uint32_t ttl, std::vector<uint8_t> ip, int section = 0) { Rr(section, Pointer(12), 1, ttl, ip); }
  // SOA of `zone` (dotted) with the given record TTL and MINIMUM.
  void Soa(std::string_view zone, uint32_t ttl, uint32_t minimum) {
    std::vector<uint8_t> rdata = EncodeName(std::string("ns.") + std::string(zone));
    AppendBytes(rdata, EncodeName(std::string("hostmaster.") + std::string(zone)));
    for (uint32_t v : {1u, 7200u, 1800u, 86400u, minimum}) {
      rdata.insert(rdata.end(), {static_cast<uint8_t>(v >> 24), static_cast<uint8_t>(v >> 16),
                                 static_cast<uint8_t>(v >> 8), static_cast<uint8_t>(v)});
    }
    Rr(1, EncodeName(zone), records::kTypeSoa, ttl, rdata);
  }
  void Opt(bool edns_do = false) {
    QueryOptions o;
    o.edns_do = edns_do;
    AppendBytes(bytes, EncodeOptRecord(o));
    ++ar;
    SetArcount(bytes, ar);
  }
  std::span<const uint8_t> span() const { return bytes; }
};

class AnswerCacheTest : public ::testing::Test {
 protected:
  void SetUp() override { table_ = KubeDnsBuilder()->Build(); }

  records::RespondOptions Options(const AnswerCache& cache, uint32_t now) {
    records::RespondOptions o;
    o.refuse_outside_zones = false;
    o.recursion_available = true;
    o.cache = &cache;
    o.now = now;
    return o;
  }
  Asked AskCache(const AnswerCache& cache, std::string_view name, uint16_t qtype, uint32_t now,
                 const QueryOptions& q = {}) {
    return Ask(*table_, name, qtype, q, Options(cache, now));
  }

  std::shared_ptr<const records::AnswerTable> table_;
  records::NoReadersGracePeriod grace_;
};

TEST_F(AnswerCacheTest, PositiveAnswerIsServedWithTtlCountedDown) {
  AnswerCache cache(AnswerCacheOptions{}, &grace_);
  Answer a("www.example.com", records::kTypeA);
  a.A(300, {192, 0, 2, 1});
  a.A(600, {192, 0, 2, 2});
  ASSERT_EQ(cache.Offer(a.span(), kNow), CacheSkip::kNone);
  EXPECT_EQ(cache.entries(), 1u);

  QueryOptions q;
  q.id = 0x7777;
  Asked hit = AskCache(cache, "WwW.ExAmPlE.CoM", records::kTypeA, kNow + 10, q);
  ASSERT_EQ(hit.result.verdict, records::Verdict::kReply);
  EXPECT_TRUE(hit.result.cached);
  EXPECT_EQ(hit.message.id, 0x7777);
  EXPECT_FALSE(hit.message.aa);
  EXPECT_TRUE(hit.message.ra);
  EXPECT_TRUE(hit.message.rd);
  EXPECT_EQ(hit.message.rcode, records::kRcodeNoError);
  ASSERT_EQ(hit.message.question.size(), 1u);
  // Every TTL is the entry's remaining life: the smallest TTL (300) less 10 s.
  EXPECT_THAT(AnswerTexts(hit.message), ElementsAre("WwW.ExAmPlE.CoM. 290 IN A 192.0.2.1",
                                                    "WwW.ExAmPlE.CoM. 290 IN A 192.0.2.2"));
  Asked last = AskCache(cache, "www.example.com", records::kTypeA, kNow + 299);
  EXPECT_THAT(AnswerTexts(last.message), ElementsAre("www.example.com. 1 IN A 192.0.2.1",
                                                     "www.example.com. 1 IN A 192.0.2.2"));
  // Expired: handed back for forwarding.
  EXPECT_EQ(AskCache(cache, "www.example.com", records::kTypeA, kNow + 300).result.verdict,
            records::Verdict::kForward);
  // Another type of the same name is another question.
  EXPECT_EQ(AskCache(cache, "www.example.com", records::kTypeAaaa, kNow).result.verdict,
            records::Verdict::kForward);
}

TEST_F(AnswerCacheTest, CountersCountHits) {
  AnswerCache cache(AnswerCacheOptions{}, &grace_);
  Answer a("www.example.com", records::kTypeA);
  a.A(300, {192, 0, 2, 1});
  ASSERT_EQ(cache.Offer(a.span(), kNow), CacheSkip::kNone);
  records::QueryCounters counters;
  counters.Count(AskCache(cache, "www.example.com", records::kTypeA, kNow).result);
  counters.Count(AskCache(cache, "other.example.com", records::kTypeA, kNow).result);
  counters.Count(AskCache(cache, "redis-master.default.svc.cluster.local", records::kTypeA, kNow).result);
  EXPECT_EQ(counters.cache_hits.load(), 1u);
  EXPECT_EQ(counters.forwarded.load(), 1u);
  EXPECT_EQ(counters.rcode(records::kRcodeNoError), 2u);
}

TEST_F(AnswerCacheTest, EdnsClientGetsOurOptAndTruncationFollowsItsLimit) {
  AnswerCache cache(AnswerCacheOptions{}, &grace_);
  Answer a("big.example.com", records::kTypeA);
  for (int i = 0; i < 40; ++i) a.A(300, {192, 0, 2, static_cast<uint8_t>(i)});  // 40 × 16 B
  a.Opt();
  ASSERT_EQ(cache.Offer(a.span(), kNow), CacheSkip::kNone);
  Asked plain = AskCache(cache, "big.example.com", records::kTypeA, kNow);
  EXPECT_TRUE(plain.message.tc);  // 33 + 640 bytes > 512
  EXPECT_TRUE(plain.message.answer.empty());
  QueryOptions q;
  q.edns = true;
  Asked edns = AskCache(cache, "big.example.com", records::kTypeA, kNow, q);
  EXPECT_FALSE(edns.message.tc);
  EXPECT_EQ(edns.message.answer.size(), 40u);
  ASSERT_EQ(edns.message.additional.size(), 1u);
  EXPECT_EQ(edns.message.additional[0].type, records::kTypeOpt);
}

TEST_F(AnswerCacheTest, NegativeAnswersLiveForTheSoaMinimum) {
  AnswerCache cache(AnswerCacheOptions{}, &grace_);
  Answer nx("nothing.example.com", records::kTypeA, records::kRcodeNxDomain);
  nx.Soa("example.com", 3600, 60);  // min(3600, 60) = 60
  ASSERT_EQ(cache.Offer(nx.span(), kNow), CacheSkip::kNone);
  Answer nodata("www.example.com", records::kTypeAaaa);
  nodata.Soa("example.com", 30, 900);  // min(30, 900) = 30
  ASSERT_EQ(cache.Offer(nodata.span(), kNow), CacheSkip::kNone);

  Asked a = AskCache(cache, "nothing.example.com", records::kTypeA, kNow + 5);
  EXPECT_EQ(a.message.rcode, records::kRcodeNxDomain);
  EXPECT_TRUE(a.result.cached);
  ASSERT_EQ(a.message.authority.size(), 1u);
  EXPECT_EQ(a.message.authority[0].ttl, 55u);
  EXPECT_EQ(AskCache(cache, "nothing.example.com", records::kTypeA, kNow + 60).result.verdict,
            records::Verdict::kForward);

  Asked b = AskCache(cache, "www.example.com", records::kTypeAaaa, kNow + 29);
  EXPECT_EQ(b.message.rcode, records::kRcodeNoError);
  EXPECT_TRUE(b.message.answer.empty());
  ASSERT_EQ(b.message.authority.size(), 1u);
  EXPECT_EQ(b.message.authority[0].ttl, 1u);
  EXPECT_EQ(AskCache(cache, "www.example.com", records::kTypeAaaa, kNow + 30).result.verdict,
            records::Verdict::kForward);

  Answer no_soa("bare.example.com", records::kTypeA, records::kRcodeNxDomain);
  EXPECT_EQ(cache.Offer(no_soa.span(), kNow), CacheSkip::kNoSoa);
  EXPECT_EQ(cache.entries(), 2u);
}

TEST_F(AnswerCacheTest, LifetimesAreCapped) {
  AnswerCacheOptions options;
  options.max_ttl = 100;
  options.max_negative_ttl = 10;
  AnswerCache cache(options, &grace_);
  Answer a("www.example.com", records::kTypeA);
  a.A(86400, {192, 0, 2, 1});
  ASSERT_EQ(cache.Offer(a.span(), kNow), CacheSkip::kNone);
  EXPECT_EQ(AskCache(cache, "www.example.com", records::kTypeA, kNow).message.answer[0].ttl, 100u);
  Answer nx("nothing.example.com", records::kTypeA, records::kRcodeNxDomain);
  nx.Soa("example.com", 3600, 3600);
  ASSERT_EQ(cache.Offer(nx.span(), kNow), CacheSkip::kNone);
  EXPECT_EQ(AskCache(cache, "nothing.example.com", records::kTypeA, kNow).message.authority[0].ttl,
            10u);
}

TEST_F(AnswerCacheTest, CompressedNamesStayValidBehindAnotherSpelling) {
  // www.example.com CNAME web.example.com (web + pointer to "example.com" in the question);
  // web.example.com A (owner: pointer to the CNAME's target in the body).
  AnswerCache cache(AnswerCacheOptions{}, &grace_);
  Answer a("www.example.com", records::kTypeA);
  std::vector<uint8_t> target = {3, 'w', 'e', 'b'};
  AppendBytes(target, Answer::Pointer(12 + 4));
  const size_t target_at = a.Rr(0, Answer::Pointer(12), records::kTypeCname, 300, target);
  a.Rr(0, Answer::Pointer(static_cast<uint16_t>(target_at)), records::kTypeA, 300, {192, 0, 2, 9});
  ASSERT_EQ(cache.Offer(a.span(), kNow), CacheSkip::kNone);
  Asked hit = AskCache(cache, "WWW.EXAMPLE.COM", records::kTypeA, kNow);
  EXPECT_THAT(AnswerTexts(hit.message),
              ElementsAre("WWW.EXAMPLE.COM. 300 IN CNAME web.EXAMPLE.COM.",
                          "web.EXAMPLE.COM. 300 IN A 192.0.2.9"));
}

TEST_F(AnswerCacheTest, RefusesWhatItMustNotReplay) {
  AnswerCache cache(AnswerCacheOptions{}, &grace_);
  auto offer = [&](Answer& a) { return cache.Offer(a.span(), kNow); };
  Answer servfail("a.example.com", records::kTypeA, records::kRcodeServFail);
  EXPECT_EQ(offer(servfail), CacheSkip::kUncacheable);
  Answer tc("b.example.com", records::kTypeA);
  tc.A(300, {192, 0, 2, 1});
  SetFlags(tc.bytes, 0x8000 | 0x0200 | 0x0100 | 0x0080);
  EXPECT_EQ(offer(tc), CacheSkip::kUncacheable);
  Answer cd("c.example.com", records::kTypeA);
  cd.A(300, {192, 0, 2, 1});
  SetFlags(cd.bytes, 0x8000 | 0x0100 | 0x0080 | 0x0010);
  EXPECT_EQ(offer(cd), CacheSkip::kUncacheable);
  Answer dnssec("d.example.com", records::kTypeA);
  dnssec.A(300, {192, 0, 2, 1});
  dnssec.Opt(/*edns_do=*/true);
  EXPECT_EQ(offer(dnssec), CacheSkip::kUncacheable);
  Answer any("e.example.com", records::kTypeAny);
  any.A(300, {192, 0, 2, 1});
  EXPECT_EQ(offer(any), CacheSkip::kUncacheable);
  Answer zero("f.example.com", records::kTypeA);
  zero.A(0, {192, 0, 2, 1});
  EXPECT_EQ(offer(zero), CacheSkip::kZeroTtl);
  Answer top_bit("g.example.com", records::kTypeA);
  top_bit.A(0x80000000u, {192, 0, 2, 1});
  EXPECT_EQ(offer(top_bit), CacheSkip::kZeroTtl);  // RFC 2181 8
  Answer opt_first("h.example.com", records::kTypeA);
  opt_first.Opt();
  opt_first.A(300, {192, 0, 2, 1}, /*section=*/2);
  EXPECT_EQ(offer(opt_first), CacheSkip::kOptNotLast);
  Answer forward_pointer("i.example.com", records::kTypeA);
  forward_pointer.Rr(0, Answer::Pointer(200), records::kTypeA, 300, {192, 0, 2, 1});
  EXPECT_EQ(offer(forward_pointer), CacheSkip::kMalformed);
  Answer bad_cname("j.example.com", records::kTypeCname);
  bad_cname.Rr(0, Answer::Pointer(12), records::kTypeCname, 300, {3, 'w', 'e'});  // runs out
  EXPECT_EQ(offer(bad_cname), CacheSkip::kMalformed);
  // A pointer into the rdata of a type without names (found by fuzz_cache): a strict client
  // cannot decode it.
  Answer into_opaque("m.example.com", records::kTypeA);
  const size_t opaque = into_opaque.Rr(0, Answer::Pointer(12), 16, 300, {3, 'a', 'b', 'c', 0});
  into_opaque.Rr(0, Answer::Pointer(static_cast<uint16_t>(opaque)), records::kTypeA, 300,
                 {192, 0, 2, 1});
  EXPECT_EQ(offer(into_opaque), CacheSkip::kMalformed);
  // Rdata that is not what its type says (found by fuzz_cache): a TXT string running past it,
  // an A of 5 bytes.
  Answer bad_txt("n.example.com", records::kTypeTxt);
  bad_txt.Rr(0, Answer::Pointer(12), records::kTypeTxt, 300, {9, 'a', 'b'});
  EXPECT_EQ(offer(bad_txt), CacheSkip::kMalformed);
  Answer bad_a("o.example.com", records::kTypeA);
  bad_a.A(300, {192, 0, 2, 1, 7});
  EXPECT_EQ(offer(bad_a), CacheSkip::kMalformed);
  // A pointer to the target of a DNAME (found by fuzz_cache): a name, but not one every client
  // reads as a name.
  Answer into_dname("p.example.com", records::kTypeA);
  std::vector<uint8_t> dname_target = {3, 'w', 'e', 'b'};
  AppendBytes(dname_target, Answer::Pointer(12 + 2));
  const size_t dname_at = into_dname.Rr(0, Answer::Pointer(12), 39, 300, dname_target);
  into_dname.Rr(0, Answer::Pointer(static_cast<uint16_t>(dname_at)), records::kTypeA, 300,
                {192, 0, 2, 1});
  EXPECT_EQ(offer(into_dname), CacheSkip::kMalformed);
  Answer trailing("k.example.com", records::kTypeA);
  trailing.A(300, {192, 0, 2, 1});
  trailing.bytes.push_back(0);
  EXPECT_EQ(offer(trailing), CacheSkip::kMalformed);
  Answer query("l.example.com", records::kTypeA);
  SetFlags(query.bytes, 0x0100);  // not a response
  EXPECT_EQ(offer(query), CacheSkip::kMalformed);
  std::vector<uint8_t> short_header = {0x12, 0x34, 0x80};
  EXPECT_EQ(cache.Offer(short_header, kNow), CacheSkip::kMalformed);
  EXPECT_EQ(cache.entries(), 0u);
  EXPECT_EQ(cache.stats().skipped[static_cast<size_t>(CacheSkip::kMalformed)].load(), 9u);
}

TEST_F(AnswerCacheTest, DnssecClientsAreNotAnsweredFromIt) {
  AnswerCache cache(AnswerCacheOptions{}, &grace_);
  Answer a("www.example.com", records::kTypeA);
  a.A(300, {192, 0, 2, 1});
  ASSERT_EQ(cache.Offer(a.span(), kNow), CacheSkip::kNone);
  QueryOptions dnssec;
  dnssec.edns = true;
  dnssec.edns_do = true;
  EXPECT_EQ(AskCache(cache, "www.example.com", records::kTypeA, kNow, dnssec).result.verdict,
            records::Verdict::kForward);
  std::vector<uint8_t> cd = BuildQuery("www.example.com", records::kTypeA);
  SetFlags(cd, 0x0100 | 0x0010);
  EXPECT_EQ(AskBytes(*table_, cd, Options(cache, kNow)).result.verdict, records::Verdict::kForward);
}

TEST_F(AnswerCacheTest, ClusterNamesNeverComeFromIt) {
  // Even if an answer for a cluster name were offered, the cluster table answers first: a
  // Service's name is answered from the table, a missing one is the zone's NXDOMAIN.
  AnswerCache cache(AnswerCacheOptions{}, &grace_);
  Answer a("redis-master.default.svc.cluster.local", records::kTypeA);
  a.A(300, {192, 0, 2, 66});
  Answer b("later.default.svc.cluster.local", records::kTypeA);
  b.A(300, {192, 0, 2, 67});
  ASSERT_EQ(cache.Offer(a.span(), kNow), CacheSkip::kNone);
  ASSERT_EQ(cache.Offer(b.span(), kNow), CacheSkip::kNone);
  Asked redis = AskCache(cache, "redis-master.default.svc.cluster.local", records::kTypeA, kNow);
  EXPECT_FALSE(redis.result.cached);
  EXPECT_THAT(AnswerTexts(redis.message),
              ElementsAre("redis-master.default.svc.cluster.local. 30 IN A 10.254.7.160"));
  Asked later = AskCache(cache, "later.default.svc.cluster.local", records::kTypeA, kNow);
  EXPECT_FALSE(later.result.cached);
  EXPECT_EQ(later.message.rcode, records::kRcodeNxDomain);
}

// How many answers `cache` evicted for `reason`.
uint64_t Evictions(const AnswerCache& cache, records::CacheEviction reason) {
  return cache.stats().evictions[static_cast<size_t>(reason)].load();
}

TEST_F(AnswerCacheTest, ANewAnswerReplacesTheOld) {
  AnswerCache cache(AnswerCacheOptions{}, &grace_);
  Answer first("www.example.com", records::kTypeA);
  first.A(300, {192, 0, 2, 1});
  Answer second("WWW.example.com", records::kTypeA);
  second.A(300, {192, 0, 2, 2});
  ASSERT_EQ(cache.Offer(first.span(), kNow), CacheSkip::kNone);
  ASSERT_EQ(cache.Offer(second.span(), kNow + 1), CacheSkip::kNone);
  EXPECT_EQ(cache.entries(), 1u);
  EXPECT_EQ(Evictions(cache, records::CacheEviction::kReplaced), 1u);
  EXPECT_TRUE(cache.reclaim_pending());
  EXPECT_THAT(AnswerTexts(AskCache(cache, "www.example.com", records::kTypeA, kNow + 1).message),
              ElementsAre("www.example.com. 300 IN A 192.0.2.2"));
  cache.Reclaim();
  EXPECT_FALSE(cache.reclaim_pending());
}

std::string HostName(int i) { return "host-" + std::to_string(i) + ".example.com"; }

Answer HostAnswer(int i, uint32_t ttl = 300) {
  Answer a(HostName(i), records::kTypeA);
  a.A(ttl, {192, 0, 2, static_cast<uint8_t>(i)});
  return a;
}

TEST_F(AnswerCacheTest, CapacityEvictionKeepsHotNames) {
  AnswerCacheOptions options;
  options.max_entries = 4;
  AnswerCache cache(options, &grace_);
  // host-0 is asked between every insert; the others never are.
  for (int i = 0; i < 20; ++i) {
    ASSERT_EQ(cache.Offer(HostAnswer(i).span(), kNow), CacheSkip::kNone);
    EXPECT_LE(cache.entries(), 4u);
    const records::NameKey hot(*records::FoldedWireFromText(HostName(0)));
    EXPECT_TRUE(cache.Find(hot.hash, hot.bytes, hot.len, records::kTypeA, kNow) != nullptr)
        << "the hot name was evicted at insert " << i;
  }
  EXPECT_EQ(cache.entries(), 4u);
  EXPECT_EQ(Evictions(cache, records::CacheEviction::kCapacity), 16u);
  EXPECT_TRUE(AskCache(cache, HostName(19), records::kTypeA, kNow).result.cached);
  EXPECT_FALSE(AskCache(cache, HostName(5), records::kTypeA, kNow).result.cached);
}

// The bucket of `name` for qtype A in a cache of `buckets` buckets (a power of two), as the
// cache computes it.
size_t BucketOf(const std::string& name, size_t buckets) {
  const records::NameKey key(*records::FoldedWireFromText(name));
  return records::CacheHash(key.hash, records::kTypeA) & (buckets - 1);
}

TEST_F(AnswerCacheTest, NamesMadeToShareABucketCannotLengthenIt) {
  // A client can search for names that share a bucket (the name hash is not keyed) and have the
  // upstream answer them: 40 such names, found by trying names until they land in host-0's.
  AnswerCacheOptions options;
  options.max_entries = 1024;  // 1024 buckets
  AnswerCache cache(options, &grace_);
  const size_t target = BucketOf(HostName(0), 1024);
  std::vector<int> flood;
  for (int i = 0; flood.size() < 40; ++i) {
    ASSERT_LT(i, 1 << 22) << "no 40 names of one bucket";
    if (BucketOf(HostName(i), 1024) == target) flood.push_back(i);
  }
  for (int i : flood) ASSERT_EQ(cache.Offer(HostAnswer(i).span(), kNow), CacheSkip::kNone);
  // The bucket keeps its newest kMaxChain answers; the older ones went as they came.
  const size_t kept = AnswerCache::kMaxChain;
  EXPECT_EQ(cache.entries(), kept);
  EXPECT_EQ(Evictions(cache, records::CacheEviction::kBucketFull), flood.size() - kept);
  for (size_t k = 0; k < flood.size(); ++k) {
    EXPECT_EQ(AskCache(cache, HostName(flood[k]), records::kTypeA, kNow).result.cached,
              k >= flood.size() - kept)
        << HostName(flood[k]);
  }
  // A fresh answer for a name still held replaces it in place: nothing else goes.
  ASSERT_EQ(cache.Offer(HostAnswer(flood.back(), 60).span(), kNow), CacheSkip::kNone);
  EXPECT_EQ(cache.entries(), kept);
  EXPECT_EQ(Evictions(cache, records::CacheEviction::kReplaced), 1u);
}

TEST_F(AnswerCacheTest, OrdinaryNamesFillTheCacheWithoutBucketEvictions) {
  AnswerCacheOptions options;
  options.max_entries = 1024;
  AnswerCache cache(options, &grace_);
  for (int i = 0; i < 1024; ++i) {
    ASSERT_EQ(cache.Offer(HostAnswer(i).span(), kNow), CacheSkip::kNone);
  }
  EXPECT_EQ(cache.entries(), 1024u);
  EXPECT_EQ(Evictions(cache, records::CacheEviction::kBucketFull), 0u);
}

TEST_F(AnswerCacheTest, ExpiredEntriesGoFirst) {
  AnswerCacheOptions options;
  options.max_entries = 3;
  AnswerCache cache(options, &grace_);
  ASSERT_EQ(cache.Offer(HostAnswer(0, 5).span(), kNow), CacheSkip::kNone);
  ASSERT_EQ(cache.Offer(HostAnswer(1).span(), kNow), CacheSkip::kNone);
  ASSERT_EQ(cache.Offer(HostAnswer(2).span(), kNow), CacheSkip::kNone);
  ASSERT_EQ(cache.Offer(HostAnswer(3).span(), kNow + 10), CacheSkip::kNone);  // host-0 expired
  EXPECT_EQ(cache.entries(), 3u);
  for (int i : {1, 2, 3}) EXPECT_TRUE(AskCache(cache, HostName(i), records::kTypeA, kNow + 10).result.cached) << i;
  EXPECT_EQ(Evictions(cache, records::CacheEviction::kExpired), 1u);
}

TEST_F(AnswerCacheTest, ByteBound) {
  AnswerCacheOptions options;
  options.max_bytes = 1000;
  AnswerCache cache(options, &grace_);
  for (int i = 0; i < 50; ++i) ASSERT_EQ(cache.Offer(HostAnswer(i).span(), kNow), CacheSkip::kNone);
  EXPECT_LE(cache.bytes(), 1000u);
  EXPECT_GT(cache.entries(), 2u);
  Answer huge("huge.example.com", records::kTypeA);
  for (int i = 0; i < 100; ++i) huge.A(300, {192, 0, 2, static_cast<uint8_t>(i)});
  EXPECT_EQ(cache.Offer(huge.span(), kNow), CacheSkip::kTooBig);
}

TEST_F(AnswerCacheTest, SizeZeroStoresNothing) {
  AnswerCacheOptions options;
  options.max_entries = 0;
  AnswerCache cache(options, &grace_);
  EXPECT_EQ(cache.Offer(HostAnswer(1).span(), kNow), CacheSkip::kDisabled);
  EXPECT_EQ(AskCache(cache, HostName(1), records::kTypeA, kNow).result.verdict,
            records::Verdict::kForward);
}

// Counts grace periods; a test can see that Reclaim waits for one before freeing.
class CountingGrace final : public records::GracePeriod {
 public:
  void Synchronize() override { ++calls; }
  int calls = 0;
};

TEST_F(AnswerCacheTest, ReclaimWaitsForAGracePeriodOnlyWhenSomethingWasUnlinked) {
  CountingGrace grace;
  AnswerCacheOptions options;
  options.max_entries = 1;
  AnswerCache cache(options, &grace);
  cache.Reclaim();
  EXPECT_EQ(grace.calls, 0);
  ASSERT_EQ(cache.Offer(HostAnswer(1).span(), kNow), CacheSkip::kNone);
  cache.Reclaim();
  EXPECT_EQ(grace.calls, 0);
  ASSERT_EQ(cache.Offer(HostAnswer(2).span(), kNow), CacheSkip::kNone);  // evicts host-1
  cache.Reclaim();
  EXPECT_EQ(grace.calls, 1);
  cache.Clear();
  EXPECT_EQ(cache.entries(), 0u);
  EXPECT_EQ(cache.bytes(), 0u);
  cache.Reclaim();
  EXPECT_EQ(grace.calls, 2);
}

// Readers answer from the cache on two threads while the writer inserts, replaces, evicts and
// reclaims under an epoch grace period: every answer read decodes (ASan sees a use after free).
TEST_F(AnswerCacheTest, ReadersRaceTheWriter) {
  records::EpochGracePeriod grace(2);
  AnswerCacheOptions options;
  options.max_entries = 16;
  AnswerCache cache(options, &grace);
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> hits{0};
  std::atomic<int> bad{0};
  auto reader = [&](size_t id) {
    grace.Online(id);
    records::RespondOptions o = Options(cache, kNow);
    int i = 0;
    while (!stop.load(std::memory_order_relaxed)) {
      std::vector<uint8_t> q = BuildQuery(HostName(i++ % 40), records::kTypeA);
      std::vector<uint8_t> buf = q;
      buf.resize(1232);
      records::RespondResult r = records::Respond(*table_, buf.data(), q.size(), buf.size(), o);
      if (r.verdict == records::Verdict::kReply) {
        hits.fetch_add(1, std::memory_order_relaxed);
        if (!r.cached || !DecodeMessage(buf.data(), r.size).ok()) bad.fetch_add(1);
      }
      grace.Quiescent(id);
    }
    grace.Offline(id);
  };
  std::thread r0(reader, 0), r1(reader, 1);
  // At least 2000 rounds, and on until the readers have answered a few hundred times from the
  // cache (their threads may start late), within 10 s.
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  for (int round = 0; round < 2000 || (hits.load() < 300 && std::chrono::steady_clock::now() < give_up);
       ++round) {
    cache.Offer(HostAnswer(round % 40).span(), kNow);
    if (round % 16 == 0) cache.Reclaim();
  }
  stop = true;
  r0.join();
  r1.join();
  cache.Reclaim();
  EXPECT_EQ(bad.load(), 0);
  EXPECT_GE(hits.load(), 300u);
}

}  // namespace
}  // namespace clusterdns::testing
