// SPDX-License-Identifier: BSD-3-Clause
#include "net/upstream.h"

#include <gtest/gtest.h>
#include <netdb.h>
#include <poll.h>
#include <unistd.h>
#include <uv.h>

#include <chrono>
#include <functional>
#include <future>
#include <memory>
#include <string>
#include <vector>

#include "net/worker.h"
#include "tests/unit/net/fake_backend.h"

namespace warmcache::net {
namespace {

using testing::FakeBackend;
using Clock = std::chrono::steady_clock;

// Records what reaches the owner; by default consumes whole lines, as a proxy consumes whole
// replies.
class Recorder : public UpstreamHandler {
 public:
  size_t OnUpstreamInput(std::string_view input) override {
    inputs.emplace_back(input);
    if (on_input) return on_input(input);
    const size_t end = input.rfind("\r\n");
    const size_t consumed = end == std::string_view::npos ? 0 : end + 2;
    replies.append(input.substr(0, consumed));
    return consumed;
  }
  void OnUpstreamDown(std::string_view reason) override {
    downs.emplace_back(reason);
    if (on_down) on_down(reason);
  }

  std::vector<std::string> inputs;
  std::string replies;  // everything consumed, in order
  std::vector<std::string> downs;
  std::function<size_t(std::string_view)> on_input;
  std::function<void(std::string_view)> on_down;
};

WorkerContext TestContext() {
  static FakeClock clock;
  WorkerContext context;
  context.clock = &clock;
  return context;
}

std::unique_ptr<ConnectionHandler> NoHandler(Connection&) { return nullptr; }

// A Worker that is never started: the test thread turns its loop (Loop permits that on the
// thread that built it), pumping the fake backend in between, so every step is observable.
class UpstreamTest : public ::testing::Test {
 protected:
  UpstreamTest() : worker_(0, WorkerOptions{}, TestContext(), &NoHandler) {}
  ~UpstreamTest() override {
    upstream_.reset();
    Turn(10);  // close callbacks of whatever the test left closing
  }

  std::unique_ptr<Upstream>& Make(uint16_t port, UpstreamOptions options = {},
                                  const std::string& host = "127.0.0.1") {
    upstream_ = std::make_unique<Upstream>(&worker_, host, port, &recorder_, options);
    return upstream_;
  }

  // Turns the loop and pumps the backend until `done` or 5 s. Waits in poll() on the loop's
  // and the backend's fds, so it spins only while something happens.
  bool RunUntil(const std::function<bool()>& done, FakeBackend* backend = nullptr) {
    const auto deadline = Clock::now() + std::chrono::seconds(5);
    for (;;) {
      if (backend != nullptr) backend->Pump();
      if (done()) return true;
      if (Clock::now() > deadline) return false;
      uv_run(worker_.uv(), UV_RUN_NOWAIT);
      if (done()) return true;
      std::vector<pollfd> fds{{uv_backend_fd(worker_.uv()), POLLIN, 0}};
      if (backend != nullptr) backend->AddPollFds(&fds);
      const int timer = uv_backend_timeout(worker_.uv());
      ::poll(fds.data(), fds.size(), timer >= 0 && timer < 5 ? timer : 5);
    }
  }
  // A few turns without waiting: lets close callbacks and queued completions run.
  void Turn(int times = 3) {
    for (int i = 0; i < times; ++i) uv_run(worker_.uv(), UV_RUN_NOWAIT);
  }
  // Runs the loop for `ms` of loop time (a uv timer ends it): for "nothing happens" checks.
  void RunFor(int ms, FakeBackend* backend = nullptr) {
    bool expired = false;
    uv_timer_t timer;
    uv_timer_init(worker_.uv(), &timer);
    timer.data = &expired;
    uv_timer_start(
        &timer, [](uv_timer_t* t) { *static_cast<bool*>(t->data) = true; },
        static_cast<uint64_t>(ms), 0);
    EXPECT_TRUE(RunUntil([&] { return expired; }, backend));
    uv_close(reinterpret_cast<uv_handle_t*>(&timer), nullptr);
    Turn();
  }

