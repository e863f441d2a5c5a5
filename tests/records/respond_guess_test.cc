// Respond() and RespondBurst() read the question name by its first zero byte, and walk its labels
// only when the table does not hold the name (respond.cc, GuessName). RespondWalkingLabels reads
// every name label by label. For every query here, the three must write the same bytes and
// return the same result: names of every shape, every single-byte change of a few queries, and
// every truncation of them.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <string>
#include <tuple>
#include <vector>

#include "records/dns_constants.h"
#include "records/respond.h"
#include "tests/records/kube_dns_cluster.h"
#include "tests/records/responder.h"
#include "tests/support/dns_query_builder.h"

namespace clusterdns::testing {
namespace {

using Query = std::vector<uint8_t>;

class RespondGuessTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    records::ZoneConfig config = KubeDnsConfig();
    config.pod_records = records::PodRecords::kInsecure;
    table_ = new std::shared_ptr<const records::AnswerTable>(KubeDnsBuilder(config)->Build());
  }
  static void TearDownTestSuite() {
    delete table_;
    table_ = nullptr;
  }
  static const records::AnswerTable& table() { return **table_; }

  // Each query through RespondWalkingLabels, Respond and (32 at a time) RespondBurst, under
  // `options`; the results and the whole buffers must agree.
  static void ExpectSameAnswers(const std::vector<Query>& queries,
                                const records::RespondOptions& options) {
    constexpr size_t kRoom = records::kUdpResponseRoom;
    for (size_t first = 0; first < queries.size(); first += records::kMaxBurst) {
      const size_t n = std::min(records::kMaxBurst, queries.size() - first);
      std::vector<Query> burst(n);
      std::vector<records::RespondJob> jobs(n);
      for (size_t k = 0; k < n; ++k) {
        burst[k] = queries[first + k];
        burst[k].resize(kRoom, 0xee);
        jobs[k] = {burst[k].data(), static_cast<uint16_t>(queries[first + k].size()),
                   static_cast<uint16_t>(kRoom), records::RespondResult{}};
      }
      records::RespondBurst(table(), jobs.data(), n, options);
      for (size_t k = 0; k < n; ++k) {
        const Query& q = queries[first + k];
        Query walked = q;
        walked.resize(kRoom, 0xee);
        Query guessed = walked;
        const records::RespondResult want =
            records::RespondWalkingLabels(table(), walked.data(), q.size(), kRoom, options);
        const records::RespondResult got =
            records::Respond(table(), guessed.data(), q.size(), kRoom, options);
        for (const auto& [what, result, bytes] :
             {std::tuple{"Respond", got, &guessed}, std::tuple{"RespondBurst", jobs[k].result,
                                                              &burst[k]}}) {
          SCOPED_TRACE(std::string(what) + ", query " + std::to_string(first + k));
          ExpectSameResult(result, want);
          EXPECT_EQ(*bytes, walked);
        }
        if (::testing::Test::HasFailure()) return;
      }
    }
  }

  static std::shared_ptr<const records::AnswerTable>* table_;
};
std::shared_ptr<const records::AnswerTable>* RespondGuessTest::table_ = nullptr;

records::RespondOptions Forwarding() {
  records::RespondOptions o;
  o.refuse_outside_zones = false;
  return o;
}

// A name in wire form from raw labels, which may hold any byte (zero included).
Query WireName(const std::vector<std::string>& labels) {
  Query out;
  for (const std::string& l : labels) {
    out.push_back(static_cast<uint8_t>(l.size()));
    out.insert(out.end(), l.begin(), l.end());
  }
  out.push_back(0);
  return out;
}

Query QueryFor(const Query& name, uint16_t qtype, bool edns) {
  QueryOptions o;
  o.edns = edns;
  Query q = BuildQuery(".", qtype, o);  // header, root, type, class, OPT
  q.erase(q.begin() + records::kHeaderSize);  // the root
  q.insert(q.begin() + records::kHeaderSize, name.begin(), name.end());
  return q;
}

Query Cat(Query a, const Query& b, const Query& c) {
  a.insert(a.end(), b.begin(), b.end());
  a.insert(a.end(), c.begin(), c.end());
  return a;
}

