// A small libcurl client for tests; see http_test_client.h.
#include "tests/support/fake_kube_api/http_test_client.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <mutex>
#include <utility>

namespace clusterdns::testing {
namespace {

void GlobalInit() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_ALL); });
}

// Sets what every request shares; returns the header list the caller must free.
curl_slist* Configure(CURL* curl, const std::string& url, const HttpOptions& options,
                      char* error_buffer) {
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error_buffer);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, 2000L);
  if (options.timeout_ms > 0) curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, options.timeout_ms);
  if (!options.ca_file.empty()) curl_easy_setopt(curl, CURLOPT_CAINFO, options.ca_file.c_str());
  if (!options.client_cert.empty()) {
    curl_easy_setopt(curl, CURLOPT_SSLCERT, options.client_cert.c_str());
    curl_easy_setopt(curl, CURLOPT_SSLKEY, options.client_key.c_str());
  }
  if (!options.accept_encoding.empty()) {
    curl_easy_setopt(curl, CURLOPT_ACCEPT_ENCODING, options.accept_encoding.c_str());
  }
  curl_slist* headers = nullptr;
  if (!options.token.empty()) {
    headers = curl_slist_append(headers, ("Authorization: Bearer " + options.token).c_str());
  }
  headers = curl_slist_append(headers, "Accept: application/json");
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  return headers;
}

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

size_t AppendTo(char* data, size_t size, size_t count, void* out) {
  static_cast<std::string*>(out)->append(data, size * count);
  return size * count;
}

}  // namespace

HttpResult HttpGet(const std::string& url, const HttpOptions& options) {
  GlobalInit();
  HttpResult result;
  char error[CURL_ERROR_SIZE] = {0};
  CURL* curl = curl_easy_init();
  curl_slist* headers = Configure(curl, url, options, error);
  std::string raw_headers;
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, &AppendTo);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &result.body);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, &AppendTo);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &raw_headers);
  result.code = curl_easy_perform(curl);
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &result.status);
  result.headers = Lower(raw_headers);
  result.error = error;
  curl_slist_free_all(headers);
  curl_easy_cleanup(curl);
  return result;
}

WatchStream::WatchStream(std::string url, HttpOptions options) {
  GlobalInit();
  thread_ = std::thread(&WatchStream::Run, this, std::move(url), std::move(options));
}

WatchStream::~WatchStream() { Cancel(); }

void WatchStream::Cancel() {
  cancel_ = true;
  {
    // multi_ is only cleaned up under mu_, so waking it here cannot touch a freed handle.
    std::lock_guard<std::mutex> lock(mu_);
    if (CURLM* multi = multi_.load()) curl_multi_wakeup(multi);
  }
  if (thread_.joinable()) thread_.join();
}

size_t WatchStream::OnData(char* data, size_t size, size_t count, void* self_ptr) {
  auto* self = static_cast<WatchStream*>(self_ptr);
  std::lock_guard<std::mutex> lock(self->mu_);
  self->partial_.append(data, size * count);
  size_t newline;
  while ((newline = self->partial_.find('\n')) != std::string::npos) {
    self->lines_.push_back(self->partial_.substr(0, newline));
    self->partial_.erase(0, newline + 1);
  }
  self->cv_.notify_all();
  return size * count;
}

size_t WatchStream::OnHeader(char* data, size_t size, size_t count, void* self_ptr) {
  auto* self = static_cast<WatchStream*>(self_ptr);
  std::lock_guard<std::mutex> lock(self->mu_);
  self->headers_ += Lower(std::string(data, size * count));
  return size * count;
}

void WatchStream::Run(std::string url, HttpOptions options) {
  char error[CURL_ERROR_SIZE] = {0};
  CURL* curl = curl_easy_init();
  options.timeout_ms = 0;  // a watch lasts until the server, an error or Cancel() ends it
  curl_slist* headers = Configure(curl, url, options, error);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, &WatchStream::OnData);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, this);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, &WatchStream::OnHeader);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, this);
  CURLM* multi = curl_multi_init();
  curl_multi_add_handle(multi, curl);
  multi_ = multi;
  CURLcode code = CURLE_OK;
  bool done = false;
  while (!done) {
    if (cancel_) {
      code = CURLE_ABORTED_BY_CALLBACK;
      break;
    }
    int running = 0;
    curl_multi_perform(multi, &running);
    int queued = 0;
    while (CURLMsg* msg = curl_multi_info_read(multi, &queued)) {
      if (msg->msg == CURLMSG_DONE) {
        code = msg->data.result;
        done = true;
      }
    }
    if (!done) curl_multi_poll(multi, nullptr, 0, 100, nullptr);
  }
  long status = 0;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
  {
    std::lock_guard<std::mutex> lock(mu_);
    multi_ = nullptr;
    curl_multi_remove_handle(multi, curl);
    curl_multi_cleanup(multi);
    result_ = code;
    status_ = status;
    ended_ = true;
  }
  cv_.notify_all();
  curl_easy_cleanup(curl);
  curl_slist_free_all(headers);
}

bool WatchStream::WaitForLines(size_t n, absl::Duration timeout) const {
  std::unique_lock<std::mutex> lock(mu_);
  return cv_.wait_for(lock, absl::ToChronoNanoseconds(timeout), [&] { return lines_.size() >= n; });
}

bool WatchStream::WaitForEnd(absl::Duration timeout) const {
  std::unique_lock<std::mutex> lock(mu_);
  return cv_.wait_for(lock, absl::ToChronoNanoseconds(timeout), [&] { return ended_; });
}

std::vector<std::string> WatchStream::lines() const {
  std::lock_guard<std::mutex> lock(mu_);
  return lines_;
}

std::string WatchStream::partial() const {
  std::lock_guard<std::mutex> lock(mu_);
  return partial_;
}

bool WatchStream::ended() const {
  std::lock_guard<std::mutex> lock(mu_);
  return ended_;
}

CURLcode WatchStream::result() const {
  std::lock_guard<std::mutex> lock(mu_);
  return result_;
}

long WatchStream::status() const {
  std::lock_guard<std::mutex> lock(mu_);
  if (status_ != 0) return status_;
  // Still streaming: parse the status line ("http/1.1 200 ok").
  const size_t space = headers_.find(' ');
  return space == std::string::npos ? 0 : std::strtol(headers_.c_str() + space + 1, nullptr, 10);
}

std::string WatchStream::headers() const {
  std::lock_guard<std::mutex> lock(mu_);
  return headers_;
}

}  // namespace clusterdns::testing
