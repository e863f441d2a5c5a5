// End to end with real DNS clients: kdig (Knot) and dig (BIND) query the listeners over UDP and
// TCP. The listeners run in this process on 127.0.0.1 port 0; each client is a child process
// (posix_spawn) whose output is read through a pipe, killed by its PID if it outlives the test's
// deadline, and always reaped.
#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "tests/controlplane/listen/listen_test_util.h"

extern char** environ;

namespace clusterdns::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

struct ToolRun {
  bool ran = false;  // false: the tool is not installed or could not start
  int exit_code = -1;
  std::string output;  // stdout and stderr
};

ToolRun RunTool(const std::vector<std::string>& argv, int deadline_ms = 4000) {
  ToolRun out;
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return out;
  controlplane::UniqueFd read_end(fds[0]);
  controlplane::UniqueFd write_end(fds[1]);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, write_end.get(), STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&actions, write_end.get(), STDERR_FILENO);
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = -1;
  const int rc = posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  write_end.Reset();
  if (rc != 0) return out;

  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(deadline_ms);
  char buf[4096];
  bool timed_out = false;
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                          deadline - std::chrono::steady_clock::now())
                          .count();
    if (left <= 0) {
      timed_out = true;
      break;
    }
    pollfd p{read_end.get(), POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left)) <= 0) continue;
    const ssize_t n = ::read(read_end.get(), buf, sizeof(buf));
    if (n <= 0) break;  // EOF: the child closed its output (exited)
    out.output.append(buf, static_cast<size_t>(n));
  }
  if (timed_out) ::kill(pid, SIGKILL);
  int status = 0;
  ::waitpid(pid, &status, 0);
  // posix_spawnp reports a missing program as exit status 127 from the child.
  out.ran = !(WIFEXITED(status) && WEXITSTATUS(status) == 127);
  out.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  if (timed_out) out.output += "\n(killed after the deadline)";
  return out;
}

class RealClientTest : public ListenerTest {
 protected:
  void SetUp() override {
    ListenerTest::SetUp();
    StartListeners();
    port_ = std::to_string(Bound().port());
  }
  ToolRun Kdig(const std::string& name, const std::vector<std::string>& extra = {}) {
    std::vector<std::string> argv = {"kdig", "@127.0.0.1", "-p", port_, name,
                                     "+timeout=1", "+retry=0"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    return RunTool(argv);
  }
  std::string port_;
};

TEST_F(RealClientTest, KdigOverUdp) {
  const ToolRun r = Kdig("redis-master.default.svc.cluster.local");
  if (!r.ran) GTEST_SKIP() << "kdig is not installed";
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("status: NOERROR")) << r.output;
  EXPECT_THAT(r.output, HasSubstr("10.254.7.160")) << r.output;
  EXPECT_THAT(r.output, HasSubstr("UDP")) << r.output;
  EXPECT_EQ(listeners_->counters()[0]->replies(), 1u);
}

TEST_F(RealClientTest, KdigOverTcp) {
  const ToolRun r = Kdig("redis-master.default.svc.cluster.local", {"+tcp"});
  if (!r.ran) GTEST_SKIP() << "kdig is not installed";
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("status: NOERROR")) << r.output;
  EXPECT_THAT(r.output, HasSubstr("10.254.7.160")) << r.output;
  EXPECT_THAT(r.output, HasSubstr("TCP")) << r.output;
  EXPECT_EQ(listeners_->counters()[1]->replies(), 1u);
}

TEST_F(RealClientTest, KdigNxdomainOverUdpAndTcp) {
  // kube-dns lives in kube-system, not default.
  for (const bool tcp : {false, true}) {
    const ToolRun r = Kdig("kube-dns.default.svc.cluster.local",
                           tcp ? std::vector<std::string>{"+tcp"} : std::vector<std::string>{});
    if (!r.ran) GTEST_SKIP() << "kdig is not installed";
    EXPECT_THAT(r.output, HasSubstr("status: NXDOMAIN")) << r.output;
    EXPECT_THAT(r.output, HasSubstr("cluster.local.")) << r.output;  // the SOA in authority
    EXPECT_THAT(r.output, Not(HasSubstr("10.254.0.3"))) << r.output;
  }
}

TEST_F(RealClientTest, DigOverUdpAndTcp) {
  for (const char* transport : {"+notcp", "+tcp"}) {
    const ToolRun r = RunTool({"dig", "@127.0.0.1", "-p", port_,
                               "kube-dns.kube-system.svc.cluster.local", "+time=1", "+tries=1",
                               transport});
    if (!r.ran) GTEST_SKIP() << "dig is not installed";
    EXPECT_EQ(r.exit_code, 0) << r.output;
    EXPECT_THAT(r.output, HasSubstr("status: NOERROR")) << r.output;
    EXPECT_THAT(r.output, HasSubstr("10.254.0.3")) << r.output;
  }
}

}  // namespace
}  // namespace clusterdns::testing
