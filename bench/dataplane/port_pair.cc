// The port steps every PortPair kind shares (port_pair.h): start a port with one queue pair, and
// close it with its vdev.
#include "bench/dataplane/port_pair.h"

#include <rte_bus_vdev.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>

#include "absl/strings/str_cat.h"

namespace clusterdns::bench {
namespace {

// Descriptors asked of the ethdev layer; neither kind uses them (a ring PMD's queue is its ring,
// memif's is sized by its rsize devarg).
constexpr uint16_t kDescriptors = 1024;

}  // namespace

absl::Status StartPairPort(uint16_t port, rte_mempool* pool) {
  rte_eth_conf conf{};
  int rc = rte_eth_dev_configure(port, 1, 1, &conf);
  if (rc == 0) rc = rte_eth_rx_queue_setup(port, 0, kDescriptors, rte_socket_id(), nullptr, pool);
  if (rc == 0) rc = rte_eth_tx_queue_setup(port, 0, kDescriptors, rte_socket_id(), nullptr);
  if (rc == 0) rc = rte_eth_dev_start(port);
  if (rc != 0) {
    char name[RTE_ETH_NAME_MAX_LEN] = {};
    rte_eth_dev_get_name_by_port(port, name);
    return absl::InternalError(
        absl::StrCat("port ", port, " (", name, ") would not start: ", rte_strerror(-rc)));
  }
  return absl::OkStatus();
}

void ClosePairPort(uint16_t port) {
  char name[RTE_ETH_NAME_MAX_LEN] = {};
  const bool named = rte_eth_dev_get_name_by_port(port, name) == 0;
  rte_eth_dev_stop(port);
  rte_eth_dev_close(port);  // releases the port; a RingPair's rings are its own and stay
  if (named) rte_vdev_uninit(name);  // the vdev behind it
}

}  // namespace clusterdns::bench
