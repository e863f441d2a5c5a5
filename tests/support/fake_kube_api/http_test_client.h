// A small libcurl client for the fake Kubernetes API server's own tests: one-shot GETs and a
// streaming GET (a watch) read on a background thread. Test code only: no retries, no pooling.
//
//   HttpResult r = HttpGet(api->url() + "/api/v1/services?limit=3", {.token = "t0k"});
//   EXPECT_EQ(r.status, 200);
//
//   WatchStream watch(api->url() + "/api/v1/services?watch=1");
//   ASSERT_TRUE(watch.WaitForLines(2, absl::Seconds(2)));
//   watch.Cancel();   // or let the server end it: watch.WaitForEnd(...), then watch.result()
//
// Thread safety: WatchStream's methods may be called from any thread; HttpGet is reentrant.
#pragma once

#include <curl/curl.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/time/time.h"

namespace clusterdns::testing {

struct HttpOptions {
  std::string token;            // non-empty: "Authorization: Bearer <token>"
  std::string ca_file;          // non-empty: CAINFO (else curl's default trust store)
  std::string client_cert;      // PEM client certificate and key (both or neither)
  std::string client_key;
  std::string accept_encoding;  // non-empty: CURLOPT_ACCEPT_ENCODING ("" would mean off here)
  long timeout_ms = 3000;       // whole transfer
};

struct HttpResult {
  CURLcode code = CURLE_OK;
  long status = 0;
  std::string body;
  std::string headers;  // raw response header lines, lower-cased
  std::string error;    // curl's error buffer
};

HttpResult HttpGet(const std::string& url, const HttpOptions& options = {});

class WatchStream {
 public:
  explicit WatchStream(std::string url, HttpOptions options = {});
  ~WatchStream();  // cancels and joins
  WatchStream(const WatchStream&) = delete;
  WatchStream& operator=(const WatchStream&) = delete;

  // Waits until at least n complete ("\n"-terminated) lines have arrived.
  bool WaitForLines(size_t n, absl::Duration timeout) const;
  // Waits until the transfer has ended (server closed, error, or Cancel()).
  bool WaitForEnd(absl::Duration timeout) const;
  // Aborts the transfer (CURLE_ABORTED_BY_CALLBACK) and joins the thread.
  void Cancel();

  std::vector<std::string> lines() const;  // complete lines, without "\n"
  std::string partial() const;             // bytes after the last "\n"
  bool ended() const;
  CURLcode result() const;                 // valid once ended()
  long status() const;                     // HTTP status, once headers arrived
  std::string headers() const;             // lower-cased raw header lines

 private:
  static size_t OnData(char* data, size_t size, size_t count, void* self);
  static size_t OnHeader(char* data, size_t size, size_t count, void* self);
  void Run(std::string url, HttpOptions options);

  mutable std::mutex mu_;
  mutable std::condition_variable cv_;
  std::vector<std::string> lines_;
  std::string partial_;
  std::string headers_;
  bool ended_ = false;
  CURLcode result_ = CURLE_OK;
  long status_ = 0;
  std::atomic<bool> cancel_{false};
  std::atomic<CURLM*> multi_{nullptr};
  std::thread thread_;
};

}  // namespace clusterdns::testing
