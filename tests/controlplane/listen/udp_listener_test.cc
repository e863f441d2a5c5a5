// The UDP side of DnsListeners on loopback: answers, bursts, IPv6, drops, table updates, Stop().
#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <set>
#include <thread>

#include "controlplane/listen/dns_listeners.h"
#include "records/dns_constants.h"
#include "records/query_counters.h"
#include "tests/controlplane/listen/listen_test_util.h"
#include "tests/records/kube_dns_cluster.h"
#include "tests/support/dns_query_builder.h"

namespace clusterdns::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

constexpr char kRedis[] = "redis-master.default.svc.cluster.local";
constexpr char kRedisA[] = "redis-master.default.svc.cluster.local. 30 IN A 10.254.7.160";

QueryOptions WithId(uint16_t id) {
  QueryOptions o;
  o.id = id;
  return o;
}

using UdpListenerTest = ListenerTest;

TEST_F(UdpListenerTest, AnswersAServiceName) {
  StartListeners();
  UdpClient client(Bound());
  ASSERT_TRUE(client.ok());
  ASSERT_TRUE(client.Send(BuildQuery(kRedis, records::kTypeA, WithId(0xbeef))));
  auto reply = client.Receive();
  ASSERT_TRUE(reply.has_value()) << "no answer";
  const DecodedMessage m = DecodeOrFail(*reply);
  EXPECT_EQ(m.id, 0xbeef);
  EXPECT_TRUE(m.qr);
  EXPECT_TRUE(m.aa);
  EXPECT_EQ(m.rcode, records::kRcodeNoError);
  EXPECT_THAT(Answers(m), ElementsAre(kRedisA));

  // Counted (before the reply was sent) in the UDP thread's block, not the TCP one's.
  const auto counters = listeners_->counters();
  ASSERT_EQ(counters.size(), 2u);
  EXPECT_EQ(counters[0]->rcode(records::kRcodeNoError), 1u);
  EXPECT_EQ(counters[0]->qtype(records::QtypeSlot::kA), 1u);
  EXPECT_EQ(counters[1]->replies(), 0u);
  const auto* stats = listeners_->udp_stats()[0];
  EXPECT_EQ(ReadCounter(stats->datagrams), 1u);
  // Counted after sendmmsg returns, so possibly after the client has the reply.
  EXPECT_TRUE(Eventually([&] { return ReadCounter(stats->replies_sent) == 1; }));
}

TEST_F(UdpListenerTest, AnswersEveryQueryOfBursts) {
  StartListeners();
  UdpClient client(Bound(), /*receive_buffer_bytes=*/1 << 20);
  ASSERT_TRUE(client.ok());
  // Windows of 128 queries sent back to back (several recvmmsg batches each), 1024 in all.
  constexpr int kWindow = 128;
  constexpr int kWindows = 8;
  std::set<uint16_t> answered;
  for (int w = 0; w < kWindows; ++w) {
    for (int i = 0; i < kWindow; ++i) {
      const uint16_t id = static_cast<uint16_t>(w * kWindow + i);
      // Alternate a positive and a negative name: both must come back.
      const char* name = i % 2 == 0 ? kRedis : "nope.default.svc.cluster.local";
      ASSERT_TRUE(client.Send(BuildQuery(name, records::kTypeA, WithId(id))));
    }
    for (int i = 0; i < kWindow; ++i) {
      auto reply = client.Receive();
      ASSERT_TRUE(reply.has_value()) << "window " << w << ": only " << i << " answers";
      const DecodedMessage m = DecodeOrFail(*reply);
      EXPECT_EQ(m.rcode, m.id % 2 == 0 ? records::kRcodeNoError : records::kRcodeNxDomain);
      EXPECT_TRUE(answered.insert(m.id).second) << "answered twice: " << m.id;
    }
  }
  EXPECT_EQ(answered.size(), static_cast<size_t>(kWindow * kWindows));
  EXPECT_EQ(listeners_->counters()[0]->replies(), static_cast<uint64_t>(kWindow * kWindows));
  const auto* stats = listeners_->udp_stats()[0];
  EXPECT_LE(ReadCounter(stats->batches), ReadCounter(stats->datagrams));
}

TEST_F(UdpListenerTest, ServesIpv6) {
  StartListeners({"[::1]:0", "127.0.0.1:0"});
  ASSERT_EQ(Bound(0).family(), AF_INET6);
  UdpClient client(Bound(0));
  ASSERT_TRUE(client.ok());
  ASSERT_TRUE(client.Send(BuildQuery("dual.default.svc.cluster.local", records::kTypeAaaa)));
  auto reply = client.Receive();
  ASSERT_TRUE(reply.has_value());
  EXPECT_THAT(Answers(DecodeOrFail(*reply)),
              ElementsAre("dual.default.svc.cluster.local. 30 IN AAAA fd00:10:254::9"));
  // Thread order: [::1] UDP, [::1] TCP, 127.0.0.1 UDP, 127.0.0.1 TCP.
  EXPECT_EQ(listeners_->counters()[0]->replies(), 1u);
  EXPECT_EQ(listeners_->counters()[2]->replies(), 0u);
  EXPECT_EQ(listeners_->reader_count(), 4u);
}

