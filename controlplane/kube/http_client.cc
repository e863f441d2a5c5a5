// HttpClient: see http_client.h. One easy handle, driven by a private multi handle so that the
// wait for data is curl_multi_poll, which another thread can cut short with curl_multi_wakeup.
#include "controlplane/kube/http_client.h"

#include <algorithm>
#include <mutex>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace clusterdns::controlplane {
namespace {

// A non-2xx body is kept only for the error message (a Status object is a few hundred bytes).
constexpr size_t kMaxErrorBody = 64 * 1024;
// Longest single wait in curl_multi_poll when nothing else bounds it; the loop re-checks the idle
// deadline after each wait, so this only bounds how stale that check can be.
constexpr int kMaxPollMs = 1000;

absl::Status InitCurlOnce() {
  static std::once_flag once;
  static CURLcode init = CURLE_OK;
  std::call_once(once, [] { init = curl_global_init(CURL_GLOBAL_DEFAULT); });
  if (init != CURLE_OK) {
    return absl::InternalError(
        absl::StrCat("libcurl: curl_global_init failed: ", curl_easy_strerror(init)));
  }
  return absl::OkStatus();
}

// Frees a CURLU and the strings curl_url_get returns.
struct UrlDeleter {
  void operator()(CURLU* url) const { curl_url_cleanup(url); }
};
struct CurlStringDeleter {
  void operator()(char* text) const { curl_free(text); }
};
using CurlString = std::unique_ptr<char, CurlStringDeleter>;

absl::StatusOr<std::string> UrlPart(CURLU* url, CURLUPart part, unsigned flags) {
  char* text = nullptr;
  if (CURLUcode code = curl_url_get(url, part, &text, flags); code != CURLUE_OK) {
    return absl::InvalidArgumentError(curl_url_strerror(code));
  }
  CurlString owned(text);
  return std::string(text);
}

struct SlistDeleter {
  void operator()(curl_slist* list) const { curl_slist_free_all(list); }
};

}  // namespace

// What the callbacks of one Get() see.
struct HttpClient::Transfer {
  CURL* easy;
  absl::FunctionRef<absl::Status(std::string_view)> on_body;
  int status = 0;  // 0 until the first body byte
  std::string error_body;
  absl::Status callback_status;  // the first error on_body returned (or an exception)
  absl::Time last_activity;
};

HttpClient::HttpClient(const KubeConnection& connection, HttpClientOptions options)
    : options_(std::move(options)), tokens_(connection) {}

HttpClient::~HttpClient() {
  if (multi_ != nullptr && easy_ != nullptr) curl_multi_remove_handle(multi_, easy_);
  if (easy_ != nullptr) curl_easy_cleanup(easy_);
  if (multi_ != nullptr) curl_multi_cleanup(multi_);
  if (connect_to_ != nullptr) curl_slist_free_all(connect_to_);
}

absl::StatusOr<std::unique_ptr<HttpClient>> HttpClient::Create(const KubeConnection& connection,
                                                               HttpClientOptions options) {
  if (absl::Status status = InitCurlOnce(); !status.ok()) return status;
  std::unique_ptr<HttpClient> client(new HttpClient(connection, std::move(options)));
  if (absl::Status status = client->Configure(connection); !status.ok()) return status;
  return client;
}

