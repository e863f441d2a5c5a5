// ExceptionPath: the TAPs (net_tap vdevs), their kernel interfaces' addresses and routes, the
// rings, the hook (hot path) and the slow-path thread (cold, but it runs while serving).
#include "dataplane/exception_path.h"

#include <net/if.h>
#include <rte_bus_vdev.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_ring.h>

#include <algorithm>
#include <chrono>
#include <cstdio>

#include "absl/strings/str_cat.h"
#include "dataplane/netlink.h"
#include "records/status_macros.h"

namespace clusterdns::dataplane {
namespace {

constexpr uint16_t kTapDescriptors = 512;
constexpr unsigned kTapPoolCache = 0;  // the thread is no lcore: a cache would go unused
constexpr auto kIdleSleep = std::chrono::microseconds(100);
constexpr uint64_t kBufferFlags = RTE_MBUF_F_INDIRECT | RTE_MBUF_F_EXTERNAL;

std::string ErrorText(int negative_errno) { return rte_strerror(-negative_errno); }

int ReadSysctl(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "r");
  if (f == nullptr) return -1;
  int value = -1;
  if (std::fscanf(f, "%d", &value) != 1) value = -1;
  std::fclose(f);
  return value;
}

// A data port that is a kernel interface (af_packet, af_xdp in copy mode) hands its frames to the
// kernel as well; with the served addresses local, the kernel would answer them there too unless
// strict reverse-path filtering (the route back is the TAP's) and no IPv6 keep it out.
void WarnIfKernelSeesPort(uint16_t port_id) {
  rte_eth_dev_info info{};
  if (rte_eth_dev_info_get(port_id, &info) != 0 || info.if_index == 0) return;
  char name[IF_NAMESIZE] = {};
  if (if_indextoname(info.if_index, name) == nullptr) return;
  const std::string conf = "/proc/sys/net/ipv4/conf/";
  const int rp =
      std::max(ReadSysctl(conf + "all/rp_filter"), ReadSysctl(conf + name + "/rp_filter"));
  const int v6_off = ReadSysctl(absl::StrCat("/proc/sys/net/ipv6/conf/", name, "/disable_ipv6"));
  if (rp == 1 && v6_off != 0) return;
  std::fprintf(stderr,
               "clusterdns: exception path: warning: port %u is kernel interface %s, whose frames "
               "the kernel also receives and would answer now that the served addresses are "
               "local: set net.ipv4.conf.all.rp_filter=1, net.ipv4.conf.%s.rp_filter=1 and "
               "net.ipv6.conf.%s.disable_ipv6=1\n",
               port_id, name, name, name);
}

void FreeRing(rte_ring* ring) {
  if (ring == nullptr) return;
  void* m;
  while (rte_ring_dequeue(ring, &m) == 0) rte_pktmbuf_free(static_cast<rte_mbuf*>(m));
  rte_ring_free(ring);
}

}  // namespace

absl::StatusOr<std::unique_ptr<ExceptionPath>> ExceptionPath::Create(
    const std::vector<PortInfo>& ports, size_t workers,
    const std::vector<records::IpAddress>& served, const ExceptionPathOptions& options, bool log) {
  if (ports.empty() || workers == 0) return absl::InvalidArgumentError("no ports or no workers");
  if (options.interface_prefix.size() + std::to_string(ports.size() - 1).size() > 15) {
    return absl::InvalidArgumentError(absl::StrCat("exception path interface prefix '",
                                                   options.interface_prefix,
                                                   "' too long (interface names: 15 characters)"));
  }
  std::unique_ptr<ExceptionPath> ep(new ExceptionPath());
  ep->options_ = options;
  ep->log_ = log;
  ep->workers_ = workers;
  ep->hook_counters_ = std::make_unique<ExceptionHookCounters[]>(workers * ports.size());
  ep->thread_counters_ = std::make_unique<ExceptionThreadCounters[]>(ports.size());
  ep->egress_ = std::make_unique<KernelEgressCounters[]>(ports.size());
  uint16_t max_port = 0;
  for (const PortInfo& p : ports) max_port = std::max(max_port, p.id);
  ep->tap_of_port_.assign(max_port + 1u, -1);

  // Each TAP's RX queue holds its descriptors; the from_kernel ring and a burst in flight.
  const unsigned mbufs =
      static_cast<unsigned>(ports.size()) * (kTapDescriptors + options.ring_size + 2 * kBurstSize);
  ep->pool_ = rte_pktmbuf_pool_create("cdns_tap_pool", mbufs, kTapPoolCache, 0,
                                      RTE_MBUF_DEFAULT_BUF_SIZE, static_cast<int>(rte_socket_id()));
  if (ep->pool_ == nullptr) {
    return absl::ResourceExhaustedError(
        absl::StrCat("cannot create the TAP pool of ", mbufs, " mbufs: ", rte_strerror(rte_errno)));
  }
  for (size_t i = 0; i < ports.size(); ++i) {
    CDNS_RETURN_IF_ERROR(ep->AddTap(ports[i], i, served));
  }
  CDNS_RETURN_IF_ERROR(ep->AddRoutes(served));
  return ep;
}

