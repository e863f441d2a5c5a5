// HttpServer (http_server.h): cpp-httplib wired to Metrics and a ReadyFn.
#include "controlplane/http/http_server.h"

#include <arpa/inet.h>
#include <httplib.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <exception>
#include <string>
#include <system_error>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace clusterdns::controlplane {
namespace {

// HTTP threads: scrapes and probes are a few requests a second; four cover a Prometheus pair and
// the kubelet's probes without idling a thread per core on a DPDK appliance.
constexpr size_t kHttpThreads = 4;
// An idle keep-alive connection is closed after this long; it also bounds how long Stop() waits
// for a client that holds a connection open (httplib's keep-alive wait does not see stop()).
constexpr time_t kKeepAliveTimeoutS = 1;
// A request or response that makes no progress for this long is dropped.
constexpr time_t kReadTimeoutS = 2;
constexpr time_t kWriteTimeoutS = 2;

constexpr char kTextPlain[] = "text/plain; charset=utf-8";
constexpr char kPrometheusText[] = "text/plain; version=0.0.4; charset=utf-8";

absl::Status AddressError(std::string_view addr, std::string_view what) {
  return absl::InvalidArgumentError(
      absl::StrCat("--http-addr \"", std::string(addr), "\": ", std::string(what)));
}

bool IsIpv4(const std::string& host) {
  in_addr a;
  return inet_pton(AF_INET, host.c_str(), &a) == 1;
}

bool IsIpv6(const std::string& host) {
  in6_addr a;
  return inet_pton(AF_INET6, host.c_str(), &a) == 1;
}

// Why `host:port` cannot be bound: httplib only says that it failed, so bind a socket of our own
// the same way (SO_REUSEADDR, dual-stack IPv6) and report its errno.
std::string BindFailure(const HttpAddress& address) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE;
  addrinfo* result = nullptr;
  const std::string service = std::to_string(address.port);
  if (const int rc = getaddrinfo(address.host.c_str(), service.c_str(), &hints, &result); rc != 0) {
    return gai_strerror(rc);
  }
  int err = 0;
  {
    const int fd = socket(result->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
      err = errno;
    } else {
      const int yes = 1;
      const int no = 0;
      setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
      if (result->ai_family == AF_INET6) setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &no, sizeof(no));
      if (bind(fd, result->ai_addr, result->ai_addrlen) != 0 || listen(fd, 1) != 0) err = errno;
      close(fd);
    }
  }
  freeaddrinfo(result);
  switch (err) {
    case 0:
      return "cannot listen (the address became free again: retry)";
    case EADDRINUSE:
      return "address in use";
    case EADDRNOTAVAIL:
      return "address not available on this host";
    case EACCES:
      return "permission denied (ports below 1024 need CAP_NET_BIND_SERVICE)";
    case EAFNOSUPPORT:
      return "address family not supported (IPv6 disabled?)";
    default:
      return std::error_code(err, std::generic_category()).message();
  }
}

// Our sockets only: SO_REUSEADDR so a restart is not blocked by TIME_WAIT connections, and no
// SO_REUSEPORT (httplib's default), under which a second clusterdns would silently share the port.
void SocketOptions(int fd) {
  const int yes = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
}

void InstallRoutes(httplib::Server& server, const Metrics* metrics, ReadyFn ready) {
  server.set_pre_routing_handler([](const httplib::Request& req, httplib::Response& res) {
    if (req.method == "GET" || req.method == "HEAD") {
      return httplib::Server::HandlerResponse::Unhandled;
    }
    res.status = 405;
    res.set_header("Allow", "GET, HEAD");
    res.set_content("method not allowed\n", kTextPlain);
    return httplib::Server::HandlerResponse::Handled;
  });
  server.Get("/health", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("ok\n", kTextPlain);
  });
  server.Get("/ready", [ready = std::move(ready)](const httplib::Request&, httplib::Response& res) {
    const Readiness r = ready ? ready() : Readiness::Ready();
    if (r.ready) {
      res.set_content("ready\n", kTextPlain);
    } else {
      res.status = 503;
      res.set_content(absl::StrCat("not ready: ", r.reason.empty() ? "unknown" : r.reason, "\n"),
                      kTextPlain);
    }
  });
  server.Get("/metrics", [metrics](const httplib::Request&, httplib::Response& res) {
    res.set_content(metrics->Render(), kPrometheusText);
  });
  server.Get(".*", [](const httplib::Request&, httplib::Response& res) {
    res.status = 404;
    res.set_content("not found (try /health, /ready, /metrics)\n", kTextPlain);
  });
  // A handler that throws (std::bad_alloc in Render, a throwing ReadyFn) answers 500 instead of
  // escaping into httplib's thread.
  server.set_exception_handler(
      [](const httplib::Request&, httplib::Response& res, std::exception_ptr ep) {
        std::string what = "unknown error";
        try {
          std::rethrow_exception(ep);
        } catch (const std::exception& e) {
          what = e.what();
        } catch (...) {
        }
        res.status = 500;
        res.set_content(absl::StrCat("internal error: ", what, "\n"), kTextPlain);
      });
}

}  // namespace

