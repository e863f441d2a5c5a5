// TcpTry: one query to one upstream over TCP (RFC 7766), after that upstream answered over UDP
// with TC set. A non-blocking connect, one 2-byte-length-framed query written, one framed answer
// read; then the connection is closed (no reuse: truncation is rare, and a fresh connection needs
// no pipelining or idle handling).
//
// Driven by the forwarder's epoll loop: register fd() for WantedEvents(), call OnEvents() with
// what epoll reported, re-register when WantedEvents() changes. The forwarder owns the timeout.
//
// Threads: the forwarder thread only.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "controlplane/forward/upstream_list.h"
#include "controlplane/listen/unique_fd.h"

namespace clusterdns::controlplane {

class TcpTry {
 public:
  // `serial` tags the connection in epoll; the try is to upstream index `upstream` with query ID
  // `id` (the ID inside the message given to Start).
  TcpTry(uint64_t serial, uint32_t upstream, uint16_t id)
      : serial_(serial), upstream_(upstream), id_(id) {}

  // Opens the socket and starts connecting; `message` (a DNS message, <= 65535 bytes) is written
  // once connected. 0, or the errno of an immediate failure.
  int Start(const UpstreamAddress& to, std::span<const uint8_t> message);

  enum class Progress : uint8_t { kPending, kDone, kFailed };
  // Handles the events epoll reported for fd(). kDone: answer() holds the message read.
  Progress OnEvents(uint32_t events);

  int fd() const { return fd_.get(); }
  uint32_t WantedEvents() const;
  uint64_t serial() const { return serial_; }
  uint32_t upstream() const { return upstream_; }
  uint16_t id() const { return id_; }
  std::span<const uint8_t> answer() const;
  // After kFailed: the frame announced fewer bytes than a DNS header (a malformed answer), as
  // opposed to a connection failure.
  bool bad_frame() const { return bad_frame_; }

 private:
  Progress Write();
  Progress Read();

  uint64_t serial_;
  uint32_t upstream_;
  uint16_t id_;
  UniqueFd fd_;
  bool connected_ = false;
  bool bad_frame_ = false;
  std::vector<uint8_t> out_;  // the framed query
  size_t sent_ = 0;
  std::vector<uint8_t> in_;   // the frame read so far (length prefix included)
};

}  // namespace clusterdns::controlplane
