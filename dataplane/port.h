// Ports: every Ethernet port the EAL offers (rte_eth_dev_count_avail), configured for the worker
// model of DESIGN.md "Dataplane worker": one RX and one TX queue per worker lcore on every port,
// queue k served by worker k alone.
//
// Per port, when the port offers it:
//   - RSS on the UDP 4-tuple (and the IP pair for other traffic), so RSS spreads clients over the
//     workers' queues; without RSS (af_packet, af_xdp, pcap) the PMD spreads as it does (af_packet:
//     the kernel's PACKET_FANOUT hash);
//   - RX IPv4 and UDP checksum checks (the worker turns the flags into packet::RxChecks);
//   - TX UDP checksum offload (FinishDnsReply with L4Checksum::kOffload). The IPv4 header checksum
//     stays in software: the packet layer updates it incrementally, cheaper than the flags.
// Promiscuous mode is off (our MAC is the port's own: for af_packet on a veth, the veth's MAC), and
// the solicited-node groups of the served IPv6 addresses are joined (multicast list, else
// all-multicast), so neighbour solicitations arrive.
//
// Mbufs come from one pool per NUMA socket of the worker lcores, sized to what every queue on
// that socket can hold at once (RX ring + TX ring + a burst + the per-lcore cache).
//
// Startup only (main thread, after InitEal, before workers are launched); errors name the port
// and how to fix it. Logs one line per port to stderr.
//
//   CDNS_ASSIGN_OR_RETURN(PortSet ports, PortSet::Start(lcores, served_v6, PortOptions{}));
//   for (const PortInfo& p : ports.ports()) ...   // p.id, p.mac, p.udp_tx_checksum_offload
//   ports.Stop();   // stop + close every port, free the pools (workers stopped first)
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "dataplane/packet/mac_address.h"
#include "records/ip_address.h"

struct rte_mempool;

namespace clusterdns::dataplane {

struct PortOptions {
  // Descriptors per RX / TX queue, before rte_eth_dev_adjust_nb_rx_tx_desc fits them to the port:
  // 1024 absorbs a few bursts of jitter at 10 Mpps without making the pool large (l3fwd uses
  // 1024 RX / 1024 TX as well).
  uint16_t rx_descriptors = 1024;
  uint16_t tx_descriptors = 1024;
  bool log = true;  // one line per port on stderr
  // One more TX queue (index = workers) for the slow path's replies (forward_path.h), where the
  // port can have one on its own: not net_af_packet, net_af_xdp or net_tap, whose queues are
  // RX/TX pairs (an extra TX queue would bring an RX queue that nobody polls).
  bool slow_path_tx_queue = false;
};

struct PortInfo {
  uint16_t id = 0;
  std::string name;    // rte_eth_dev_get_name_by_port: "net_af_packet0", "0000:3b:00.0"
  std::string driver;  // "net_af_packet"
  MacAddress mac;
  uint16_t queues = 0;  // RX = TX queues = workers
  uint16_t rx_descriptors = 0;
  uint16_t tx_descriptors = 0;
  bool rss_udp = false;          // RSS hashes the UDP 4-tuple
  std::string rss;               // for the log: "udp", "ip", "none (...)", "off" (one queue)
  bool rx_ip_checksum = false;   // RX IPv4 header checksum flags are valid
  bool rx_udp_checksum = false;  // RX L4 checksum flags are valid
  bool udp_tx_checksum_offload = false;
  // The TX queue reserved for the slow path (PortOptions::slow_path_tx_queue), or -1: none.
  int slow_path_tx_queue = -1;
  // Per queue (= worker index): the pool its RX queue fills from.
  std::vector<rte_mempool*> rx_pools;
};

class PortSet {
 public:
  // `lcores`: the worker lcores in worker order (queue k of every port belongs to lcores[k]).
  // `served`: the served addresses (the IPv6 ones decide the multicast groups joined).
  // At least one port must exist. Nothing is left configured on error.
  static absl::StatusOr<PortSet> Start(const std::vector<unsigned>& lcores,
                                       const std::vector<records::IpAddress>& served,
                                       const PortOptions& options);

  PortSet() = default;
  PortSet(PortSet&& other) noexcept { *this = std::move(other); }
  PortSet& operator=(PortSet&& other) noexcept;
  PortSet(const PortSet&) = delete;
  PortSet& operator=(const PortSet&) = delete;
  ~PortSet();  // Stop()

  const std::vector<PortInfo>& ports() const { return ports_; }

  // Stops and closes every port, then frees the pools. Idempotent. No worker may still poll.
  void Stop();

 private:
  std::vector<PortInfo> ports_;
  std::vector<rte_mempool*> pools_;
  std::vector<uint16_t> started_;     // ports to stop
  std::vector<uint16_t> configured_;  // ports to close
};

}  // namespace clusterdns::dataplane
