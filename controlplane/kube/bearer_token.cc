// BearerTokenSource: stat() per call, read on change. See bearer_token.h.
#include "controlplane/kube/bearer_token.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace clusterdns::controlplane {
namespace {

// Service-account JWTs are 1-2 KiB; anything this large is not a token.
constexpr size_t kMaxTokenBytes = 64 * 1024;

int64_t MtimeNs(const struct stat& st) {
  return static_cast<int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec;
}

}  // namespace

BearerTokenSource::BearerTokenSource(const KubeConnection& connection, absl::Duration max_age)
    : token_(connection.token), token_file_(connection.token_file), max_age_(max_age) {}

uint64_t BearerTokenSource::file_reads() const {
  absl::MutexLock lock(&mu_);
  return file_reads_;
}

absl::StatusOr<std::string> BearerTokenSource::Current() {
  if (token_file_.empty()) return token_;
  absl::MutexLock lock(&mu_);
  struct stat st;
  if (stat(token_file_.c_str(), &st) != 0) {
    const int error = errno;
    return absl::ErrnoToStatus(error, absl::StrCat("token file ", token_file_, ": cannot read"));
  }
  const FileIdentity now{st.st_dev, st.st_ino, st.st_size, MtimeNs(st)};
  if (cached_identity_ == now && absl::Now() - cached_at_ < max_age_) return cached_token_;

  FileIdentity identity;
  absl::StatusOr<std::string> token = ReadFile(identity);
  if (!token.ok()) {
    cached_identity_.reset();  // retry on the next call
    return token.status();
  }
  // The identity of what was read (fstat of the open file), not of the stat() above: if the
  // file changed in between, the next call sees a difference and reads again.
  cached_identity_ = identity;
  cached_token_ = *token;
  cached_at_ = absl::Now();
  return token;
}

absl::StatusOr<std::string> BearerTokenSource::ReadFile(FileIdentity& identity) {
  ++file_reads_;
  const std::string prefix = absl::StrCat("token file ", token_file_, ": ");
  const int fd = open(token_file_.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    const int error = errno;
    return absl::ErrnoToStatus(error, absl::StrCat(prefix, "cannot read"));
  }
  struct stat st;
  std::string content;
  int error = 0;
  if (fstat(fd, &st) != 0) {
    error = errno;
  } else {
    identity = FileIdentity{st.st_dev, st.st_ino, st.st_size, MtimeNs(st)};
    char buffer[4096];
    while (content.size() <= kMaxTokenBytes) {
      const ssize_t n = read(fd, buffer, sizeof buffer);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) error = errno;
      if (n <= 0) break;
      content.append(buffer, static_cast<size_t>(n));
    }
  }
  close(fd);
  if (error != 0) return absl::ErrnoToStatus(error, absl::StrCat(prefix, "cannot read"));
  if (content.size() > kMaxTokenBytes) {
    return absl::InvalidArgumentError(absl::StrCat(prefix, "larger than 64 KiB"));
  }
  const std::string token(absl::StripAsciiWhitespace(content));
  if (token.empty()) return absl::InvalidArgumentError(absl::StrCat(prefix, "empty"));
  for (char c : token) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u == 0x7f) {
      return absl::InvalidArgumentError(
          absl::StrCat(prefix, "the token contains whitespace or control characters"));
    }
  }
  return token;
}

}  // namespace clusterdns::controlplane
