// KubeConnection loaders: --kube-master-url, a kubeconfig file (yaml-cpp), in-cluster.
// yaml-cpp throws; every YAML call here sits under one try/catch in ConnectionFromKubeconfig.
#include "controlplane/kube/kube_config.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <utility>

#include <yaml-cpp/yaml.h>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "records/status_macros.h"

namespace clusterdns::controlplane {
namespace {

// "\"value\"" with quotes and control characters escaped, so every message stays one line.
std::string Quote(absl::string_view text) {
  return absl::StrCat("\"", absl::CHexEscape(std::string(text)), "\"");
}

bool IsSpaceOrControl(char c) {
  const auto u = static_cast<unsigned char>(c);
  return u <= 0x20 || u == 0x7f;
}

// Validates a server URL and returns it normalized (lowercase scheme, no trailing "/"), or
// kInvalidArgument with the reason only; callers prefix the flag or file and the value.
absl::StatusOr<std::string> NormalizeServerUrl(absl::string_view url) {
  auto invalid = [](absl::string_view reason) {
    return absl::InvalidArgumentError(std::string(reason));
  };
  if (url.empty()) return invalid("empty URL");
  for (char c : url) {
    if (IsSpaceOrControl(c)) return invalid("contains whitespace or control characters");
  }
  const size_t sep = url.find("://");
  if (sep == absl::string_view::npos) {
    return invalid("no scheme: want http://HOST[:PORT] or https://HOST[:PORT]");
  }
  const std::string scheme = absl::AsciiStrToLower(std::string(url.substr(0, sep)));
  if (scheme != "http" && scheme != "https") return invalid("scheme must be http or https");
  absl::string_view rest = url.substr(sep + 3);
  if (rest.find_first_of("?#") != absl::string_view::npos) {
    return invalid("query strings and fragments are not allowed");
  }
  const size_t slash = rest.find('/');
  const absl::string_view authority = rest.substr(0, slash);
  if (slash != absl::string_view::npos && rest.substr(slash) != "/") {
    return invalid(absl::StrCat("path ", Quote(rest.substr(slash)), " is not allowed (only \"/\")"));
  }
  if (authority.find('@') != absl::string_view::npos) {
    return invalid("user info (USER@HOST) is not allowed");
  }
  absl::string_view port;
  bool has_port = false;
  if (!authority.empty() && authority.front() == '[') {
    const size_t close = authority.find(']');
    if (close == absl::string_view::npos) return invalid("IPv6 host has no closing \"]\"");
    const std::string host(authority.substr(1, close - 1));
    in6_addr address;
    if (inet_pton(AF_INET6, host.c_str(), &address) != 1) {
      return invalid(absl::StrCat("host ", Quote(host), " in brackets is not an IPv6 address"));
    }
    const absl::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return invalid("expected \":PORT\" after the IPv6 host");
      port = after.substr(1);
      has_port = true;
    }
  } else {
    const size_t colon = authority.find(':');
    const absl::string_view host = authority.substr(0, colon);
    if (colon != absl::string_view::npos) {
      port = authority.substr(colon + 1);
      has_port = true;
      if (port.find(':') != absl::string_view::npos) {
        return invalid("an IPv6 host must be in brackets (https://[2001:db8::1]:6443)");
      }
    }
    if (host.empty()) return invalid("empty host");
    for (char c : host) {
      if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '.' &&
          c != '_') {
        return invalid(absl::StrCat("host ", Quote(host), " is not a host name or address"));
      }
    }
  }
  if (has_port) {
    int value = 0;
    bool ok = !port.empty() && port.size() <= 5;
    for (char c : port) {
      if (!absl::ascii_isdigit(static_cast<unsigned char>(c))) ok = false;
      value = value * 10 + (c - '0');
    }
    if (!ok || value < 1 || value > 65535) {
      return invalid(absl::StrCat("port ", Quote(port), " is not a number in 1..65535"));
    }
  }
  return absl::StrCat(scheme, "://", authority);
}

// OK when `path` names a regular file (or a link to one) that this process can open for reading.
// The reason only ("cannot read: No such file or directory"); callers say which file it is.
absl::Status CheckReadable(const std::string& path) {
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) {
    const int error = errno;
    return absl::ErrnoToStatus(error, "cannot read");
  }
  struct stat st;
  const bool is_dir = fstat(fd, &st) == 0 && S_ISDIR(st.st_mode);
  close(fd);
  if (is_dir) return absl::InvalidArgumentError("is a directory, not a file");
  return absl::OkStatus();
}