  Worker worker_;
  Recorder recorder_;
  std::unique_ptr<Upstream> upstream_;
};

// A port where nothing listens: bound (so nobody else takes it) but not listening, so a
// connect gets an RST.
class RefusingPort {
 public:
  RefusingPort() {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_storage addr{};
    socklen_t len = FakeBackend::Fill("127.0.0.1", 0, &addr);
    ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), len);
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(reinterpret_cast<sockaddr_in*>(&addr)->sin_port);
  }
  ~RefusingPort() { ::close(fd_); }
  uint16_t port() const { return port_; }

 private:
  int fd_;
  uint16_t port_;
};

TEST_F(UpstreamTest, ConnectsLazilyAndWritesWhatWasStagedInOneBatch) {
  FakeBackend backend;
  ASSERT_TRUE(backend.ok());
  auto& up = Make(backend.port());
  RunFor(20, &backend);
  EXPECT_EQ(0u, backend.accepted());
  EXPECT_FALSE(up->connecting());
  EXPECT_FALSE(up->connected());

  up->Send("get a\r\n");
  up->Send("get b\r\n");
  up->Flush();  // nothing to write to yet
  up->Send("get c\r\n");
  EXPECT_TRUE(up->connecting());
  EXPECT_EQ(21u, up->staged_bytes());
  ASSERT_TRUE(RunUntil([&] { return up->connected(); }, &backend));
  // Written by the connect's completion, without another Flush.
  ASSERT_TRUE(RunUntil(
      [&] { return backend.accepted() == 1 && backend.peer(0).received.size() == 21; }, &backend));
  EXPECT_EQ("get a\r\nget b\r\nget c\r\n", backend.peer(0).received);
  EXPECT_EQ(0u, up->staged_bytes());

  // Once connected, Send only stages; Flush writes.
  up->Send("get d\r\n");
  RunFor(20, &backend);
  EXPECT_EQ(21u, backend.peer(0).received.size());
  EXPECT_EQ(7u, up->staged_bytes());
  up->Flush();
  EXPECT_EQ(0u, up->staged_bytes());
  ASSERT_TRUE(RunUntil([&] { return backend.peer(0).received.size() == 28; }, &backend));
  EXPECT_EQ(1u, backend.accepted());
  EXPECT_TRUE(recorder_.downs.empty());
}

TEST_F(UpstreamTest, DeliversRepliesAndKeepsWhatWasNotConsumed) {
  FakeBackend backend;
  auto& up = Make(backend.port());
  up->Send("set k 0 0 1\r\nv\r\nset j 0 0 1\r\nw\r\n");
  ASSERT_TRUE(RunUntil([&] { return backend.accepted() == 1; }, &backend));
  ASSERT_TRUE(backend.Send(0, "STORED\r\nSTO"));
  ASSERT_TRUE(RunUntil([&] { return recorder_.inputs.size() == 1; }, &backend));
  EXPECT_EQ("STORED\r\nSTO", recorder_.inputs[0]);
  EXPECT_EQ("STORED\r\n", recorder_.replies);
  ASSERT_TRUE(backend.Send(0, "RED\r\n"));
  ASSERT_TRUE(RunUntil([&] { return recorder_.inputs.size() == 2; }, &backend));
  EXPECT_EQ("STORED\r\n", recorder_.inputs[1]);  // the kept "STO" first
  EXPECT_EQ("STORED\r\nSTORED\r\n", recorder_.replies);
  EXPECT_TRUE(recorder_.downs.empty());
}

TEST_F(UpstreamTest, RefusedConnectIsReportedOnce) {
  RefusingPort refusing;
  auto& up = Make(refusing.port());
  up->Send("get a\r\n");
  ASSERT_TRUE(RunUntil([&] { return !recorder_.downs.empty(); }));
  RunFor(20);
  ASSERT_EQ(1u, recorder_.downs.size());
  EXPECT_EQ("Connection refused", recorder_.downs[0]);
  EXPECT_FALSE(up->connected());
  EXPECT_FALSE(up->connecting());
  EXPECT_EQ(0u, up->staged_bytes());
}

