// HttpServer: the operator endpoints of clusterdns (--http-addr), on cpp-httplib.
//
//   GET /health  → 200 "ok\n" while the process serves
//   GET /ready   → 200 "ready\n" when ready() says so, else 503 "not ready: <reason>\n"
//   GET /metrics → 200 "text/plain; version=0.0.4; charset=utf-8", Metrics::Render()
//   any other path → 404; any method but GET and HEAD → 405 (with "Allow: GET, HEAD")
//
// Threads: Start() binds synchronously on the caller's thread, so a bad or busy address is a
// startup error; it then serves on its own accept thread plus a small pool of HTTP threads.
// `ready` and Metrics::Render() are called on those pool threads, possibly concurrently. Stop()
// (also run by the destructor) stops accepting, waits for requests in flight and joins every
// thread: immediate when no client is connected, at most ~1 s (the keep-alive wait) when an idle
// client holds a connection. Call Stop() from one thread (the owner).
//
// Ownership: `metrics` is not owned and must outlive the server; `ready` is copied.
//
//   CDNS_ASSIGN_OR_RETURN(std::unique_ptr<HttpServer> http,
//                         HttpServer::Start(flag_http_addr, &metrics,
//                                           [&] { return SourcesSynced(sources); }));
//   ...
//   http->Stop();
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

#include "absl/status/statusor.h"
#include "controlplane/http/metrics.h"
#include "controlplane/http/readiness.h"

namespace httplib {
class Server;
}  // namespace httplib

namespace clusterdns::controlplane {

// A parsed --http-addr: "127.0.0.1:8080", "[::1]:0", "localhost:8080" (= 127.0.0.1), ":8080"
// (= 0.0.0.0, every IPv4 address). The host is always a numeric address, so binding never
// resolves a name. Port 0 asks the kernel for a free port.
struct HttpAddress {
  std::string host;  // numeric IPv4 or IPv6 (without brackets)
  uint16_t port = 0;
};

// Errors name the flag and the value: `--http-addr "x": expected HOST:PORT, ...`.
absl::StatusOr<HttpAddress> ParseHttpAddress(std::string_view addr);

class HttpServer {
 public:
  // Binds `addr` and starts serving. `metrics` must not be null; a null `ready` means always
  // ready. Errors: a malformed address (see ParseHttpAddress), or a bind failure naming the
  // address: "--http-addr 127.0.0.1:8080: address in use".
  static absl::StatusOr<std::unique_ptr<HttpServer>> Start(std::string_view addr,
                                                           const Metrics* metrics, ReadyFn ready);

  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // The bound port (the kernel's choice when the address asked for port 0).
  int port() const { return port_; }
  // Idempotent.
  void Stop();

 private:
  HttpServer(std::string addr, std::unique_ptr<httplib::Server> server, int port);
  void Serve();

  const std::string addr_;  // as given, for messages
  std::unique_ptr<httplib::Server> server_;
  const int port_;
  std::atomic<bool> listen_returned_{false};  // the accept loop ended (see Serve)
  std::atomic<bool> stopping_{false};
  std::mutex stop_mu_;
  std::thread thread_;
};

}  // namespace clusterdns::controlplane