// The same status code with `prefix` put in front of the message.
absl::Status Prefixed(const absl::Status& status, absl::string_view prefix) {
  if (status.ok()) return status;
  return absl::Status(status.code(), absl::StrCat(prefix, status.message()));
}

// Reading one kubeconfig: the file name and directory, for messages and relative paths.
class KubeconfigReader {
 public:
  explicit KubeconfigReader(std::string path)
      : path_(std::move(path)), dir_(std::filesystem::path(path_).parent_path().string()) {}

  absl::StatusOr<KubeConnection> Read(absl::string_view context_arg);

 private:
  absl::Status Error(absl::string_view what) const {
    return absl::InvalidArgumentError(absl::StrCat("kubeconfig ", path_, ": ", what));
  }
  absl::Status ErrorAt(const YAML::Node& node, absl::string_view what) const {
    const YAML::Mark mark = node.Mark();
    if (mark.is_null()) return Error(what);
    return Error(absl::StrCat("line ", mark.line + 1, ": ", what));
  }

  // map[key] as a string; absent or null → "". `where` names the entry for messages.
  absl::StatusOr<std::string> GetString(const YAML::Node& map, const char* key,
                                        absl::string_view where) const;
  // A file named by the kubeconfig: resolved against its directory and checked readable.
  absl::StatusOr<std::string> GetFile(const YAML::Node& map, const char* key,
                                      absl::string_view where) const;
  // Base64 PEM data: decoded and checked to look like PEM.
  absl::StatusOr<std::string> GetPem(const YAML::Node& map, const char* key,
                                     absl::string_view where) const;
  // root[list_key] is a sequence of {name: N, item_key: {...}}: the {...} of the entry named
  // `name` (a null node when the entry has none), or kNotFound.
  absl::StatusOr<YAML::Node> FindNamed(const YAML::Node& root, const char* list_key,
                                       const char* item_key, const std::string& name) const;

  absl::Status ReadCluster(const YAML::Node& cluster, const std::string& name,
                           KubeConnection& out) const;
  absl::Status ReadUser(const YAML::Node& user, const std::string& name,
                        KubeConnection& out) const;

  const std::string path_;
  const std::string dir_;
};

absl::StatusOr<std::string> KubeconfigReader::GetString(const YAML::Node& map, const char* key,
                                                        absl::string_view where) const {
  const YAML::Node value = map[key];
  if (!value.IsDefined() || value.IsNull()) return std::string();
  if (!value.IsScalar()) return ErrorAt(value, absl::StrCat(where, ": ", key, ": not a string"));
  return value.Scalar();
}

absl::StatusOr<std::string> KubeconfigReader::GetFile(const YAML::Node& map, const char* key,
                                                      absl::string_view where) const {
  CDNS_ASSIGN_OR_RETURN(std::string file, GetString(map, key, where));
  if (file.empty()) return file;
  if (file.front() != '/' && !dir_.empty()) {
    file = (std::filesystem::path(dir_) / file).lexically_normal().string();
  }
  const absl::Status readable = CheckReadable(file);
  if (!readable.ok()) {
    return absl::Status(readable.code(), absl::StrCat("kubeconfig ", path_, ": ", where, ": ", key,
                                                      " ", Quote(file), ": ", readable.message()));
  }
  return file;
}

absl::StatusOr<std::string> KubeconfigReader::GetPem(const YAML::Node& map, const char* key,
                                                     absl::string_view where) const {
  CDNS_ASSIGN_OR_RETURN(const std::string encoded, GetString(map, key, where));
  if (encoded.empty()) return std::string();
  std::string pem;
  if (!absl::Base64Unescape(encoded, &pem)) {
    return ErrorAt(map[key], absl::StrCat(where, ": ", key, ": not valid base64"));
  }
  if (!absl::StrContains(pem, "-----BEGIN ")) {
    return ErrorAt(map[key], absl::StrCat(where, ": ", key, ": does not decode to PEM"));
  }
  return pem;
}

