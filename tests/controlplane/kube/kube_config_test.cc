// Tests of controlplane/kube/kube_config: --kube-master-url validation, kubeconfig files
// (written to a per-test temp dir), in-cluster configuration and the flags' precedence.
#include "controlplane/kube/kube_config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"

namespace clusterdns::controlplane {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

// Status messages are absl::string_view, which gmock's string matchers do not take.
std::string Message(const absl::Status& status) { return std::string(status.message()); }

constexpr char kCaPem[] = "-----BEGIN CERTIFICATE-----\nMIIBca\n-----END CERTIFICATE-----\n";
constexpr char kCertPem[] = "-----BEGIN CERTIFICATE-----\nMIIBcert\n-----END CERTIFICATE-----\n";
constexpr char kKeyPem[] = "-----BEGIN PRIVATE KEY-----\nMIIBkey\n-----END PRIVATE KEY-----\n";

// A directory under the test temp dir, removed with everything in it at the end of the test.
class TempDir {
 public:
  TempDir() {
    std::string pattern = ::testing::TempDir() + "kube_config_test.XXXXXX";
    path_ = mkdtemp(pattern.data()) != nullptr ? pattern : "";
    EXPECT_FALSE(path_.empty()) << "mkdtemp failed";
  }
  ~TempDir() {
    std::error_code ignored;
    if (!path_.empty()) std::filesystem::remove_all(path_, ignored);
  }
  const std::string& path() const { return path_; }
  std::string Write(std::string_view name, std::string_view content) const {
    const std::filesystem::path file = std::filesystem::path(path_) / name;
    std::filesystem::create_directories(file.parent_path());
    std::ofstream(file, std::ios::binary | std::ios::trunc) << content;
    return file.string();
  }