absl::Status ExceptionPath::AddTap(const PortInfo& port, size_t index,
                                   const std::vector<records::IpAddress>& served) {
  Tap& tap = taps_.emplace_back();
  tap.data_port = port.id;
  tap.vdev = absl::StrCat("net_tap_exc", index);
  tap.interface = absl::StrCat(options_.interface_prefix, index);
  const std::string what = absl::StrCat("exception TAP ", tap.interface, " of port ", port.id);
  const std::string args = absl::StrCat("iface=", tap.interface, ",mac=", port.mac.ToString());
  if (int rc = rte_vdev_init(tap.vdev.c_str(), args.c_str()); rc != 0) {
    return absl::InternalError(absl::StrCat(what, ": cannot create ", tap.vdev, " (", args,
                                            "): ", ErrorText(rc < 0 ? rc : -rte_errno)));
  }
  tap.probed = true;
  if (int rc = rte_eth_dev_get_port_by_name(tap.vdev.c_str(), &tap.port_id); rc != 0) {
    return absl::InternalError(absl::StrCat(what, ": no port: ", ErrorText(rc)));
  }
  rte_eth_conf conf{};
  if (int rc = rte_eth_dev_configure(tap.port_id, 1, 1, &conf); rc != 0) {
    return absl::InternalError(absl::StrCat(what, ": configure: ", ErrorText(rc)));
  }
  const int socket = static_cast<int>(rte_socket_id());
  if (int rc = rte_eth_rx_queue_setup(tap.port_id, 0, kTapDescriptors, socket, nullptr, pool_);
      rc != 0) {
    return absl::InternalError(absl::StrCat(what, ": rx queue: ", ErrorText(rc)));
  }
  if (int rc = rte_eth_tx_queue_setup(tap.port_id, 0, kTapDescriptors, socket, nullptr); rc != 0) {
    return absl::InternalError(absl::StrCat(what, ": tx queue: ", ErrorText(rc)));
  }
  if (int rc = rte_eth_dev_start(tap.port_id); rc != 0) {
    return absl::InternalError(absl::StrCat(what, ": start: ", ErrorText(rc)));
  }
  tap.started = true;

  const std::string to_name = absl::StrCat("cdns_exc_in", index);
  const std::string from_name = absl::StrCat("cdns_exc_out", index);
  tap.to_kernel =
      rte_ring_create(to_name.c_str(), options_.ring_size, socket, RING_F_SC_DEQ);  // MP/SC
  tap.from_kernel =
      rte_ring_create(from_name.c_str(), options_.ring_size, socket, RING_F_SP_ENQ | RING_F_SC_DEQ);
  if (tap.to_kernel == nullptr || tap.from_kernel == nullptr) {
    return absl::ResourceExhaustedError(
        absl::StrCat(what, ": rings of ", options_.ring_size, ": ", rte_strerror(rte_errno)));
  }

  // The kernel side: the data port's MTU, up, the served addresses.
  uint16_t mtu = RTE_ETHER_MTU;
  rte_eth_dev_get_mtu(port.id, &mtu);
  CDNS_ASSIGN_OR_RETURN(const int ifindex, netlink::InterfaceIndex(tap.interface));
  CDNS_RETURN_IF_ERROR(netlink::SetLinkUp(ifindex, mtu));
  for (const records::IpAddress& a : served) {
    CDNS_RETURN_IF_ERROR(netlink::AddAddress(ifindex, a));
  }
  tap_of_port_[port.id] = static_cast<int16_t>(index);
  WarnIfKernelSeesPort(port.id);
  if (log_) {
    std::fprintf(stderr,
                 "clusterdns: exception path: port %u → TAP %s (%s, port %u), mac %s, mtu %u\n",
                 port.id, tap.interface.c_str(), tap.vdev.c_str(), tap.port_id,
                 port.mac.ToString().c_str(), mtu);
  }
  return absl::OkStatus();
}