absl::StatusOr<YAML::Node> KubeconfigReader::FindNamed(const YAML::Node& root,
                                                       const char* list_key,
                                                       const char* item_key,
                                                       const std::string& name) const {
  const YAML::Node list = root[list_key];
  if (!list.IsDefined() || list.IsNull()) return absl::NotFoundError(list_key);
  if (!list.IsSequence()) return ErrorAt(list, absl::StrCat(list_key, ": not a list"));
  std::optional<YAML::Node> found;
  for (const YAML::Node& entry : list) {
    if (!entry.IsMap()) {
      return ErrorAt(entry, absl::StrCat(list_key, ": an entry is not a mapping"));
    }
    CDNS_ASSIGN_OR_RETURN(const std::string entry_name,
                          GetString(entry, "name", absl::StrCat(list_key, " entry")));
    if (entry_name != name) continue;
    if (found.has_value()) {
      return ErrorAt(entry, absl::StrCat(list_key, " has two entries named ", Quote(name)));
    }
    const YAML::Node item = entry[item_key];
    if (item.IsDefined() && !item.IsNull() && !item.IsMap()) {
      return ErrorAt(item, absl::StrCat(list_key, " entry ", Quote(name), ": ", item_key,
                                        ": not a mapping"));
    }
    found = item;
  }
  if (!found.has_value()) return absl::NotFoundError(list_key);
  return *found;
}

absl::Status KubeconfigReader::ReadCluster(const YAML::Node& cluster, const std::string& name,
                                           KubeConnection& out) const {
  const std::string where = absl::StrCat("cluster ", Quote(name));
  if (!cluster.IsMap()) return Error(absl::StrCat(where, " has no server"));
  CDNS_ASSIGN_OR_RETURN(const std::string server, GetString(cluster, "server", where));
  if (server.empty()) return Error(absl::StrCat(where, " has no server"));
  absl::StatusOr<std::string> normalized = NormalizeServerUrl(server);
  if (!normalized.ok()) {
    return ErrorAt(cluster["server"], absl::StrCat(where, ": server ", Quote(server), ": ",
                                                   normalized.status().message()));
  }
  out.server = *std::move(normalized);

  const YAML::Node insecure = cluster["insecure-skip-tls-verify"];
  if (insecure.IsDefined() && !insecure.IsNull()) {
    bool value = false;
    if (!insecure.IsScalar() || !YAML::convert<bool>::decode(insecure, value)) {
      return ErrorAt(insecure, absl::StrCat(where, ": insecure-skip-tls-verify: not a boolean"));
    }
    if (value) {
      return ErrorAt(insecure, absl::StrCat(where, ": insecure-skip-tls-verify: not supported: "
                                                   "TLS is always verified"));
    }
  }
  if (cluster["proxy-url"].IsDefined() && !cluster["proxy-url"].IsNull()) {
    return ErrorAt(cluster["proxy-url"], absl::StrCat(where, ": proxy-url: not supported"));
  }
  CDNS_ASSIGN_OR_RETURN(out.tls_server_name, GetString(cluster, "tls-server-name", where));
  // As in client-go, the -data field wins over the file; the file is not even checked then.
  CDNS_ASSIGN_OR_RETURN(out.ca_pem, GetPem(cluster, "certificate-authority-data", where));
  if (out.ca_pem.empty()) {
    CDNS_ASSIGN_OR_RETURN(out.ca_file, GetFile(cluster, "certificate-authority", where));
  }
  return absl::OkStatus();
}

