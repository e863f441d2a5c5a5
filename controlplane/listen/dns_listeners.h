// DnsListeners: every --listen=ADDR:PORT of the process, served over kernel sockets (UDP and TCP)
// from the same published tables as the dataplane, through the same respond().
//
//   records::EpochGracePeriod grace(kReaders);           // kReaders >= first_reader_id + reader_count()
//   records::TablePublisher publisher(&grace);
//   auto listeners = DnsListeners::Bind({*ParseListenAddress("198.18.0.1:53")}, &publisher, &grace,
//                                       /*first_reader_id=*/0, DnsListenerOptions{});
//   if (!listeners.ok()) { /* "--listen 198.18.0.1:53: bind udp: Address already in use" */ }
//   (*listeners)->Start();
//   ...
//   (*listeners)->Stop();                                 // or let the destructor do it
//
// Threads: one UDP thread and one TCP thread per address (see udp_listener.h, tcp_listener.h),
// thread k using grace reader id first_reader_id + k, in the order of counters(). Bind, Start and
// Stop are called from one control thread; counters(), udp_stats(), tcp_stats() and threads()
// return pointers valid for the object's lifetime, readable from any thread at any time.
// `publisher` and `grace` must outlive this object.
#pragma once

#include <cstddef>
#include <memory>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "controlplane/listen/listen_address.h"
#include "controlplane/listen/listen_options.h"
#include "controlplane/listen/listener_stats.h"
#include "controlplane/listen/unique_fd.h"
#include "records/query_counters.h"
#include "records/table_publisher.h"

namespace clusterdns::controlplane {

class UdpListener;
class TcpListener;

// One listener thread, for metrics labels.
struct ListenerThreadInfo {
  ListenAddress address;  // as bound (actual port)
  records::Transport transport;
  const records::QueryCounters* counters;
  const UdpListenerStats* udp;  // set for kUdp, else null
  const TcpListenerStats* tcp;  // set for kTcp, else null
};

class DnsListeners {
 public:
  // Binds UDP and TCP on every address now (errors name the address); starts no thread.
  static absl::StatusOr<std::unique_ptr<DnsListeners>> Bind(std::vector<ListenAddress> addresses,
                                                            records::TablePublisher* publisher,
                                                            records::EpochGracePeriod* grace,
                                                            size_t first_reader_id,
                                                            DnsListenerOptions options);
  ~DnsListeners();  // Stop()
  DnsListeners(const DnsListeners&) = delete;
  DnsListeners& operator=(const DnsListeners&) = delete;

  // Reader ids used: first_reader_id .. first_reader_id + reader_count() - 1 (two per address).
  size_t reader_count() const { return 2 * addresses_.size(); }
  // The addresses as bound, in the order given (a port 0 replaced by the kernel's choice).
  std::vector<ListenAddress> bound() const { return addresses_; }

  // Starts the threads. Once.
  void Start();
  // Wakes every thread (one eventfd), joins them and closes the sockets; open TCP connections are
  // closed. Prompt: no thread sleeps past the wakeup. Idempotent; also fine without Start().
  void Stop();

  // One block per thread: for address i, [2i] is its UDP thread and [2i+1] its TCP thread.
  std::vector<const records::QueryCounters*> counters() const;
  std::vector<const UdpListenerStats*> udp_stats() const;  // one per address
  std::vector<const TcpListenerStats*> tcp_stats() const;  // one per address
  std::vector<ListenerThreadInfo> threads() const;         // in counters() order

 private:
  DnsListeners();

  std::vector<ListenAddress> addresses_;
  std::vector<std::unique_ptr<UdpListener>> udp_;
  std::vector<std::unique_ptr<TcpListener>> tcp_;
  std::vector<std::thread> threads_;
  UniqueFd stop_fd_;  // eventfd: written once by Stop(), never read, so it stays readable
  bool started_ = false;
  bool stopped_ = false;
};

}  // namespace clusterdns::controlplane
