// InitEal: argv assembly for rte_eal_init, and the teardown that leaves no runtime files behind.
#include "dataplane/eal.h"

#include <rte_eal.h>
#include <rte_errno.h>
#include <unistd.h>

#include "absl/strings/str_cat.h"

namespace clusterdns::dataplane {

EalHandle& EalHandle::operator=(EalHandle&& other) noexcept {
  if (this != &other) {
    Release();
    active_ = other.active_;
    runtime_dir_ = std::move(other.runtime_dir_);
    other.active_ = false;
  }
  return *this;
}

EalHandle::~EalHandle() { Release(); }

void EalHandle::Release() {
  if (!active_) return;
  active_ = false;
  rte_eal_cleanup();
  // rmdir only succeeds on an empty directory: with shared config files (no --no-shconf) the
  // directory stays, as DPDK leaves it.
  if (!runtime_dir_.empty()) rmdir(runtime_dir_.c_str());
}

absl::StatusOr<EalHandle> InitEal(const std::vector<std::string>& eal_args) {
  // rte_eal_init may permute argv and keeps pointers into it (lcore names, vdev args): the strings
  // live for the whole process.
  static std::vector<std::string>* storage = nullptr;
  if (storage != nullptr) {
    return absl::FailedPreconditionError("EAL already initialised in this process");
  }
  storage = new std::vector<std::string>();
  storage->push_back("clusterdns");
  storage->insert(storage->end(), eal_args.begin(), eal_args.end());
  static std::vector<char*> argv;
  for (std::string& s : *storage) argv.push_back(s.data());
  argv.push_back(nullptr);

  const int consumed = rte_eal_init(static_cast<int>(storage->size()), argv.data());
  if (consumed < 0) {
    const int error = rte_errno;
    return absl::InvalidArgumentError(absl::StrCat(
        "EAL initialisation failed (", rte_strerror(error),
        "); EAL options were: ", eal_args.empty() ? std::string("(none)") : [&] {
          std::string all;
          for (const std::string& a : eal_args) absl::StrAppend(&all, all.empty() ? "" : " ", a);
          return all;
        }()));
  }
  EalHandle handle(true, rte_eal_get_runtime_dir());
  if (static_cast<size_t>(consumed) + 1 < storage->size()) {
    // rte_eal_init moved what it did not recognise after the options it consumed.
    return absl::InvalidArgumentError(
        absl::StrCat("unknown EAL option '", argv[consumed + 1], "' (EAL options go before --)"));
  }
  return handle;
}

}  // namespace clusterdns::dataplane
