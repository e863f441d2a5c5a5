// Tests of HttpServer, ParseHttpAddress and SourcesSynced (controlplane/http/http_server.h,
// readiness.h). Every server binds 127.0.0.1 port 0 (or [::1] port 0); clients are httplib's.
#include "controlplane/http/http_server.h"

#include <arpa/inet.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "records/dns_constants.h"
#include "tests/controlplane/http/prometheus_text.h"

namespace clusterdns::controlplane {
namespace {

using ::clusterdns::testing::ParsePromText;
using ::clusterdns::testing::PromText;
using ::testing::HasSubstr;
using ::testing::StartsWith;

std::unique_ptr<httplib::Client> ClientFor(const HttpServer& server,
                                           const char* host = "127.0.0.1") {
  auto client = std::make_unique<httplib::Client>(host, server.port());
  client->set_connection_timeout(1, 0);
  client->set_read_timeout(2, 0);
  client->set_write_timeout(2, 0);
  return client;
}

std::unique_ptr<HttpServer> MustStart(const Metrics* metrics, ReadyFn ready = nullptr) {
  absl::StatusOr<std::unique_ptr<HttpServer>> server =
      HttpServer::Start("127.0.0.1:0", metrics, std::move(ready));
  EXPECT_TRUE(server.ok()) << server.status();
  if (!server.ok()) return nullptr;
  EXPECT_GT((*server)->port(), 0);
  return std::move(*server);
}

// A listening TCP socket on 127.0.0.1 with a kernel-chosen port (plain, no SO_REUSE*).
class Listener {
 public:
  Listener() {
    fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd_ < 0 || bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0 ||
        listen(fd_, 1) != 0)
      return;
    socklen_t len = sizeof(a);
    if (getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len) == 0) port_ = ntohs(a.sin_port);
  }
  ~Listener() {
    if (fd_ >= 0) close(fd_);
  }
  int port() const { return port_; }

 private:
  int fd_ = -1;
  int port_ = 0;
};

TEST(HttpServer, HealthAnswersOk) {
  Metrics metrics("test");
  auto server = MustStart(&metrics);
  ASSERT_NE(server, nullptr);
  auto res = ClientFor(*server)->Get("/health");
  ASSERT_TRUE(res) << httplib::to_string(res.error());
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->body, "ok\n");
  EXPECT_THAT(res->get_header_value("Content-Type"), StartsWith("text/plain"));
}

TEST(HttpServer, ReadyFollowsTheCallbackAndShowsTheReason) {
  Metrics metrics("test");
  std::atomic<bool> ready{false};
  auto server = MustStart(&metrics, [&ready] {
    // relaxed: a test flag, no data hangs on it.
    return ready.load(std::memory_order_relaxed)
               ? Readiness::Ready()
               : Readiness::NotReady("source kubernetes/services has not synced");
  });
  ASSERT_NE(server, nullptr);
  auto client = ClientFor(*server);
  auto res = client->Get("/ready");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 503);
  EXPECT_EQ(res->body, "not ready: source kubernetes/services has not synced\n");

  ready.store(true, std::memory_order_relaxed);
  res = client->Get("/ready");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->body, "ready\n");
}

TEST(HttpServer, ReadyWithSourcesSynced) {
  Metrics metrics("test");
  SourceStats services("kubernetes/services");
  SourceStats slices("kubernetes/endpointslices");
  auto server = MustStart(&metrics, [&] { return SourcesSynced({&services, &slices}); });
  ASSERT_NE(server, nullptr);
  auto client = ClientFor(*server);
  auto res = client->Get("/ready");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 503);
  EXPECT_EQ(res->body,
            "not ready: sources not synced: kubernetes/services, kubernetes/endpointslices\n");
  services.synced = true;
  res = client->Get("/ready");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->body, "not ready: source not synced: kubernetes/endpointslices\n");
  slices.synced = true;
  res = client->Get("/ready");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
}

TEST(SourcesSynced, NoSourcesIsNotReady) {
  EXPECT_FALSE(SourcesSynced({}).ready);
  SourceStats file("file");
  file.synced = true;
  EXPECT_TRUE(SourcesSynced({&file}).ready);
}

