// The TCP side of DnsListeners (RFC 7766) on loopback: pipelining, framing split anywhere, bad
// frames, timeouts, the connection cap, back-pressure from a client that does not read, big answers.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>

#include <chrono>
#include <string>
#include <thread>

#include "absl/strings/str_cat.h"
#include "controlplane/listen/dns_listeners.h"
#include "controlplane/listen/tcp_connection.h"
#include "records/dns_constants.h"
#include "tests/controlplane/listen/listen_test_util.h"
#include "tests/records/kube_dns_cluster.h"
#include "tests/support/dns_query_builder.h"

namespace clusterdns::testing {
namespace {

using controlplane::TcpCloseReason;
using ::testing::ElementsAre;
using ::testing::IsEmpty;
using Clock = std::chrono::steady_clock;

constexpr char kRedis[] = "redis-master.default.svc.cluster.local";
constexpr char kRedisA[] = "redis-master.default.svc.cluster.local. 30 IN A 10.254.7.160";
constexpr char kKubeDns[] = "kube-dns.kube-system.svc.cluster.local";
constexpr char kKubeDnsA[] = "kube-dns.kube-system.svc.cluster.local. 30 IN A 10.254.0.3";

QueryOptions WithId(uint16_t id) {
  QueryOptions o;
  o.id = id;
  return o;
}

std::vector<uint8_t> Concat(std::vector<uint8_t> a, const std::vector<uint8_t>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

class TcpListenerTest : public ListenerTest {
 protected:
  const controlplane::TcpListenerStats& tcp_stats() const { return *listeners_->tcp_stats()[0]; }
  uint64_t Closed(TcpCloseReason reason) const { return tcp_stats().closed_for(reason); }

  // A headless Service default/big with `endpoints` ready endpoints: its A answer is ~16 bytes
  // per endpoint.
  void AddBigService(int endpoints) {
    records::Service big;
    big.ns = "default";
    big.name = "big";
    big.headless = true;
    big.ports = {{"http", records::Protocol::kTcp, 80}};
    builder_->UpsertService(big);
    records::EndpointSlice slice;
    slice.ns = "default";
    slice.name = "big-1";
    slice.service_name = "big";
    for (int i = 0; i < endpoints; ++i) {
      records::Endpoint e;
      e.addresses = {Ip(absl::StrCat("10.244.", 10 + i / 250, ".", i % 250).c_str())};
      e.ready = true;
      slice.endpoints.push_back(e);
    }
    slice.ports = {{"http", records::Protocol::kTcp, 80}};
    builder_->UpsertSlice(slice);
    Republish();
  }

  // One query over `client`, answered in time and well formed.
  void ExpectAnswer(TcpClient& client, const char* name, const char* answer, uint16_t id = 7) {
    ASSERT_TRUE(client.SendFrame(BuildQuery(name, records::kTypeA, WithId(id))));
    auto reply = client.ReadFrame();
    ASSERT_TRUE(reply.has_value()) << "no answer for " << name;
    const DecodedMessage m = DecodeOrFail(*reply);
    EXPECT_EQ(m.id, id);
    EXPECT_THAT(Answers(m), ElementsAre(answer));
  }
};

TEST_F(TcpListenerTest, AnswersTwoPipelinedQueriesInOrder) {
  StartListeners();
  TcpClient client(Bound());
  ASSERT_TRUE(client.ok());
  ASSERT_TRUE(client.SendAll(Concat(Framed(BuildQuery(kRedis, records::kTypeA, WithId(1))),
                                    Framed(BuildQuery(kKubeDns, records::kTypeA, WithId(2))))));
  auto first = client.ReadFrame();
  auto second = client.ReadFrame();
  ASSERT_TRUE(first.has_value() && second.has_value());
  const DecodedMessage m1 = DecodeOrFail(*first);
  const DecodedMessage m2 = DecodeOrFail(*second);
  EXPECT_EQ(m1.id, 1);
  EXPECT_THAT(Answers(m1), ElementsAre(kRedisA));
  EXPECT_EQ(m2.id, 2);
  EXPECT_THAT(Answers(m2), ElementsAre(kKubeDnsA));
  // Counted in the TCP thread's block.
  EXPECT_EQ(listeners_->counters()[1]->replies(), 2u);
  EXPECT_EQ(listeners_->counters()[0]->replies(), 0u);
  EXPECT_EQ(ReadCounter(tcp_stats().accepted), 1u);
  EXPECT_EQ(ReadCounter(tcp_stats().open), 1u);
}

TEST_F(TcpListenerTest, PipelineLimitYieldsButAnswersEverythingInOrder) {
  controlplane::DnsListenerOptions options;
  options.max_tcp_pipeline = 3;
  StartListeners({"127.0.0.1:0"}, options);
  TcpClient client(Bound());
  ASSERT_TRUE(client.ok());
  std::vector<uint8_t> burst;
  constexpr int kQueries = 200;
  for (int i = 0; i < kQueries; ++i) {
    burst = Concat(std::move(burst), Framed(BuildQuery(kRedis, records::kTypeA, WithId(i))));
  }
  ASSERT_TRUE(client.SendAll(burst));
  for (int i = 0; i < kQueries; ++i) {
    auto reply = client.ReadFrame();
    ASSERT_TRUE(reply.has_value()) << "answer " << i;
    EXPECT_EQ(DecodeOrFail(*reply).id, i);
  }
}

TEST_F(TcpListenerTest, ReassemblesAQuerySentByteByByte) {
  StartListeners();
  TcpClient client(Bound());
  ASSERT_TRUE(client.ok());
  const std::vector<uint8_t> frame = Framed(BuildQuery(kRedis, records::kTypeA, WithId(9)));
  for (uint8_t byte : frame) {
    ASSERT_TRUE(client.SendAll({byte}));
    std::this_thread::sleep_for(std::chrono::microseconds(500));  // separate segments (NODELAY)
  }
  auto reply = client.ReadFrame();
  ASSERT_TRUE(reply.has_value());
  const DecodedMessage m = DecodeOrFail(*reply);
  EXPECT_EQ(m.id, 9);
  EXPECT_THAT(Answers(m), ElementsAre(kRedisA));
  // Then a second query on the same connection.
  ExpectAnswer(client, kKubeDns, kKubeDnsA);
}

TEST_F(TcpListenerTest, ZeroLengthFrameClosesOnlyThatConnection) {
  StartListeners();
  TcpClient good(Bound());
  TcpClient bad(Bound());
  ASSERT_TRUE(good.ok() && bad.ok());
  ExpectAnswer(good, kRedis, kRedisA);
  ASSERT_TRUE(bad.SendAll({0, 0}));
  EXPECT_TRUE(bad.WaitClosed(1000));
  ExpectAnswer(good, kKubeDns, kKubeDnsA);
  EXPECT_EQ(Closed(TcpCloseReason::kBadFrame), 1u);
}

TEST_F(TcpListenerTest, FrameShorterThanAHeaderCloses) {
  StartListeners();
  TcpClient bad(Bound());
  ASSERT_TRUE(bad.ok());
  ASSERT_TRUE(bad.SendAll({0, 11, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}));
  EXPECT_TRUE(bad.WaitClosed(1000));
  EXPECT_TRUE(Eventually([&] { return Closed(TcpCloseReason::kBadFrame) == 1; }));
}

TEST_F(TcpListenerTest, ClosesIdleConnections) {
  controlplane::DnsListenerOptions options;
  options.tcp_idle_timeout = absl::Milliseconds(200);
  StartListeners({"127.0.0.1:0"}, options);
  TcpClient client(Bound());
  ASSERT_TRUE(client.ok());
  ExpectAnswer(client, kRedis, kRedisA);
  const Clock::time_point start = Clock::now();
  EXPECT_TRUE(client.WaitClosed(2000));
  const auto waited = Clock::now() - start;
  EXPECT_GE(waited, std::chrono::milliseconds(150));
  EXPECT_LT(waited, std::chrono::milliseconds(1000));
  EXPECT_TRUE(Eventually([&] { return Closed(TcpCloseReason::kIdle) == 1; }));
  EXPECT_EQ(ReadCounter(tcp_stats().open), 0u);
}

TEST_F(TcpListenerTest, ClosesAClientStalledMidFrame) {
  controlplane::DnsListenerOptions options;
  options.tcp_read_timeout = absl::Milliseconds(200);
  options.tcp_idle_timeout = absl::Seconds(5);
  StartListeners({"127.0.0.1:0"}, options);
  TcpClient stalled(Bound());
  TcpClient healthy(Bound());
  ASSERT_TRUE(stalled.ok() && healthy.ok());
  const std::vector<uint8_t> frame = Framed(BuildQuery(kRedis, records::kTypeA));
  ASSERT_TRUE(stalled.SendAll({frame.begin(), frame.begin() + 5}));
  const Clock::time_point start = Clock::now();
  EXPECT_TRUE(stalled.WaitClosed(2000));
  const auto waited = Clock::now() - start;
  EXPECT_GE(waited, std::chrono::milliseconds(150));
  EXPECT_LT(waited, std::chrono::milliseconds(1000));
  EXPECT_TRUE(Eventually([&] { return Closed(TcpCloseReason::kReadTimeout) == 1; }));
  // The other connection, idle for as long, is under the (longer) idle timeout and still served.
  ExpectAnswer(healthy, kRedis, kRedisA);
}

TEST_F(TcpListenerTest, ConnectionsBeyondTheCapAreClosedAtOnce) {
  controlplane::DnsListenerOptions options;
  options.max_tcp_connections = 2;
  StartListeners({"127.0.0.1:0"}, options);
  TcpClient a(Bound());
  TcpClient b(Bound());
  ASSERT_TRUE(a.ok() && b.ok());
  ExpectAnswer(a, kRedis, kRedisA);
  ExpectAnswer(b, kRedis, kRedisA);
  TcpClient c(Bound());
  ASSERT_TRUE(c.ok());  // the kernel completes the handshake; we accept and close
  EXPECT_TRUE(c.WaitClosed(1000));
  EXPECT_EQ(Closed(TcpCloseReason::kCap), 1u);
  ExpectAnswer(a, kKubeDns, kKubeDnsA);
  // A slot frees when a client leaves.
  b.Close();
  ASSERT_TRUE(Eventually([&] { return Closed(TcpCloseReason::kPeerClosed) == 1; }));
  TcpClient d(Bound());
  ExpectAnswer(d, kKubeDns, kKubeDnsA);
  EXPECT_EQ(ReadCounter(tcp_stats().accepted), 4u);
}

TEST_F(TcpListenerTest, AnswersThenClosesAfterTheClientHalfCloses) {
  StartListeners();
  TcpClient client(Bound());
  ASSERT_TRUE(client.ok());
  ASSERT_TRUE(client.SendAll(Concat(Framed(BuildQuery(kRedis, records::kTypeA, WithId(1))),
                                    Framed(BuildQuery(kKubeDns, records::kTypeA, WithId(2))))));
  client.ShutdownWrite();
  auto first = client.ReadFrame();
  auto second = client.ReadFrame();
  ASSERT_TRUE(first.has_value() && second.has_value());
  EXPECT_EQ(DecodeOrFail(*first).id, 1);
  EXPECT_EQ(DecodeOrFail(*second).id, 2);
  EXPECT_TRUE(client.WaitClosed(1000));
  EXPECT_TRUE(Eventually([&] { return Closed(TcpCloseReason::kPeerClosed) == 1; }));
}

TEST_F(TcpListenerTest, ResponseBitQueryIsDroppedButTheConnectionLives) {
  StartListeners();
  TcpClient client(Bound());
  ASSERT_TRUE(client.ok());
  std::vector<uint8_t> response = BuildQuery(kRedis, records::kTypeA, WithId(1));
  SetFlags(response, records::kFlagQr);
  ASSERT_TRUE(client.SendFrame(response));
  ExpectAnswer(client, kRedis, kRedisA, /*id=*/2);  // the first answer is the second query's
  EXPECT_EQ(ReadCounter(listeners_->counters()[1]->drops[static_cast<size_t>(
                records::DropReason::kResponse)]),
            1u);
}

// A client that pipelines queries but never reads: we stop reading from it once its unsent
// responses reach the high-water mark (its sends then block in the kernel), and keep serving others.
TEST_F(TcpListenerTest, ClientThatNeverReadsIsPushedBackAndOthersAreServed) {
  StartListeners();
  TcpClientOptions small;
  small.receive_buffer_bytes = 4096;
  small.send_buffer_bytes = 16384;
  TcpClient greedy(Bound(), small);
  TcpClient polite(Bound());
  ASSERT_TRUE(greedy.ok() && polite.ok());

  const std::vector<uint8_t> frame = Framed(BuildQuery(kRedis, records::kTypeA));
  std::vector<uint8_t> chunk;
  for (int i = 0; i < 64; ++i) chunk = Concat(std::move(chunk), frame);
  size_t sent = 0;  // bytes of the endless stream chunk, chunk, ... taken by the kernel
  const Clock::time_point give_up = Clock::now() + std::chrono::seconds(3);
  bool blocked = false;
  while (Clock::now() < give_up) {
    const size_t offset = sent % chunk.size();  // a partial send continues mid-chunk
    const ssize_t n = ::send(greedy.fd(), chunk.data() + offset, chunk.size() - offset,
                             MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n > 0) {
      sent += static_cast<size_t>(n);
      continue;
    }
    ASSERT_TRUE(n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
        << strerror(errno) << " after " << sent << " bytes";
    pollfd p{greedy.fd(), POLLOUT, 0};
    if (::poll(&p, 1, 300) == 0) {  // no room for 300 ms: the server stopped reading
      blocked = true;
      break;
    }
  }
  EXPECT_TRUE(blocked) << "the server kept reading " << sent << " bytes from a client that never reads";
  EXPECT_GE(ReadCounter(tcp_stats().read_pauses), 1u);
  EXPECT_LE(ReadCounter(tcp_stats().max_write_queue_bytes),
            controlplane::kTcpWriteHighWater + 2 + records::kTcpResponseRoom);
  // Bounded by the high-water mark plus kernel buffers, not by what the client sent.
  EXPECT_LT(sent, size_t{64} << 20);

  ExpectAnswer(polite, kKubeDns, kKubeDnsA);
  ExpectAnswer(polite, kRedis, kRedisA);
}

// Responses that cannot be written for tcp_idle_timeout close the connection (kWriteStalled):
// a client that stops reading does not hold its slot and buffers forever.
TEST_F(TcpListenerTest, ClosesAClientThatStopsReading) {
  controlplane::DnsListenerOptions options;
  options.tcp_idle_timeout = absl::Milliseconds(300);
  AddBigService(1000);
  StartListeners({"127.0.0.1:0"}, options);
  TcpClientOptions small;
  small.receive_buffer_bytes = 4096;
  small.send_buffer_bytes = 16384;
  TcpClient stuck(Bound(), small);
  ASSERT_TRUE(stuck.ok());
  // 4000 answers of ~16 KB: far more than the kernel buffers between us (a few MiB at most),
  // so responses stay queued on our side.
  std::vector<uint8_t> many;
  const std::vector<uint8_t> frame =
      Framed(BuildQuery("big.default.svc.cluster.local", records::kTypeA));
  for (int i = 0; i < 4000; ++i) many.insert(many.end(), frame.begin(), frame.end());
  // Blocks once the server stops reading; fails (reset) once it closes us. Either is fine here.
  const Clock::time_point start = Clock::now();
  (void)stuck.SendAll(many);
  EXPECT_TRUE(stuck.WaitClosed(3000));
  EXPECT_LT(Clock::now() - start, std::chrono::seconds(3));
  EXPECT_TRUE(Eventually([&] { return Closed(TcpCloseReason::kWriteStalled) == 1; }));
  EXPECT_EQ(Closed(TcpCloseReason::kIdle), 0u);
}

// A headless Service with 200 ready endpoints: its A answer (~3.2 KB) does not fit UDP without
// EDNS (TC=1, no answers), and comes back whole over TCP.
TEST_F(TcpListenerTest, BigAnswerIsWholeOverTcpAndTruncatedOverUdp) {
  constexpr int kEndpoints = 200;
  AddBigService(kEndpoints);
  StartListeners();
  const char* name = "big.default.svc.cluster.local";

  UdpClient udp(Bound());
  ASSERT_TRUE(udp.Send(BuildQuery(name, records::kTypeA, WithId(5))));
  auto truncated = udp.Receive();
  ASSERT_TRUE(truncated.has_value());
  const DecodedMessage tc = DecodeOrFail(*truncated);
  EXPECT_TRUE(tc.tc);
  EXPECT_THAT(tc.answer, IsEmpty());
  EXPECT_LE(truncated->size(), records::kMaxUdpPayloadWithoutEdns);

  TcpClient tcp(Bound());
  ASSERT_TRUE(tcp.SendFrame(BuildQuery(name, records::kTypeA, WithId(6))));
  auto whole = tcp.ReadFrame();
  ASSERT_TRUE(whole.has_value());
  const DecodedMessage m = DecodeOrFail(*whole);
  EXPECT_EQ(m.id, 6);
  EXPECT_FALSE(m.tc);
  EXPECT_EQ(m.rcode, records::kRcodeNoError);
  EXPECT_EQ(m.answer.size(), static_cast<size_t>(kEndpoints));
  EXPECT_GT(whole->size(), 3000u);
}

TEST_F(TcpListenerTest, StopClosesOpenConnections) {
  StartListeners();
  TcpClient client(Bound());
  ASSERT_TRUE(client.ok());
  ExpectAnswer(client, kRedis, kRedisA);
  const Clock::time_point start = Clock::now();
  listeners_->Stop();
  EXPECT_LT(Clock::now() - start, std::chrono::milliseconds(200));
  EXPECT_TRUE(client.WaitClosed(1000));
  EXPECT_EQ(Closed(TcpCloseReason::kStopped), 1u);
}

}  // namespace
}  // namespace clusterdns::testing
