// HttpClient: against the fake API server (http and https, bearer tokens, client certificates)
// and against a silent socket (idle timeout, prompt interrupt), and bad configurations.
#include "controlplane/kube/http_client.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <future>
#include <string>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "controlplane/kube/kube_json.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/controlplane/kube/client_test_util.h"
#include "tests/support/fake_kube_api/fake_kube_api.h"

namespace clusterdns::controlplane {
namespace {

using testing::FakeKubeApi;
using testing::FakeKubeApiOptions;
using testing::FakeResource;
using ::testing::HasSubstr;
using testing::ReadFileOrDie;
using testing::TempFile;
using testing::TlsFile;

// A TCP listener on 127.0.0.1 that never accepts: the kernel completes the handshake, the request
// sits in the socket buffer, nothing ever comes back. A silent API server.
class SilentServer {
 public:
  SilentServer() {
    fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    EXPECT_EQ(bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
    EXPECT_EQ(listen(fd_, 16), 0);
    socklen_t length = sizeof(addr);
    getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &length);
    port_ = ntohs(addr.sin_port);
  }
  ~SilentServer() { close(fd_); }
  std::string url() const { return absl::StrCat("http://127.0.0.1:", port_); }

 private:
  int fd_ = -1;
  int port_ = 0;
};

// A port on 127.0.0.1 that nobody listens on (bound, then closed).
int UnusedPort() {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  socklen_t length = sizeof(addr);
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &length);
  close(fd);
  return ntohs(addr.sin_port);
}

std::unique_ptr<HttpClient> MakeClient(const KubeConnection& connection) {
  HttpClientOptions options;
  options.connect_timeout = absl::Seconds(2);
  absl::StatusOr<std::unique_ptr<HttpClient>> client = HttpClient::Create(connection, options);
  EXPECT_TRUE(client.ok()) << client.status();
  return client.ok() ? std::move(*client) : nullptr;
}

// GET target; returns "STATUS body" or the error status as text.
std::string Fetch(HttpClient& client, const std::string& target,
                  absl::Duration idle = absl::Seconds(3)) {
  std::string body;
  absl::StatusOr<HttpResponse> response =
      client.Get({.target = target, .idle_timeout = idle}, [&](std::string_view chunk) {
        body.append(chunk);
        return absl::OkStatus();
      });
  if (!response.ok()) return absl::StrCat("ERROR ", response.status().ToString());
  return absl::StrCat(response->status, " ", response->status == 200 ? body : response->error_body);
}

std::unique_ptr<FakeKubeApi> StartFake(FakeKubeApiOptions options = {}) {
  absl::StatusOr<std::unique_ptr<FakeKubeApi>> api = FakeKubeApi::Start(std::move(options));
  EXPECT_TRUE(api.ok()) << api.status();
  if (!api.ok()) return nullptr;
  (*api)->Apply(FakeResource::kServices, testing::ServiceJson("default", "web", "10.96.0.10"));
  return std::move(*api);
}

TEST(HttpClient, RefusesUnusableServerUrls) {
  for (const char* server : {"ftp://127.0.0.1/", "not a url", "", "file:///etc/passwd"}) {
    KubeConnection connection;
    connection.server = server;
    absl::StatusOr<std::unique_ptr<HttpClient>> client = HttpClient::Create(connection);
    EXPECT_TRUE(absl::IsInvalidArgument(client.status())) << server << " → " << client.status();
  }
}

TEST(HttpClient, StreamsTheBodyAndSendsTheToken) {
  std::unique_ptr<FakeKubeApi> api = StartFake({.bearer_token = "s3cret"});
  ASSERT_NE(api, nullptr);
  KubeConnection connection;
  connection.server = api->url();
  connection.token = "s3cret";
  std::unique_ptr<HttpClient> client = MakeClient(connection);
  ASSERT_NE(client, nullptr);
  const std::string got = Fetch(*client, "/api/v1/services?limit=10");
  EXPECT_THAT(got, ::testing::StartsWith("200 {\"kind\":\"ServiceList\""));
  EXPECT_THAT(got, HasSubstr("\"name\":\"web\""));
  ASSERT_EQ(api->requests().size(), 1u);
  EXPECT_EQ(api->requests()[0].authorization, "Bearer s3cret");
  EXPECT_EQ(api->requests()[0].params.at("limit"), "10");
}

TEST(HttpClient, KeepsTheBodyOfAnErrorResponse) {
  std::unique_ptr<FakeKubeApi> api = StartFake({.bearer_token = "right"});
  ASSERT_NE(api, nullptr);
  KubeConnection connection;
  connection.server = api->url();
  connection.token = "wrong";
  std::unique_ptr<HttpClient> client = MakeClient(connection);
  ASSERT_NE(client, nullptr);
  std::string body;
  absl::StatusOr<HttpResponse> response =
      client->Get({.target = "/api/v1/services"}, [&](std::string_view chunk) {
        body.append(chunk);
        return absl::OkStatus();
      });
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->status, 401);
  EXPECT_TRUE(body.empty());  // on_body sees 2xx bodies only
  EXPECT_THAT(DescribeErrorBody(response->error_body), ::testing::StartsWith("401 Unauthorized"));
}

