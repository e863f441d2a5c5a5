// BearerTokenSource: the bearer token to send with each API request, from a KubeConnection's
// fixed token or its token file. Service-account tokens are projected volumes that the kubelet
// rotates (about hourly) by writing a new directory and swapping the ..data symlink atomically,
// so the file is re-read whenever what stat() (which follows symlinks) reports changes: device,
// inode, size or mtime (ns). As client-go does, an unchanged file is still re-read once
// `max_age` has passed since the last read, which covers an in-place rewrite of the same size
// within one filesystem timestamp tick.
//
// Contract:
//  - Current() may be called from any thread (a mutex inside); it is meant for once per HTTP
//    request, not per packet: one stat() per call, a read only when the file changed.
//  - Returns the fixed token when there is no token file (token_file wins when both are set, as
//    kube_connection.h says), "" when the connection has neither (client-certificate or no auth).
//  - The file's content is trimmed of surrounding whitespace. Errors name the file: cannot read
//    (errno's code), empty, larger than 64 KiB, or whitespace/control characters inside the
//    token (it goes into an HTTP header). A failed read is not remembered: the next call tries
//    again, so a file that comes back is picked up.
//
// Usage:
//   BearerTokenSource tokens(connection);
//   absl::StatusOr<std::string> token = tokens.Current();
//   if (!token.ok()) return token.status();
//   if (!token->empty()) headers.push_back("Authorization: Bearer " + *token);
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "controlplane/kube/kube_connection.h"

namespace clusterdns::controlplane {

class BearerTokenSource {
 public:
  // client-go's cachingTokenSource re-reads its file every minute whatever stat says.
  static constexpr absl::Duration kDefaultMaxAge = absl::Minutes(1);

  explicit BearerTokenSource(const KubeConnection& connection,
                             absl::Duration max_age = kDefaultMaxAge);
  BearerTokenSource(const BearerTokenSource&) = delete;
  BearerTokenSource& operator=(const BearerTokenSource&) = delete;

  absl::StatusOr<std::string> Current() ABSL_LOCKS_EXCLUDED(mu_);

  // How many times the token file was opened and read (successfully or not). For tests and logs.
  uint64_t file_reads() const ABSL_LOCKS_EXCLUDED(mu_);

 private:
  struct FileIdentity {
    dev_t device = 0;
    ino_t inode = 0;
    off_t size = 0;
    int64_t mtime_ns = 0;
    bool operator==(const FileIdentity&) const = default;
  };

  absl::StatusOr<std::string> ReadFile(FileIdentity& identity) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const std::string token_;
  const std::string token_file_;
  const absl::Duration max_age_;

  mutable absl::Mutex mu_;
  std::optional<FileIdentity> cached_identity_ ABSL_GUARDED_BY(mu_);  // of the cached token
  std::string cached_token_ ABSL_GUARDED_BY(mu_);
  absl::Time cached_at_ ABSL_GUARDED_BY(mu_);
  uint64_t file_reads_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace clusterdns::controlplane