TEST_F(RespondGuessTest, NamesOfEveryShape) {
  const std::string zero("a\0b", 3);
  const std::vector<Query> names = {
      WireName({"redis-master", "default", "svc", "cluster", "local"}),
      WireName({"Redis-Master", "DEFAULT", "svc", "Cluster", "local"}),
      WireName({"redis-master", "default", "cluster", "local"}),  // legacy alias
      WireName({"_dns", "_udp", "kube-dns", "kube-system", "svc", "cluster", "local"}),
      WireName({"kube-dns", "default", "svc", "cluster", "local"}),  // search path: NXDOMAIN
      WireName({"nothing", "cluster", "local"}),
      WireName({"cluster", "local"}),
      WireName({"svc", "cluster", "local"}),
      WireName({"160", "7", "254", "10", "in-addr", "arpa"}),
      WireName({"10-244-1-7", "default", "pod", "cluster", "local"}),
      WireName({"www", "example", "com"}),
      WireName({}),  // the root
      WireName({std::string(63, 'a'), "cluster", "local"}),  // 79 bytes: past the guess
      WireName({std::string(40, 'b'), "default", "svc", "cluster", "local"}),
      WireName({zero, "default", "svc", "cluster", "local"}),
      WireName({zero, "example", "com"}),
      WireName({std::string(1, '\0'), "cluster", "local"}),
      WireName({"x", std::string(5, '\0'), "local"}),
      // The first zero byte ends a 63-byte label at byte 63, and type and class follow it: a
      // 64-byte guess that parses, whose labels jump to byte 64 (a length of 63, not a root).
      Cat(Query{63}, Query(62, 'c'), Query{0}),
      Cat(Query{62}, Query(61, 'c'), Query{0}),  // the same ending at byte 62
  };
  std::vector<Query> queries;
  for (const Query& name : names) {
    for (uint16_t qtype : {records::kTypeA, records::kTypeAaaa, records::kTypeSrv,
                           records::kTypePtr, records::kTypeAny, records::kTypeSoa}) {
      for (bool edns : {false, true}) queries.push_back(QueryFor(name, qtype, edns));
    }
  }
  ExpectSameAnswers(queries, records::RespondOptions{});
  ExpectSameAnswers(queries, Forwarding());
}

// A name the table does not hold has its labels walked in a fixed number of steps when it has
// few enough (respond.cc, ConfirmGuessedName) and label by label otherwise: names of 1 to 14
// labels on each side of that bound, in a served zone (NXDOMAIN, whose SOA points at the zone's
// labels in the question) and outside (REFUSED, or forwarded), up to and past 64 bytes; and
// names whose length bytes jump over their first zero byte to a zero past it.
TEST_F(RespondGuessTest, MissedNamesOfEveryLabelCount) {
  std::vector<Query> names;
  for (size_t count = 1; count <= 14; ++count) {
    for (size_t label_len : {1, 3, 6}) {
      for (const std::vector<std::string>& zone :
           {std::vector<std::string>{"cluster", "local"}, std::vector<std::string>{"com"},
            std::vector<std::string>{}}) {
        std::vector<std::string> labels(count, std::string(label_len, 'q'));
        labels.insert(labels.end(), zone.begin(), zone.end());
        names.push_back(WireName(labels));
      }
    }
  }
  for (uint8_t jump : {2, 5, 9, 20, 40, 63}) {
    names.push_back(Cat(WireName({"a", "b"}), Query{jump, 'x', 'y'}, Query{0, 0}));
    names.push_back(Cat(Query{3, 'a', 'b', 'c', jump}, Query(3, 'z'), Query{0}));
  }
  std::vector<Query> queries;
  for (const Query& name : names) {
    for (bool edns : {false, true}) queries.push_back(QueryFor(name, records::kTypeA, edns));
  }
  ExpectSameAnswers(queries, records::RespondOptions{});
  ExpectSameAnswers(queries, Forwarding());
}

// Bases whose names end inside the guess's 64 bytes, with and without EDNS.
std::vector<Query> Bases() {
  QueryOptions edns;
  edns.edns = true;
  return {BuildQuery("redis-master.default.svc.cluster.local", records::kTypeA, edns),
          BuildQuery("_dns._udp.kube-dns.kube-system.svc.cluster.local", records::kTypeSrv),
          BuildQuery("nothing.default.svc.cluster.local", records::kTypeA, edns)};
}

TEST_F(RespondGuessTest, EverySingleByteChange) {
  std::vector<Query> queries;
  for (const Query& base : Bases()) {
    for (size_t i = 0; i < base.size(); ++i) {
      for (int v : {0x00, 0x01, 0x02, 0x05, 0x07, 0x3f, 0x40, 0x41, 0x7f, 0x80, 0xc0, 0xff}) {
        Query q = base;
        q[i] = static_cast<uint8_t>(v);
        queries.push_back(q);
      }
      Query q = base;
      q[i] ^= 0x20;  // case, where it is a letter
      queries.push_back(q);
    }
  }
  ExpectSameAnswers(queries, records::RespondOptions{});
  ExpectSameAnswers(queries, Forwarding());
}

TEST_F(RespondGuessTest, EveryTruncation) {
  std::vector<Query> queries;
  for (const Query& base : Bases()) {
    for (size_t len = 0; len <= base.size(); ++len) {
      queries.emplace_back(base.begin(), base.begin() + static_cast<long>(len));
    }
  }
  ExpectSameAnswers(queries, records::RespondOptions{});
}

}  // namespace
}  // namespace clusterdns::testing