TEST(HttpClient, RereadsTheTokenFileForEachRequest) {
  std::unique_ptr<FakeKubeApi> api = StartFake({.bearer_token = "first"});
  ASSERT_NE(api, nullptr);
  TempFile token("first\n");
  KubeConnection connection;
  connection.server = api->url();
  connection.token_file = token.path();
  std::unique_ptr<HttpClient> client = MakeClient(connection);
  ASSERT_NE(client, nullptr);
  EXPECT_THAT(Fetch(*client, "/api/v1/services"), ::testing::StartsWith("200 "));
  token.Write("second-token\n");
  api->SetBearerToken("second-token");
  EXPECT_THAT(Fetch(*client, "/api/v1/services"), ::testing::StartsWith("200 "));
  ASSERT_EQ(api->requests().size(), 2u);
  EXPECT_EQ(api->requests()[1].authorization, "Bearer second-token");
}

TEST(HttpClient, ABodyCallbackErrorAbortsAndIsReturned) {
  std::unique_ptr<FakeKubeApi> api = StartFake();
  ASSERT_NE(api, nullptr);
  KubeConnection connection;
  connection.server = api->url();
  std::unique_ptr<HttpClient> client = MakeClient(connection);
  ASSERT_NE(client, nullptr);
  absl::StatusOr<HttpResponse> response =
      client->Get({.target = "/api/v1/services"},
                  [](std::string_view) { return absl::DataLossError("the decoder gave up"); });
  EXPECT_EQ(response.status(), absl::DataLossError("the decoder gave up"));
  // The client is still usable.
  EXPECT_THAT(Fetch(*client, "/api/v1/services"), ::testing::StartsWith("200 "));
}

TEST(HttpClient, ConnectionRefusedIsUnavailable) {
  KubeConnection connection;
  connection.server = absl::StrCat("http://127.0.0.1:", UnusedPort());
  std::unique_ptr<HttpClient> client = MakeClient(connection);
  ASSERT_NE(client, nullptr);
  const std::string got = Fetch(*client, "/api/v1/services");
  EXPECT_THAT(got, HasSubstr("UNAVAILABLE"));
  EXPECT_THAT(got, HasSubstr(connection.server + "/api/v1/services"));
}

TEST(HttpClient, SilentServerHitsTheIdleTimeout) {
  SilentServer silent;
  KubeConnection connection;
  connection.server = silent.url();
  std::unique_ptr<HttpClient> client = MakeClient(connection);
  ASSERT_NE(client, nullptr);
  const absl::Time start = absl::Now();
  const std::string got = Fetch(*client, "/api/v1/services", absl::Milliseconds(200));
  const absl::Duration took = absl::Now() - start;
  EXPECT_THAT(got, HasSubstr("DEADLINE_EXCEEDED"));
  EXPECT_THAT(got, HasSubstr("no data for 200ms"));
  EXPECT_GE(took, absl::Milliseconds(190));
  EXPECT_LT(took, absl::Milliseconds(900));
}

TEST(HttpClient, InterruptEndsAStalledRequestPromptly) {
  SilentServer silent;
  KubeConnection connection;
  connection.server = silent.url();
  std::unique_ptr<HttpClient> client = MakeClient(connection);
  ASSERT_NE(client, nullptr);
  std::promise<std::string> result;
  std::thread getter([&] { result.set_value(Fetch(*client, "/api/v1/services", absl::Hours(1))); });
  absl::SleepFor(absl::Milliseconds(150));
  const absl::Time start = absl::Now();
  client->Interrupt();
  std::future<std::string> got = result.get_future();
  const bool ended = got.wait_for(std::chrono::milliseconds(500)) == std::future_status::ready;
  const absl::Duration took = absl::Now() - start;
  if (!ended) client->Interrupt();
  getter.join();
  ASSERT_TRUE(ended);
  EXPECT_LT(took, absl::Milliseconds(100));
  EXPECT_THAT(got.get(), HasSubstr("CANCELLED"));
  // Sticky: later requests do not even start.
  EXPECT_THAT(Fetch(*client, "/api/v1/services"), HasSubstr("CANCELLED"));
}

// --- TLS ---

std::unique_ptr<FakeKubeApi> StartTlsFake(std::string client_ca = "") {
  return StartFake({.tls_cert_file = TlsFile("server.crt"),
                    .tls_key_file = TlsFile("server.key"),
                    .client_ca_file = std::move(client_ca)});
}