TEST(HttpServer, AThrowingReadyFnAnswers500) {
  Metrics metrics("test");
  auto server = MustStart(&metrics, []() -> Readiness { throw std::runtime_error("boom"); });
  ASSERT_NE(server, nullptr);
  auto res = ClientFor(*server)->Get("/ready");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 500);
  EXPECT_THAT(res->body, HasSubstr("boom"));
  // Still serving.
  res = ClientFor(*server)->Get("/health");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
}

TEST(HttpServer, MetricsHasTheContentTypeAndParses) {
  Metrics metrics("test");
  records::QueryCounters counters;
  records::RespondResult r;
  r.verdict = records::Verdict::kReply;
  r.rcode = records::kRcodeNxDomain;
  r.qtype = records::kTypeA;
  counters.Count(r);
  metrics.AddQueryCounters("listen", &counters);
  auto server = MustStart(&metrics);
  ASSERT_NE(server, nullptr);
  auto res = ClientFor(*server)->Get("/metrics");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->get_header_value("Content-Type"), "text/plain; version=0.0.4; charset=utf-8");
  absl::StatusOr<PromText> text = ParsePromText(res->body);
  ASSERT_TRUE(text.ok()) << text.status();
  EXPECT_EQ(text->Value("clusterdns_queries_total", {{"path", "listen"}, {"rcode", "NXDOMAIN"}}),
            1.0);
  EXPECT_EQ(res->body, metrics.Render());
}

TEST(HttpServer, UnknownPathIs404) {
  Metrics metrics("test");
  auto server = MustStart(&metrics);
  ASSERT_NE(server, nullptr);
  auto client = ClientFor(*server);
  for (const char* path : {"/", "/healthz", "/metrics/x", "/health/"}) {
    auto res = client->Get(path);
    ASSERT_TRUE(res) << path;
    EXPECT_EQ(res->status, 404) << path;
  }
}

TEST(HttpServer, OtherMethodsAre405) {
  Metrics metrics("test");
  auto server = MustStart(&metrics);
  ASSERT_NE(server, nullptr);
  auto client = ClientFor(*server);
  auto post = client->Post("/metrics", "x", "text/plain");
  ASSERT_TRUE(post);
  EXPECT_EQ(post->status, 405);
  EXPECT_EQ(post->get_header_value("Allow"), "GET, HEAD");
  auto put = client->Put("/health", "x", "text/plain");
  ASSERT_TRUE(put);
  EXPECT_EQ(put->status, 405);
  auto del = client->Delete("/ready");
  ASSERT_TRUE(del);
  EXPECT_EQ(del->status, 405);
  auto other = client->Post("/nope", "x", "text/plain");
  ASSERT_TRUE(other);
  EXPECT_EQ(other->status, 405);
  // HEAD is GET without a body.
  auto head = client->Head("/health");
  ASSERT_TRUE(head);
  EXPECT_EQ(head->status, 200);
  EXPECT_TRUE(head->body.empty());
}

TEST(HttpServer, PortInUseNamesTheAddress) {
  Listener busy;
  ASSERT_GT(busy.port(), 0);
  Metrics metrics("test");
  const std::string addr = "127.0.0.1:" + std::to_string(busy.port());
  absl::StatusOr<std::unique_ptr<HttpServer>> server = HttpServer::Start(addr, &metrics, nullptr);
  ASSERT_FALSE(server.ok());
  EXPECT_EQ(server.status().message(), "--http-addr " + addr + ": address in use");
}

TEST(HttpServer, TwoServersCannotShareAPort) {
  // httplib sets SO_REUSEPORT by default, under which both binds would succeed.
  Metrics metrics("test");
  auto first = MustStart(&metrics);
  ASSERT_NE(first, nullptr);
  const std::string addr = "127.0.0.1:" + std::to_string(first->port());
  absl::StatusOr<std::unique_ptr<HttpServer>> second = HttpServer::Start(addr, &metrics, nullptr);
  ASSERT_FALSE(second.ok());
  EXPECT_THAT(std::string(second.status().message()), HasSubstr("address in use"));
}

