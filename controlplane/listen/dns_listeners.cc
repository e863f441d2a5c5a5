// DnsListeners: binding every --listen address, and the lifecycle of their threads.
#include "controlplane/listen/dns_listeners.h"

#include <pthread.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "controlplane/listen/listen_socket.h"
#include "controlplane/listen/tcp_listener.h"
#include "controlplane/listen/udp_listener.h"
#include "records/status_macros.h"

namespace clusterdns::controlplane {
namespace {

// "dns-udp-0": shows in top -H and in gdb. Linux allows 15 characters.
void NameThisThread(const char* kind, size_t index) {
  const std::string name = absl::StrCat("dns-", kind, "-", index).substr(0, 15);
  pthread_setname_np(pthread_self(), name.c_str());
}

}  // namespace

DnsListeners::DnsListeners() = default;

DnsListeners::~DnsListeners() { Stop(); }

absl::StatusOr<std::unique_ptr<DnsListeners>> DnsListeners::Bind(
    std::vector<ListenAddress> addresses, records::TablePublisher* publisher,
    records::EpochGracePeriod* grace, size_t first_reader_id, DnsListenerOptions options) {
  if (publisher == nullptr || grace == nullptr) {
    return absl::InvalidArgumentError("DnsListeners::Bind: publisher and grace are required");
  }
  std::unique_ptr<DnsListeners> out(new DnsListeners());
  out->stop_fd_.Reset(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!out->stop_fd_.valid()) {
    return absl::InternalError(absl::StrCat("--listen: eventfd: ", strerror(errno)));
  }
  size_t reader = first_reader_id;
  for (const ListenAddress& address : addresses) {
    auto sockets = BindListenSockets(address);
    if (!sockets.ok()) return sockets.status();  // `out` closes what was bound so far
    ListenerContext context{publisher, grace, 0, options};
    context.reader_id = reader++;
    out->udp_.push_back(std::make_unique<UdpListener>(std::move(sockets->udp), sockets->bound,
                                                      sockets->udp_pktinfo, context));
    context.reader_id = reader++;
    out->tcp_.push_back(
        std::make_unique<TcpListener>(std::move(sockets->tcp), sockets->bound, context));
    CDNS_RETURN_IF_ERROR(out->tcp_.back()->Init());
    out->addresses_.push_back(sockets->bound);
  }
  return out;
}

void DnsListeners::Start() {
  if (started_ || stopped_) return;
  started_ = true;
  const int stop_fd = stop_fd_.get();
  for (size_t i = 0; i < addresses_.size(); ++i) {
    UdpListener* udp = udp_[i].get();
    TcpListener* tcp = tcp_[i].get();
    threads_.emplace_back([udp, stop_fd, i] {
      NameThisThread("udp", i);
      udp->Run(stop_fd);
    });
    threads_.emplace_back([tcp, stop_fd, i] {
      NameThisThread("tcp", i);
      tcp->Run(stop_fd);
    });
  }
}

void DnsListeners::Stop() {
  if (stopped_) return;
  stopped_ = true;
  const uint64_t one = 1;
  // The eventfd is never read, so it stays readable and wakes every poll/epoll_wait on it.
  if (::write(stop_fd_.get(), &one, sizeof(one)) != static_cast<ssize_t>(sizeof(one))) {
    // An eventfd write of 1 fails only at counter overflow, impossible here.
  }
  for (std::thread& t : threads_) {
    if (t.joinable()) t.join();
  }
  threads_.clear();
  for (auto& udp : udp_) udp->CloseSocket();
  for (auto& tcp : tcp_) tcp->CloseSocket();
}

std::vector<const records::QueryCounters*> DnsListeners::counters() const {
  std::vector<const records::QueryCounters*> out;
  for (size_t i = 0; i < addresses_.size(); ++i) {
    out.push_back(&udp_[i]->counters());
    out.push_back(&tcp_[i]->counters());
  }
  return out;
}

std::vector<const UdpListenerStats*> DnsListeners::udp_stats() const {
  std::vector<const UdpListenerStats*> out;
  for (const auto& udp : udp_) out.push_back(&udp->stats());
  return out;
}

std::vector<const TcpListenerStats*> DnsListeners::tcp_stats() const {
  std::vector<const TcpListenerStats*> out;
  for (const auto& tcp : tcp_) out.push_back(&tcp->stats());
  return out;
}

std::vector<ListenerThreadInfo> DnsListeners::threads() const {
  std::vector<ListenerThreadInfo> out;
  for (size_t i = 0; i < addresses_.size(); ++i) {
    out.push_back({addresses_[i], records::Transport::kUdp, &udp_[i]->counters(),
                   &udp_[i]->stats(), nullptr});
    out.push_back({addresses_[i], records::Transport::kTcp, &tcp_[i]->counters(), nullptr,
                   &tcp_[i]->stats()});
  }
  return out;
}

}  // namespace clusterdns::controlplane