absl::Status KubeconfigReader::ReadUser(const YAML::Node& user, const std::string& name,
                                        KubeConnection& out) const {
  const std::string where = absl::StrCat("user ", Quote(name));
  if (!user.IsMap()) return absl::OkStatus();  // an empty user: no credentials
  static constexpr const char* kUnsupported[] = {
      "exec", "auth-provider", "username", "password", "as", "as-uid", "as-groups",
      "as-user-extra"};
  for (const char* key : kUnsupported) {
    const YAML::Node value = user[key];
    if (value.IsDefined() && !value.IsNull()) {
      return ErrorAt(value, absl::StrCat(where, ": ", key,
                                         ": not supported (use token, tokenFile or a client "
                                         "certificate)"));
    }
  }
  CDNS_ASSIGN_OR_RETURN(const std::string token, GetString(user, "token", where));
  out.token = std::string(absl::StripAsciiWhitespace(token));
  for (char c : out.token) {
    if (IsSpaceOrControl(c)) {
      return ErrorAt(user["token"],
                     absl::StrCat(where, ": token: contains whitespace or control characters"));
    }
  }
  CDNS_ASSIGN_OR_RETURN(out.token_file, GetFile(user, "tokenFile", where));

  CDNS_ASSIGN_OR_RETURN(out.client_cert_pem, GetPem(user, "client-certificate-data", where));
  if (out.client_cert_pem.empty()) {
    CDNS_ASSIGN_OR_RETURN(out.client_cert_file, GetFile(user, "client-certificate", where));
  }
  CDNS_ASSIGN_OR_RETURN(out.client_key_pem, GetPem(user, "client-key-data", where));
  if (out.client_key_pem.empty()) {
    CDNS_ASSIGN_OR_RETURN(out.client_key_file, GetFile(user, "client-key", where));
  }
  const bool has_cert = !out.client_cert_pem.empty() || !out.client_cert_file.empty();
  const bool has_key = !out.client_key_pem.empty() || !out.client_key_file.empty();
  if (has_cert && !has_key) {
    return Error(absl::StrCat(where, ": client-certificate without client-key"));
  }
  if (has_key && !has_cert) {
    return Error(absl::StrCat(where, ": client-key without client-certificate"));
  }
  return absl::OkStatus();
}

absl::StatusOr<KubeConnection> KubeconfigReader::Read(absl::string_view context_arg) {
  CDNS_RETURN_IF_ERROR(
      Prefixed(CheckReadable(path_), absl::StrCat("kubeconfig ", path_, ": ")));
  std::ifstream in(path_, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  if (!in || in.bad()) {
    return absl::DataLossError(absl::StrCat("kubeconfig ", path_, ": read failed"));
  }

  const YAML::Node root = YAML::Load(text.str());
  if (!root.IsDefined() || root.IsNull()) return Error("empty file");
  if (!root.IsMap()) return ErrorAt(root, "not a YAML mapping");

  std::string context(context_arg);
  if (context.empty()) {
    CDNS_ASSIGN_OR_RETURN(context, GetString(root, "current-context", "top level"));
    if (context.empty()) return Error("no current-context, and no context was given");
  }
  absl::StatusOr<YAML::Node> context_node = FindNamed(root, "contexts", "context", context);
  if (absl::IsNotFound(context_node.status())) {
    return Error(absl::StrCat("context ", Quote(context), " is not in contexts"));
  }
  CDNS_RETURN_IF_ERROR(context_node.status());
  const std::string where = absl::StrCat("context ", Quote(context));
  std::string cluster_name;
  std::string user_name;
  if (context_node->IsMap()) {
    CDNS_ASSIGN_OR_RETURN(cluster_name, GetString(*context_node, "cluster", where));
    CDNS_ASSIGN_OR_RETURN(user_name, GetString(*context_node, "user", where));
  }
  if (cluster_name.empty()) return Error(absl::StrCat(where, " names no cluster"));

  KubeConnection out;
  absl::StatusOr<YAML::Node> cluster = FindNamed(root, "clusters", "cluster", cluster_name);
  if (absl::IsNotFound(cluster.status())) {
    return Error(absl::StrCat(where, " names cluster ", Quote(cluster_name),
                              ", which is not in clusters"));
  }
  CDNS_RETURN_IF_ERROR(cluster.status());
  CDNS_RETURN_IF_ERROR(ReadCluster(*cluster, cluster_name, out));

  if (!user_name.empty()) {
    absl::StatusOr<YAML::Node> user = FindNamed(root, "users", "user", user_name);
    if (absl::IsNotFound(user.status())) {
      return Error(absl::StrCat(where, " names user ", Quote(user_name),
                                ", which is not in users"));
    }
    CDNS_RETURN_IF_ERROR(user.status());
    CDNS_RETURN_IF_ERROR(ReadUser(*user, user_name, out));
  }
  out.origin = absl::StrCat("kubeconfig ", path_, " (context ", context, ")");
  return out;
}

}  // namespace