TEST_F(UpstreamTest, PeerClosingMidReplyIsReportedOnce) {
  FakeBackend backend;
  auto& up = Make(backend.port());
  up->Send("get k\r\n");
  ASSERT_TRUE(RunUntil([&] { return backend.accepted() == 1; }, &backend));
  ASSERT_TRUE(backend.Send(0, "VALUE k 0 10\r\nabc"));
  ASSERT_TRUE(RunUntil([&] { return recorder_.inputs.size() == 1; }, &backend));
  backend.Close(0);
  ASSERT_TRUE(RunUntil([&] { return !recorder_.downs.empty(); }, &backend));
  RunFor(20, &backend);
  ASSERT_EQ(1u, recorder_.downs.size());
  EXPECT_EQ("Connection reset by peer", recorder_.downs[0]);  // EOF reads as a reset
  EXPECT_FALSE(up->connected());
}

TEST_F(UpstreamTest, PeerResetIsReportedOnce) {
  FakeBackend backend;
  auto& up = Make(backend.port());
  up->Send("get k\r\n");
  ASSERT_TRUE(RunUntil([&] { return backend.accepted() == 1; }, &backend));
  ASSERT_TRUE(RunUntil([&] { return up->connected(); }, &backend));
  backend.Reset(0);
  ASSERT_TRUE(RunUntil([&] { return !recorder_.downs.empty(); }, &backend));
  RunFor(20, &backend);
  ASSERT_EQ(1u, recorder_.downs.size());
  EXPECT_EQ("Connection reset by peer", recorder_.downs[0]);
}

TEST_F(UpstreamTest, ArmedTimeoutDropsTheConnection) {
  FakeBackend backend;
  auto& up = Make(backend.port());
  up->ArmTimeout(10);  // down: no effect
  up->Send("get k\r\n");
  up->ArmTimeout(30);
  ASSERT_TRUE(RunUntil([&] { return !recorder_.downs.empty(); }, &backend));
  EXPECT_EQ(std::vector<std::string>{"Connection timed out"}, recorder_.downs);
  EXPECT_EQ(1u, backend.accepted());
  ASSERT_TRUE(RunUntil([&] { return backend.peer(0).eof; }, &backend));
  EXPECT_EQ("get k\r\n", backend.peer(0).received);
}

TEST_F(UpstreamTest, DisarmedTimeoutDoesNotFire) {
  FakeBackend backend;
  auto& up = Make(backend.port());
  up->Send("get k\r\n");
  up->ArmTimeout(10);
  up->ArmTimeout(2000);  // re-arming moves the deadline
  RunFor(40, &backend);
  EXPECT_TRUE(recorder_.downs.empty());
  up->ArmTimeout(10);
  up->DisarmTimeout();
  RunFor(40, &backend);
  EXPECT_TRUE(recorder_.downs.empty());
  EXPECT_TRUE(up->connected());
}

TEST_F(UpstreamTest, ConnectTimeout) {
  // One connection fills the never-accepting backend's queue; the next connect hangs.
  FakeBackend backend("127.0.0.1", /*accept=*/false, /*backlog=*/0);
  Recorder filler_recorder;
  UpstreamOptions no_timeout;
  Upstream filler(&worker_, "127.0.0.1", backend.port(), &filler_recorder, no_timeout);
  filler.Send("x");
  ASSERT_TRUE(RunUntil([&] { return filler.connected(); }));
  UpstreamOptions options;
  options.connect_timeout_ms = 50;
  auto& up = Make(backend.port(), options);
  up->Send("get k\r\n");
  ASSERT_TRUE(RunUntil([&] { return !recorder_.downs.empty(); }));
  EXPECT_EQ(std::vector<std::string>{"Connection timed out"}, recorder_.downs);
  EXPECT_TRUE(filler_recorder.downs.empty());
}

TEST_F(UpstreamTest, ReconnectsAfterDown) {
  FakeBackend backend;
  auto& up = Make(backend.port());
  up->Send("version\r\n");
  ASSERT_TRUE(RunUntil([&] { return backend.accepted() == 1; }, &backend));
  backend.Close(0);
  ASSERT_TRUE(RunUntil([&] { return recorder_.downs.size() == 1; }, &backend));
  up->Send("version\r\n");
  EXPECT_TRUE(up->connecting());
  up->Flush();
  ASSERT_TRUE(
      RunUntil([&] { return backend.accepted() == 2 && backend.peer(1).received == "version\r\n"; },
               &backend));
  ASSERT_TRUE(backend.Send(1, "VERSION 1.6.18\r\n"));
  ASSERT_TRUE(RunUntil([&] { return !recorder_.replies.empty(); }, &backend));
  EXPECT_EQ("VERSION 1.6.18\r\n", recorder_.replies);
  EXPECT_EQ(1u, recorder_.downs.size());
}

