// fake-kube-api: the fake Kubernetes API server (fake_kube_api.h) as a process, for end-to-end
// shell tests and demos.
//
//   fake-kube-api --objects-file=F [--token=T] [--port-file=P] [--port=N]
//                 [--tls-cert=C --tls-key=K [--client-ca=CA]] [--max-page-size=N]
//
// Loads F (a kubectl List: `kubectl get services,endpointslices -A -o json`, or a typed
// ServiceList/EndpointSliceList), serves its Services and EndpointSlices on 127.0.0.1 (port 0 =
// ephemeral), writes the port to P (atomically: written aside, then renamed), and runs until
// SIGTERM or SIGINT. SIGHUP re-reads F and applies the difference (Apply for new or changed
// objects, Delete for missing ones), so open watches see ADDED/MODIFIED/DELETED. Items of other
// kinds are skipped. Exit status: 0 after a signal, 1 on a bad flag or an unreadable file.
#include <pthread.h>

#include <csignal>
#include <cstdio>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <tuple>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "simdjson.h"
#include "tests/support/fake_kube_api/fake_kube_api.h"

namespace {

using clusterdns::testing::FakeKubeApi;
using clusterdns::testing::FakeKubeApiOptions;
using clusterdns::testing::FakeResource;

struct Item {
  FakeResource resource;
  std::string ns;
  std::string name;
  std::string json;
};
// Keyed by (resource, "ns/name").
using Cluster = std::map<std::tuple<int, std::string>, Item>;

absl::StatusOr<Cluster> LoadObjects(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("objects file ", path, ": cannot open"));
  std::stringstream text;
  text << in.rdbuf();
  const simdjson::padded_string padded(text.str());
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  simdjson::dom::array items;
  if (simdjson::error_code e = parser.parse(padded).get(root)) {
    return absl::InvalidArgumentError(
        absl::StrCat("objects file ", path, ": ", simdjson::error_message(e)));
  }
  if (root["items"].get(items)) {
    return absl::InvalidArgumentError(absl::StrCat("objects file ", path, ": no items array"));
  }
  std::string_view list_kind;
  if (root["kind"].get(list_kind)) list_kind = "List";
  Cluster cluster;
  for (simdjson::dom::element element : items) {
    std::string_view kind, ns, name;
    if (element["kind"].get(kind)) {
      // Typed lists (as the API server returns them) leave the kind out of their items.
      const bool typed = list_kind.size() > 4 && list_kind.substr(list_kind.size() - 4) == "List";
      kind = typed ? list_kind.substr(0, list_kind.size() - 4) : std::string_view();
    }
    FakeResource resource;
    if (kind == "Service") {
      resource = FakeResource::kServices;
    } else if (kind == "EndpointSlice") {
      resource = FakeResource::kEndpointSlices;
    } else {
      continue;
    }
    if (element["metadata"]["name"].get(name)) {
      return absl::InvalidArgumentError(
          absl::StrCat("objects file ", path, ": a ", std::string(kind), " without metadata.name"));
    }
    if (element["metadata"]["namespace"].get(ns)) ns = "";
    Item item{resource, std::string(ns), std::string(name), simdjson::to_string(element)};
    cluster[{static_cast<int>(resource), item.ns + "/" + item.name}] = std::move(item);
  }
  return cluster;
}

// Makes the server hold `next`, changing only what differs from `current`.
void Sync(FakeKubeApi& api, const Cluster& current, const Cluster& next) {
  for (const auto& [key, item] : current) {
    if (next.count(key) == 0) api.Delete(item.resource, item.ns, item.name);
  }
  for (const auto& [key, item] : next) {
    auto it = current.find(key);
    if (it == current.end() || it->second.json != item.json) api.Apply(item.resource, item.json);
  }
}

bool WritePortFile(const std::string& path, int port) {
  const std::string temp = path + ".tmp";
  {
    std::ofstream out(temp, std::ios::trunc);
    out << port << "\n";
    if (!out) return false;
  }
  return std::rename(temp.c_str(), path.c_str()) == 0;
}

int Usage(const std::string& problem) {
  std::fprintf(stderr,
               "fake-kube-api: %s\nusage: fake-kube-api --objects-file=F [--token=T] "
               "[--port-file=P] [--port=N] [--tls-cert=C --tls-key=K [--client-ca=CA]] "
               "[--max-page-size=N]\n",
               problem.c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  FakeKubeApiOptions options;
  std::string objects_file, port_file;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    const size_t eq = arg.find('=');
    const std::string flag = arg.substr(0, eq);
    const std::string value = eq == std::string::npos ? "" : arg.substr(eq + 1);
    if (eq == std::string::npos) return Usage("flags take a value: --flag=value, got " + arg);
    if (flag == "--objects-file") {
      objects_file = value;
    } else if (flag == "--token") {
      options.bearer_token = value;
    } else if (flag == "--port-file") {
      port_file = value;
    } else if (flag == "--tls-cert") {
      options.tls_cert_file = value;
    } else if (flag == "--tls-key") {
      options.tls_key_file = value;
    } else if (flag == "--client-ca") {
      options.client_ca_file = value;
    } else if (flag == "--port") {
      if (!absl::SimpleAtoi(value, &options.port)) return Usage("bad --port");
    } else if (flag == "--max-page-size") {
      if (!absl::SimpleAtoi(value, &options.max_page_size)) return Usage("bad --max-page-size");
    } else {
      return Usage("unknown flag " + flag);
    }
  }
  if (objects_file.empty()) return Usage("--objects-file is required");

  absl::StatusOr<Cluster> cluster = LoadObjects(objects_file);
  if (!cluster.ok()) return Usage(std::string(cluster.status().message()));

  // Block the signals before any thread starts, so every thread inherits the mask and sigwait
  // below is their only receiver.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGHUP);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  absl::StatusOr<std::unique_ptr<FakeKubeApi>> api = FakeKubeApi::Start(options);
  if (!api.ok()) return Usage(std::string(api.status().message()));
  Sync(**api, Cluster(), *cluster);
  if (!port_file.empty() && !WritePortFile(port_file, (*api)->port())) {
    return Usage("cannot write --port-file " + port_file);
  }
  std::fprintf(stderr, "fake-kube-api: %zu objects at %s (resourceVersion %llu)\n",
               cluster->size(), (*api)->url().c_str(),
               static_cast<unsigned long long>((*api)->resource_version()));

  while (true) {
    int signal = 0;
    if (sigwait(&signals, &signal) != 0) continue;
    if (signal != SIGHUP) break;
    absl::StatusOr<Cluster> next = LoadObjects(objects_file);
    if (!next.ok()) {
      std::fprintf(stderr, "fake-kube-api: reload failed, keeping the objects: %s\n",
                   std::string(next.status().message()).c_str());
      continue;
    }
    Sync(**api, *cluster, *next);
    cluster = std::move(next);
    std::fprintf(stderr, "fake-kube-api: reloaded %zu objects (resourceVersion %llu)\n",
                 cluster->size(), static_cast<unsigned long long>((*api)->resource_version()));
  }
  std::fprintf(stderr, "fake-kube-api: stopping\n");
  return 0;
}
