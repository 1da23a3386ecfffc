// SPDX-License-Identifier: BSD-3-Clause
#include "net/connection.h"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include "net/worker.h"

namespace warmcache::net {

Connection::Connection(Worker* worker, int fd, bool is_unix, std::string peer,
                       std::string listen_addr)
    : worker_(worker), is_unix_(is_unix), input_(&worker->buffers()), out_(&worker->buffers()) {
  info_.fd = fd;
  info_.addr = std::move(peer);
  info_.listen_addr = std::move(listen_addr);
  info_.last_cmd_time.store(worker->context().clock->NowSeconds(), std::memory_order_relaxed);
}

Connection::~Connection() { *self_ = nullptr; }

std::function<void()> Connection::MakeResumer() {
  return [worker = worker_, self = self_] {
    worker->Post([self] {
      if (Connection* conn = *self) conn->Resume();
    });
  };
}

std::function<void()> Connection::MakeReleaser() {
  return [worker = worker_, self = self_] {
    worker->Post([self] {
      if (Connection* conn = *self) conn->ReleaseOutput();
    });
  };
}

void Connection::ReleaseOutput() {
  if (closing_) return;
  const bool was_full = OutputFull();
  Flush();
  if (closing_) return;
  UpdateReading();
  // Reading was paused for output; requests already buffered may be waiting.
  if (was_full && reading_ && !suspended_ && input_.size() > 0) Process();
}

void Connection::Resume() {
  if (!suspended_ || closing_) return;
  suspended_ = false;
  Process();
}

ThreadStats& Connection::stats() { return worker_->stats(); }

bool Connection::Open(std::unique_ptr<ConnectionHandler> handler) {
  handler_ = std::move(handler);
  int rc = 0;
  if (is_unix_) {
    uv_pipe_init(worker_->uv(), &handle_.pipe, 0);
    rc = uv_pipe_open(&handle_.pipe, info_.fd);
  } else {
    uv_tcp_init(worker_->uv(), &handle_.tcp);
    rc = uv_tcp_open(&handle_.tcp, info_.fd);
    if (rc == 0) uv_tcp_nodelay(&handle_.tcp, 1);
  }
  stream()->data = this;
  opened_ = true;
  if (rc != 0) {
    spdlog::warn("cannot adopt connection fd {}: {}", info_.fd, uv_strerror(rc));
    ::close(info_.fd);  // the handle never took ownership
    return false;
  }
  worker_->context().registry->Add(&info_);
  UpdateReading();
  return true;
}

bool Connection::OutputFull() const {
  return out_.pending_bytes() >= worker_->options().limits.max_pending_output;
}

void Connection::UpdateReading() {
  const bool want = !closing_ && !close_after_write_ && !yielded_ && !OutputFull() &&
                    !(suspended_ && input_.size() >= kSuspendedInputLimit);
  if (want && !reading_) {
    reading_ = uv_read_start(stream(), &Connection::OnAlloc, &Connection::OnRead) == 0;
  } else if (!want && reading_) {
    uv_read_stop(stream());
    reading_ = false;
  }
}

void Connection::OnAlloc(uv_handle_t* handle, size_t, uv_buf_t* buf) noexcept {
  auto* conn = static_cast<Connection*>(handle->data);
  auto [data, room] = conn->input_.PrepareRead(conn->worker_->options().limits.max_input);
  *buf = uv_buf_init(data, static_cast<unsigned>(room));
}

void Connection::OnRead(uv_stream_t* stream, ssize_t nread, const uv_buf_t*) noexcept {
  auto* conn = static_cast<Connection*>(stream->data);
  if (nread > 0) {
    conn->input_.Commit(static_cast<size_t>(nread));
    conn->stats().bytes_read.Add(static_cast<uint64_t>(nread));
    conn->Process();
    return;
  }
  if (nread == 0) return;  // EAGAIN
  if (nread == UV_ENOBUFS) {
    // The handler could not make progress with a full buffer: no valid request is this big.
    spdlog::debug("closing fd {}: request exceeds {} bytes", conn->info_.fd,
                  conn->worker_->options().limits.max_input);
  }
  conn->Close();  // EOF, reset or error
}

void Connection::Process() {
  if (closing_) return;
  if (suspended_) {
    // The handler's request is being worked on elsewhere: it must not be re-run. Keep reading
    // until the input reaches its limit.
    UpdateReading();
    return;
  }
  info_.state.store(ConnState::kParseCmd, std::memory_order_relaxed);
  InputResult result;
  do {
    result = handler_->OnInput(input_.data());
    input_.Consume(result.consumed);
    if (result.consumed > 0) {
      info_.last_cmd_time.store(worker_->context().clock->NowSeconds(), std::memory_order_relaxed);
    }
    // During shutdown everything already received is answered, budget or not.
  } while (shutting_down_ && result.action == InputAction::kYield);
  switch (result.action) {
    case InputAction::kSuspend:
      suspended_ = true;
      break;
    case InputAction::kClose:
      Close();
      return;
    case InputAction::kCloseAfterWrite:
      close_after_write_ = true;
      yielded_ = false;
      break;
    case InputAction::kYield:
      yielded_ = true;
      stats().conn_yields.Add();
      worker_->ScheduleResume(this);
      break;
    case InputAction::kNeedMore:
      yielded_ = false;
      input_.ReleaseIfIdle();
      break;
  }
  info_.state.store(input_.size() > 0 ? ConnState::kRead : ConnState::kWaiting,
                    std::memory_order_relaxed);
  Flush();
  if (!closing_) UpdateReading();
}

void Connection::Flush() {
  if (closing_ || write_in_flight_) return;
  if (handler_->HoldsOutput()) return;  // ReleaseOutput comes back
  if (out_.staged_bytes() == 0) {
    if (close_after_write_ && !suspended_ && !handler_->AwaitsReplies()) Close();
    return;
  }
  const std::vector<uv_buf_t>& bufs = out_.BeginWrite();
  // Most batches fit the socket buffer: write them now, so no write request is queued and the
  // loop can sleep in epoll instead of coming back for a completion callback.
  const int wrote = uv_try_write(stream(), bufs.data(), static_cast<unsigned>(bufs.size()));
  if (wrote < 0 && wrote != UV_EAGAIN) {
    out_.EndWrite();
    Close();
    return;
  }
  const size_t done = wrote > 0 ? static_cast<size_t>(wrote) : 0;
  if (done == out_.inflight_bytes()) {
    stats().bytes_written.Add(out_.EndWrite());
    if (close_after_write_ && !suspended_ && !handler_->AwaitsReplies()) Close();
    return;
  }
  const std::vector<uv_buf_t>& rest = out_.SkipWritten(done);
  write_req_.data = this;
  const int rc = uv_write(&write_req_, stream(), rest.data(), static_cast<unsigned>(rest.size()),
                          &Connection::OnWritten);
  if (rc != 0) {
    out_.EndWrite();
    Close();
    return;
  }
  write_in_flight_ = true;
  info_.state.store(ConnState::kWrite, std::memory_order_relaxed);
}

void Connection::OnWritten(uv_write_t* req, int status) noexcept {
  auto* conn = static_cast<Connection*>(req->data);
  conn->write_in_flight_ = false;
  const size_t written = conn->out_.EndWrite();
  if (status != 0) {
    conn->Close();
    return;
  }
  conn->stats().bytes_written.Add(written);
  if (conn->closing_) return;
  const bool was_full = !conn->reading_ && !conn->yielded_ && !conn->close_after_write_;
  conn->Flush();
  if (conn->closing_) return;
  conn->info_.state.store(conn->write_in_flight_ ? ConnState::kWrite : ConnState::kWaiting,
                          std::memory_order_relaxed);
  conn->UpdateReading();
  // Reading was paused for output; requests already buffered may be waiting.
  if (was_full && conn->reading_ && conn->input_.size() > 0) conn->Process();
}

void Connection::Close() {
  if (closing_) return;
  closing_ = true;
  info_.state.store(ConnState::kClosing, std::memory_order_relaxed);
  worker_->OnConnectionClosing(this);
  if (!opened_) {
    worker_->OnConnectionClosed(this);
    return;
  }
  if (reading_) uv_read_stop(stream());
  reading_ = false;
  // Pending writes complete with UV_ECANCELED before OnClosed runs.
  uv_close(reinterpret_cast<uv_handle_t*>(stream()), &Connection::OnClosed);
}

void Connection::OnClosed(uv_handle_t* handle) noexcept {
  auto* conn = static_cast<Connection*>(handle->data);
  conn->worker_->context().registry->Remove(&conn->info_);
  conn->worker_->OnConnectionClosed(conn);
}

void Connection::BeginShutdown() {
  if (closing_) return;
  shutting_down_ = true;
  yielded_ = false;
  Process();
  if (closing_) return;
  close_after_write_ = true;
  UpdateReading();
  Flush();
}

}  // namespace warmcache::net