TEST_F(UpstreamTest, ReconnectsFromInsideOnUpstreamDown) {
  FakeBackend backend;
  auto& up = Make(backend.port());
  recorder_.on_down = [&](std::string_view) {
    EXPECT_FALSE(up->connected() || up->connecting());
    up->Send("retry\r\n");
  };
  up->Send("first\r\n");
  ASSERT_TRUE(RunUntil([&] { return backend.accepted() == 1; }, &backend));
  backend.Reset(0);
  ASSERT_TRUE(
      RunUntil([&] { return backend.accepted() == 2 && backend.peer(1).received == "retry\r\n"; },
               &backend));
  EXPECT_EQ(1u, recorder_.downs.size());
}

TEST_F(UpstreamTest, DestroyedInsideOnUpstreamInput) {
  FakeBackend backend;
  auto& up = Make(backend.port());
  recorder_.on_input = [&](std::string_view input) {
    EXPECT_EQ("END\r\n", input);
    up.reset();
    return size_t{0};
  };
  up->Send("get k\r\n");
  ASSERT_TRUE(RunUntil([&] { return backend.accepted() == 1; }, &backend));
  ASSERT_TRUE(backend.Send(0, "END\r\n"));
  ASSERT_TRUE(RunUntil([&] { return up == nullptr; }, &backend));
  ASSERT_TRUE(RunUntil([&] { return backend.peer(0).eof; }, &backend));
  RunFor(20, &backend);
  EXPECT_EQ(1u, recorder_.inputs.size());
  EXPECT_TRUE(recorder_.downs.empty());
}

TEST_F(UpstreamTest, DisconnectAndSendInsideOnUpstreamInput) {
  FakeBackend backend;
  auto& up = Make(backend.port());
  recorder_.on_input = [&](std::string_view input) {
    up->Disconnect();
    up->Send("again\r\n");
    up->Flush();
    return input.size();
  };
  up->Send("get k\r\n");
  ASSERT_TRUE(RunUntil([&] { return backend.accepted() == 1; }, &backend));
  ASSERT_TRUE(backend.Send(0, "END\r\n"));
  ASSERT_TRUE(
      RunUntil([&] { return backend.accepted() == 2 && backend.peer(1).received == "again\r\n"; },
               &backend));
  EXPECT_TRUE(backend.peer(0).eof);
  EXPECT_TRUE(up->connected());
  EXPECT_TRUE(recorder_.downs.empty());
}

TEST_F(UpstreamTest, DestroyedInsideOnUpstreamDown) {
  RefusingPort refusing;
  auto& up = Make(refusing.port());
  recorder_.on_down = [&](std::string_view) { up.reset(); };
  up->Send("get k\r\n");
  ASSERT_TRUE(RunUntil([&] { return up == nullptr; }));
  RunFor(20);
  EXPECT_EQ(1u, recorder_.downs.size());
}

TEST_F(UpstreamTest, DisconnectDropsStagedBytesWithoutCallback) {
  FakeBackend backend;
  auto& up = Make(backend.port());
  up->Send("while connecting\r\n");
  up->Disconnect();
  EXPECT_EQ(0u, up->staged_bytes());
  EXPECT_FALSE(up->connecting());
  RunFor(20, &backend);
  for (size_t i = 0; i < backend.accepted(); ++i) EXPECT_EQ("", backend.peer(i).received);

  up->Send("first\r\n");
  ASSERT_TRUE(RunUntil([&] { return up->connected(); }, &backend));
  up->Send("staged, never flushed\r\n");
  up->Disconnect();
  const size_t peer = backend.accepted() - 1;
  ASSERT_TRUE(RunUntil([&] { return backend.peer(peer).eof; }, &backend));
  EXPECT_EQ("first\r\n", backend.peer(peer).received);
  EXPECT_TRUE(recorder_.downs.empty());
  EXPECT_TRUE(recorder_.inputs.empty());
}

