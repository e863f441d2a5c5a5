// The listeners' side of forwarding (--upstream): a query for a name in no served zone goes to
// the QueryForwarder with the client's bytes and transport, and its reply, delivered later from
// another thread, reaches the client: over UDP from the queried socket, over TCP on the same
// connection, out of order with the table's own answers (RFC 7766 section 7), and after the
// client half-closed. Without a forwarder, or when it refuses, the query is dropped and counted.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <condition_variable>
#include <mutex>
#include <thread>

#include "controlplane/listen/query_forwarder.h"
#include "records/dns_constants.h"
#include "tests/controlplane/listen/listen_test_util.h"
#include "tests/support/dns_query_builder.h"

namespace clusterdns::testing {
namespace {

// Holds every forwarded query until the test releases it; answers it on its own thread with a
// copy of the query marked as a response with one fixed A record's worth of change: QR set and
// rcode NXDOMAIN (enough to tell it from anything the table says).
class FakeForwarder : public controlplane::QueryForwarder {
 public:
  ~FakeForwarder() override { ReleaseAll(); }
  bool Forward(std::vector<uint8_t> query, records::Transport transport, Reply reply) override {
    if (refuse) return false;
    std::lock_guard<std::mutex> lock(mu_);
    held_.push_back({std::move(query), transport, std::move(reply)});
    cv_.notify_all();
    return true;
  }
  bool WaitHeld(size_t n) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, std::chrono::seconds(2), [&] { return held_.size() >= n; });
  }
  // Answers everything held, from another thread (as the real forwarder does).
  void ReleaseAll() {
    std::vector<Held> held;
    {
      std::lock_guard<std::mutex> lock(mu_);
      held.swap(held_);
    }
    std::thread([&held] {
      for (Held& h : held) {
        std::vector<uint8_t> reply = h.query;
        reply[2] |= 0x80;                             // QR
        reply[3] = (reply[3] & 0xf0) | records::kRcodeNxDomain;
        h.reply(reply);
      }
    }).join();
  }
  std::vector<records::Transport> transports() {
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<records::Transport> out;
    for (const Held& h : held_) out.push_back(h.transport);
    return out;
  }
  bool refuse = false;

 private:
  struct Held {
    std::vector<uint8_t> query;
    records::Transport transport;
    Reply reply;
  };
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Held> held_;
};

class ForwardingTest : public ListenerTest {
 protected:
  void StartForwarding() {
    controlplane::DnsListenerOptions options;
    options.respond.refuse_outside_zones = false;
    options.forwarder = &forwarder_;
    StartListeners({"127.0.0.1:0"}, options);
  }
  void TearDown() override {
    forwarder_.ReleaseAll();  // as the App stops the forwarder before the listeners
    ListenerTest::TearDown();
  }
  FakeForwarder forwarder_;
};

TEST_F(ForwardingTest, UdpQueryGoesToTheForwarderAndItsReplyToTheClient) {
  StartForwarding();
  UdpClient client(Bound());
  ASSERT_TRUE(client.ok());
  const std::vector<uint8_t> query = BuildQuery("WwW.ExAmPlE.TeSt", records::kTypeA);
  ASSERT_TRUE(client.Send(query));
  ASSERT_TRUE(forwarder_.WaitHeld(1));
  EXPECT_THAT(forwarder_.transports(), ::testing::ElementsAre(records::Transport::kUdp));
  EXPECT_FALSE(client.Receive(100).has_value()) << "nothing before the forwarder answers";
  forwarder_.ReleaseAll();
  auto reply = client.Receive();
  ASSERT_TRUE(reply.has_value());
  ASSERT_EQ(reply->size(), query.size());
  EXPECT_TRUE(std::equal(query.begin() + 4, query.end(), reply->begin() + 4))
      << "the client's own question bytes (case kept) come back";
  EXPECT_EQ(DecodeOrFail(*reply).rcode, records::kRcodeNxDomain);
  EXPECT_EQ(listeners_->udp_stats()[0]->forwarded.load(), 1u);
}

