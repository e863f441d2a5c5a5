// FakeUpstream: a scriptable DNS upstream on loopback for the forwarder's tests. UDP and TCP on
// the same random port of 127.0.0.1 (or ::1), plus a second UDP socket on another port to send
// answers "from another port"; one thread serves all of them.
//
// What it answers is a Handler: the query bytes in, a list of datagrams (or TCP frames) out, each
// optionally sent from the other port or after a delay. Helpers build the usual answers:
//
//   FakeUpstream up;
//   up.SetHandler([](const std::vector<uint8_t>& q, bool tcp) {
//     return std::vector<FakeUpstream::Reply>{{MakeAnswer(q, {})}};   // one A record
//   });
//   ... forwarder sends to up.address() ...
//   EXPECT_EQ(up.udp_queries().size(), 1u);
//
// Silent by default (the handler returns nothing). Every query received is recorded. Threads:
// SetHandler and the accessors from any thread; the handler runs on the fake's thread. The
// destructor stops the thread and closes every socket, also when a test fails.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "controlplane/forward/upstream_list.h"
#include "controlplane/listen/unique_fd.h"

namespace clusterdns::testing {

using controlplane::UpstreamAddress;

class FakeUpstream {
 public:
  struct Reply {
    std::vector<uint8_t> bytes;
    bool from_other_port = false;  // UDP only: sent from the second socket
    int delay_ms = 0;              // sleep before sending (blocks the fake's thread)
  };
  using Handler = std::function<std::vector<Reply>(const std::vector<uint8_t>& query, bool tcp)>;

  // AF_INET: 127.0.0.1; AF_INET6: ::1. `tcp`: also listen on TCP (else a TCP connect is refused).
  explicit FakeUpstream(int family = AF_INET, bool tcp = true);
  ~FakeUpstream();
  FakeUpstream(const FakeUpstream&) = delete;
  FakeUpstream& operator=(const FakeUpstream&) = delete;

  bool ok() const { return ok_; }
  void SetHandler(Handler handler);
  const UpstreamAddress& address() const { return address_; }

  std::vector<std::vector<uint8_t>> udp_queries() const;
  std::vector<std::vector<uint8_t>> tcp_queries() const;
  size_t udp_count() const;

 private:
  void Run();
  void ServeUdp();
  void ServeTcp();

  bool ok_ = false;
  UpstreamAddress address_;
  controlplane::UniqueFd udp_;
  controlplane::UniqueFd other_;  // the "other port" socket
  controlplane::UniqueFd tcp_;
  controlplane::UniqueFd stop_;   // eventfd
  mutable std::mutex mutex_;
  Handler handler_;
  std::vector<std::vector<uint8_t>> udp_queries_;
  std::vector<std::vector<uint8_t>> tcp_queries_;
  std::thread thread_;
};

// How MakeAnswer answers a query.
struct AnswerSpec {
  int a_records = 1;               // A records 198.18.100.1, .2, ... (owner: pointer to the qname)
  uint8_t first_octet = 1;         // last octet of the first address
  bool tc = false;                 // set TC
  bool lowercase_question = false; // echo the question lowered (an upstream that folds case)
  std::optional<uint16_t> id;      // instead of the query's ID
  std::optional<std::string> qname;  // instead of the query's question name
  bool qr = true;
  // The OPT to put in the additional section; empty: a plain one (udp 1232) if the query had OPT.
  std::vector<uint8_t> opt;
};

// An answer to `query` (which must decode) as the spec says.
std::vector<uint8_t> MakeAnswer(const std::vector<uint8_t>& query, const AnswerSpec& spec);

// A UDP port on `family`'s loopback where nothing listens (bound, then closed): sending there
// draws an ICMP port unreachable.
UpstreamAddress ClosedUdpPort(int family = AF_INET);

}  // namespace clusterdns::testing
