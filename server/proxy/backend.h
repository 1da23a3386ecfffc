// SPDX-License-Identifier: BSD-3-Clause
// One pool node as one worker sees it: a pipelined connection (net::Upstream) and, in send
// order, who waits for each reply on it. memcached answers a connection's requests in order,
// so the first reply that arrives belongs to the first waiter.
//
// Thread safety: confined to its worker's loop thread.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <string_view>

#include "net/upstream.h"
#include "server/proxy/pool_state.h"
#include "server/proxy/reply_sink.h"

namespace warmcache::proxy {

class ProxyWorker;

// What the bytes sent make the backend send back.
enum class Expect : uint8_t {
  kLine,    // one line
  kValues,  // VALUE blocks and END
  kMeta,    // one meta reply
  // A noreply or quiet (q) request followed by "mn": everything before "MN" is its reply.
  kUntilNoop,
};

class Backend final : public net::UpstreamHandler {
 public:
  Backend(ProxyWorker* owner, std::shared_ptr<PoolState> pool, int node, net::Worker* worker);
  ~Backend() override;
  Backend(const Backend&) = delete;
  Backend& operator=(const Backend&) = delete;

  // Sends `request` (and, for kUntilNoop, "mn") and notes that part `part` of request `seq`
  // of `sink` waits for the reply. Nothing is written until Flush().
  void Forward(std::string_view request, Expect expect, const SinkHandle& sink, uint64_t seq,
               int part);
  void Flush();
  size_t outstanding() const { return waiting_.size(); }
  int node() const { return node_; }

  // net::UpstreamHandler
  size_t OnUpstreamInput(std::string_view input) override;
  void OnUpstreamDown(std::string_view reason) override;

 private:
  struct Waiter {
    SinkHandle sink;
    uint64_t seq;
    int part;
    Expect expect;
    int64_t sent_us;
  };
  // The length of the first reply in `input` for `expect`; 0 while incomplete; SIZE_MAX if
  // the bytes cannot be that reply. `*checked` counts the bytes at the start of `input` already
  // found to be whole pieces of it (VALUE blocks, quiet replies before "MN") and is advanced
  // past the ones found now: a long reply arriving in many reads is scanned once, not once
  // per read.
  static size_t ReplyLength(std::string_view input, Expect expect, size_t* checked);
  void FailAll(std::string_view error_line);

  ProxyWorker* owner_;  // not owned; outlives its backends
  std::shared_ptr<PoolState> pool_;
  const int node_;
  BackendCounters& counters_;
  std::deque<Waiter> waiting_;
  bool dirty_ = false;  // bytes staged since the last Flush
  bool timer_armed_ = false;
  size_t seen_bytes_ = 0;  // unconsumed input at the last call, to tell new bytes arrived
  size_t checked_ = 0;     // ReplyLength's progress in the first waiter's reply
  net::Upstream upstream_;
};

}  // namespace warmcache::proxy