 private:
  std::string path_;
};

// ---------------------------------------------------------------------------------------------
// --kube-master-url

// Test names from the table index: the values themselves hold characters ctest names should not.
template <typename T>
std::string IndexName(const ::testing::TestParamInfo<T>& info) {
  return "Case" + std::to_string(info.index);
}


struct GoodUrl {
  const char* url;
  const char* server;
};

class MasterUrlGood : public ::testing::TestWithParam<GoodUrl> {};

TEST_P(MasterUrlGood, IsAcceptedAndNormalized) {
  SCOPED_TRACE(GetParam().url);
  absl::StatusOr<KubeConnection> connection = ConnectionFromMasterUrl(GetParam().url);
  ASSERT_TRUE(connection.ok()) << connection.status();
  EXPECT_EQ(connection->server, GetParam().server);
  EXPECT_EQ(connection->origin, "--kube-master-url");
  EXPECT_TRUE(connection->token.empty());
  EXPECT_TRUE(connection->token_file.empty());
  EXPECT_TRUE(connection->ca_file.empty());
}

INSTANTIATE_TEST_SUITE_P(
    Table, MasterUrlGood,
    ::testing::Values(GoodUrl{"http://127.0.0.1:8080", "http://127.0.0.1:8080"},
                      GoodUrl{"https://10.0.0.1:6443/", "https://10.0.0.1:6443"},
                      GoodUrl{"http://kube-master", "http://kube-master"},
                      GoodUrl{"http://kube-master/", "http://kube-master"},
                      GoodUrl{"HTTPS://API.example.com:443", "https://API.example.com:443"},
                      GoodUrl{"https://[2001:db8::1]:6443", "https://[2001:db8::1]:6443"},
                      GoodUrl{"https://[::1]/", "https://[::1]"},
                      GoodUrl{"https://a:65535", "https://a:65535"},
                      GoodUrl{"https://a:1", "https://a:1"}),
    IndexName<GoodUrl>);

struct BadUrl {
  const char* url;
  const char* reason;
};

class MasterUrlBad : public ::testing::TestWithParam<BadUrl> {};

TEST_P(MasterUrlBad, IsRejectedNamingFlagValueAndReason) {
  SCOPED_TRACE(GetParam().url);
  absl::StatusOr<KubeConnection> connection = ConnectionFromMasterUrl(GetParam().url);
  ASSERT_FALSE(connection.ok()) << GetParam().url << " gave " << connection->server;
  EXPECT_EQ(connection.status().code(), absl::StatusCode::kInvalidArgument);
  const std::string message(Message(connection.status()));
  EXPECT_THAT(message, StartsWith("--kube-master-url \""));
  EXPECT_THAT(message, HasSubstr(GetParam().reason));
  EXPECT_EQ(message.find('\n'), std::string::npos) << "one line: " << message;
}

INSTANTIATE_TEST_SUITE_P(
    Table, MasterUrlBad,
    ::testing::Values(BadUrl{"", "empty URL"},
                      BadUrl{"htp://x", "scheme must be http or https"},
                      BadUrl{"ftp://host", "scheme must be http or https"},
                      BadUrl{"127.0.0.1:8080", "no scheme"},
                      BadUrl{"kube-master", "no scheme"},
                      BadUrl{"https://", "empty host"},
                      BadUrl{"https:///", "empty host"},
                      BadUrl{"https://:6443", "empty host"},
                      BadUrl{"https://host:", "port \"\" is not a number in 1..65535"},
                      BadUrl{"https://host:0", "port \"0\""},
                      BadUrl{"https://host:65536", "port \"65536\""},
                      BadUrl{"https://host:123456", "port \"123456\""},
                      BadUrl{"https://host:-1", "port \"-1\""},
                      BadUrl{"https://host:80a", "port \"80a\""},
                      BadUrl{"https://host:6443/api", "path \"/api\" is not allowed"},
                      BadUrl{"https://host//", "path \"//\" is not allowed"},
                      BadUrl{"https://host/?watch=1", "query strings"},
                      BadUrl{"https://host?x", "query strings"},
                      BadUrl{"https://host#top", "fragments"},
                      BadUrl{"https://ho st", "whitespace"},
                      BadUrl{" https://host", "whitespace"},
                      BadUrl{"https://host\n", "whitespace or control"},
                      BadUrl{"https://user:pw@host", "user info"},
                      BadUrl{"https://2001:db8::1:6443", "must be in brackets"},
                      BadUrl{"https://[2001:db8::zz]:6443", "is not an IPv6 address"},
                      BadUrl{"https://[10.0.0.1]", "is not an IPv6 address"},
                      BadUrl{"https://[::1", "no closing"},
                      BadUrl{"https://[::1]6443", "expected \":PORT\""},
                      BadUrl{"https://host_name%41", "is not a host name"}),
    IndexName<BadUrl>);

TEST(MasterUrl, ErrorMessageIsExact) {
  absl::StatusOr<KubeConnection> connection = ConnectionFromMasterUrl("htp://x");
  ASSERT_FALSE(connection.ok());
  EXPECT_EQ(Message(connection.status()),
            "--kube-master-url \"htp://x\": scheme must be http or https");
}

// ---------------------------------------------------------------------------------------------
// kubeconfig

class Kubeconfig : public ::testing::Test {
 protected:
  std::string WriteConfig(std::string_view yaml) { return dir_.Write("config", yaml); }
  absl::Status LoadError(std::string_view yaml, std::string_view context = "") {
    absl::StatusOr<KubeConnection> connection = ConnectionFromKubeconfig(WriteConfig(yaml), context);
    EXPECT_FALSE(connection.ok()) << "loaded " << connection->server;
    return connection.status();
  }
  std::string Path(std::string_view name) const { return dir_.path() + "/" + std::string(name); }

  TempDir dir_;
};

constexpr char kTokenConfig[] = R"(apiVersion: v1
kind: Config
current-context: dev
clusters:
- name: c1
  cluster:
    server: https://10.0.0.1:6443/
    certificate-authority: ca.crt
    tls-server-name: kubernetes.default.svc
contexts:
- name: dev
  context:
    cluster: c1
    user: u1
    namespace: kube-system
users:
- name: u1
  user:
    token: "abc.def.ghi"
)";

