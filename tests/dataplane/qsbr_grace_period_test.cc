// QsbrGracePeriod: the writer waits for online readers only, and a TablePublisher built on it
// frees a retired table only after every online reader has reported a quiescent state. No EAL:
// rte_rcu_qsbr works on ordinary memory, readers here are std::threads standing in for lcores.
#include "dataplane/qsbr_grace_period.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <thread>

#include "records/table_publisher.h"
#include "tests/records/kube_dns_cluster.h"

namespace clusterdns::dataplane {
namespace {

// How long a test lets a writer run before concluding it is blocked: long enough that a writer
// that should have returned has, short enough to keep the suite fast.
constexpr auto kBlockedFor = std::chrono::milliseconds(50);

TEST(QsbrGracePeriod, RejectsZeroReaders) { EXPECT_FALSE(QsbrGracePeriod::Create(0).ok()); }

TEST(QsbrGracePeriod, OfflineReadersNeverDelayTheWriter) {
  auto grace = QsbrGracePeriod::Create(4);
  ASSERT_TRUE(grace.ok()) << grace.status();
  (*grace)->Synchronize();  // every reader registered, none online: returns at once
  (*grace)->Online(2);
  (*grace)->Offline(2);
  (*grace)->Synchronize();
}

TEST(QsbrGracePeriod, WaitsUntilAnOnlineReaderIsQuiescent) {
  auto grace = QsbrGracePeriod::Create(2);
  ASSERT_TRUE(grace.ok());
  QsbrGracePeriod& g = **grace;
  g.Online(1);
  std::atomic<bool> done{false};
  std::thread writer([&] {
    g.Synchronize();
    done.store(true);
  });
  std::this_thread::sleep_for(kBlockedFor);
  EXPECT_FALSE(done.load()) << "Synchronize returned while reader 1 was inside its loop";
  g.Quiescent(1);
  writer.join();
  EXPECT_TRUE(done.load());
  g.Offline(1);
}

TEST(QsbrGracePeriod, GoingOfflineEndsTheWait) {
  auto grace = QsbrGracePeriod::Create(1);
  ASSERT_TRUE(grace.ok());
  QsbrGracePeriod& g = **grace;
  g.Online(0);
  std::thread writer([&] { g.Synchronize(); });
  std::this_thread::sleep_for(kBlockedFor);
  g.Offline(0);  // a stopping worker
  writer.join();
}

TEST(QsbrGracePeriod, PublisherFreesTheOldTableOnlyAfterEveryReaderMovedOn) {
  auto grace = QsbrGracePeriod::Create(2);
  ASSERT_TRUE(grace.ok());
  QsbrGracePeriod& g = **grace;
  records::TablePublisher publisher(&g);
  std::weak_ptr<const records::AnswerTable> first;
  {
    auto table = testing::KubeDnsBuilder()->Build();
    first = table;
    publisher.Publish(std::move(table));  // no reader online yet
  }
  g.Online(0);
  g.Online(1);
  const records::AnswerTable* seen = publisher.Current();  // reader 0 holds the first table
  ASSERT_EQ(seen, first.lock().get());
  g.Quiescent(1);  // reader 1 is between bursts

  std::atomic<bool> published{false};
  std::thread writer([&] {
    publisher.Publish(testing::KubeDnsBuilder()->Build());
    published.store(true);
  });
  std::this_thread::sleep_for(kBlockedFor);
  EXPECT_FALSE(published.load());
  EXPECT_FALSE(first.expired()) << "the table reader 0 is using was freed";
  EXPECT_NE(publisher.Current(), seen) << "the new table is current while the writer waits";
  g.Quiescent(0);  // reader 0 finished its burst; reader 1 never reported again
  g.Offline(1);
  writer.join();
  EXPECT_TRUE(published.load());
  EXPECT_TRUE(first.expired());
  g.Offline(0);
}

}  // namespace
}  // namespace clusterdns::dataplane