TEST_F(UdpListenerTest, DropsResponsesShortPacketsAndOversizeDatagrams) {
  StartListeners();
  UdpClient client(Bound());
  ASSERT_TRUE(client.ok());
  std::vector<uint8_t> response = BuildQuery(kRedis, records::kTypeA, WithId(1));
  SetFlags(response, records::kFlagQr | records::kFlagRd);
  ASSERT_TRUE(client.Send(response));
  ASSERT_TRUE(client.Send({0x12, 0x34}));
  std::vector<uint8_t> huge = BuildQuery(kRedis, records::kTypeA, WithId(2));
  huge.resize(records::kUdpResponseRoom + 100, 0);  // larger than the slot: MSG_TRUNC
  ASSERT_TRUE(client.Send(huge));
  ASSERT_TRUE(client.Send(BuildQuery(kRedis, records::kTypeA, WithId(3))));

  // Datagrams are handled in order: the first reply is the last query's.
  auto reply = client.Receive();
  ASSERT_TRUE(reply.has_value());
  EXPECT_EQ(DecodeOrFail(*reply).id, 3);
  EXPECT_FALSE(client.Receive(100).has_value());

  const records::QueryCounters& c = *listeners_->counters()[0];
  EXPECT_EQ(ReadCounter(c.drops[static_cast<size_t>(records::DropReason::kResponse)]), 1u);
  EXPECT_EQ(ReadCounter(c.drops[static_cast<size_t>(records::DropReason::kShortHeader)]), 1u);
  EXPECT_EQ(c.replies(), 1u);
  EXPECT_EQ(ReadCounter(listeners_->udp_stats()[0]->oversize), 1u);
  EXPECT_EQ(ReadCounter(listeners_->udp_stats()[0]->datagrams), 4u);
}

TEST_F(UdpListenerTest, RefusesNamesOutsideTheZone) {
  StartListeners();
  UdpClient client(Bound());
  ASSERT_TRUE(client.ok());
  ASSERT_TRUE(client.Send(BuildQuery("example.com", records::kTypeA)));
  auto reply = client.Receive();
  ASSERT_TRUE(reply.has_value());
  const DecodedMessage m = DecodeOrFail(*reply);
  EXPECT_EQ(m.rcode, records::kRcodeRefused);
  EXPECT_THAT(m.answer, IsEmpty());
  EXPECT_EQ(listeners_->counters()[0]->rcode(records::kRcodeRefused), 1u);
}