TEST_F(Kubeconfig, TokenUserWithRelativeCaFile) {
  dir_.Write("ca.crt", kCaPem);
  const std::string path = WriteConfig(kTokenConfig);
  absl::StatusOr<KubeConnection> connection = ConnectionFromKubeconfig(path);
  ASSERT_TRUE(connection.ok()) << connection.status();
  EXPECT_EQ(connection->server, "https://10.0.0.1:6443");
  EXPECT_EQ(connection->ca_file, Path("ca.crt"));
  EXPECT_EQ(connection->ca_pem, "");
  EXPECT_EQ(connection->tls_server_name, "kubernetes.default.svc");
  EXPECT_EQ(connection->token, "abc.def.ghi");
  EXPECT_EQ(connection->token_file, "");
  EXPECT_EQ(connection->client_cert_file, "");
  EXPECT_EQ(connection->origin, "kubeconfig " + path + " (context dev)");
}

TEST_F(Kubeconfig, TokenFileAndClientCertificateFilesRelativeToTheConfigDirectory) {
  dir_.Write("secrets/token", "tok\n");
  dir_.Write("pki/client.crt", kCertPem);
  dir_.Write("pki/client.key", kKeyPem);
  dir_.Write("abs-ca.crt", kCaPem);
  const std::string yaml = absl::StrCat(R"(
current-context: ctx
clusters:
- name: c
  cluster:
    server: http://127.0.0.1:8080
    certificate-authority: )", Path("abs-ca.crt"), R"(
contexts:
- name: ctx
  context: {cluster: c, user: u}
users:
- name: u
  user:
    tokenFile: secrets/token
    client-certificate: ./pki/client.crt
    client-key: pki/../pki/client.key
)");
  absl::StatusOr<KubeConnection> connection = ConnectionFromKubeconfig(WriteConfig(yaml));
  ASSERT_TRUE(connection.ok()) << connection.status();
  EXPECT_EQ(connection->server, "http://127.0.0.1:8080");
  EXPECT_EQ(connection->ca_file, Path("abs-ca.crt"));  // absolute paths are kept
  EXPECT_EQ(connection->token_file, Path("secrets/token"));
  EXPECT_EQ(connection->token, "");
  EXPECT_EQ(connection->client_cert_file, Path("pki/client.crt"));
  EXPECT_EQ(connection->client_key_file, Path("pki/client.key"));
}

TEST_F(Kubeconfig, DataFieldsAreDecodedAndWinOverFiles) {
  // The *-data fields win, so the files they override need not exist (as in client-go).
  const std::string yaml = absl::StrCat(R"(
current-context: ctx
clusters:
- name: c
  cluster:
    server: https://[2001:db8::1]:6443
    certificate-authority: missing-ca.crt
    certificate-authority-data: )", absl::Base64Escape(kCaPem), R"(
contexts:
- name: ctx
  context: {cluster: c, user: u}
users:
- name: u
  user:
    client-certificate: missing.crt
    client-certificate-data: )", absl::Base64Escape(kCertPem), R"(
    client-key-data: )", absl::Base64Escape(kKeyPem), "\n");
  absl::StatusOr<KubeConnection> connection = ConnectionFromKubeconfig(WriteConfig(yaml));
  ASSERT_TRUE(connection.ok()) << connection.status();
  EXPECT_EQ(connection->server, "https://[2001:db8::1]:6443");
  EXPECT_EQ(connection->ca_pem, kCaPem);
  EXPECT_EQ(connection->ca_file, "");
  EXPECT_EQ(connection->client_cert_pem, kCertPem);
  EXPECT_EQ(connection->client_cert_file, "");
  EXPECT_EQ(connection->client_key_pem, kKeyPem);
  EXPECT_EQ(connection->client_key_file, "");
  EXPECT_EQ(connection->token, "");
}

constexpr char kTwoContexts[] = R"(
current-context: a
clusters:
- name: ca
  cluster: {server: "https://a.example:6443"}
- name: cb
  cluster: {server: "https://b.example:6443", insecure-skip-tls-verify: false}
contexts:
- name: a
  context: {cluster: ca, user: ua}
- name: b
  context: {cluster: cb, user: ub}
- name: anonymous
  context: {cluster: cb}
users:
- name: ua
  user: {token: token-a}
- name: ub
  user: {token: token-b}
)";

