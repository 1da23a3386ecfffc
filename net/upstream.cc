// SPDX-License-Identifier: BSD-3-Clause
#include "net/upstream.h"

#include <spdlog/spdlog.h>
#include <uv.h>

#include <algorithm>
#include <cassert>
#include <charconv>
#include <cstring>
#include <limits>
#include <optional>

#include "net/input_buffer.h"
#include "net/output_queue.h"
#include "net/worker.h"

namespace warmcache::net {

namespace {

constexpr uint64_t kNoDeadline = std::numeric_limits<uint64_t>::max();

// strerror's text for a libuv error. On Linux uv errors are negated errno values, except the
// resolver's (UV_EAI_*), which have no errno and keep libuv's own text.
const char* ErrorText(int uv_error) {
  char name[32];
  uv_err_name_r(uv_error, name, sizeof(name));
  if (std::strncmp(name, "EAI_", 4) == 0) return uv_strerror(uv_error);
  return std::strerror(-uv_error);
}

}  // namespace

// One connection attempt: its handles, requests and buffers. Upstream points at it while it is
// live; once closing, it is detached from the buffers at once and freed by the last of its
// close callbacks (and the resolver's, if a lookup was running), so Upstream may go away at any
// time. Invariant: while !closing, owner != nullptr and owner->link_ == this.
struct Upstream::Link {
  Link(Upstream* upstream, Worker* worker)
      : owner(upstream),
        max_input(upstream->options_.max_input),
        input(std::in_place, &worker->buffers()),
        out(std::in_place, &worker->buffers()) {
    uv_tcp_init(worker->uv(), &tcp);
    uv_timer_init(worker->uv(), &timer);
    tcp.data = this;
    timer.data = this;
    connect_req.data = this;
    write_req.data = this;
    resolve_req.data = this;
  }

  ~Link() {
    if (addresses != nullptr) uv_freeaddrinfo(addresses);
  }

  void Start(const std::string& host, uint16_t port);
  void Connect(const sockaddr* addr);
  void ConnectNext();
  // A connect failed: the next resolved address gets a fresh socket, or the link fails.
  void RetryOrFail(int error);
  void Write();
  void Deliver();
  void RestartTimer();
  // Closes everything; `error` (a uv error) reaches the owner once the handles have closed.
  void Fail(int error);
  void Close();
  void ReleaseBuffers();
  void Finish();

  static void OnResolved(uv_getaddrinfo_t* req, int status, addrinfo* res) noexcept;
  static void OnConnected(uv_connect_t* req, int status) noexcept;
  static void OnRetryClosed(uv_handle_t* handle) noexcept;
  static void OnAlloc(uv_handle_t* handle, size_t suggested, uv_buf_t* buf) noexcept;
  static void OnRead(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf) noexcept;
  static void OnWritten(uv_write_t* req, int status) noexcept;
  static void OnTimer(uv_timer_t* timer) noexcept;
  static void OnClosed(uv_handle_t* handle) noexcept;

  uv_stream_t* stream() { return reinterpret_cast<uv_stream_t*>(&tcp); }

