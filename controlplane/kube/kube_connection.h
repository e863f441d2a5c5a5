// KubeConnection: where the Kubernetes API server is and how to authenticate to it, however it
// was configured (--kube-master-url, --kubeconfig, or in-cluster). Loaders live in
// kube_config.h; the HTTP client (http_client.h) consumes this struct.
//
// TLS is always verified: for https servers the CA comes from ca_file or ca_pem, and when both
// are empty libcurl's system bundle is used. There is no "insecure" switch.
#pragma once

#include <string>

namespace clusterdns::controlplane {

struct KubeConnection {
  std::string server;  // "https://10.0.0.1:6443" or "http://127.0.0.1:8080"; no trailing slash

  // Server verification (https only): a PEM file, or PEM bytes (kubeconfig
  // certificate-authority-data, base64-decoded).
  std::string ca_file;
  std::string ca_pem;
  // Optional name to verify the server certificate against instead of the URL's host.
  std::string tls_server_name;

  // Client certificate authentication: files, or PEM bytes (client-certificate-data /
  // client-key-data, base64-decoded).
  std::string client_cert_file;
  std::string client_key_file;
  std::string client_cert_pem;
  std::string client_key_pem;

  // Bearer token authentication: a fixed token, or a file that is re-read when it changes
  // (service-account tokens are rotated by the kubelet). token_file wins when both are set.
  std::string token;
  std::string token_file;

  // For logs: how it was configured ("--kube-master-url", "kubeconfig /x (context foo)",
  // "in-cluster").
  std::string origin;
};

}  // namespace clusterdns::controlplane