absl::Status ExceptionPath::AddRoutes(const std::vector<records::IpAddress>& served) {
  CDNS_ASSIGN_OR_RETURN(const int ifindex, netlink::InterfaceIndex(taps_[0].interface));
  bool v4 = false;
  bool v6 = false;
  for (const records::IpAddress& a : served) (a.is_v4() ? v4 : v6) = true;
  if (v4) {
    CDNS_RETURN_IF_ERROR(
        netlink::AddDefaultRoute(ifindex, records::IpAddress::Family::kV4, options_.route_table));
  }
  if (v6) {
    CDNS_RETURN_IF_ERROR(
        netlink::AddDefaultRoute(ifindex, records::IpAddress::Family::kV6, options_.route_table));
  }
  for (const records::IpAddress& a : served) {
    CDNS_RETURN_IF_ERROR(netlink::AddSourceRule(a, options_.route_table, options_.rule_priority));
    rules_.push_back(a);
  }
  return absl::OkStatus();
}

ExceptionPath::~ExceptionPath() {
  Stop();
  if (pool_ != nullptr) rte_mempool_free(pool_);
}

void ExceptionPath::Hook(void* context, uint16_t port_id, uint16_t queue, rte_mbuf** mbufs,
                         uint16_t count) noexcept {
  auto* self = static_cast<ExceptionPath*>(context);
  const int16_t index = port_id < self->tap_of_port_.size() ? self->tap_of_port_[port_id] : -1;
  if (unlikely(index < 0)) {
    rte_pktmbuf_free_bulk(mbufs, count);
    return;
  }
  ExceptionHookCounters& c = self->hook_counters_[queue * self->taps_.size() + index];
  const unsigned queued = rte_ring_mp_enqueue_burst(
      self->taps_[index].to_kernel, reinterpret_cast<void**>(mbufs), count, nullptr);
  if (unlikely(queued < count)) {
    rte_pktmbuf_free_bulk(mbufs + queued, count - queued);
    Bump(c.ring_full, count - queued);
  }
  if (queued != 0) Bump(c.to_kernel, queued);
}

void ExceptionPath::StartThread() {
  if (thread_.joinable() || stopped_) return;
  thread_ = std::thread([this] { Run(); });
}