TEST_F(Kubeconfig, CurrentContextIsTheDefault) {
  absl::StatusOr<KubeConnection> connection = ConnectionFromKubeconfig(WriteConfig(kTwoContexts));
  ASSERT_TRUE(connection.ok()) << connection.status();
  EXPECT_EQ(connection->server, "https://a.example:6443");
  EXPECT_EQ(connection->token, "token-a");
  EXPECT_THAT(connection->origin, HasSubstr("(context a)"));
}

TEST_F(Kubeconfig, ExplicitContextWins) {
  absl::StatusOr<KubeConnection> connection =
      ConnectionFromKubeconfig(WriteConfig(kTwoContexts), "b");
  ASSERT_TRUE(connection.ok()) << connection.status();
  EXPECT_EQ(connection->server, "https://b.example:6443");
  EXPECT_EQ(connection->token, "token-b");
  EXPECT_THAT(connection->origin, HasSubstr("(context b)"));
}

TEST_F(Kubeconfig, ContextWithoutUserHasNoCredentials) {
  absl::StatusOr<KubeConnection> connection =
      ConnectionFromKubeconfig(WriteConfig(kTwoContexts), "anonymous");
  ASSERT_TRUE(connection.ok()) << connection.status();
  EXPECT_EQ(connection->server, "https://b.example:6443");
  EXPECT_EQ(connection->token, "");
  EXPECT_EQ(connection->token_file, "");
  EXPECT_EQ(connection->client_cert_pem, "");
}

TEST_F(Kubeconfig, ExplicitContextWithoutCurrentContext) {
  absl::StatusOr<KubeConnection> connection = ConnectionFromKubeconfig(
      WriteConfig(std::string(kTwoContexts).substr(std::string_view("\ncurrent-context: a").size())),
      "b");
  ASSERT_TRUE(connection.ok()) << connection.status();
  EXPECT_EQ(connection->token, "token-b");
}