TEST(HttpServer, AddressNotOnThisHost) {
  Metrics metrics("test");
  // 192.0.2.0/24 (TEST-NET-1) is never a local address; bind fails without sending anything.
  absl::StatusOr<std::unique_ptr<HttpServer>> server =
      HttpServer::Start("192.0.2.1:0", &metrics, nullptr);
  ASSERT_FALSE(server.ok());
  EXPECT_EQ(server.status().message(),
            "--http-addr 192.0.2.1:0: address not available on this host");
}

TEST(HttpServer, MalformedAddressesAreRejected) {
  Metrics metrics("test");
  absl::StatusOr<std::unique_ptr<HttpServer>> server = HttpServer::Start("x", &metrics, nullptr);
  ASSERT_FALSE(server.ok());
  EXPECT_THAT(std::string(server.status().message()), StartsWith("--http-addr \"x\": "));
  EXPECT_FALSE(HttpServer::Start("127.0.0.1:0", nullptr, nullptr).ok());
}

TEST(HttpServer, StopsPromptlyAndIsIdempotent) {
  Metrics metrics("test");
  auto server = MustStart(&metrics);
  ASSERT_NE(server, nullptr);
  ASSERT_TRUE(ClientFor(*server)->Get("/health"));
  const int port = server->port();
  const auto start = std::chrono::steady_clock::now();
  server->Stop();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(200));
  server->Stop();
  // The port is free again: a new server can bind it.
  absl::StatusOr<std::unique_ptr<HttpServer>> again =
      HttpServer::Start("127.0.0.1:" + std::to_string(port), &metrics, nullptr);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ((*again)->port(), port);
}

TEST(HttpServer, StopRightAfterStart) {
  Metrics metrics("test");
  for (int i = 0; i < 20; ++i) {
    auto server = MustStart(&metrics);
    ASSERT_NE(server, nullptr);
    const auto start = std::chrono::steady_clock::now();
    server.reset();  // the destructor stops
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(200));
  }
}

TEST(HttpServer, StopWithAnIdleClientConnectedIsBounded) {
  Metrics metrics("test");
  auto server = MustStart(&metrics);
  ASSERT_NE(server, nullptr);
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(static_cast<uint16_t>(server->port()));
  ASSERT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)), 0);
  std::this_thread::sleep_for(std::chrono::milliseconds(50));  // accepted, held by a pool thread
  const auto start = std::chrono::steady_clock::now();
  server->Stop();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(2500));
  close(fd);
}

TEST(HttpServer, ServesIpv6Loopback) {
  Metrics metrics("test");
  absl::StatusOr<std::unique_ptr<HttpServer>> server =
      HttpServer::Start("[::1]:0", &metrics, nullptr);
  if (!server.ok()) GTEST_SKIP() << "no IPv6 loopback here: " << server.status();
  auto client = ClientFor(**server, "::1");
  auto res = client->Get("/health");
  ASSERT_TRUE(res) << httplib::to_string(res.error());
  EXPECT_EQ(res->body, "ok\n");
}