absl::StatusOr<KubeConnection> ConnectionFromMasterUrl(std::string_view url_arg) {
  const absl::string_view url(url_arg.data(), url_arg.size());
  absl::StatusOr<std::string> server = NormalizeServerUrl(url);
  if (!server.ok()) {
    return Prefixed(server.status(), absl::StrCat("--kube-master-url ", Quote(url), ": "));
  }
  KubeConnection out;
  out.server = *std::move(server);
  out.origin = "--kube-master-url";
  return out;
}

absl::StatusOr<KubeConnection> ConnectionFromKubeconfig(const std::string& path,
                                                        std::string_view context) {
  try {
    return KubeconfigReader(path).Read(absl::string_view(context.data(), context.size()));
  } catch (const YAML::Exception& e) {
    std::string where;
    if (!e.mark.is_null()) where = absl::StrCat("line ", e.mark.line + 1, ": ");
    return absl::InvalidArgumentError(absl::StrCat("kubeconfig ", path, ": ", where, e.msg));
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat("kubeconfig ", path, ": ", e.what()));
  }
}

InClusterEnv InClusterEnvFromProcess() {
  InClusterEnv env;
  if (const char* host = std::getenv("KUBERNETES_SERVICE_HOST")) env.service_host = host;
  if (const char* port = std::getenv("KUBERNETES_SERVICE_PORT")) env.service_port = port;
  return env;
}

absl::StatusOr<KubeConnection> InClusterConnection(const InClusterEnv& env) {
  if (env.service_host.empty()) {
    return absl::FailedPreconditionError("in-cluster: KUBERNETES_SERVICE_HOST is not set");
  }
  if (env.service_port.empty()) {
    return absl::FailedPreconditionError("in-cluster: KUBERNETES_SERVICE_PORT is not set");
  }
  // An IPv6 service host comes bare ("fd00::1"); the URL needs it in brackets.
  const bool bracket = env.service_host.find(':') != std::string::npos &&
                       env.service_host.front() != '[';
  const std::string host = bracket ? absl::StrCat("[", env.service_host, "]") : env.service_host;
  absl::StatusOr<std::string> server =
      NormalizeServerUrl(absl::StrCat("https://", host, ":", env.service_port));
  if (!server.ok()) {
    return Prefixed(server.status(),
                    absl::StrCat("in-cluster: KUBERNETES_SERVICE_HOST ", Quote(env.service_host),
                                 ", KUBERNETES_SERVICE_PORT ", Quote(env.service_port), ": "));
  }
  KubeConnection out;
  out.server = *std::move(server);
  out.ca_file = absl::StrCat(env.secrets_dir, "/ca.crt");
  out.token_file = absl::StrCat(env.secrets_dir, "/token");
  for (const std::string* file : {&out.ca_file, &out.token_file}) {
    const absl::Status readable = CheckReadable(*file);
    if (!readable.ok()) return Prefixed(readable, absl::StrCat("in-cluster: ", *file, ": "));
  }
  out.origin = "in-cluster";
  return out;
}

absl::StatusOr<std::optional<KubeConnection>> ConnectionFromFlags(std::string_view master_url,
                                                                  std::string_view kubeconfig,
                                                                  const InClusterEnv& env) {
  if (!kubeconfig.empty()) {
    std::optional<KubeConnection> master;
    if (!master_url.empty()) {
      CDNS_ASSIGN_OR_RETURN(master, ConnectionFromMasterUrl(master_url));
    }
    CDNS_ASSIGN_OR_RETURN(KubeConnection out, ConnectionFromKubeconfig(std::string(kubeconfig)));
    if (master.has_value()) {
      out.server = std::move(master->server);
      absl::StrAppend(&out.origin, ", server from --kube-master-url");
    }
    return std::optional<KubeConnection>(std::move(out));
  }
  if (!master_url.empty()) {
    CDNS_ASSIGN_OR_RETURN(KubeConnection out, ConnectionFromMasterUrl(master_url));
    return std::optional<KubeConnection>(std::move(out));
  }
  if (!env.service_host.empty()) {
    CDNS_ASSIGN_OR_RETURN(KubeConnection out, InClusterConnection(env));
    return std::optional<KubeConnection>(std::move(out));
  }
  return std::optional<KubeConnection>();
}

}  // namespace clusterdns::controlplane