TEST_F(Kubeconfig, MissingFile) {
  absl::StatusOr<KubeConnection> connection = ConnectionFromKubeconfig(Path("nope"));
  ASSERT_FALSE(connection.ok());
  EXPECT_EQ(connection.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(Message(connection.status()),
              AllOf(StartsWith("kubeconfig " + Path("nope") + ": "), HasSubstr("cannot read")));
}

TEST_F(Kubeconfig, YamlSyntaxErrorNamesFileAndLine) {
  const absl::Status status = LoadError("current-context: a\nclusters:\n- name: [unclosed\n");
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(Message(status), StartsWith("kubeconfig " + Path("config") + ": line "));
}

TEST_F(Kubeconfig, EmptyAndNonMappingFiles) {
  EXPECT_THAT(Message(LoadError("")), HasSubstr(": empty file"));
  EXPECT_THAT(Message(LoadError("- a\n- b\n")), HasSubstr("not a YAML mapping"));
}

TEST_F(Kubeconfig, NoCurrentContext) {
  EXPECT_EQ(Message(LoadError("clusters: []\n")),
            "kubeconfig " + Path("config") + ": no current-context, and no context was given");
}

TEST_F(Kubeconfig, ContextNotInContexts) {
  EXPECT_EQ(Message(LoadError(kTwoContexts, "dev")),
            "kubeconfig " + Path("config") + ": context \"dev\" is not in contexts");
  EXPECT_THAT(Message(LoadError("current-context: x\n")),
              HasSubstr("context \"x\" is not in contexts"));
}

TEST_F(Kubeconfig, ClusterNotInClusters) {
  EXPECT_EQ(Message(LoadError(R"(
current-context: dev
contexts:
- name: dev
  context: {cluster: c1, user: u}
clusters:
- name: c2
  cluster: {server: "https://x"}
)")),
            "kubeconfig " + Path("config") +
                ": context \"dev\" names cluster \"c1\", which is not in clusters");
}

TEST_F(Kubeconfig, UserNotInUsers) {
  EXPECT_EQ(Message(LoadError(R"(
current-context: dev
contexts:
- name: dev
  context: {cluster: c1, user: u}
clusters:
- name: c1
  cluster: {server: "https://x"}
)")),
            "kubeconfig " + Path("config") +
                ": context \"dev\" names user \"u\", which is not in users");
}

TEST_F(Kubeconfig, ContextWithoutCluster) {
  EXPECT_THAT(
      Message(LoadError("current-context: dev\ncontexts:\n- name: dev\n  context: {user: u}\n")),
              HasSubstr("context \"dev\" names no cluster"));
}

TEST_F(Kubeconfig, ClusterWithoutServer) {
  EXPECT_THAT(Message(LoadError(R"(
current-context: dev
contexts: [{name: dev, context: {cluster: c1}}]
clusters: [{name: c1, cluster: {certificate-authority-data: ""}}]
)")),
              HasSubstr("cluster \"c1\" has no server"));
}

TEST_F(Kubeconfig, BadServerNamesClusterAndValue) {
  const absl::Status status = LoadError(R"(
current-context: dev
contexts: [{name: dev, context: {cluster: c1}}]
clusters: [{name: c1, cluster: {server: "htp://x"}}]
)");
  EXPECT_THAT(Message(status),
              AllOf(StartsWith("kubeconfig " + Path("config") + ": line 4: "),
                    HasSubstr("cluster \"c1\": server \"htp://x\": scheme must be http or https")));
}

TEST_F(Kubeconfig, InsecureSkipTlsVerifyIsRefused) {
  EXPECT_THAT(Message(LoadError(R"(
current-context: dev
contexts: [{name: dev, context: {cluster: c1}}]
clusters: [{name: c1, cluster: {server: "https://x", insecure-skip-tls-verify: true}}]
)")),
              HasSubstr("cluster \"c1\": insecure-skip-tls-verify: not supported: TLS is always "
                        "verified"));
}

TEST_F(Kubeconfig, ProxyUrlIsRefused) {
  EXPECT_THAT(Message(LoadError(R"(
current-context: dev
contexts: [{name: dev, context: {cluster: c1}}]
clusters: [{name: c1, cluster: {server: "https://x", proxy-url: "http://proxy:3128"}}]
)")),
              HasSubstr("proxy-url: not supported"));
}

class KubeconfigUnsupportedUser : public Kubeconfig,
                                  public ::testing::WithParamInterface<const char*> {};

TEST_P(KubeconfigUnsupportedUser, IsRefusedNamingUserAndField) {
  const std::string yaml = absl::StrCat(R"(
current-context: dev
contexts: [{name: dev, context: {cluster: c1, user: admin}}]
clusters: [{name: c1, cluster: {server: "https://x"}}]
users:
- name: admin
  user:
)", GetParam(), "\n");
  const absl::Status status = LoadError(yaml);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(Message(status), AllOf(StartsWith("kubeconfig " + Path("config") + ": line "),
                                      HasSubstr("user \"admin\": "), HasSubstr("not supported")));
}

INSTANTIATE_TEST_SUITE_P(
    Table, KubeconfigUnsupportedUser,
    ::testing::Values("    exec: {command: aws, apiVersion: client.authentication.k8s.io/v1}",
                      "    auth-provider: {name: gcp}",
                      "    username: admin\n    password: secret",
                      "    password: secret",
                      "    as: someone-else"),
    IndexName<const char*>);

TEST_F(Kubeconfig, BadBase64AndNonPemData) {
  constexpr char kHead[] = R"(
current-context: dev
contexts: [{name: dev, context: {cluster: c1, user: u}}]
users: [{name: u, user: {token: t}}]
clusters: [{name: c1, cluster: {server: "https://x", certificate-authority-data: )";
  EXPECT_THAT(Message(LoadError(absl::StrCat(kHead, "\"***\"}}]\n"))),
              HasSubstr("cluster \"c1\": certificate-authority-data: not valid base64"));
  EXPECT_THAT(Message(LoadError(absl::StrCat(kHead, absl::Base64Escape("hello"), "}}]\n"))),
              HasSubstr("certificate-authority-data: does not decode to PEM"));
}

TEST_F(Kubeconfig, MissingReferencedFilesAreNamed) {
  constexpr char kHead[] = R"(
current-context: dev
contexts: [{name: dev, context: {cluster: c1, user: u}}]
clusters: [{name: c1, cluster: {server: "https://x"}}]
users: [{name: u, user: {)";
  absl::Status status = LoadError(absl::StrCat(kHead, "tokenFile: gone}}]\n"));
  EXPECT_EQ(status.code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(Message(status), "kubeconfig " + Path("config") + ": user \"u\": tokenFile \"" +
                                  Path("gone") + "\": cannot read: No such file or directory");
  dir_.Write("key.pem", kKeyPem);
  status = LoadError(absl::StrCat(kHead, "client-certificate: no.crt, client-key: key.pem}}]\n"));
  EXPECT_THAT(Message(status), HasSubstr("client-certificate \"" + Path("no.crt") + "\""));

  status = LoadError(R"(
current-context: dev
contexts: [{name: dev, context: {cluster: c1}}]
clusters: [{name: c1, cluster: {server: "https://x", certificate-authority: pki/ca.crt}}]
)");
  EXPECT_THAT(Message(status), HasSubstr("cluster \"c1\": certificate-authority \"" +
                                          Path("pki/ca.crt") + "\": cannot read"));
  // A directory is not a file.
  std::filesystem::create_directories(Path("cadir"));
  status = LoadError(R"(
current-context: dev
contexts: [{name: dev, context: {cluster: c1}}]
clusters: [{name: c1, cluster: {server: "https://x", certificate-authority: cadir}}]
)");
  EXPECT_THAT(Message(status), HasSubstr("is a directory"));
}

TEST_F(Kubeconfig, CertificateAndKeyComeTogether) {
  dir_.Write("c.crt", kCertPem);
  dir_.Write("c.key", kKeyPem);
  constexpr char kHead[] = R"(
current-context: dev
contexts: [{name: dev, context: {cluster: c1, user: u}}]
clusters: [{name: c1, cluster: {server: "https://x"}}]
users: [{name: u, user: {)";
  EXPECT_THAT(Message(LoadError(absl::StrCat(kHead, "client-certificate: c.crt}}]\n"))),
              HasSubstr("user \"u\": client-certificate without client-key"));
  EXPECT_THAT(Message(LoadError(absl::StrCat(kHead, "client-key: c.key}}]\n"))),
              HasSubstr("user \"u\": client-key without client-certificate"));
}

TEST_F(Kubeconfig, DuplicateNamesAreAnError) {
  EXPECT_THAT(Message(LoadError(R"(
current-context: dev
contexts: [{name: dev, context: {cluster: c1}}]
clusters:
- {name: c1, cluster: {server: "https://x"}}
- {name: c1, cluster: {server: "https://y"}}
)")),
              HasSubstr("clusters has two entries named \"c1\""));
}

TEST_F(Kubeconfig, WrongTypesNameTheLine) {
  EXPECT_THAT(Message(LoadError(R"(current-context: dev
contexts: [{name: dev, context: {cluster: c1}}]
clusters:
- name: c1
  cluster:
    server: [https://x]
)")),
              HasSubstr(": line 6: cluster \"c1\": server: not a string"));
  EXPECT_THAT(Message(LoadError("current-context: dev\ncontexts: {dev: 1}\n")),
              HasSubstr("line 2: contexts: not a list"));
  EXPECT_THAT(Message(LoadError(R"(
current-context: dev
contexts: [{name: dev, context: {cluster: c1}}]
clusters: [{name: c1, cluster: {server: "https://x", insecure-skip-tls-verify: maybe}}]
)")),
              HasSubstr("insecure-skip-tls-verify: not a boolean"));
}

TEST_F(Kubeconfig, TokenWithWhitespaceInside) {
  EXPECT_THAT(Message(LoadError(R"(
current-context: dev
contexts: [{name: dev, context: {cluster: c1, user: u}}]
clusters: [{name: c1, cluster: {server: "https://x"}}]
users: [{name: u, user: {token: "abc def"}}]
)")),
              HasSubstr("user \"u\": token: contains whitespace"));
}

// ---------------------------------------------------------------------------------------------
// in-cluster

class InCluster : public ::testing::Test {
 protected:
  InClusterEnv Env(std::string host, std::string port) {
    InClusterEnv env;
    env.service_host = std::move(host);
    env.service_port = std::move(port);
    env.secrets_dir = dir_.path() + "/serviceaccount";
    return env;
  }
  void WriteSecrets() {
    dir_.Write("serviceaccount/ca.crt", kCaPem);
    dir_.Write("serviceaccount/token", "jwt\n");
  }
  TempDir dir_;
};

TEST_F(InCluster, ServiceHostAndSecrets) {
  WriteSecrets();
  absl::StatusOr<KubeConnection> connection = InClusterConnection(Env("10.96.0.1", "443"));
  ASSERT_TRUE(connection.ok()) << connection.status();
  EXPECT_EQ(connection->server, "https://10.96.0.1:443");
  EXPECT_EQ(connection->ca_file, dir_.path() + "/serviceaccount/ca.crt");
  EXPECT_EQ(connection->token_file, dir_.path() + "/serviceaccount/token");
  EXPECT_EQ(connection->token, "");
  EXPECT_EQ(connection->origin, "in-cluster");
}

TEST_F(InCluster, Ipv6ServiceHostIsBracketed) {
  WriteSecrets();
  absl::StatusOr<KubeConnection> connection = InClusterConnection(Env("fd00:10:96::1", "6443"));
  ASSERT_TRUE(connection.ok()) << connection.status();
  EXPECT_EQ(connection->server, "https://[fd00:10:96::1]:6443");
}

TEST_F(InCluster, MissingSecretsAreNamed) {
  absl::StatusOr<KubeConnection> connection = InClusterConnection(Env("10.96.0.1", "443"));
  ASSERT_FALSE(connection.ok());
  EXPECT_EQ(Message(connection.status()), "in-cluster: " + dir_.path() +
                                               "/serviceaccount/ca.crt: cannot read: No such "
                                               "file or directory");
  dir_.Write("serviceaccount/ca.crt", kCaPem);
  connection = InClusterConnection(Env("10.96.0.1", "443"));
  ASSERT_FALSE(connection.ok());
  EXPECT_THAT(Message(connection.status()),
              HasSubstr("in-cluster: " + dir_.path() + "/serviceaccount/token: cannot read"));
}

TEST_F(InCluster, BadEnvironment) {
  WriteSecrets();
  EXPECT_THAT(Message(InClusterConnection(Env("", "443")).status()),
              HasSubstr("KUBERNETES_SERVICE_HOST is not set"));
  EXPECT_THAT(Message(InClusterConnection(Env("10.96.0.1", "")).status()),
              HasSubstr("KUBERNETES_SERVICE_PORT is not set"));
  EXPECT_THAT(Message(InClusterConnection(Env("10.96.0.1", "https")).status()),
              AllOf(HasSubstr("KUBERNETES_SERVICE_PORT \"https\""), HasSubstr("1..65535")));
  EXPECT_THAT(Message(InClusterConnection(Env("bad host", "443")).status()),
              HasSubstr("whitespace"));
}

TEST(InClusterEnvFromProcess, ReadsTheServiceVariables) {
  // gtest_discover_tests runs every test in a process of its own, so this cannot leak.
  setenv("KUBERNETES_SERVICE_HOST", "10.96.0.1", 1);
  setenv("KUBERNETES_SERVICE_PORT", "443", 1);
  InClusterEnv env = InClusterEnvFromProcess();
  EXPECT_EQ(env.service_host, "10.96.0.1");
  EXPECT_EQ(env.service_port, "443");
  EXPECT_EQ(env.secrets_dir, "/var/run/secrets/kubernetes.io/serviceaccount");
  unsetenv("KUBERNETES_SERVICE_HOST");
  unsetenv("KUBERNETES_SERVICE_PORT");
  env = InClusterEnvFromProcess();
  EXPECT_EQ(env.service_host, "");
  EXPECT_EQ(env.service_port, "");
}

// ---------------------------------------------------------------------------------------------
// precedence

class Precedence : public InCluster {
 protected:
  std::string WriteKubeconfig() {
    return dir_.Write("kubeconfig", R"(
current-context: dev
contexts: [{name: dev, context: {cluster: c1, user: u}}]
clusters: [{name: c1, cluster: {server: "https://from-kubeconfig:6443", tls-server-name: k}}]
users: [{name: u, user: {token: kubeconfig-token}}]
)");
  }
  InClusterEnv NoEnv() { return Env("", ""); }
};

TEST_F(Precedence, NothingConfiguredIsNoSource) {
  absl::StatusOr<std::optional<KubeConnection>> connection =
      ConnectionFromFlags("", "", NoEnv());
  ASSERT_TRUE(connection.ok()) << connection.status();
  EXPECT_FALSE(connection->has_value());
}

TEST_F(Precedence, KubeconfigAlone) {
  const std::string path = WriteKubeconfig();
  auto connection = ConnectionFromFlags("", path, NoEnv());
  ASSERT_TRUE(connection.ok()) << connection.status();
  ASSERT_TRUE(connection->has_value());
  EXPECT_EQ((*connection)->server, "https://from-kubeconfig:6443");
  EXPECT_EQ((*connection)->token, "kubeconfig-token");
  EXPECT_EQ((*connection)->origin, "kubeconfig " + path + " (context dev)");
}

TEST_F(Precedence, MasterUrlOverridesOnlyTheKubeconfigServer) {
  WriteSecrets();
  const std::string path = WriteKubeconfig();
  auto connection = ConnectionFromFlags("http://127.0.0.1:8080/", path, Env("10.96.0.1", "443"));
  ASSERT_TRUE(connection.ok()) << connection.status();
  ASSERT_TRUE(connection->has_value());
  EXPECT_EQ((*connection)->server, "http://127.0.0.1:8080");
  EXPECT_EQ((*connection)->token, "kubeconfig-token");
  EXPECT_EQ((*connection)->tls_server_name, "k");
  EXPECT_EQ((*connection)->token_file, "");  // not the in-cluster one
  EXPECT_THAT((*connection)->origin,
              AllOf(StartsWith("kubeconfig " + path), HasSubstr("--kube-master-url")));
}

TEST_F(Precedence, MasterUrlAloneBeatsInCluster) {
  WriteSecrets();
  auto connection = ConnectionFromFlags("http://master:8080", "", Env("10.96.0.1", "443"));
  ASSERT_TRUE(connection.ok()) << connection.status();
  ASSERT_TRUE(connection->has_value());
  EXPECT_EQ((*connection)->server, "http://master:8080");
  EXPECT_EQ((*connection)->origin, "--kube-master-url");
  EXPECT_EQ((*connection)->token_file, "");
}

TEST_F(Precedence, KubeconfigBeatsInCluster) {
  WriteSecrets();
  auto connection = ConnectionFromFlags("", WriteKubeconfig(), Env("10.96.0.1", "443"));
  ASSERT_TRUE(connection.ok()) << connection.status();
  ASSERT_TRUE(connection->has_value());
  EXPECT_EQ((*connection)->server, "https://from-kubeconfig:6443");
}

TEST_F(Precedence, InClusterWhenNothingElse) {
  WriteSecrets();
  auto connection = ConnectionFromFlags("", "", Env("10.96.0.1", "443"));
  ASSERT_TRUE(connection.ok()) << connection.status();
  ASSERT_TRUE(connection->has_value());
  EXPECT_EQ((*connection)->origin, "in-cluster");
  EXPECT_EQ((*connection)->server, "https://10.96.0.1:443");
}

TEST_F(Precedence, ErrorsAreNotHiddenByFallbacks) {
  // A bad master URL is an error even with a good kubeconfig; in-cluster without secrets too.
  EXPECT_THAT(Message(ConnectionFromFlags("htp://x", WriteKubeconfig(), NoEnv()).status()),
              StartsWith("--kube-master-url \"htp://x\""));
  EXPECT_THAT(Message(ConnectionFromFlags("", dir_.path() + "/absent", NoEnv()).status()),
              StartsWith("kubeconfig " + dir_.path() + "/absent: "));
  EXPECT_THAT(Message(ConnectionFromFlags("", "", Env("10.96.0.1", "443")).status()),
              StartsWith("in-cluster: "));
  EXPECT_THAT(Message(ConnectionFromFlags("", "", Env("10.96.0.1", "443")).status()),
              Not(HasSubstr("\n")));
}

}  // namespace
}  // namespace clusterdns::controlplane
