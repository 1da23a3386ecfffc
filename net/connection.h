// SPDX-License-Identifier: BSD-3-Clause
// One client socket on one loop: reads into an InputBuffer, hands bytes to its handler,
// writes the handler's replies in batches, and applies back-pressure.
#pragma once

#include <uv.h>

#include <cstddef>
#include <functional>
#include <memory>
#include <string_view>

#include "net/conn_registry.h"
#include "net/input_buffer.h"
#include "net/output_queue.h"
#include "server/common/thread_stats.h"

namespace warmcache::net {

enum class InputAction : uint8_t {
  kNeedMore,         // consumed what it could and waits for more bytes
  kYield,            // stopped at its per-event request budget with input left: resume soon
  kClose,            // close now; unsent replies are dropped
  kCloseAfterWrite,  // close once the replies so far are written
  // waits for work elsewhere (a disk read, room to spill): no input is offered until the
  // resumer from MakeResumer() runs; `consumed` stops before the request that waits
  kSuspend,
};

struct InputResult {
  size_t consumed = 0;
  InputAction action = InputAction::kNeedMore;
};

// The protocol side of a connection. Called on the connection's loop thread only.
class ConnectionHandler {
 public:
  virtual ~ConnectionHandler() = default;
  virtual InputResult OnInput(std::string_view input) = 0;
  // True while the replies gathered so far must not be sent yet (they acknowledge writes not
  // yet durable). The handler then arranges for the connection's releaser (MakeReleaser) to
  // run once they may go.
  virtual bool HoldsOutput() { return false; }
  // True while replies to requests already read are still to come from elsewhere (a proxy's
  // backends): a connection closing after its replies (shutdown) waits for them, and the
  // handler calls ReleaseOutput once they are in.
  virtual bool AwaitsReplies() { return false; }
};

struct ConnectionLimits {
  size_t max_input = 16u << 20;          // the largest request the buffer may hold
  size_t max_pending_output = 4u << 20;  // stop reading while more replies than this wait
};

class Worker;

// Thread safety: confined to its worker's loop thread. Owned by the Worker; destroyed after
// its handle's close callback.
class Connection {
 public:
  Connection(Worker* worker, int fd, bool is_unix, std::string peer, std::string listen_addr);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Adopts the fd into the loop and starts reading. False if libuv refuses the fd.
  bool Open(std::unique_ptr<ConnectionHandler> handler);
  OutputQueue& out() { return out_; }
  const ConnInfo& info() const { return info_; }
  ThreadStats& stats();

  void Close();
  // Server shutdown: answer what was already received, flush, then close.
  void BeginShutdown();
  // Runs the handler over buffered input (also the resume point after a yield).
  void Process();
  // A callable for any thread that resumes this connection after kSuspend (on its loop).
  // Harmless if the connection has closed by then.
  std::function<void()> MakeResumer();
  // A callable for any thread that sends the replies held by HoldsOutput (on its loop).
  std::function<void()> MakeReleaser();
  // Loop thread: sends the replies gathered outside OnInput (a proxy's backend answered), or
  // released by HoldsOutput turning false.
  void ReleaseOutput();
  bool closing() const { return closing_; }
  int64_t last_active() const { return info_.last_cmd_time.load(std::memory_order_relaxed); }

 private:
  static void OnAlloc(uv_handle_t* handle, size_t suggested, uv_buf_t* buf) noexcept;
  static void OnRead(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf) noexcept;
  static void OnWritten(uv_write_t* req, int status) noexcept;
  static void OnClosed(uv_handle_t* handle) noexcept;

  uv_stream_t* stream() { return reinterpret_cast<uv_stream_t*>(&handle_); }
  void Flush();
  void UpdateReading();
  bool OutputFull() const;
  void Resume();

  Worker* worker_;  // not owned; outlives its connections
  const bool is_unix_;
  union {
    uv_tcp_t tcp;
    uv_pipe_t pipe;
  } handle_;
  uv_write_t write_req_;
  std::unique_ptr<ConnectionHandler> handler_;
  InputBuffer input_;  // blocks from the worker's pool
  OutputQueue out_;
  ConnInfo info_;
  bool reading_ = false;
  bool write_in_flight_ = false;
  bool yielded_ = false;
  bool close_after_write_ = false;
  bool shutting_down_ = false;
  bool closing_ = false;
  bool opened_ = false;
  bool suspended_ = false;
  // While suspended, input keeps arriving up to this much before reading stops: stopping and
  // restarting reads costs two epoll_ctl calls per suspension.
  static constexpr size_t kSuspendedInputLimit = 256u << 10;
  // Lets resumers find the connection from another thread's task: cleared when it is
  // destroyed; read and written on the loop thread only.
  std::shared_ptr<Connection*> self_ = std::make_shared<Connection*>(this);
};

}  // namespace warmcache::net
