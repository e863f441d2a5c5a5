// Start-up errors of the real Dataplane, through dataplane-responder (the EAL can be initialised
// once per process, so each case is its own process): every one is a one-line error naming what
// is wrong and how to fix it, exit status 2, and nothing left behind.
#include <gtest/gtest.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "tests/dataplane/child_process.h"
#include "tests/dataplane/pcap_file.h"

namespace clusterdns::testing {
namespace {

struct Outcome {
  std::optional<int> status;
  std::string err;
};

Outcome RunResponder(const std::vector<std::string>& eal_args, const std::string& ip_flag) {
  TempDir dir;
  static int n = 0;
  std::vector<std::string> argv = {CDNS_RESPONDER,
                                   "--no-pci",
                                   "--no-huge",
                                   "-m",
                                   "256",
                                   "--no-shconf",
                                   "--no-telemetry",
                                   absl::StrCat("--file-prefix=cdns-startup-", getpid(), "-", ++n)};
  argv.insert(argv.end(), eal_args.begin(), eal_args.end());
  argv.push_back("--");
  argv.push_back(ip_flag);
  argv.push_back("--seconds=5");
  auto child = ChildProcess::Spawn(argv, dir.path() + "/out", dir.path() + "/err");
  if (!child.ok()) return {std::nullopt, child.status().ToString()};
  Outcome run;
  run.status = child->Wait(absl::Seconds(20));
  run.err = ReadFileOrEmpty(dir.path() + "/err");
  return run;
}

TEST(DataplaneStartup, TooFewQueuesNamesThePortAndTheFix) {
  TempDir dir;
  ASSERT_TRUE(WritePcap(dir.path() + "/empty.pcap", {}).ok());
  // Two lcores on one CPU: two workers on any machine, without spinning two cores.
  const Outcome run = RunResponder(
      {"--lcores=0@0,1@0", absl::StrCat("--vdev=net_pcap0,rx_pcap=", dir.path(), "/empty.pcap")},
      "--ip=198.18.0.53");
  ASSERT_TRUE(run.status.has_value());
  EXPECT_EQ(*run.status, 2) << run.err;
  EXPECT_NE(run.err.find("port 0 (net_pcap0, net_pcap) offers 1 rx / 1 tx queues"),
            std::string::npos)
      << run.err;
  EXPECT_NE(run.err.find("qpairs=2"), std::string::npos) << run.err;
  EXPECT_NE(run.err.find("queue_count=2"), std::string::npos) << run.err;
}

TEST(DataplaneStartup, NoPortIsAnError) {
  const Outcome run = RunResponder({"-l", "0"}, "--ip=198.18.0.53");
  ASSERT_TRUE(run.status.has_value());
  EXPECT_EQ(*run.status, 2) << run.err;
  EXPECT_NE(run.err.find("no Ethernet port"), std::string::npos) << run.err;
}

TEST(DataplaneStartup, BadEalOptionIsAnError) {
  const Outcome run = RunResponder({"-l", "0", "--no-such-eal-option"}, "--ip=198.18.0.53");
  ASSERT_TRUE(run.status.has_value());
  EXPECT_EQ(*run.status, 2) << run.err;
  EXPECT_NE(run.err.find("EAL initialisation failed"), std::string::npos) << run.err;
  EXPECT_NE(run.err.find("--no-such-eal-option"), std::string::npos) << run.err;
}

TEST(DataplaneStartup, UnservableAddressFailsBeforeTheEal) {
  const Outcome run = RunResponder({"-l", "0", "--vdev=net_null0"}, "--ip=224.0.0.1");
  ASSERT_TRUE(run.status.has_value());
  EXPECT_EQ(*run.status, 2) << run.err;
  EXPECT_NE(run.err.find("224.0.0.1"), std::string::npos) << run.err;
  EXPECT_EQ(run.err.find("EAL:"), std::string::npos) << "the EAL ran: " << run.err;
}

}  // namespace
}  // namespace clusterdns::testing