// Four scrapers against one writer that keeps counting: every scrape parses, and what each
// scraper sees never goes backwards. Under ASan this also checks the scrape path for races on
// memory that the writer frees or moves (there must be none).
TEST(HttpServer, ConcurrentScrapesWhileCountersMove) {
  records::QueryCounters counters;
  SourceStats source("file");
  Metrics metrics("test");
  metrics.AddQueryCounters("listen", &counters);
  metrics.AddSource(&source);
  auto server = MustStart(&metrics);
  ASSERT_NE(server, nullptr);

  std::atomic<bool> done{false};
  uint64_t written = 0;
  std::thread writer([&] {
    records::RespondResult r;
    r.verdict = records::Verdict::kReply;
    r.rcode = records::kRcodeNoError;
    r.qtype = records::kTypeA;
    // acquire: pairs with the release below only to end the loop; counters are relaxed.
    while (!done.load(std::memory_order_acquire)) {
      for (int i = 0; i < 100; ++i) counters.Count(r);
      SourceStats::Bump(source.added);
      metrics.ObserveProgrammingLatency(0.001);
      metrics.CountPublish(1);
      written += 100;
      std::this_thread::yield();
    }
  });

  constexpr int kScrapers = 4;
  constexpr int kScrapesEach = 25;
  std::vector<std::string> failures(kScrapers);
  std::vector<std::thread> scrapers;
  for (int t = 0; t < kScrapers; ++t) {
    scrapers.emplace_back([&, t] {
      auto client = ClientFor(*server);
      double last_queries = -1, last_events = -1, last_publishes = -1;
      for (int i = 0; i < kScrapesEach && failures[t].empty(); ++i) {
        auto res = client->Get("/metrics");
        if (!res || res->status != 200) {
          failures[t] = "scrape failed";
          break;
        }
        absl::StatusOr<PromText> text = ParsePromText(res->body);
        if (!text.ok()) {
          failures[t] = std::string(text.status().message());
          break;
        }
        const double queries =
            text->Value("clusterdns_queries_total", {{"path", "listen"}, {"rcode", "NOERROR"}})
                .value_or(-2);
        const double events =
            text->Value("clusterdns_source_events_total", {{"source", "file"}, {"type", "added"}})
                .value_or(-2);
        const double publishes = text->Value("clusterdns_table_publishes_total").value_or(-2);
        if (queries < last_queries || events < last_events || publishes < last_publishes) {
          failures[t] = "a counter went backwards";
        }
        last_queries = queries;
        last_events = events;
        last_publishes = publishes;
      }
    });
  }
  for (std::thread& t : scrapers) t.join();
  done.store(true, std::memory_order_release);
  writer.join();
  for (int t = 0; t < kScrapers; ++t) EXPECT_EQ(failures[t], "") << "scraper " << t;

  // After the writer has stopped, a scrape sees every count.
  auto res = ClientFor(*server)->Get("/metrics");
  ASSERT_TRUE(res);
  absl::StatusOr<PromText> text = ParsePromText(res->body);
  ASSERT_TRUE(text.ok()) << text.status();
  EXPECT_EQ(text->Value("clusterdns_queries_total", {{"path", "listen"}, {"rcode", "NOERROR"}}),
            static_cast<double>(written));
  EXPECT_GT(written, 0u);
}

TEST(ParseHttpAddress, AcceptsTheDocumentedForms) {
  struct Case {
    const char* in;
    const char* host;
    uint16_t port;
  };
  for (const Case& c : {Case{"127.0.0.1:8080", "127.0.0.1", 8080}, Case{"[::1]:0", "::1", 0},
                        Case{"localhost:9153", "127.0.0.1", 9153}, Case{":8080", "0.0.0.0", 8080},
                        Case{"[::]:65535", "::", 65535}, Case{"0.0.0.0:0", "0.0.0.0", 0}}) {
    absl::StatusOr<HttpAddress> a = ParseHttpAddress(c.in);
    ASSERT_TRUE(a.ok()) << c.in << ": " << a.status();
    EXPECT_EQ(a->host, c.host) << c.in;
    EXPECT_EQ(a->port, c.port) << c.in;
  }
}

TEST(ParseHttpAddress, RejectsWithTheFlagAndTheValue) {
  const std::map<std::string, std::string> bad = {
      {"", "expected HOST:PORT"},
      {"x", "expected HOST:PORT"},
      {"127.0.0.1", "expected HOST:PORT"},
      {"127.0.0.1:", "port must be a number"},
      {"127.0.0.1:http", "port must be a number"},
      {"127.0.0.1:65536", "port must be a number"},
      {"127.0.0.1:-1", "port must be a number"},
      {"127.0.0.1:123456", "port must be a number"},
      {"::1:8080", "needs brackets"},
      {"[::1]8080", "expected HOST:PORT"},
      {"[::1", "missing ']'"},
      {"[127.0.0.1]:80", "not an IPv6 address"},
      {"example.com:80", "host must be an IP address or localhost"},
      {"256.1.1.1:80", "host must be an IP address or localhost"},
  };
  for (const auto& [in, why] : bad) {
    absl::StatusOr<HttpAddress> a = ParseHttpAddress(in);
    ASSERT_FALSE(a.ok()) << in;
    EXPECT_THAT(std::string(a.status().message()), StartsWith("--http-addr \"" + in + "\": "))
        << in;
    EXPECT_THAT(std::string(a.status().message()), HasSubstr(why)) << in;
  }
}

}  // namespace
}  // namespace clusterdns::controlplane