void ExceptionPath::Run() noexcept {
  rte_mbuf* burst[kBurstSize];
  while (!stop_.load(std::memory_order_relaxed)) {
    bool busy = false;
    for (size_t i = 0; i < taps_.size(); ++i) {
      Tap& tap = taps_[i];
      ExceptionThreadCounters& c = thread_counters_[i];
      // Workers → kernel.
      unsigned n = rte_ring_sc_dequeue_burst(tap.to_kernel, reinterpret_cast<void**>(burst),
                                             kBurstSize, nullptr);
      if (n != 0) {
        busy = true;
        for (unsigned k = 0; k < n; ++k) burst[k]->ol_flags &= kBufferFlags;
        const uint16_t sent = rte_eth_tx_burst(tap.port_id, 0, burst, static_cast<uint16_t>(n));
        if (sent < n) {
          rte_pktmbuf_free_bulk(burst + sent, n - sent);
          Bump(c.tap_tx_dropped, n - sent);
        }
        Bump(c.tap_tx, sent);
      }
      // Kernel → worker 0 → data port.
      n = rte_eth_rx_burst(tap.port_id, 0, burst, kBurstSize);
      if (n != 0) {
        busy = true;
        for (unsigned k = 0; k < n; ++k) burst[k]->ol_flags &= kBufferFlags;
        const unsigned queued =
            rte_ring_sp_enqueue_burst(tap.from_kernel, reinterpret_cast<void**>(burst), n, nullptr);
        if (queued < n) {
          rte_pktmbuf_free_bulk(burst + queued, n - queued);
          Bump(c.from_kernel_full, n - queued);
        }
        Bump(c.tap_rx, n);
      }
    }
    if (!busy) std::this_thread::sleep_for(kIdleSleep);
  }
}

void ExceptionPath::Stop() {
  if (stopped_) return;
  stopped_ = true;
  stop_.store(true, std::memory_order_relaxed);
  if (thread_.joinable()) thread_.join();
  if (log_ && !taps_.empty()) std::fprintf(stderr, "clusterdns: %s", Summary().c_str());
  for (const records::IpAddress& a : rules_) {
    netlink::DeleteSourceRule(a, options_.route_table, options_.rule_priority).IgnoreError();
  }
  rules_.clear();
  for (Tap& tap : taps_) {
    FreeRing(tap.to_kernel);
    FreeRing(tap.from_kernel);
    tap.to_kernel = tap.from_kernel = nullptr;
    if (tap.started) rte_eth_dev_stop(tap.port_id);
    tap.started = false;
    // Closes the port (its RX mbufs go back to the pool) and deletes the kernel interface, with
    // its addresses and routes.
    if (tap.probed) rte_vdev_uninit(tap.vdev.c_str());
    tap.probed = false;
  }
}

std::vector<controlplane::ExceptionPathSnapshot> ExceptionPath::SnapshotExceptionPath() const {
  std::vector<controlplane::ExceptionPathSnapshot> out;
  for (size_t i = 0; i < taps_.size(); ++i) {
    controlplane::ExceptionPathSnapshot& snap = out.emplace_back();
    snap.port = taps_[i].data_port;
    snap.tap = taps_[i].interface;
    for (size_t w = 0; w < workers_; ++w) {
      const ExceptionHookCounters& h = hook_counters_[w * taps_.size() + i];
      snap.to_kernel += h.to_kernel.load(std::memory_order_relaxed);
      snap.ring_full += h.ring_full.load(std::memory_order_relaxed);
    }
    const ExceptionThreadCounters& t = thread_counters_[i];
    snap.tap_tx = t.tap_tx.load(std::memory_order_relaxed);
    snap.tap_tx_dropped = t.tap_tx_dropped.load(std::memory_order_relaxed);
    snap.tap_rx = t.tap_rx.load(std::memory_order_relaxed);
    snap.from_kernel_full = t.from_kernel_full.load(std::memory_order_relaxed);
    const KernelEgressCounters& e = egress_[i];
    snap.kernel_tx = e.tx.load(std::memory_order_relaxed);
    snap.kernel_tx_dropped = e.tx_dropped.load(std::memory_order_relaxed);
  }
  return out;
}

std::string ExceptionPath::Summary() const {
  std::string out;
  for (const controlplane::ExceptionPathSnapshot& t : SnapshotExceptionPath()) {
    absl::StrAppend(&out, "exception port=", t.port, " tap=", t.tap, " to_kernel=", t.to_kernel,
                    " ring_full=", t.ring_full, " tap_tx=", t.tap_tx,
                    " tap_tx_dropped=", t.tap_tx_dropped, " tap_rx=", t.tap_rx,
                    " from_kernel_full=", t.from_kernel_full, " kernel_tx=", t.kernel_tx,
                    " kernel_tx_dropped=", t.kernel_tx_dropped, "\n");
  }
  return out;
}

}  // namespace clusterdns::dataplane
