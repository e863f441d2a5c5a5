// Shared helpers for the kube client's tests: object JSON for the fake API server, files of test
// material, temporary files removed on scope exit, polling waits.
#pragma once

#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "tests/support/fake_kube_api/fake_kube_api.h"

namespace clusterdns::testing {

inline absl::string_view Sv(std::string_view text) { return {text.data(), text.size()}; }

inline std::string ServiceJson(std::string_view ns, std::string_view name, std::string_view ip,
                               int port = 80) {
  return absl::StrCat(R"({"kind":"Service","apiVersion":"v1","metadata":{"namespace":")", Sv(ns),
                      R"(","name":")", Sv(name), R"("},"spec":{"type":"ClusterIP","clusterIP":")",
                      Sv(ip), R"(","clusterIPs":[")", Sv(ip),
                      R"("],"ports":[{"name":"http","protocol":"TCP","port":)", port, "}]}}");
}

inline std::string SliceJson(std::string_view ns, std::string_view name, std::string_view service,
                             std::string_view ip) {
  return absl::StrCat(
      R"({"kind":"EndpointSlice","apiVersion":"discovery.k8s.io/v1","metadata":{"namespace":")",
      Sv(ns), R"(","name":")", Sv(name), R"(","labels":{"kubernetes.io/service-name":")",
      Sv(service), R"("}},"addressType":"IPv4","endpoints":[{"addresses":[")", Sv(ip),
      R"("],"conditions":{"ready":true}}],"ports":[{"name":"http","protocol":"TCP","port":80}]})");
}

inline std::string TlsFile(std::string_view name) {
  return absl::StrCat(CDNS_TLS_TESTDATA_DIR, "/", Sv(name));
}

inline std::string ReadFileOrDie(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in.good()) << path;
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// A file under the test's temp dir, removed when this goes out of scope (also on failure).
class TempFile {
 public:
  explicit TempFile(std::string_view content) {
    path_ = absl::StrCat(::testing::TempDir(), "/kube_client_test_", getpid(), "_", counter_++);
    Write(content);
  }
  ~TempFile() { std::remove(path_.c_str()); }
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;

  // Replaces the content atomically (write + rename), as the kubelet swaps token files.
  void Write(std::string_view content) const {
    const std::string staging = path_ + ".new";
    {
      std::ofstream out(staging, std::ios::binary | std::ios::trunc);
      out << content;
    }
    std::rename(staging.c_str(), path_.c_str());
  }
  const std::string& path() const { return path_; }

 private:
  static inline int counter_ = 0;
  std::string path_;
};

// Polls pred every 2 ms until it holds (true) or the timeout passes (false).
inline bool WaitUntil(const std::function<bool()>& pred,
                      absl::Duration timeout = absl::Seconds(3)) {
  const absl::Time give_up = absl::Now() + timeout;
  while (!pred()) {
    if (absl::Now() >= give_up) return false;
    absl::SleepFor(absl::Milliseconds(2));
  }
  return true;
}

// The requests the fake saw for one path, lists or watches.
inline std::vector<FakeKubeApi::Request> RequestsFor(const FakeKubeApi& api, std::string_view path,
                                                     bool watch) {
  std::vector<FakeKubeApi::Request> out;
  for (FakeKubeApi::Request& request : api.requests()) {
    if (request.path == path && request.watch == watch) out.push_back(std::move(request));
  }
  return out;
}

inline std::string Param(const FakeKubeApi::Request& request, const std::string& name) {
  auto it = request.params.find(name);
  return it == request.params.end() ? "<absent>" : it->second;
}

}  // namespace clusterdns::testing
