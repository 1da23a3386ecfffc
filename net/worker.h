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

struct WorkerOptions {
  ConnectionLimits limits;
  int idle_timeout_seconds = 0;  // -o idle_timeout; 0 = never
  int shutdown_grace_ms = 5000;  // how long shutdown waits for replies to drain
};

struct WorkerContext {
  const Clock* clock = nullptr;                  // not owned
  ConnRegistry* registry = nullptr;              // not owned
  std::atomic<int>* open_connections = nullptr;  // not owned; decremented on close
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
  bool stopping_ = false;
  int64_t stop_deadline_ms_ = 0;
  bool handles_closed_ = false;
};

}  // namespace warmcache::net