TEST_F(ForwardingTest, TcpTableAnswersAreNotHeldBehindAForwardedQuery) {
  StartForwarding();
  TcpClient client(Bound());
  ASSERT_TRUE(client.ok());
  const std::vector<uint8_t> outside = BuildQuery("example.test", records::kTypeA);
  const std::vector<uint8_t> inside =
      BuildQuery("redis-master.default.svc.cluster.local", records::kTypeA);
  ASSERT_TRUE(client.SendFrame(outside));
  ASSERT_TRUE(client.SendFrame(inside));
  // The table's answer to the second query is not held back by the first one's forwarding.
  auto first = client.ReadFrame();
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(DecodeOrFail(*first).rcode, records::kRcodeNoError);
  ASSERT_TRUE(forwarder_.WaitHeld(1));
  EXPECT_THAT(forwarder_.transports(), ::testing::ElementsAre(records::Transport::kTcp));
  forwarder_.ReleaseAll();
  auto second = client.ReadFrame();
  ASSERT_TRUE(second.has_value());
  EXPECT_EQ(DecodeOrFail(*second).rcode, records::kRcodeNxDomain);
  EXPECT_EQ((*second)[0], outside[0]);
  EXPECT_EQ((*second)[1], outside[1]);
  EXPECT_TRUE(Eventually([&] { return listeners_->tcp_stats()[0]->forwarded_replies.load() == 1; }));
}

TEST_F(ForwardingTest, HalfClosedTcpClientStillGetsItsForwardedReply) {
  StartForwarding();
  TcpClient client(Bound());
  ASSERT_TRUE(client.ok());
  ASSERT_TRUE(client.SendFrame(BuildQuery("example.test", records::kTypeTxt)));
  client.ShutdownWrite();
  ASSERT_TRUE(forwarder_.WaitHeld(1));
  ::usleep(50 * 1000);  // the listener sees the EOF first
  forwarder_.ReleaseAll();
  auto reply = client.ReadFrame();
  ASSERT_TRUE(reply.has_value()) << "the connection closed before the forwarded reply";
  EXPECT_EQ(DecodeOrFail(*reply).rcode, records::kRcodeNxDomain);
  EXPECT_TRUE(client.WaitClosed(2000)) << "and then it closes: everything asked is answered";
}

// A client that closes with a query at the forwarder: its connection is kept (an EOF may be a
// half-close) until the reply comes, then it goes.
TEST_F(ForwardingTest, ClosedClientConnectionEndsOnceTheReplyComes) {
  StartForwarding();
  {
    TcpClient client(Bound());
    ASSERT_TRUE(client.ok());
    ASSERT_TRUE(client.SendFrame(BuildQuery("example.test", records::kTypeA)));
    ASSERT_TRUE(forwarder_.WaitHeld(1));
  }  // closed
  forwarder_.ReleaseAll();
  EXPECT_TRUE(Eventually([&] { return listeners_->tcp_stats()[0]->open.load() == 0; }));
}

// A connection the listener closed (a bad frame after the forwarded query): the reply has
// nowhere to go; dropped and counted.
TEST_F(ForwardingTest, ReplyForAConnectionClosedMeanwhileIsDroppedAndCounted) {
  StartForwarding();
  TcpClient client(Bound());
  ASSERT_TRUE(client.ok());
  ASSERT_TRUE(client.SendFrame(BuildQuery("example.test", records::kTypeA)));
  ASSERT_TRUE(forwarder_.WaitHeld(1));
  ASSERT_TRUE(client.SendFrame({1, 2, 3}));  // shorter than a header: the connection is closed
  ASSERT_TRUE(client.WaitClosed(2000));
  forwarder_.ReleaseAll();
  EXPECT_TRUE(Eventually([&] { return listeners_->tcp_stats()[0]->forwarded_orphans.load() == 1; }));
}

TEST_F(ForwardingTest, RefusedByTheForwarderIsDroppedAndCounted) {
  forwarder_.refuse = true;
  StartForwarding();
  UdpClient client(Bound());
  ASSERT_TRUE(client.ok());
  ASSERT_TRUE(client.Send(BuildQuery("example.test", records::kTypeA)));
  EXPECT_FALSE(client.Receive(200).has_value());
  EXPECT_TRUE(Eventually([&] { return listeners_->udp_stats()[0]->forward_dropped.load() == 1; }));
  EXPECT_EQ(listeners_->udp_stats()[0]->forwarded.load(), 0u);
}

}  // namespace
}  // namespace clusterdns::testing
