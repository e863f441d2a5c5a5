// The DPDK Environment Abstraction Layer for the process: rte_eal_init with the command line's EAL
// options, rte_eal_cleanup when the handle goes away. DESIGN.md "Interface": `clusterdns [EAL
// options] -- [options]`.
//
// The EAL can be initialised once per process: a second InitEal fails (even after the first handle
// is gone, rte_eal_init refuses to run again). Main thread only; InitEal pins the calling thread to
// the main lcore's CPUs (the EAL does that), see dataplane.h for how the Dataplane undoes it for
// control-plane threads.
//
// Safety for tests and demos (DESIGN.md "Test topology and safety"): every DPDK process passes
// --no-pci (or -a of a device it created), a unique --file-prefix, and --no-huge unless hugepages
// were set up; InitEal passes the arguments through as given and adds nothing.
//
//   CDNS_ASSIGN_OR_RETURN(EalHandle eal, InitEal({"--no-pci", "--no-huge", "-m", "256",
//                                                 "--file-prefix=cdns-1234", "-l", "0",
//                                                 "--vdev=net_null0"}));
//   ... ports, workers ...
//   // ~EalHandle: rte_eal_cleanup()
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace clusterdns::dataplane {

// Owns the initialised EAL. Move-only; the moved-from handle owns nothing.
class EalHandle {
 public:
  EalHandle() = default;  // owns nothing
  EalHandle(EalHandle&& other) noexcept
      : active_(other.active_), runtime_dir_(std::move(other.runtime_dir_)) {
    other.active_ = false;
  }
  EalHandle& operator=(EalHandle&& other) noexcept;
  EalHandle(const EalHandle&) = delete;
  EalHandle& operator=(const EalHandle&) = delete;
  // rte_eal_cleanup(): every port must be closed and every lcore idle by then. Also removes the
  // EAL's runtime directory (/var/run/dpdk/<file-prefix>) if it is empty, as it is with
  // --no-shconf --no-telemetry: a test leaves nothing behind.
  ~EalHandle();

  bool active() const { return active_; }

 private:
  friend absl::StatusOr<EalHandle> InitEal(const std::vector<std::string>& eal_args);
  explicit EalHandle(bool active, std::string runtime_dir)
      : active_(active), runtime_dir_(std::move(runtime_dir)) {}
  void Release();

  bool active_ = false;
  std::string runtime_dir_;
};

// rte_eal_init("clusterdns", eal_args...). Every argument must be consumed by the EAL: a leftover
// one is an error naming it. Errors carry rte_strerror(rte_errno).
absl::StatusOr<EalHandle> InitEal(const std::vector<std::string>& eal_args);

}  // namespace clusterdns::dataplane
