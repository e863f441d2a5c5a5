// PortSet::Start: configure → size the pools → queues → start, per port; errors undo everything
// through ~PortSet.
#include "dataplane/port.h"

#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_mbuf_pool_ops.h>
#include <rte_mempool.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <map>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "dataplane/worker.h"

namespace clusterdns::dataplane {
namespace {

// Per-lcore mbuf cache of each pool: amortises the ring operations of a 32-packet burst over
// several bursts; 256 is what l3fwd uses and well under RTE_MEMPOOL_CACHE_MAX_SIZE (512).
constexpr unsigned kPoolCacheSize = 256;

std::string PortName(uint16_t port) {
  char name[RTE_ETH_NAME_MAX_LEN] = {};
  if (rte_eth_dev_get_name_by_port(port, name) != 0) return absl::StrCat("port", port);
  return name;
}

std::string ErrorText(int negative_errno) { return rte_strerror(-negative_errno); }

// PMDs whose queues are RX/TX pairs backed by one kernel object each (socket, XSK, fd).
bool PairedQueues(const std::string& driver) {
  return driver == "net_af_packet" || driver == "net_af_xdp" || driver == "net_tap";
}

// rte_pktmbuf_pool_create, but with the objects packed back to back when IOVA is the virtual
// address. Without RTE_MEMPOOL_F_NO_IOVA_CONTIG, a pool on 4 KB pages (--no-huge) pads every
// 2.3 KB mbuf to its own page so that none crosses one; net_af_xdp then registers a UMEM of
// `populated_size × object size` bytes from the pool's start, which covers only the first 58%
// of a padded pool: frames in the other mbufs were accepted by tx_burst and never sent (the
// kernel's replies and the forwarder's on a veth). With IOVA = VA a buffer across a page
// boundary is still contiguous to any device, so packing is safe there; in IOVA-PA mode
// (hugepages, physical addresses) the pool is made exactly as rte_pktmbuf_pool_create does.
rte_mempool* CreatePacketPool(const std::string& name, unsigned n, int socket) {
  const unsigned flags = rte_eal_iova_mode() == RTE_IOVA_VA ? RTE_MEMPOOL_F_NO_IOVA_CONTIG : 0;
  const uint16_t data_room = RTE_MBUF_DEFAULT_BUF_SIZE;
  rte_mempool* mp = rte_mempool_create_empty(name.c_str(), n, sizeof(rte_mbuf) + data_room,
                                             kPoolCacheSize, sizeof(rte_pktmbuf_pool_private),
                                             socket, flags);
  if (mp == nullptr) return nullptr;
  rte_pktmbuf_pool_private priv{};
  priv.mbuf_data_room_size = data_room;
  priv.mbuf_priv_size = 0;
  if (rte_mempool_set_ops_byname(mp, rte_mbuf_best_mempool_ops(), nullptr) != 0) {
    rte_mempool_free(mp);
    return nullptr;
  }
  rte_pktmbuf_pool_init(mp, &priv);
  if (rte_mempool_populate_default(mp) < 0) {
    rte_mempool_free(mp);
    return nullptr;
  }
  rte_mempool_obj_iter(mp, rte_pktmbuf_init, nullptr);
  return mp;
}

}  // namespace

PortSet& PortSet::operator=(PortSet&& other) noexcept {
  if (this != &other) {
    Stop();
    ports_ = std::move(other.ports_);
    pools_ = std::move(other.pools_);
    started_ = std::move(other.started_);
    configured_ = std::move(other.configured_);
    other.ports_.clear();
    other.pools_.clear();
    other.started_.clear();
    other.configured_.clear();
  }
  return *this;
}

PortSet::~PortSet() { Stop(); }

void PortSet::Stop() {
  for (uint16_t port : started_) rte_eth_dev_stop(port);
  started_.clear();
  for (uint16_t port : configured_) rte_eth_dev_close(port);
  configured_.clear();
  // The pools outlive the ports: a closing port returns the mbufs its rings held.
  for (rte_mempool* pool : pools_) rte_mempool_free(pool);
  pools_.clear();
  ports_.clear();
}

absl::StatusOr<PortSet> PortSet::Start(const std::vector<unsigned>& lcores,
                                       const std::vector<records::IpAddress>& served,
                                       const PortOptions& options) {
  if (lcores.empty() || lcores.size() > RTE_MAX_QUEUES_PER_PORT) {
    return absl::InvalidArgumentError(absl::StrCat("bad number of worker lcores: ", lcores.size()));
  }
  if (rte_eth_dev_count_avail() == 0) {
    return absl::InvalidArgumentError(
        "no Ethernet port: give the EAL a device (-a PCI address, or --vdev=net_af_packet0,"
        "iface=eth1 / net_af_xdp0,iface=eth1 / net_pcap0,rx_pcap=in.pcap,tx_pcap=out.pcap)");
  }
  const auto queues = static_cast<uint16_t>(lcores.size());
  PortSet set;

  // 1. Configure every port: queue counts, RSS, offloads; fit the ring sizes.
  uint16_t port_id;
  RTE_ETH_FOREACH_DEV(port_id) {
    PortInfo info;
    info.id = port_id;
    info.name = PortName(port_id);
    rte_eth_dev_info dev_info{};
    if (int rc = rte_eth_dev_info_get(port_id, &dev_info); rc != 0) {
      return absl::InternalError(
          absl::StrCat("port ", port_id, " (", info.name, "): no device info: ", ErrorText(rc)));
    }
    info.driver = dev_info.driver_name != nullptr ? dev_info.driver_name : "?";
    if (dev_info.max_rx_queues < queues || dev_info.max_tx_queues < queues) {
      return absl::InvalidArgumentError(absl::StrCat(
          "port ", port_id, " (", info.name, ", ", info.driver, ") offers ", dev_info.max_rx_queues,
          " rx / ", dev_info.max_tx_queues, " tx queues, but the EAL core list has ", queues,
          " worker lcores and each needs one queue pair: give the port ", queues,
          " queues (net_af_packet: --vdev=...,qpairs=", queues,
          "; net_af_xdp: --vdev=...,queue_count=", queues, " and `ethtool -L <iface> combined ",
          queues, "`; net_pcap: one rx_pcap/tx_pcap per queue) or use fewer lcores (-l)"));
    }
    rte_eth_conf conf{};
    const uint64_t rss_offered = dev_info.flow_type_rss_offloads;
    const uint64_t rss_wanted = RTE_ETH_RSS_IP | RTE_ETH_RSS_UDP;
    if (queues > 1 && (rss_offered & rss_wanted) != 0) {
      conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
      conf.rx_adv_conf.rss_conf.rss_key = nullptr;  // the PMD's default key
      conf.rx_adv_conf.rss_conf.rss_hf = rss_offered & rss_wanted;
      info.rss_udp = (rss_offered & RTE_ETH_RSS_UDP) != 0;
      info.rss = info.rss_udp ? "udp" : "ip";
    } else {
      info.rss = queues > 1 ? "none (the PMD spreads flows its own way)" : "off";
    }
    if (dev_info.rx_offload_capa & RTE_ETH_RX_OFFLOAD_IPV4_CKSUM) {
      conf.rxmode.offloads |= RTE_ETH_RX_OFFLOAD_IPV4_CKSUM;
      info.rx_ip_checksum = true;
    }
    if (dev_info.rx_offload_capa & RTE_ETH_RX_OFFLOAD_UDP_CKSUM) {
      conf.rxmode.offloads |= RTE_ETH_RX_OFFLOAD_UDP_CKSUM;
      info.rx_udp_checksum = true;
    }
    if (dev_info.tx_offload_capa & RTE_ETH_TX_OFFLOAD_UDP_CKSUM) {
      conf.txmode.offloads |= RTE_ETH_TX_OFFLOAD_UDP_CKSUM;
      info.udp_tx_checksum_offload = true;
    }
    const bool reserve = options.slow_path_tx_queue && dev_info.max_tx_queues > queues &&
                         !PairedQueues(info.driver);
    if (reserve) info.slow_path_tx_queue = queues;
    const auto tx_queues = static_cast<uint16_t>(queues + (reserve ? 1 : 0));
    if (int rc = rte_eth_dev_configure(port_id, queues, tx_queues, &conf); rc != 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("port ", port_id, " (", info.name, "): configure failed: ", ErrorText(rc)));
    }
    set.configured_.push_back(port_id);
    info.queues = queues;
    info.rx_descriptors = options.rx_descriptors;
    info.tx_descriptors = options.tx_descriptors;
    if (int rc =
            rte_eth_dev_adjust_nb_rx_tx_desc(port_id, &info.rx_descriptors, &info.tx_descriptors);
        rc != 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("port ", port_id, " (", info.name, "): descriptor counts: ", ErrorText(rc)));
    }
    rte_ether_addr mac{};
    if (int rc = rte_eth_macaddr_get(port_id, &mac); rc != 0) {
      return absl::InternalError(
          absl::StrCat("port ", port_id, " (", info.name, "): no MAC address: ", ErrorText(rc)));
    }
    info.mac = MacAddress(mac.addr_bytes);
    set.ports_.push_back(std::move(info));
  }

  // 2. One pool per socket of the worker lcores, holding everything the queues there can hold.
  std::map<unsigned, unsigned> mbufs_per_socket;
  for (unsigned lcore : lcores) {
    const unsigned socket = rte_lcore_to_socket_id(lcore);
    for (const PortInfo& p : set.ports_) {
      mbufs_per_socket[socket] += p.rx_descriptors + p.tx_descriptors + kBurstSize + kPoolCacheSize;
    }
  }
  std::map<unsigned, rte_mempool*> pool_of_socket;
  for (const auto& [socket, mbufs] : mbufs_per_socket) {
    const std::string name = absl::StrCat("cdns_mbuf_s", socket);
    rte_mempool* pool = CreatePacketPool(name, mbufs, static_cast<int>(socket));
    if (pool == nullptr) {
      return absl::ResourceExhaustedError(
          absl::StrCat("cannot create a pool of ", mbufs, " mbufs on socket ", socket, ": ",
                       rte_strerror(rte_errno), " (give the EAL more memory: -m / --socket-mem)"));
    }
    set.pools_.push_back(pool);
    pool_of_socket[socket] = pool;
  }

  // 3. Queues, multicast groups, start.
  std::vector<rte_ether_addr> groups;
  for (const records::IpAddress& a : served) {
    if (!a.is_v6()) continue;
    // The solicited-node group's Ethernet address 33:33:ff + the address's low 24 bits
    // (RFC 4291 2.7.1, RFC 2464 7).
    rte_ether_addr g{{0x33, 0x33, 0xff, a.bytes()[13], a.bytes()[14], a.bytes()[15]}};
    groups.push_back(g);
  }
  for (PortInfo& info : set.ports_) {
    rte_eth_dev_info dev_info{};
    rte_eth_dev_info_get(info.id, &dev_info);
    for (uint16_t q = 0; q < queues; ++q) {
      const unsigned socket = rte_lcore_to_socket_id(lcores[q]);
      rte_mempool* pool = pool_of_socket[socket];
      rte_eth_rxconf rxconf = dev_info.default_rxconf;
      rxconf.offloads = (info.rx_ip_checksum ? RTE_ETH_RX_OFFLOAD_IPV4_CKSUM : 0) |
                        (info.rx_udp_checksum ? RTE_ETH_RX_OFFLOAD_UDP_CKSUM : 0);
      if (int rc = rte_eth_rx_queue_setup(info.id, q, info.rx_descriptors, socket, &rxconf, pool);
          rc != 0) {
        return absl::InvalidArgumentError(absl::StrCat("port ", info.id, " (", info.name,
                                                       "): rx queue ", q, ": ", ErrorText(rc)));
      }
      rte_eth_txconf txconf = dev_info.default_txconf;
      txconf.offloads = info.udp_tx_checksum_offload ? RTE_ETH_TX_OFFLOAD_UDP_CKSUM : 0;
      if (int rc = rte_eth_tx_queue_setup(info.id, q, info.tx_descriptors, socket, &txconf);
          rc != 0) {
        return absl::InvalidArgumentError(absl::StrCat("port ", info.id, " (", info.name,
                                                       "): tx queue ", q, ": ", ErrorText(rc)));
      }
      info.rx_pools.push_back(pool);
    }
    if (info.slow_path_tx_queue >= 0) {
      // Software checksums on this queue: the slow path finishes its frames itself.
      rte_eth_txconf txconf = dev_info.default_txconf;
      txconf.offloads = 0;
      const auto q = static_cast<uint16_t>(info.slow_path_tx_queue);
      if (int rc = rte_eth_tx_queue_setup(info.id, q, info.tx_descriptors, rte_socket_id(), &txconf);
          rc != 0) {
        return absl::InvalidArgumentError(absl::StrCat(
            "port ", info.id, " (", info.name, "): the slow path's tx queue ", q, ": ", ErrorText(rc)));
      }
    }
    if (int rc = rte_eth_dev_start(info.id); rc != 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("port ", info.id, " (", info.name, "): start failed: ", ErrorText(rc)));
    }
    set.started_.push_back(info.id);
    // Our MAC only; virtual ports that cannot filter (-ENOTSUP) see what their interface sees.
    if (int rc = rte_eth_promiscuous_disable(info.id); rc != 0 && rc != -ENOTSUP) {
      return absl::InternalError(
          absl::StrCat("port ", info.id, " (", info.name, "): promiscuous off: ", ErrorText(rc)));
    }
    std::string multicast = "none";
    if (!groups.empty()) {
      if (rte_eth_dev_set_mc_addr_list(info.id, groups.data(),
                                       static_cast<uint32_t>(groups.size())) == 0) {
        multicast = absl::StrCat(groups.size(), " solicited-node groups");
      } else if (rte_eth_allmulticast_enable(info.id) == 0) {
        multicast = "all (no multicast filter)";
      } else {
        multicast = "as the port receives";
      }
    }
    if (options.log) {
      std::vector<std::string> rx_checks;
      if (info.rx_ip_checksum) rx_checks.push_back("ipv4");
      if (info.rx_udp_checksum) rx_checks.push_back("udp");
      std::fprintf(stderr,
                   "clusterdns: port %u %s (%s) mac %s: %u rx/tx queues on lcores %s, %u/%u "
                   "descriptors, rss %s, rx checksum %s, tx udp checksum %s, multicast %s%s\n",
                   info.id, info.name.c_str(), info.driver.c_str(), info.mac.ToString().c_str(),
                   queues, absl::StrJoin(lcores, ",").c_str(), info.rx_descriptors,
                   info.tx_descriptors, info.rss.c_str(),
                   rx_checks.empty() ? "software" : absl::StrJoin(rx_checks, "+").c_str(),
                   info.udp_tx_checksum_offload ? "offload" : "software", multicast.c_str(),
                   info.slow_path_tx_queue >= 0
                       ? absl::StrCat(", slow-path tx queue ", info.slow_path_tx_queue).c_str()
                       : (options.slow_path_tx_queue ? ", slow path via worker 0's queue" : ""));
    }
  }
  return set;
}

}  // namespace clusterdns::dataplane