TEST_F(UdpListenerTest, NewTablesWhileQueriesFlow) {
  StartListeners();
  std::atomic<bool> done{false};
  std::atomic<int> lost{0};
  std::vector<std::string> seen;  // written by the client thread only, read after join
  std::thread client_thread([&] {
    UdpClient client(Bound());
    uint16_t id = 0;
    while (!done.load()) {
      ++id;
      if (!client.Send(BuildQuery(kRedis, records::kTypeA, WithId(id)))) {
        lost.fetch_add(1);
        continue;
      }
      auto reply = client.Receive(1000);
      if (!reply.has_value()) {
        lost.fetch_add(1);
        continue;
      }
      auto m = DecodeMessage(*reply);
      if (!m.ok() || m->id != id || m->answer.size() != 1) {
        seen.push_back("bad reply");
        continue;
      }
      seen.push_back(m->answer[0].rdata_text);
    }
  });
  const char* ips[] = {"10.254.7.161", "10.254.7.160"};
  for (int round = 0; round < 20; ++round) {
    const char* ip = ips[round % 2];
    builder_->UpsertService(
        ClusterIpService("default", "redis-master", {Ip(ip)}, {{"", records::Protocol::kTcp, 6379}}));
    Republish();  // returns after the grace period: the old table is freed
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  builder_->UpsertService(ClusterIpService("default", "redis-master", {Ip("10.254.7.199")},
                                           {{"", records::Protocol::kTcp, 6379}}));
  Republish();
  // Publish returned after the grace period, so every query sent from now on sees the last table.
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  done.store(true);
  client_thread.join();

  EXPECT_EQ(lost.load(), 0);
  ASSERT_GE(seen.size(), 3u);
  std::set<std::string> distinct(seen.begin(), seen.end());
  for (const std::string& s : distinct) {
    EXPECT_TRUE(s == "10.254.7.160" || s == "10.254.7.161" || s == "10.254.7.199") << s;
  }
  EXPECT_TRUE(distinct.count("10.254.7.161")) << "the first new table was never seen";
  EXPECT_EQ(seen.back(), "10.254.7.199");
}

TEST(UdpListenerNoTable, DropsAndCountsUntilTheFirstTable) {
  records::EpochGracePeriod grace(2);
  records::TablePublisher publisher(&grace);
  auto listeners = controlplane::DnsListeners::Bind(
      {*controlplane::ParseListenAddress("127.0.0.1:0")}, &publisher, &grace, 0, {});
  ASSERT_TRUE(listeners.ok()) << listeners.status();
  (*listeners)->Start();
  UdpClient client((*listeners)->bound()[0]);
  ASSERT_TRUE(client.Send(BuildQuery(kRedis, records::kTypeA)));
  EXPECT_FALSE(client.Receive(200).has_value());
  EXPECT_TRUE(Eventually([&] { return ReadCounter((*listeners)->udp_stats()[0]->no_table) == 1; }));

  publisher.Publish(KubeDnsBuilder()->Build());
  ASSERT_TRUE(client.Send(BuildQuery(kRedis, records::kTypeA)));
  auto reply = client.Receive();
  ASSERT_TRUE(reply.has_value());
  EXPECT_THAT(Answers(DecodeOrFail(*reply)), ElementsAre(kRedisA));
  (*listeners)->Stop();
}

TEST_F(UdpListenerTest, StopWhileIdleIsPromptAndClosesTheSockets) {
  StartListeners();
  std::this_thread::sleep_for(std::chrono::milliseconds(20));  // let both threads block
  const auto start = std::chrono::steady_clock::now();
  listeners_->Stop();
  const auto took = std::chrono::steady_clock::now() - start;
  EXPECT_LT(took, std::chrono::milliseconds(200));
  listeners_->Stop();  // idempotent

  // The TCP port is closed: connect is refused.
  TcpClient tcp(Bound());
  EXPECT_FALSE(tcp.ok());
  // A publish after Stop does not wait for the stopped (offline) readers.
  Republish();
}

// Bring up `lo` in the calling thread's network namespace.
bool LoopbackUp() {
  controlplane::UniqueFd fd(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  ifreq ifr{};
  std::strncpy(ifr.ifr_name, "lo", IFNAMSIZ - 1);
  if (ioctl(fd.get(), SIOCGIFFLAGS, &ifr) != 0) return false;
  ifr.ifr_flags = static_cast<short>(ifr.ifr_flags | IFF_UP);
  return ioctl(fd.get(), SIOCSIFFLAGS, &ifr) == 0;
}

// A wildcard listener replies from the address the query was sent to (IP_PKTINFO): the client
// below is connected to 127.0.0.2 and would discard a reply from 127.0.0.1. Runs in a network
// namespace of its own (this thread only), so the wildcard bind is seen by nothing else.
TEST_F(UdpListenerTest, WildcardBindRepliesFromTheQueriedAddress) {
  bool skipped = false;
  std::thread worker([&] {
    if (::unshare(CLONE_NEWNET) != 0 || !LoopbackUp()) {
      skipped = true;
      return;
    }
    StartListeners({"0.0.0.0:0"});
    if (HasFatalFailure()) return;
    controlplane::UniqueFd fd(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    sockaddr_in local{};
    local.sin_family = AF_INET;
    local.sin_addr.s_addr = inet_addr("127.0.0.1");
    ASSERT_EQ(::bind(fd.get(), reinterpret_cast<sockaddr*>(&local), sizeof(local)), 0);
    sockaddr_in server{};
    server.sin_family = AF_INET;
    server.sin_addr.s_addr = inet_addr("127.0.0.2");
    server.sin_port = htons(Bound().port());
    ASSERT_EQ(::connect(fd.get(), reinterpret_cast<sockaddr*>(&server), sizeof(server)), 0);
    const std::vector<uint8_t> query = BuildQuery(kRedis, records::kTypeA);
    ASSERT_EQ(::send(fd.get(), query.data(), query.size(), 0), static_cast<ssize_t>(query.size()));
    pollfd p{fd.get(), POLLIN, 0};
    ASSERT_EQ(::poll(&p, 1, 1000), 1) << "no reply from 127.0.0.2";
    std::vector<uint8_t> reply(2048);
    const ssize_t n = ::recv(fd.get(), reply.data(), reply.size(), 0);
    ASSERT_GT(n, 0);
    reply.resize(static_cast<size_t>(n));
    EXPECT_THAT(Answers(DecodeOrFail(reply)), ElementsAre(kRedisA));
    listeners_->Stop();  // in this thread, while the namespace is still ours
  });
  worker.join();
  if (skipped) GTEST_SKIP() << "needs CAP_SYS_ADMIN for a network namespace";
}

}  // namespace
}  // namespace clusterdns::testing
