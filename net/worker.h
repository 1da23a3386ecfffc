// SPDX-License-Identifier: BSD-3-Clause
// A worker thread: one event loop and the connections it owns for their whole life.
#pragma once

#include <uv.h>

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <unordered_set>
#include <vector>

#include "net/buffer_pool.h"
#include "net/connection.h"
#include "net/loop.h"
#include "server/common/clock.h"
#include "server/common/thread_stats.h"

namespace warmcache::net {

class Upstream;

struct WorkerOptions {
  ConnectionLimits limits;
  int idle_timeout_seconds = 0;  // -o idle_timeout; 0 = never
  int shutdown_grace_ms = 5000;  // how long shutdown waits for replies to drain
};

struct WorkerContext {
  const Clock* clock = nullptr;                  // not owned
  ConnRegistry* registry = nullptr;              // not owned
  std::atomic<int>* open_connections = nullptr;  // not owned; decremented on close
  // Runs on the loop thread after each batch of events: work queued for other threads during
  // the batch is handed over once (the warm tier's reads), not once per request.
  std::function<void()> after_events;
};

// Thread safety: Adopt(), Stop() and stats() may be called from any thread; the rest runs on
// the worker's loop thread.
class Worker {
 public:
  using HandlerFactory = std::function<std::unique_ptr<ConnectionHandler>(Connection&)>;

  Worker(int index, const WorkerOptions& options, const WorkerContext& context,
         HandlerFactory factory);
  ~Worker();
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  void Start();
  // Hands an accepted, non-blocking socket to this worker.
  void Adopt(int fd, bool is_unix, std::string peer, std::string listen_addr);
  // Graceful: every connection answers what it has read, flushes, closes; then the loop ends.
  void Stop();
  void Join() { loop_.Join(); }

  ThreadStats& stats() { return stats_; }
  BufferPool& buffers() { return buffers_; }  // loop thread only
  const WorkerOptions& options() const { return options_; }
  const WorkerContext& context() const { return context_; }
  int index() const { return index_; }
  uv_loop_t* uv() { return loop_.uv(); }
  // Any thread: runs `task` on this worker's loop (dropped once the loop is stopping).
  bool Post(std::function<void()> task) { return loop_.Post(std::move(task)); }

  // Loop thread (or before Start()): `hook` runs once on the loop thread when Stop() has seen
  // the last connection close (at the latest after shutdown_grace_ms), just before the worker
  // closes its own handles. Owners of per-worker things that keep the loop running (a proxy's
  // Upstreams) drop them here, while the worker and its buffer pool still exist. A hook added
  // after that point runs at once.
  void AddStopHook(std::function<void()> hook);
  // True from when the stop hooks run: the loop is ending, and an Upstream no longer connects.
  bool loop_ending() const { return handles_closed_; }

  // Loop thread: Upstream bookkeeping (its constructor and destructor). Upstreams still alive
  // after the stop hooks are disconnected, so a forgotten one cannot keep the loop running.
  void AttachUpstream(Upstream* upstream) { upstreams_.insert(upstream); }
  void DetachUpstream(Upstream* upstream) { upstreams_.erase(upstream); }

  // Loop thread: connection bookkeeping.
  void ScheduleResume(Connection* conn);
  void OnConnectionClosing(Connection* conn);
  void OnConnectionClosed(Connection* conn);

 private:
  static void OnIdle(uv_idle_t* idle) noexcept;
  static void OnAfterPoll(uv_check_t* check) noexcept;
  static void OnTick(uv_timer_t* timer) noexcept;
  void StopOnLoop();
  void CloseHandlesIfDone();

  const int index_;
  const WorkerOptions options_;
  const WorkerContext context_;
  HandlerFactory factory_;
  Loop loop_;
  ThreadStats stats_;
  BufferPool buffers_;
  uv_idle_t resume_;
  uv_timer_t tick_;
  uv_check_t after_poll_;
  std::unordered_set<Connection*> connections_;
  std::vector<Connection*> ready_;
  std::vector<std::function<void()>> stop_hooks_;
  std::unordered_set<Upstream*> upstreams_;
  bool stopping_ = false;
  int64_t stop_deadline_ms_ = 0;
  bool handles_closed_ = false;
};

}  // namespace warmcache::net
