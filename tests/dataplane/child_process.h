// Test helpers that clean up after themselves: a child process stopped by its PID (never by
// name) when the test ends, however it ends, and a temporary directory removed with its files.
//
//   TempDir dir;                                            // /tmp/cdns-test-XXXXXX
//   auto child = ChildProcess::Spawn({"/path/bin", "--flag"}, dir.path() + "/out",
//                                    dir.path() + "/err");
//   std::optional<int> status = child->Wait(absl::Seconds(10));   // exit status, or nullopt
//   // ~ChildProcess: SIGKILL + reap if still running
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace clusterdns::testing {

class TempDir {
 public:
  TempDir();   // aborts if mkdtemp fails (a broken test machine)
  ~TempDir();  // rm -r
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

class ChildProcess {
 public:
  // argv[0] is the program's path. stdout / stderr go to the files named (created, truncated).
  static absl::StatusOr<ChildProcess> Spawn(const std::vector<std::string>& argv,
                                            const std::string& stdout_path,
                                            const std::string& stderr_path);
  ChildProcess(ChildProcess&& other) noexcept : pid_(other.pid_) { other.pid_ = -1; }
  ChildProcess& operator=(ChildProcess&&) = delete;
  ChildProcess(const ChildProcess&) = delete;
  ~ChildProcess();

  pid_t pid() const { return pid_; }
  // The exit code (or 128 + signal) once it has exited within `timeout`; nullopt if it has not.
  std::optional<int> Wait(absl::Duration timeout);
  void Signal(int signal);  // to this PID only

 private:
  explicit ChildProcess(pid_t pid) : pid_(pid) {}
  pid_t pid_ = -1;  // -1 once reaped
};

// The whole file, or "" if it cannot be read.
std::string ReadFileOrEmpty(const std::string& path);

}  // namespace clusterdns::testing