TEST_F(UpstreamTest, DestroyedWhileConnectingAndWhileWriting) {
  FakeBackend backend;
  auto& up = Make(backend.port());
  up->Send("x");
  up.reset();  // connect request in flight
  Turn();
  auto& again = Make(backend.port());
  again->Send("y");
  ASSERT_TRUE(RunUntil([&] { return again->connected(); }, &backend));
  again->Send(std::string(16 << 20, 'z'));
  again->Flush();  // more than the socket takes: a uv_write is in flight
  again.reset();
  RunFor(20, &backend);
  EXPECT_TRUE(recorder_.downs.empty());
}

TEST_F(UpstreamTest, WritesInOrderWithAWriteInFlight) {
  FakeBackend backend;
  auto& up = Make(backend.port());
  up->Send("a");
  ASSERT_TRUE(RunUntil([&] { return up->connected(); }, &backend));
  std::string first(16 << 20, 'b');
  first.back() = 'B';
  up->Send(first);
  up->Flush();
  up->Send("c");
  up->Flush();
  // The socket did not take 16 MiB at once, so "c" waits for the next batch.
  EXPECT_EQ(1u, up->staged_bytes());
  ASSERT_TRUE(
      RunUntil([&] { return backend.peer(0).received.size() == first.size() + 2; }, &backend));
  EXPECT_TRUE(backend.peer(0).received == "a" + first + "c");
  EXPECT_EQ(0u, up->staged_bytes());
}

TEST_F(UpstreamTest, TooMuchUnconsumedInputIsAFault) {
  FakeBackend backend;
  UpstreamOptions options;
  options.max_input = 1000;
  auto& up = Make(backend.port(), options);
  recorder_.on_input = [](std::string_view) { return size_t{0}; };
  up->Send("get big\r\n");
  ASSERT_TRUE(RunUntil([&] { return backend.accepted() == 1; }, &backend));
  ASSERT_TRUE(backend.Send(0, std::string(1500, 'v')));
  ASSERT_TRUE(RunUntil([&] { return !recorder_.downs.empty(); }, &backend));
  EXPECT_EQ(std::vector<std::string>{"Message too long"}, recorder_.downs);
  EXPECT_LE(recorder_.inputs.back().size(), 1000u);
}

TEST_F(UpstreamTest, ResolvesNames) {
  // A server on 127.0.0.1 only: if "localhost" resolves to ::1 first, that address is
  // refused and the next one is tried.
  FakeBackend backend;
  auto& up = Make(backend.port(), {}, "localhost");
  up->Send("version\r\n");
  ASSERT_TRUE(RunUntil([&] { return backend.accepted() == 1 && !backend.peer(0).received.empty(); },
                       &backend));
  EXPECT_TRUE(up->connected());
  EXPECT_TRUE(recorder_.downs.empty());
}

TEST_F(UpstreamTest, DestroyedWhileResolving) {
  FakeBackend backend;
  auto& up = Make(backend.port(), {}, "localhost");
  up->Send("x");
  EXPECT_TRUE(up->connecting());
  up.reset();  // the lookup is cancelled or finishes; either way it frees the connection state
  Recorder other_recorder;
  Upstream other(&worker_, "localhost", backend.port(), &other_recorder);
  other.Send("y");
  other.Disconnect();  // and once more with the handles closed before the lookup returns
  Turn();
  RunFor(50, &backend);
  EXPECT_TRUE(recorder_.downs.empty());
  EXPECT_TRUE(other_recorder.downs.empty());
  EXPECT_EQ(0u, backend.accepted());
}

TEST_F(UpstreamTest, Ipv6Literal) {
  FakeBackend backend("::1");
  if (!backend.ok()) GTEST_SKIP() << "no IPv6 loopback here";
  auto& up = Make(backend.port(), {}, "::1");
  up->Send("version\r\n");
  ASSERT_TRUE(RunUntil([&] { return backend.accepted() == 1 && !backend.peer(0).received.empty(); },
                       &backend));
  EXPECT_TRUE(recorder_.downs.empty());
}

// Stopping a running worker: its thread runs the loop, the test thread only posts and waits.
class UpstreamStopTest : public ::testing::Test {
 protected:
  UpstreamStopTest() : worker_(0, WorkerOptions{}, TestContext(), &NoHandler) { worker_.Start(); }