absl::Status HttpClient::Configure(const KubeConnection& connection) {
  const std::string what = absl::StrCat("API server URL \"", connection.server, "\"");
  std::unique_ptr<CURLU, UrlDeleter> url(curl_url());
  if (url == nullptr) return absl::InternalError("libcurl: curl_url failed");
  if (CURLUcode code = curl_url_set(url.get(), CURLUPART_URL, connection.server.c_str(), 0);
      code != CURLUE_OK) {
    return absl::InvalidArgumentError(absl::StrCat(what, ": ", curl_url_strerror(code)));
  }
  absl::StatusOr<std::string> scheme = UrlPart(url.get(), CURLUPART_SCHEME, 0);
  absl::StatusOr<std::string> host = UrlPart(url.get(), CURLUPART_HOST, 0);
  absl::StatusOr<std::string> port = UrlPart(url.get(), CURLUPART_PORT, CURLU_DEFAULT_PORT);
  if (!scheme.ok() || !host.ok() || !port.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(what, ": no scheme, host or port"));
  }
  if (*scheme != "http" && *scheme != "https") {
    return absl::InvalidArgumentError(absl::StrCat(what, ": scheme must be http or https"));
  }
  if (!connection.tls_server_name.empty() && *scheme == "https") {
    // Verify against tls_server_name: it becomes the URL's host, and CONNECT_TO sends the
    // connection to the real host (see the header).
    const std::string entry =
        absl::StrCat(connection.tls_server_name, ":", *port, ":", *host, ":", *port);
    connect_to_ = curl_slist_append(nullptr, entry.c_str());
    if (connect_to_ == nullptr) return absl::ResourceExhaustedError("libcurl: curl_slist_append");
    absl::StatusOr<std::string> explicit_port = UrlPart(url.get(), CURLUPART_PORT, 0);
    host_header_ = absl::StrCat("Host: ", *host, explicit_port.ok() ? ":" : "",
                                explicit_port.ok() ? *explicit_port : "");
    if (CURLUcode code =
            curl_url_set(url.get(), CURLUPART_HOST, connection.tls_server_name.c_str(), 0);
        code != CURLUE_OK) {
      return absl::InvalidArgumentError(absl::StrCat(
          "tls-server-name \"", connection.tls_server_name, "\": ", curl_url_strerror(code)));
    }
  }
  absl::StatusOr<std::string> full = UrlPart(url.get(), CURLUPART_URL, 0);
  if (!full.ok())
    return absl::InvalidArgumentError(absl::StrCat(what, ": ", full.status().message()));
  base_url_ = std::string(absl::StripSuffix(*full, "/"));

  easy_ = curl_easy_init();
  multi_ = curl_multi_init();
  if (easy_ == nullptr || multi_ == nullptr) return absl::InternalError("libcurl: init failed");

  const long keepalive_s =
      std::max<long>(1, static_cast<long>(absl::ToInt64Seconds(options_.keepalive)));
  CURLcode code = CURLE_OK;
  auto set = [&](CURLoption option, auto value) {
    if (code == CURLE_OK) code = curl_easy_setopt(easy_, option, value);
  };
  set(CURLOPT_ERRORBUFFER, error_buffer_);
  set(CURLOPT_NOSIGNAL, 1L);
  set(CURLOPT_HTTP_VERSION, static_cast<long>(CURL_HTTP_VERSION_1_1));
  set(CURLOPT_PROTOCOLS_STR, "http,https");
  set(CURLOPT_PROXY, "");  // no proxy from the environment
  set(CURLOPT_CONNECTTIMEOUT_MS,
      std::max<long>(1, static_cast<long>(absl::ToInt64Milliseconds(options_.connect_timeout))));
  set(CURLOPT_TCP_KEEPALIVE, 1L);
  set(CURLOPT_TCP_KEEPIDLE, keepalive_s);
  set(CURLOPT_TCP_KEEPINTVL, keepalive_s);
  set(CURLOPT_USERAGENT, options_.user_agent.c_str());
  set(CURLOPT_WRITEFUNCTION, &HttpClient::OnWrite);
  set(CURLOPT_HEADERFUNCTION, &HttpClient::OnHeader);
  set(CURLOPT_SSL_VERIFYPEER, 1L);
  set(CURLOPT_SSL_VERIFYHOST, 2L);
  if (connect_to_ != nullptr) set(CURLOPT_CONNECT_TO, connect_to_);
  // The cluster CA is the only trust anchor when one is given (as in client-go): the built-in
  // CA path is cleared along with the bundle.
  if (!connection.ca_pem.empty()) {
    curl_blob blob{const_cast<char*>(connection.ca_pem.data()), connection.ca_pem.size(),
                   CURL_BLOB_COPY};
    set(CURLOPT_CAINFO_BLOB, &blob);
    set(CURLOPT_CAPATH, static_cast<const char*>(nullptr));
  } else if (!connection.ca_file.empty()) {
    set(CURLOPT_CAINFO, connection.ca_file.c_str());
    set(CURLOPT_CAPATH, static_cast<const char*>(nullptr));
  }
  if (!connection.client_cert_pem.empty()) {
    curl_blob blob{const_cast<char*>(connection.client_cert_pem.data()),
                   connection.client_cert_pem.size(), CURL_BLOB_COPY};
    set(CURLOPT_SSLCERT_BLOB, &blob);
    set(CURLOPT_SSLCERTTYPE, "PEM");
  } else if (!connection.client_cert_file.empty()) {
    set(CURLOPT_SSLCERT, connection.client_cert_file.c_str());
    set(CURLOPT_SSLCERTTYPE, "PEM");
  }
  if (!connection.client_key_pem.empty()) {
    curl_blob blob{const_cast<char*>(connection.client_key_pem.data()),
                   connection.client_key_pem.size(), CURL_BLOB_COPY};
    set(CURLOPT_SSLKEY_BLOB, &blob);
    set(CURLOPT_SSLKEYTYPE, "PEM");
  } else if (!connection.client_key_file.empty()) {
    set(CURLOPT_SSLKEY, connection.client_key_file.c_str());
    set(CURLOPT_SSLKEYTYPE, "PEM");
  }
  if (code != CURLE_OK) {
    return absl::InternalError(
        absl::StrCat("libcurl: setting options: ", curl_easy_strerror(code)));
  }
  return absl::OkStatus();
}

