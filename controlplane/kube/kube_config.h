// Loaders of KubeConnection (kube_connection.h): where the Kubernetes API server is and how to
// authenticate to it, from the three places clusterdns can learn it:
//   --kube-master-url=URL    ConnectionFromMasterUrl (kube2sky's -kube_master_url: no auth)
//   --kubeconfig=PATH        ConnectionFromKubeconfig (one explicit file; no KUBECONFIG merging)
//   in a pod                 InClusterConnection (KUBERNETES_SERVICE_HOST/PORT + service account)
// and ConnectionFromFlags, which picks one with client-go's precedence (BuildConfigFromFlags).
//
// Contract:
//  - Nothing here throws (yaml-cpp exceptions are caught) or talks to the network. Files named by
//    a kubeconfig or the in-cluster secrets are checked to be readable now, so a typo is a
//    startup error rather than a TLS failure later; their contents (except the kubeconfig itself)
//    are read by the HTTP client and BearerTokenSource.
//  - Every error is kInvalidArgument (bad values, unsupported features, missing entries) or
//    carries the errno-derived code (unreadable files), with a one-line message that names the
//    flag or file and the thing that is wrong:
//      --kube-master-url "htp://x": scheme must be http or https
//      kubeconfig /x/config: context "dev" names cluster "c1", which is not in clusters
//      kubeconfig /x/config: line 7: yaml-cpp's message
//  - TLS is always verified: insecure-skip-tls-verify: true is refused, not ignored. Auth plugins
//    (exec, auth-provider), basic auth, impersonation and proxies are refused as not supported.
//  - Reentrant: no shared state; InClusterEnvFromProcess reads the environment (getenv).
//
// Usage (main):
//   absl::StatusOr<std::optional<KubeConnection>> kube = ConnectionFromFlags(
//       absl::GetFlag(FLAGS_kube_master_url), absl::GetFlag(FLAGS_kubeconfig),
//       InClusterEnvFromProcess());
//   if (!kube.ok()) { std::cerr << kube.status().message() << "\n"; return 2; }
//   if (kube->has_value()) StartInformers(**kube);
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "controlplane/kube/kube_connection.h"

namespace clusterdns::controlplane {

// http:// or https:// (any case; stored lowercase), a host (a DNS name, an IPv4 address, or an
// IPv6 address in brackets), an optional port 1..65535, and at most a "/" path, which is removed.
// No user info, query, fragment, spaces or control characters. origin = "--kube-master-url".
// No credentials: kube2sky's flag was for an unauthenticated (often http) API endpoint.
absl::StatusOr<KubeConnection> ConnectionFromMasterUrl(std::string_view url);

// Loads one kubeconfig file. `context` empty → the file's current-context. Resolution:
// contexts[name].context.{cluster,user} → clusters[].cluster and users[].user:
//   cluster: server (required, validated as above), certificate-authority (a file),
//            certificate-authority-data (base64 PEM; wins over the file, as in client-go),
//            tls-server-name, insecure-skip-tls-verify (only false is accepted)
//   user:    token, tokenFile, client-certificate + client-key (files),
//            client-certificate-data + client-key-data (base64 PEM; win over the files)
// A context without a user means no authentication. Relative file paths are relative to the
// kubeconfig's directory (as kubectl resolves them) and are stored joined to it. A server URL
// with a path (a proxy such as Rancher's /k8s/clusters/ID) is refused, as for the flag.
// origin = "kubeconfig PATH (context NAME)".
absl::StatusOr<KubeConnection> ConnectionFromKubeconfig(const std::string& path,
                                                        std::string_view context = "");

// What a pod sees: KUBERNETES_SERVICE_HOST / KUBERNETES_SERVICE_PORT and the mounted service
// account. Tests build one with a temporary secrets_dir.
struct InClusterEnv {
  std::string service_host;
  std::string service_port;
  std::string secrets_dir = "/var/run/secrets/kubernetes.io/serviceaccount";
};

// Reads KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT from the process environment
// (unset → empty); secrets_dir keeps its default.
InClusterEnv InClusterEnvFromProcess();

// server https://HOST:PORT (an IPv6 HOST is bracketed), ca_file SECRETS/ca.crt,
// token_file SECRETS/token (re-read by BearerTokenSource as the kubelet rotates it). Both files
// must exist and be readable. origin "in-cluster".
absl::StatusOr<KubeConnection> InClusterConnection(const InClusterEnv& env);

// The connection main uses, by client-go's BuildConfigFromFlags precedence:
//   kubeconfig non-empty   → that file's current context; a non-empty master_url replaces its
//                            server (and only the server: credentials stay the kubeconfig's)
//   master_url non-empty   → ConnectionFromMasterUrl
//   env.service_host set   → InClusterConnection
//   otherwise              → nullopt: no Kubernetes source configured
absl::StatusOr<std::optional<KubeConnection>> ConnectionFromFlags(std::string_view master_url,
                                                                  std::string_view kubeconfig,
                                                                  const InClusterEnv& env);

}  // namespace clusterdns::controlplane
