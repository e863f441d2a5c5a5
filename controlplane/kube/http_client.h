// HttpClient: GET requests to the Kubernetes API server with libcurl, streaming the response body
// to the caller chunk by chunk as it arrives (a watch is one endless response), with
// authentication and TLS from a KubeConnection.
//
// Contract:
//  - One HttpClient per informer; Get() is called from that informer's thread only, one request
//    at a time. Interrupt() may be called from any thread: it makes the Get() in progress (and
//    every later one) return kCancelled within milliseconds (curl_multi_poll + curl_multi_wakeup;
//    no signal, no busy wait). The HttpClient must outlive those calls.
//  - The connection is reused between requests (list pages, watch after list) when the server
//    keeps it open.
//  - TLS is always verified (CURLOPT_SSL_VERIFYPEER and VERIFYHOST on). The CA is ca_pem
//    (CURLOPT_CAINFO_BLOB) or ca_file (CURLOPT_CAINFO); with neither, libcurl's system bundle.
//    Client certificate and key from PEM blobs or files. tls_server_name (kubeconfig's
//    tls-server-name): libcurl 7.88 has no option to verify against a name other than the URL's
//    host, so the URL's host is replaced by tls_server_name and CURLOPT_CONNECT_TO sends the
//    connection to the real host and port; SNI and certificate verification then use
//    tls_server_name, and the Host header is set back to the real host. No DNS lookup of
//    tls_server_name is made.
//  - The bearer token (BearerTokenSource: fixed, or a file re-read when it changes) is fetched
//    for every request, so a rotated service-account token is picked up on the next request.
//  - Proxies from the environment (http_proxy, ...) are NOT used: the API server is reached
//    directly. HTTP/1.1, Accept: application/json, TCP keepalive, no redirects, http(s) only.
//  - Nothing throws; no exception crosses a libcurl callback.
//
// Usage:
//   CDNS_ASSIGN_OR_RETURN(std::unique_ptr<HttpClient> http, HttpClient::Create(connection));
//   absl::StatusOr<HttpResponse> response = http->Get(
//       {.target = "/api/v1/services?watch=true", .idle_timeout = absl::Minutes(3)},
//       [&](std::string_view chunk) { return framer.Feed(chunk, on_line); });
#pragma once

#include <curl/curl.h>

#include <atomic>
#include <memory>
#include <string>
#include <string_view>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "controlplane/kube/bearer_token.h"
#include "controlplane/kube/kube_connection.h"

namespace clusterdns::controlplane {

struct HttpClientOptions {
  // client-go's default dialer timeout is 30 s; 10 s fails over faster on a dead address while
  // leaving room for a slow TLS handshake on a loaded API server.
  absl::Duration connect_timeout = absl::Seconds(10);
  // TCP keepalive: idle time before the first probe and between probes (whole seconds). client-go
  // uses 30 s; a dead peer behind a NAT is noticed even when the idle timeout is long.
  absl::Duration keepalive = absl::Seconds(30);
  std::string user_agent = "clusterdns";
};

struct HttpRequest {
  std::string target;  // path and query, appended to the server URL: "/api/v1/services?limit=500"
  // No byte (header or body) received for this long → kDeadlineExceeded (a silent server).
  absl::Duration idle_timeout = absl::InfiniteDuration();
  // Ask for gzip (list pages compress well; a watch stream must not be held in a compressor).
  bool accept_compressed = false;
};

struct HttpResponse {
  int status = 0;          // HTTP status code
  std::string error_body;  // for a non-2xx status: the start of the body (at most 64 KiB)
};

class HttpClient {
 public:
  // Errors: kInvalidArgument for a server URL libcurl cannot parse or a scheme other than http(s);
  // kInternal when libcurl cannot be initialised.
  static absl::StatusOr<std::unique_ptr<HttpClient>> Create(const KubeConnection& connection,
                                                            HttpClientOptions options = {});
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // Performs one GET. The body of a 2xx response goes to on_body as it arrives, in chunks of any
  // size; a non-OK status from on_body aborts the transfer and Get returns that status unchanged.
  // The body of another status is kept (in part) in HttpResponse::error_body instead.
  // Returns the response when the transfer completed (whatever its HTTP status), else:
  //   kCancelled          Interrupt() was called
  //   kDeadlineExceeded   nothing received for request.idle_timeout
  //   kUnavailable        connection or TLS failure, connection lost mid-body (curl's message)
  //   the token source's error when the token file cannot be read
  absl::StatusOr<HttpResponse> Get(const HttpRequest& request,
                                   absl::FunctionRef<absl::Status(std::string_view chunk)> on_body);

  // Any thread. Sticky: the client is finished afterwards.
  void Interrupt();

  // The server URL requests go to (with tls_server_name applied), for logs.
  const std::string& base_url() const { return base_url_; }

 private:
  struct Transfer;
  HttpClient(const KubeConnection& connection, HttpClientOptions options);
  absl::Status Configure(const KubeConnection& connection);
  static size_t OnWrite(char* data, size_t size, size_t count, void* transfer) noexcept;
  static size_t OnHeader(char* data, size_t size, size_t count, void* transfer) noexcept;

  const HttpClientOptions options_;
  BearerTokenSource tokens_;
  CURL* easy_ = nullptr;
  CURLM* multi_ = nullptr;
  std::string base_url_;              // scheme://host:port[/prefix], no trailing slash
  std::string host_header_;           // "Host: real-host:port" when tls_server_name rewrote the URL
  curl_slist* connect_to_ = nullptr;  // for CURLOPT_CONNECT_TO
  std::atomic<bool> interrupted_{false};     // release by Interrupt, acquire by Get's loop
  char error_buffer_[CURL_ERROR_SIZE] = {};  // CURLOPT_ERRORBUFFER
};

}  // namespace clusterdns::controlplane