  Upstream* owner;  // null once detached: nothing reaches the Upstream or its handler then
  const size_t max_input;
  uv_tcp_t tcp;
  uv_timer_t timer;
  uv_connect_t connect_req;
  uv_write_t write_req;
  uv_getaddrinfo_t resolve_req;
  addrinfo* addresses = nullptr;  // what the name resolved to, until connected
  const addrinfo* next_address = nullptr;
  // Reset when the link closes, so their blocks go back to the worker's pool at once: the
  // close callbacks may run after the pool is gone (the loop's own teardown).
  std::optional<InputBuffer> input;
  std::optional<OutputQueue> out;
  uint64_t connect_deadline = kNoDeadline;  // loop time (ms)
  uint64_t reply_deadline = kNoDeadline;    // loop time (ms), from ArmTimeout
  int open_handles = 2;                     // tcp and timer, until their close callbacks ran
  int error = 0;                            // why it failed, reported in Finish()
  bool resolving = false;
  bool connected = false;
  bool write_in_flight = false;
  bool closing = false;
  bool in_input = false;  // inside OnUpstreamInput: the buffer it reads must stay
};

Upstream::Upstream(Worker* worker, std::string host, uint16_t port, UpstreamHandler* handler,
                   UpstreamOptions options)
    : worker_(worker), host_(std::move(host)), port_(port), handler_(handler), options_(options) {
  worker_->AttachUpstream(this);
}

Upstream::~Upstream() {
  Disconnect();
  worker_->DetachUpstream(this);
}

void Upstream::Send(std::string_view bytes) {
  if (link_ == nullptr) {
    // The worker is stopping for good: a new connection would keep its loop running.
    if (worker_->loop_ending()) return;
    link_ = new Link(this, worker_);
    link_->Start(host_, port_);  // may fail at once; the handler hears of it from the loop
  }
  // A link that failed and has not reported it yet drops the bytes: OnUpstreamDown covers them.
  if (!link_->closing) link_->out->Append(bytes);
}

void Upstream::Flush() {
  if (link_ != nullptr) link_->Write();
}

void Upstream::ArmTimeout(int ms) {
  if (link_ == nullptr || link_->closing) return;
  link_->reply_deadline = uv_now(worker_->uv()) + static_cast<uint64_t>(std::max(ms, 0));
  link_->RestartTimer();
}

void Upstream::DisarmTimeout() {
  if (link_ == nullptr || link_->closing) return;
  link_->reply_deadline = kNoDeadline;
  link_->RestartTimer();
}

void Upstream::Disconnect() {
  Link* link = link_;
  if (link == nullptr) return;
  link_ = nullptr;
  link->owner = nullptr;
  if (!link->closing) link->Close();
}

bool Upstream::connected() const { return link_ != nullptr && !link_->closing && link_->connected; }

bool Upstream::connecting() const {
  return link_ != nullptr && !link_->closing && !link_->connected;
}

size_t Upstream::staged_bytes() const {
  return link_ != nullptr && !link_->closing ? link_->out->staged_bytes() : 0;
}

void Upstream::Link::Start(const std::string& host, uint16_t port) {
  uv_loop_t* loop = owner->worker_->uv();
  if (owner->options_.connect_timeout_ms > 0) {
    connect_deadline = uv_now(loop) + static_cast<uint64_t>(owner->options_.connect_timeout_ms);
    RestartTimer();
  }
  sockaddr_in v4;
  sockaddr_in6 v6;
  if (uv_ip4_addr(host.c_str(), port, &v4) == 0) {
    Connect(reinterpret_cast<const sockaddr*>(&v4));
    return;
  }
  if (uv_ip6_addr(host.c_str(), port, &v6) == 0) {
    Connect(reinterpret_cast<const sockaddr*>(&v6));
    return;
  }
  // A name: getaddrinfo runs on libuv's thread pool, never on the loop.
  char service[8] = {};
  std::to_chars(service, service + sizeof(service) - 1, port);
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  const int rc =
      uv_getaddrinfo(loop, &resolve_req, &Link::OnResolved, host.c_str(), service, &hints);
  if (rc != 0) {
    Fail(rc);
    return;
  }
  resolving = true;
}

void Upstream::Link::OnResolved(uv_getaddrinfo_t* req, int status, addrinfo* res) noexcept {
  auto* link = static_cast<Link*>(req->data);
  link->resolving = false;
  if (link->closing) {
    if (res != nullptr) uv_freeaddrinfo(res);
    if (link->open_handles == 0) delete link;  // the handles closed while the lookup ran
    return;
  }
  if (status != 0 || res == nullptr) {
    link->Fail(status != 0 ? status : UV_EAI_NONAME);
    return;
  }
  // In getaddrinfo's order ("localhost" is often ::1 first, while a server may listen on
  // 127.0.0.1 only), each refused address passing on to the next.
  link->addresses = res;
  link->next_address = res;
  link->ConnectNext();
}

void Upstream::Link::ConnectNext() {
  const addrinfo* address = next_address;
  next_address = address->ai_next;
  Connect(address->ai_addr);
}

void Upstream::Link::Connect(const sockaddr* addr) {
  const int rc = uv_tcp_connect(&connect_req, &tcp, addr, &Link::OnConnected);
  if (rc != 0) RetryOrFail(rc);
}

void Upstream::Link::RetryOrFail(int uv_error) {
  if (next_address == nullptr) {
    Fail(uv_error);
    return;
  }
  // A socket whose connect failed cannot connect again portably: close it and start afresh.
  uv_close(reinterpret_cast<uv_handle_t*>(&tcp), &Link::OnRetryClosed);
}

void Upstream::Link::OnRetryClosed(uv_handle_t* handle) noexcept {
  auto* link = static_cast<Link*>(handle->data);
  if (link->closing) {
    OnClosed(handle);  // Close() found this handle closing already and left it to us
    return;
  }
  uv_tcp_init(link->timer.loop, &link->tcp);
  link->tcp.data = link;
  link->ConnectNext();
}

void Upstream::Link::OnConnected(uv_connect_t* req, int status) noexcept {
  auto* link = static_cast<Link*>(req->data);
  if (link->closing) return;  // UV_ECANCELED from Close()
  if (status != 0) {
    link->RetryOrFail(status);
    return;
  }
  link->connected = true;
  if (link->addresses != nullptr) uv_freeaddrinfo(link->addresses);
  link->addresses = nullptr;
  link->next_address = nullptr;
  uv_tcp_nodelay(&link->tcp, 1);
  const int keepalive = link->owner->options_.keepalive_seconds;
  if (keepalive > 0) uv_tcp_keepalive(&link->tcp, 1, static_cast<unsigned>(keepalive));
  const int rc = uv_read_start(link->stream(), &Link::OnAlloc, &Link::OnRead);
  if (rc != 0) {
    link->Fail(rc);
    return;
  }
  link->connect_deadline = kNoDeadline;
  link->RestartTimer();
  // Requests staged while connecting go now, in one batch.
  link->Write();
}

void Upstream::Link::Write() {
  if (closing || !connected || write_in_flight || out->staged_bytes() == 0) return;
  const std::vector<uv_buf_t>& bufs = out->BeginWrite();
  // Most batches fit the socket buffer: written now, no write request waits for a callback.
  const int wrote = uv_try_write(stream(), bufs.data(), static_cast<unsigned>(bufs.size()));
  if (wrote < 0 && wrote != UV_EAGAIN) {
    Fail(wrote);
    return;
  }
  const size_t done = wrote > 0 ? static_cast<size_t>(wrote) : 0;
  if (done == out->inflight_bytes()) {
    out->EndWrite();
    return;
  }
  const std::vector<uv_buf_t>& rest = out->SkipWritten(done);
  const int rc = uv_write(&write_req, stream(), rest.data(), static_cast<unsigned>(rest.size()),
                          &Link::OnWritten);
  if (rc != 0) {
    Fail(rc);
    return;
  }
  write_in_flight = true;
}

void Upstream::Link::OnWritten(uv_write_t* req, int status) noexcept {
  auto* link = static_cast<Link*>(req->data);
  link->write_in_flight = false;
  if (link->closing) return;  // the queue went with Close(); UV_ECANCELED lands here
  if (status != 0) {
    link->Fail(status);
    return;
  }
  link->out->EndWrite();
  // What was staged while this write was in flight goes as the next batch.
  link->Write();
}

void Upstream::Link::OnAlloc(uv_handle_t* handle, size_t, uv_buf_t* buf) noexcept {
  auto* link = static_cast<Link*>(handle->data);
  // An empty buffer (max_input bytes held, none consumed) makes libuv report UV_ENOBUFS.
  auto [data, room] = link->input->PrepareRead(link->max_input);
  *buf = uv_buf_init(data, static_cast<unsigned>(room));
}

void Upstream::Link::OnRead(uv_stream_t* stream, ssize_t nread, const uv_buf_t*) noexcept {
  auto* link = static_cast<Link*>(stream->data);
  if (link->closing) return;
  if (nread > 0) {
    link->input->Commit(static_cast<size_t>(nread));
    link->Deliver();
    return;
  }
  if (nread == 0) return;  // EAGAIN
  // A server closes a connection only on a fatal error (or when it stops), so an orderly EOF
  // loses whatever was outstanding just like a reset: both read "Connection reset by peer".
  if (nread == UV_EOF) nread = UV_ECONNRESET;
  // The owner consumed nothing of max_input bytes: no reply it expects is that large.
  if (nread == UV_ENOBUFS) nread = UV_EMSGSIZE;
  link->Fail(static_cast<int>(nread));
}

void Upstream::Link::Deliver() {
  in_input = true;
  const size_t consumed = owner->handler_->OnUpstreamInput(input->data());
  in_input = false;
  // The handler may have disconnected or destroyed the Upstream (owner is gone then), or a
  // write it triggered may have failed: this link is closing and only lets go of its buffers.
  if (closing) {
    ReleaseBuffers();
    return;
  }
  assert(consumed <= input->size());
  input->Consume(std::min(consumed, input->size()));
  input->ReleaseIfIdle();
}

void Upstream::Link::RestartTimer() {
  const uint64_t deadline = std::min(connect_deadline, reply_deadline);
  if (deadline == kNoDeadline) {
    uv_timer_stop(&timer);
    return;
  }
  const uint64_t now = uv_now(timer.loop);
  uv_timer_start(&timer, &Link::OnTimer, deadline > now ? deadline - now : 0, 0);
}

void Upstream::Link::OnTimer(uv_timer_t* timer) noexcept {
  static_cast<Link*>(timer->data)->Fail(UV_ETIMEDOUT);
}

void Upstream::Link::Fail(int uv_error) {
  if (closing) return;
  error = uv_error;
  spdlog::debug("upstream {}:{} down: {}", owner->host_, owner->port_, ErrorText(uv_error));
  Close();
}

void Upstream::Link::Close() {
  closing = true;
  // A lookup cannot be stopped once running; its callback then frees the link (OnResolved).
  if (resolving) uv_cancel(reinterpret_cast<uv_req_t*>(&resolve_req));
  // Closing the stream closes its socket now; pending connect and write requests complete
  // with UV_ECANCELED before the close callback, so the buffers they point into are unread.
  // While a retry is closing the stream, OnRetryClosed counts it instead.
  if (!uv_is_closing(reinterpret_cast<uv_handle_t*>(&tcp))) {
    uv_close(reinterpret_cast<uv_handle_t*>(&tcp), &Link::OnClosed);
  }
  uv_close(reinterpret_cast<uv_handle_t*>(&timer), &Link::OnClosed);
  if (!in_input) ReleaseBuffers();
}

void Upstream::Link::ReleaseBuffers() {
  input.reset();
  out.reset();
}

void Upstream::Link::OnClosed(uv_handle_t* handle) noexcept {
  auto* link = static_cast<Link*>(handle->data);
  if (--link->open_handles == 0) link->Finish();
}

void Upstream::Link::Finish() {
  Upstream* upstream = owner;
  const int failure = error;
  assert(upstream == nullptr || failure != 0);  // only Fail() closes a link it still serves
  owner = nullptr;
  if (upstream != nullptr) upstream->link_ = nullptr;  // down: the next Send connects anew
  if (!resolving) delete this;
  // Last, and touching nothing of the link: the handler may send again (a new link) or destroy
  // the Upstream.
  if (upstream != nullptr) upstream->handler_->OnUpstreamDown(ErrorText(failure));
}

}  // namespace warmcache::net