absl::StatusOr<HttpAddress> ParseHttpAddress(std::string_view addr) {
  constexpr std::string_view kExpected = "expected HOST:PORT, e.g. 127.0.0.1:8080 or [::1]:8080";
  HttpAddress out;
  std::string_view port;
  if (!addr.empty() && addr.front() == '[') {
    const size_t close = addr.find(']');
    if (close == std::string_view::npos) {
      return AddressError(addr, "missing ']' after the IPv6 address");
    }
    out.host = std::string(addr.substr(1, close - 1));
    if (close + 1 >= addr.size() || addr[close + 1] != ':') return AddressError(addr, kExpected);
    port = addr.substr(close + 2);
    if (!IsIpv6(out.host)) return AddressError(addr, "not an IPv6 address inside [ ]");
  } else {
    const size_t colon = addr.rfind(':');
    if (colon == std::string_view::npos) return AddressError(addr, kExpected);
    out.host = std::string(addr.substr(0, colon));
    port = addr.substr(colon + 1);
    if (out.host.find(':') != std::string::npos) {
      return AddressError(addr, "an IPv6 address needs brackets, e.g. [::1]:8080");
    }
    if (out.host.empty()) {
      out.host = "0.0.0.0";
    } else if (out.host == "localhost") {
      out.host = "127.0.0.1";
    } else if (!IsIpv4(out.host)) {
      return AddressError(addr, "host must be an IP address or localhost");
    }
  }
  if (port.empty() || port.size() > 5) {
    return AddressError(addr, "port must be a number from 0 to 65535");
  }
  uint32_t value = 0;
  for (char c : port) {
    if (c < '0' || c > '9') return AddressError(addr, "port must be a number from 0 to 65535");
    value = value * 10 + static_cast<uint32_t>(c - '0');
  }
  if (value > 65535) return AddressError(addr, "port must be a number from 0 to 65535");
  out.port = static_cast<uint16_t>(value);
  return out;
}

absl::StatusOr<std::unique_ptr<HttpServer>> HttpServer::Start(std::string_view addr,
                                                              const Metrics* metrics,
                                                              ReadyFn ready) {
  if (metrics == nullptr) return absl::InvalidArgumentError("HttpServer::Start: metrics is null");
  absl::StatusOr<HttpAddress> address = ParseHttpAddress(addr);
  if (!address.ok()) return address.status();

  std::unique_ptr<HttpServer> self;
  try {
    auto server = std::make_unique<httplib::Server>();
    server->new_task_queue = [] { return new httplib::ThreadPool(kHttpThreads); };
    server->set_socket_options(SocketOptions);
    server->set_keep_alive_timeout(kKeepAliveTimeoutS);
    server->set_read_timeout(kReadTimeoutS, 0);
    server->set_write_timeout(kWriteTimeoutS, 0);
    InstallRoutes(*server, metrics, std::move(ready));

    // Numeric host and port: no name resolution at bind time.
    const int flags = AI_NUMERICHOST | AI_PASSIVE;
    int port = address->port;
    if (port == 0) {
      port = server->bind_to_any_port(address->host, flags);
    } else if (!server->bind_to_port(address->host, port, flags)) {
      port = -1;
    }
    if (port < 0) {
      return absl::UnavailableError(
          absl::StrCat("--http-addr ", std::string(addr), ": ", BindFailure(*address)));
    }
    self.reset(new HttpServer(std::string(addr), std::move(server), port));
    self->thread_ = std::thread([s = self.get()] { s->Serve(); });
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat("--http-addr ", std::string(addr), ": ", e.what()));
  }
  // httplib's stop() is a no-op until the accept loop has marked itself running, so wait for that
  // (microseconds) before handing out a server that may be stopped at once.
  while (!self->server_->is_running() && !self->listen_returned_.load(std::memory_order_acquire)) {
    std::this_thread::sleep_for(std::chrono::microseconds(100));
  }
  return self;
}

HttpServer::HttpServer(std::string addr, std::unique_ptr<httplib::Server> server, int port)
    : addr_(std::move(addr)), server_(std::move(server)), port_(port) {}

HttpServer::~HttpServer() { Stop(); }

void HttpServer::Serve() {
  bool ok = false;
  try {
    ok = server_->listen_after_bind();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "clusterdns: --http-addr %s: HTTP server failed: %s\n", addr_.c_str(),
                 e.what());
  } catch (...) {
    std::fprintf(stderr, "clusterdns: --http-addr %s: HTTP server failed\n", addr_.c_str());
  }
  // acquire/release: Start() waits on this flag; stopping_ tells a requested stop from a failure.
  if (!ok && !stopping_.load(std::memory_order_acquire)) {
    std::fprintf(stderr, "clusterdns: --http-addr %s: HTTP server stopped accepting connections\n",
                 addr_.c_str());
  }
  listen_returned_.store(true, std::memory_order_release);
}

void HttpServer::Stop() {
  std::lock_guard<std::mutex> lock(stop_mu_);
  if (!thread_.joinable()) return;
  stopping_.store(true, std::memory_order_release);
  server_->stop();
  thread_.join();
}

}  // namespace clusterdns::controlplane
