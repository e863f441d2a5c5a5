// Test helpers for controlplane/listen: loopback DNS clients over UDP and TCP (blocking sockets
// with poll() timeouts, so a missing answer fails the test instead of hanging it), and a fixture
// that publishes the kube-dns cluster (tests/records/kube_dns_cluster.h) through a real
// TablePublisher + EpochGracePeriod and binds DnsListeners on port 0.
//
// Every client closes its socket in its destructor; the fixture stops the listeners in TearDown
// (and its members are destroyed listeners-first), so a failing test leaves no thread behind.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "controlplane/listen/dns_listeners.h"
#include "controlplane/listen/listen_address.h"
#include "controlplane/listen/unique_fd.h"
#include "records/table_builder.h"
#include "records/table_publisher.h"
#include "tests/support/dns_message.h"

namespace clusterdns::testing {

using controlplane::ListenAddress;
using controlplane::ReadCounter;

// A UDP socket connected to `server`.
class UdpClient {
 public:
  explicit UdpClient(const ListenAddress& server, int receive_buffer_bytes = 0);
  bool ok() const { return fd_.valid(); }
  int fd() const { return fd_.get(); }
  bool Send(const std::vector<uint8_t>& datagram);
  // The next datagram, or nullopt after `timeout_ms` without one.
  std::optional<std::vector<uint8_t>> Receive(int timeout_ms = 1000);

 private:
  controlplane::UniqueFd fd_;
};

// A TCP connection to `server` (blocking connect; options applied before it).
struct TcpClientOptions {
  int receive_buffer_bytes = 0;  // 0: kernel default
  int send_buffer_bytes = 0;
  bool no_delay = true;          // TCP_NODELAY: each Send leaves as its own segment(s)
};
class TcpClient {
 public:
  explicit TcpClient(const ListenAddress& server, const TcpClientOptions& options = {});
  bool ok() const { return fd_.valid(); }
  int fd() const { return fd_.get(); }
  bool SendAll(const std::vector<uint8_t>& bytes);
  bool SendFrame(const std::vector<uint8_t>& message);  // with the 2-byte length
  // Reads one length-prefixed message, or nullopt on timeout, EOF or error.
  std::optional<std::vector<uint8_t>> ReadFrame(int timeout_ms = 1000);
  // True if the server closes the connection within `timeout_ms` (EOF or reset); bytes that
  // arrive before are discarded.
  bool WaitClosed(int timeout_ms);
  void ShutdownWrite();
  void Close() { fd_.Reset(); }

 private:
  bool ReadExactly(uint8_t* out, size_t n, int timeout_ms);
  controlplane::UniqueFd fd_;
};

// The 2-byte length prefix and the message.
std::vector<uint8_t> Framed(const std::vector<uint8_t>& message);

// Decodes with the strict decoder of tests/support; fails the test if it is malformed.
DecodedMessage DecodeOrFail(const std::vector<uint8_t>& bytes);
// The answer section as "name ttl IN TYPE rdata" lines.
std::vector<std::string> Answers(const DecodedMessage& m);

// Polls `condition` every millisecond until it holds or `timeout_ms` passes.
template <typename F>
bool Eventually(F condition, int timeout_ms = 2000);

class ListenerTest : public ::testing::Test {
 protected:
  void SetUp() override;
  void TearDown() override;

  // Binds and starts DnsListeners on `addresses` (port 0); fails the test on error.
  void StartListeners(const std::vector<std::string>& addresses = {"127.0.0.1:0"},
                      controlplane::DnsListenerOptions options = {});
  const ListenAddress& Bound(size_t i = 0) const { return bound_.at(i); }
  // Rebuilds and publishes the table after changing `builder_`.
  void Republish();

  records::EpochGracePeriod grace_{8};
  records::TablePublisher publisher_{&grace_};
  std::unique_ptr<records::TableBuilder> builder_;
  std::vector<ListenAddress> bound_;
  std::unique_ptr<controlplane::DnsListeners> listeners_;  // last: destroyed first
};

// ---- implementation of the template ----
template <typename F>
bool Eventually(F condition, int timeout_ms) {
  for (int waited = 0; waited <= timeout_ms; ++waited) {
    if (condition()) return true;
    ::usleep(1000);
  }
  return condition();
}

}  // namespace clusterdns::testing