size_t HttpClient::OnHeader(char* /*data*/, size_t size, size_t count, void* opaque) noexcept {
  static_cast<Transfer*>(opaque)->last_activity = absl::Now();
  return size * count;
}

size_t HttpClient::OnWrite(char* data, size_t size, size_t count, void* opaque) noexcept {
  Transfer& transfer = *static_cast<Transfer*>(opaque);
  const size_t bytes = size * count;
  try {
    transfer.last_activity = absl::Now();
    if (transfer.status == 0) {
      long status = 0;
      curl_easy_getinfo(transfer.easy, CURLINFO_RESPONSE_CODE, &status);
      transfer.status = static_cast<int>(status);
    }
    if (transfer.status >= 200 && transfer.status < 300) {
      absl::Status result = transfer.on_body(std::string_view(data, bytes));
      if (!result.ok()) {
        transfer.callback_status = std::move(result);
        return CURL_WRITEFUNC_ERROR;
      }
    } else if (transfer.error_body.size() < kMaxErrorBody) {
      transfer.error_body.append(data, std::min(bytes, kMaxErrorBody - transfer.error_body.size()));
    }
    return bytes;
  } catch (const std::exception& e) {  // bad_alloc, mostly; never through libcurl
    transfer.callback_status =
        absl::ResourceExhaustedError(absl::StrCat("response body: ", e.what()));
  } catch (...) {
    transfer.callback_status = absl::InternalError("response body: unknown exception");
  }
  return CURL_WRITEFUNC_ERROR;
}

void HttpClient::Interrupt() {
  interrupted_.store(true, std::memory_order_release);
  curl_multi_wakeup(multi_);
}