  // Pumps the backend until `done` (checked on this thread) or 5 s.
  static bool WaitFor(FakeBackend* backend, const std::function<bool()>& done) {
    const auto deadline = Clock::now() + std::chrono::seconds(5);
    for (;;) {
      backend->Pump();
      if (done()) return true;
      if (Clock::now() > deadline) return false;
      std::vector<pollfd> fds;
      backend->AddPollFds(&fds);
      ::poll(fds.data(), fds.size(), 5);
    }
  }
  // Stops the worker and waits for its thread; a hang fails the test instead of blocking ctest.
  void StopAndJoin() {
    worker_.Stop();
    auto joined = std::async(std::launch::async, [this] { worker_.Join(); });
    if (joined.wait_for(std::chrono::seconds(10)) != std::future_status::ready) {
      ADD_FAILURE() << "the worker's loop did not end";
      std::abort();  // the future's destructor would wait forever
    }
  }
  // Handles still on the (ended) loop: with none, uv_loop_close succeeds.
  int LiveHandles() {
    int count = 0;
    uv_walk(
        worker_.uv(), [](uv_handle_t*, void* n) { ++*static_cast<int*>(n); }, &count);
    return count;
  }

  Worker worker_;
};

TEST_F(UpstreamStopTest, StopHookDropsUpstreams) {
  FakeBackend backend;
  Recorder recorder;
  std::unique_ptr<Upstream> up;
  bool hook_ran = false;
  ASSERT_TRUE(worker_.Post([&] {
    up = std::make_unique<Upstream>(&worker_, "127.0.0.1", backend.port(), &recorder);
    worker_.AddStopHook([&] {
      hook_ran = true;
      up.reset();
    });
    up->Send("version\r\n");
  }));
  ASSERT_TRUE(WaitFor(&backend, [&] {
    return backend.accepted() == 1 && backend.peer(0).received == "version\r\n";
  }));
  StopAndJoin();
  EXPECT_TRUE(hook_ran);
  EXPECT_EQ(nullptr, up);
  EXPECT_EQ(0, LiveHandles());
  EXPECT_TRUE(recorder.downs.empty());
  ASSERT_TRUE(WaitFor(&backend, [&] { return backend.peer(0).eof; }));
}

TEST_F(UpstreamStopTest, ForgottenUpstreamsDoNotHoldTheLoop) {
  FakeBackend backend;
  // Never accepts and queues one connection: a second connect hangs.
  FakeBackend full("127.0.0.1", /*accept=*/false, /*backlog=*/0);
  Recorder recorder;
  std::unique_ptr<Upstream> connected, filler, hanging, idle;
  bool idle_connected_in_hook = true;
  ASSERT_TRUE(worker_.Post([&] {
    connected = std::make_unique<Upstream>(&worker_, "127.0.0.1", backend.port(), &recorder);
    connected->Send("version\r\n");
    filler = std::make_unique<Upstream>(&worker_, "127.0.0.1", full.port(), &recorder);
    filler->Send("x");
    hanging = std::make_unique<Upstream>(&worker_, "127.0.0.1", full.port(), &recorder);
    idle = std::make_unique<Upstream>(&worker_, "127.0.0.1", backend.port(), &recorder);
    worker_.AddStopHook([&] {
      hanging->Send("y");  // while connecting: staged
      idle->Send("z");     // down: the stopping worker does not let it connect
      idle_connected_in_hook = idle->connecting() || idle->connected();
    });
  }));
  ASSERT_TRUE(WaitFor(&backend, [&] { return backend.accepted() == 1; }));
  ASSERT_TRUE(worker_.Post([&] { hanging->Send("get k\r\n"); }));
  StopAndJoin();
  EXPECT_FALSE(idle_connected_in_hook);
  EXPECT_EQ(0, LiveHandles());
  EXPECT_TRUE(recorder.downs.empty());
  for (auto* up : {&connected, &filler, &hanging, &idle}) {
    EXPECT_FALSE((*up)->connected() || (*up)->connecting());
    up->reset();  // down, so no libuv call: safe after the loop has ended
  }
  backend.Pump();
  EXPECT_EQ(1u, backend.accepted());
}

}  // namespace
}  // namespace warmcache::net
