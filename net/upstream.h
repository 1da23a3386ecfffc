// SPDX-License-Identifier: BSD-3-Clause
// An outbound connection from a worker's loop to a backend server (proxy mode): requests are
// staged and written in batches, reply bytes are handed to the owner as they arrive. It
// connects lazily on the first Send and again on the first Send after it went down.
//
// Thread safety: confined to its worker's loop thread, like Connection.
// Lifetime: may be destroyed at any time on the loop thread; no callback arrives after its
// destructor or Disconnect() has returned (libuv handles are closed behind the scenes).
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
  // how many leading bytes it consumed (whole replies); the rest stays buffered.
  virtual size_t OnUpstreamInput(std::string_view input) = 0;
  // The connection is gone: the connect failed, the peer closed or reset it, a write failed,
  // or the armed timeout passed. `reason` is strerror's text ("Connection refused",
  // "Connection timed out", "Connection reset by peer"). Staged and unanswered requests are
  // dropped with it; the next Send connects again.
  virtual void OnUpstreamDown(std::string_view reason) = 0;
};

struct UpstreamOptions {
  int connect_timeout_ms = 0;  // 0: the OS's; otherwise OnUpstreamDown("Connection timed out")
  size_t max_input = 64u << 20;  // a reply larger than this unconsumed is treated as a fault
};

class Upstream {
 public:
  // `host` is an IPv4/IPv6 literal or a name (resolved without blocking the loop).
  Upstream(Worker* worker, std::string host, uint16_t port, UpstreamHandler* handler,
           UpstreamOptions options = {});
  ~Upstream();
  Upstream(const Upstream&) = delete;
  Upstream& operator=(const Upstream&) = delete;

  // Copies `bytes` into the send buffer, connecting first if down. Nothing is written until
  // Flush() (or the connect completes), so a batch of requests goes out in one write.
  void Send(std::string_view bytes);
  // Writes what Send staged (once connected).
  void Flush();
  // (Re)starts a one-shot deadline `ms` from now: when it passes, the connection is dropped
  // and OnUpstreamDown("Connection timed out") runs. The owner arms it while it waits for
  // replies and disarms it when none is outstanding.
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
