// SPDX-License-Identifier: BSD-3-Clause
// An outbound connection from a worker's loop to a backend server (proxy mode): requests are
// staged and written in batches, reply bytes are handed to the owner as they arrive. It
// connects lazily on the first Send and again on the first Send after it went down.
//
// Thread safety: confined to its worker's loop thread, like Connection (constructed there or
// before Worker::Start()).
// Lifetime: the Worker outlives it (its buffers come from the worker's pool). It may be
// destroyed at any time on the loop thread, also from inside its handler's callbacks; no
// callback arrives after its destructor or Disconnect() has returned (libuv handles are closed
// behind the scenes and freed by their close callbacks). Owners drop their Upstreams from a
// Worker::AddStopHook hook; any still alive then are disconnected by the worker, and Send no
// longer connects, so they cannot keep a stopping loop running.
// Down: every failure closes the connection and is reported once, by OnUpstreamDown, always
// from a loop callback, never from inside a call to Upstream. A failure found during Send or
// Flush is reported on the next loop iteration; Sends in between are dropped with the rest.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace warmcache::net {

class Worker;

// The owner's side. Called on the loop thread only.
class UpstreamHandler {
 public:
  virtual ~UpstreamHandler() = default;
  // Reply bytes have arrived: `input` is everything received and not yet consumed. Returns
  // how many leading bytes it consumed (whole replies); the rest stays buffered. `input` is
  // valid until this returns, or until Disconnect() or the destructor if called from here.
  virtual size_t OnUpstreamInput(std::string_view input) = 0;
  // The connection is gone: the connect failed, the peer closed or reset it (an idle
  // connection too, with nothing outstanding), a write failed, or the armed timeout passed.
  // `reason` is strerror's text: "Connection refused", "Connection timed out", "Connection
  // reset by peer" (also when the peer closed in an orderly way: a server closes only on a
  // fatal error), "Message too long" (more than max_input unconsumed); a name that does not
  // resolve gives libuv's getaddrinfo text, e.g. "unknown node or service". Every request
  // sent before it is dropped with it, answered or not; the next Send connects again. The
  // Upstream is down (neither connected nor connecting) when this runs, and the handler may
  // Send, Disconnect or destroy it from here.
  virtual void OnUpstreamDown(std::string_view reason) = 0;
};

struct UpstreamOptions {
  // Resolving and connecting together; 0: the OS's. Past it: "Connection timed out".
  int connect_timeout_ms = 0;
  size_t max_input = 64u << 20;  // a reply larger than this unconsumed is treated as a fault
  int keepalive_seconds = 0;     // TCP keep-alive probes after this much idle time; 0: off
};

class Upstream {
 public:
  // `host` is an IPv4/IPv6 literal (no brackets) or a name, resolved on libuv's thread pool
  // and tried address by address in getaddrinfo's order. `handler` is not owned and outlives
  // the Upstream (or its callbacks, if it destroys the Upstream from one).
  Upstream(Worker* worker, std::string host, uint16_t port, UpstreamHandler* handler,
           UpstreamOptions options = {});
  ~Upstream();
  Upstream(const Upstream&) = delete;
  Upstream& operator=(const Upstream&) = delete;

  // Copies `bytes` into the send buffer, connecting first if down. Nothing is written until
  // Flush() (or the connect completes), so a batch of requests goes out in one write. No
  // allocation beyond the buffers' growth (blocks from the worker's pool), except the
  // connection's own state when it connects.
  void Send(std::string_view bytes);
  // Writes what Send staged (once connected): uv_try_write, then one uv_write for the rest; one
  // write is in flight at a time, and what is staged meanwhile goes out when it completes.
  void Flush();
  // (Re)starts a one-shot deadline `ms` from now: when it passes, the connection is dropped
  // and OnUpstreamDown("Connection timed out") runs. The owner arms it while it waits for
  // replies and disarms it when none is outstanding. No effect while down (Send first). The
  // connect timeout runs beside it; the earlier of the two applies.
  void ArmTimeout(int ms);
  void DisarmTimeout();
  // Drops the connection and everything staged or buffered, without calling the handler.
  void Disconnect();

  bool connected() const;   // established
  bool connecting() const;  // resolving or connecting
  size_t staged_bytes() const;
  const std::string& host() const { return host_; }
  uint16_t port() const { return port_; }

 private:
  struct Link;  // the libuv handles and buffers of one connection attempt; freed on close
  Worker* worker_;
  const std::string host_;
  const uint16_t port_;
  UpstreamHandler* handler_;
  const UpstreamOptions options_;
  Link* link_ = nullptr;  // null while down; owned until its close callback frees it
};

}  // namespace warmcache::net