TEST(HttpClient, HttpsWithTheClusterCaFileOrBlob) {
  std::unique_ptr<FakeKubeApi> api = StartTlsFake();
  ASSERT_NE(api, nullptr);
  ASSERT_THAT(api->url(), ::testing::StartsWith("https://"));
  KubeConnection by_file;
  by_file.server = api->url();
  by_file.ca_file = TlsFile("ca.crt");
  std::unique_ptr<HttpClient> client = MakeClient(by_file);
  ASSERT_NE(client, nullptr);
  EXPECT_THAT(Fetch(*client, "/api/v1/services"), ::testing::StartsWith("200 "));

  KubeConnection by_blob;
  by_blob.server = api->url();
  by_blob.ca_pem = ReadFileOrDie(TlsFile("ca.crt"));
  client = MakeClient(by_blob);
  ASSERT_NE(client, nullptr);
  EXPECT_THAT(Fetch(*client, "/api/v1/services"), ::testing::StartsWith("200 "));
}

TEST(HttpClient, HttpsIsVerified) {
  std::unique_ptr<FakeKubeApi> api = StartTlsFake();
  ASSERT_NE(api, nullptr);
  // No CA: the system bundle does not know the test CA.
  KubeConnection no_ca;
  no_ca.server = api->url();
  std::unique_ptr<HttpClient> client = MakeClient(no_ca);
  ASSERT_NE(client, nullptr);
  EXPECT_THAT(Fetch(*client, "/api/v1/services"), HasSubstr("UNAVAILABLE"));
  // Another CA (the server's own leaf is no CA for itself).
  KubeConnection wrong_ca;
  wrong_ca.server = api->url();
  wrong_ca.ca_pem = ReadFileOrDie(TlsFile("client.crt"));
  client = MakeClient(wrong_ca);
  ASSERT_NE(client, nullptr);
  EXPECT_THAT(Fetch(*client, "/api/v1/services"), HasSubstr("UNAVAILABLE"));
  // The right CA but a host name the certificate does not carry.
  KubeConnection wrong_name;
  wrong_name.server = absl::StrCat("https://127.0.0.1:", api->port());
  wrong_name.ca_file = TlsFile("ca.crt");
  wrong_name.tls_server_name = "kubernetes.default.svc";
  client = MakeClient(wrong_name);
  ASSERT_NE(client, nullptr);
  EXPECT_THAT(Fetch(*client, "/api/v1/services"), HasSubstr("UNAVAILABLE"));
  // None of them got through to the server.
  EXPECT_TRUE(api->requests().empty());
}

TEST(HttpClient, TlsServerNameIsWhatIsVerified) {
  std::unique_ptr<FakeKubeApi> api = StartTlsFake();
  ASSERT_NE(api, nullptr);
  KubeConnection connection;
  // The certificate names 127.0.0.1 and localhost; the server is reached by address, verified
  // as "localhost", and no lookup of "localhost" is needed.
  connection.server = absl::StrCat("https://127.0.0.1:", api->port());
  connection.ca_file = TlsFile("ca.crt");
  connection.tls_server_name = "localhost";
  std::unique_ptr<HttpClient> client = MakeClient(connection);
  ASSERT_NE(client, nullptr);
  EXPECT_EQ(client->base_url(), absl::StrCat("https://localhost:", api->port()));
  EXPECT_THAT(Fetch(*client, "/api/v1/services"), ::testing::StartsWith("200 "));
}

TEST(HttpClient, ClientCertificateFromBlobsOrFiles) {
  std::unique_ptr<FakeKubeApi> api = StartTlsFake(TlsFile("ca.crt"));
  ASSERT_NE(api, nullptr);
  KubeConnection blobs;
  blobs.server = api->url();
  blobs.ca_pem = ReadFileOrDie(TlsFile("ca.crt"));
  blobs.client_cert_pem = ReadFileOrDie(TlsFile("client.crt"));
  blobs.client_key_pem = ReadFileOrDie(TlsFile("client.key"));
  std::unique_ptr<HttpClient> client = MakeClient(blobs);
  ASSERT_NE(client, nullptr);
  EXPECT_THAT(Fetch(*client, "/api/v1/services"), ::testing::StartsWith("200 "));

  KubeConnection files;
  files.server = api->url();
  files.ca_file = TlsFile("ca.crt");
  files.client_cert_file = TlsFile("client.crt");
  files.client_key_file = TlsFile("client.key");
  client = MakeClient(files);
  ASSERT_NE(client, nullptr);
  EXPECT_THAT(Fetch(*client, "/api/v1/services"), ::testing::StartsWith("200 "));

  KubeConnection none;
  none.server = api->url();
  none.ca_file = TlsFile("ca.crt");
  client = MakeClient(none);
  ASSERT_NE(client, nullptr);
  EXPECT_THAT(Fetch(*client, "/api/v1/services"), ::testing::Not(::testing::StartsWith("200 ")));
}

}  // namespace
}  // namespace clusterdns::controlplane
