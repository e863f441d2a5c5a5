// Tests of MemifPair (memif_pair.h) under an EAL of the test's own: --no-pci --no-huge, no
// shared config, a file prefix unique to the process. The only ethdevs are the pairs' memif
// vdevs, connected to each other over an abstract socket of the process; nothing leaves it.
// Root, as every DPDK test here (the EAL's runtime directory).
#include "bench/dataplane/memif_pair.h"

#include <gtest/gtest.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <unistd.h>

#include <memory>
#include <string>

#include "dataplane/eal.h"

namespace clusterdns::bench {
namespace {

class MemifPairTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto eal = dataplane::InitEal({"--no-pci", "--no-huge", "-m", "128", "--no-shconf",
                                   "--no-telemetry",
                                   "--file-prefix=cdns-memif-test-" + std::to_string(getpid()),
                                   "-l", "0"});
    ASSERT_TRUE(eal.ok()) << eal.status();
    eal_ = new dataplane::EalHandle(std::move(*eal));
  }
  static void TearDownTestSuite() {
    delete eal_;  // rte_eal_cleanup, after every pair has stopped
    eal_ = nullptr;
  }

  static dataplane::EalHandle* eal_;
};

dataplane::EalHandle* MemifPairTest::eal_ = nullptr;

// The worker's first transmit must find room at once: until the client has received once, the
// server-to-client ring has no posted buffers and memif refuses the whole burst (worker_bench
// then counted the burst as dropped, 2 runs in 120).
TEST_F(MemifPairTest, TheWorkerCanSendItsFirstBurstRightAfterCreate) {
  absl::StatusOr<std::unique_ptr<MemifPair>> pair = MemifPair::Create(512, 0);
  ASSERT_TRUE(pair.ok()) << pair.status();
  MemifPair& p = **pair;
  EXPECT_STREQ(p.kind(), "net_memif");

  constexpr uint16_t kBurst = 32;
  rte_mbuf* out[kBurst];
  ASSERT_EQ(rte_pktmbuf_alloc_bulk(p.pool(), out, kBurst), 0);
  for (rte_mbuf* m : out) {
    char* data = rte_pktmbuf_append(m, 60);
    ASSERT_NE(data, nullptr);
    std::fill(data, data + 60, 0x5a);
  }
  EXPECT_EQ(rte_eth_tx_burst(p.worker_port(), 0, out, kBurst), kBurst);

  // The copies arrive on the generator's side, byte for byte.
  uint16_t received = 0;
  for (int polls = 0; received < kBurst && polls < 1000; ++polls) {
    rte_mbuf* in[kBurst];
    const uint16_t n = rte_eth_rx_burst(p.generator_port(), 0, in, kBurst);
    for (uint16_t i = 0; i < n; ++i) {
      EXPECT_EQ(in[i]->data_len, 60);
      EXPECT_EQ(rte_pktmbuf_mtod(in[i], const uint8_t*)[59], 0x5a);
    }
    rte_pktmbuf_free_bulk(in, n);
    received += n;
  }
  EXPECT_EQ(received, kBurst);
  // Every mbuf is back: the transmit freed the sent ones, the test the received ones.
  EXPECT_EQ(p.mbufs_in_pool(), p.pool_size());
  p.Stop();
  p.Stop();  // idempotent
}

TEST_F(MemifPairTest, TwoPairsLiveSideBySide) {
  absl::StatusOr<std::unique_ptr<MemifPair>> a = MemifPair::Create(1024, 1);
  absl::StatusOr<std::unique_ptr<MemifPair>> b = MemifPair::Create(1024, 2);
  ASSERT_TRUE(a.ok()) << a.status();
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_NE((*a)->worker_port(), (*b)->worker_port());
  EXPECT_NE((*a)->generator_port(), (*b)->generator_port());
}

TEST_F(MemifPairTest, RefusesWhatARingCannotHold) {
  EXPECT_EQ(MemifPair::Create(0, 3).status().code(), absl::StatusCode::kInvalidArgument);
  const absl::Status too_many = MemifPair::Create(MemifPair::kMaxInFlight + 1, 3).status();
  EXPECT_EQ(too_many.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(too_many.message().find("16385 frames in flight"), std::string::npos) << too_many;
}

}  // namespace
}  // namespace clusterdns::bench