absl::StatusOr<HttpResponse> HttpClient::Get(
    const HttpRequest& request, absl::FunctionRef<absl::Status(std::string_view)> on_body) {
  const std::string url = absl::StrCat(base_url_, request.target);
  auto fail = [&](absl::StatusCode code, absl::string_view message) {
    return absl::Status(code, absl::StrCat("GET ", url, ": ", message));
  };
  if (interrupted_.load(std::memory_order_acquire)) {
    return fail(absl::StatusCode::kCancelled, "stopped");
  }

  absl::StatusOr<std::string> token = tokens_.Current();
  if (!token.ok()) return fail(token.status().code(), token.status().message());
  std::unique_ptr<curl_slist, SlistDeleter> headers;
  auto add_header = [&](const std::string& line) {
    curl_slist* grown = curl_slist_append(headers.get(), line.c_str());
    if (grown != nullptr) {
      (void)headers.release();
      headers.reset(grown);
    }
    return grown != nullptr;
  };
  bool headers_ok = add_header("Accept: application/json");
  if (!token->empty())
    headers_ok = headers_ok && add_header(absl::StrCat("Authorization: Bearer ", *token));
  if (!host_header_.empty()) headers_ok = headers_ok && add_header(host_header_);
  if (!headers_ok) return fail(absl::StatusCode::kResourceExhausted, "cannot build headers");

  Transfer transfer{easy_, on_body};
  transfer.last_activity = absl::Now();
  error_buffer_[0] = '\0';
  CURLcode set = curl_easy_setopt(easy_, CURLOPT_URL, url.c_str());
  if (set == CURLE_OK) set = curl_easy_setopt(easy_, CURLOPT_HTTPHEADER, headers.get());
  if (set == CURLE_OK) set = curl_easy_setopt(easy_, CURLOPT_WRITEDATA, &transfer);
  if (set == CURLE_OK) set = curl_easy_setopt(easy_, CURLOPT_HEADERDATA, &transfer);
  if (set == CURLE_OK) {
    set = curl_easy_setopt(easy_, CURLOPT_ACCEPT_ENCODING,
                           request.accept_compressed ? "gzip" : static_cast<const char*>(nullptr));
  }
  if (set != CURLE_OK) return fail(absl::StatusCode::kInternal, curl_easy_strerror(set));
  if (CURLMcode added = curl_multi_add_handle(multi_, easy_); added != CURLM_OK) {
    return fail(absl::StatusCode::kInternal, curl_multi_strerror(added));
  }

  absl::Status failure;
  bool done = false;
  CURLcode result = CURLE_OK;
  while (true) {
    if (interrupted_.load(std::memory_order_acquire)) {
      failure = fail(absl::StatusCode::kCancelled, "stopped");
      break;
    }
    int running = 0;
    if (CURLMcode code = curl_multi_perform(multi_, &running); code != CURLM_OK) {
      failure = fail(absl::StatusCode::kInternal, curl_multi_strerror(code));
      break;
    }
    int queued = 0;
    while (CURLMsg* message = curl_multi_info_read(multi_, &queued)) {
      if (message->msg == CURLMSG_DONE && message->easy_handle == easy_) {
        done = true;
        result = message->data.result;
      }
    }
    if (done) break;
    const absl::Duration idle_left = transfer.last_activity + request.idle_timeout - absl::Now();
    if (idle_left <= absl::ZeroDuration()) {
      failure = fail(absl::StatusCode::kDeadlineExceeded,
                     absl::StrCat("no data for ", absl::FormatDuration(request.idle_timeout)));
      break;
    }
    const int wait_ms = static_cast<int>(std::clamp<int64_t>(
        absl::ToInt64Milliseconds(absl::Ceil(idle_left, absl::Milliseconds(1))), 1, kMaxPollMs));
    if (CURLMcode code = curl_multi_poll(multi_, nullptr, 0, wait_ms, nullptr); code != CURLM_OK) {
      failure = fail(absl::StatusCode::kInternal, curl_multi_strerror(code));
      break;
    }
  }
  curl_multi_remove_handle(multi_, easy_);
  curl_easy_setopt(easy_, CURLOPT_HTTPHEADER, static_cast<curl_slist*>(nullptr));

  if (!transfer.callback_status.ok()) return transfer.callback_status;
  if (!failure.ok()) return failure;
  if (result != CURLE_OK) {
    return fail(absl::StatusCode::kUnavailable,
                error_buffer_[0] != '\0' ? error_buffer_ : curl_easy_strerror(result));
  }
  HttpResponse response;
  if (transfer.status == 0) {  // no body at all: the code is known now
    long status = 0;
    curl_easy_getinfo(easy_, CURLINFO_RESPONSE_CODE, &status);
    response.status = static_cast<int>(status);
  } else {
    response.status = transfer.status;
  }
  response.error_body = std::move(transfer.error_body);
  return response;
}

}  // namespace clusterdns::controlplane
