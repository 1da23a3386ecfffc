// SPDX-License-Identifier: BSD-3-Clause
// One libuv event loop on its own thread, plus a mailbox other threads post tasks into.
#pragma once

#include <uv.h>

#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace warmcache::net {

// Thread safety: Post() and Stop() may be called from any thread; everything else only from
// the loop's own thread (or before Start()).
class Loop {
 public:
  Loop();
  ~Loop();
  Loop(const Loop&) = delete;
  Loop& operator=(const Loop&) = delete;

  uv_loop_t* uv() { return &loop_; }

  // Runs `task` on the loop thread. Posts may merge into one wake-up; each runs once.
  // Returns false (dropping the task) once the loop is stopping.
  bool Post(std::function<void()> task);
  // Runs the loop on a new thread until Stop().
  void Start(std::string name);
  // Runs the loop on the calling thread until Stop().
  void Run();
  // Asks the loop to finish: runs the stop hook (which must close the owner's handles), then
  // closes the mailbox; the loop returns once the last handle is closed.
  void Stop();
  // Loop thread or before Start(): what Stop() runs first.
  void SetStopHook(std::function<void()> hook) { stop_hook_ = std::move(hook); }
  // Loop thread or before Start(): Stop() leaves the mailbox open (tasks still arrive while
  // the owner winds down) until the owner calls CloseMailbox().
  void DeferMailboxClose() { defer_mailbox_close_ = true; }
  // Loop thread: later Posts are dropped. Idempotent.
  void CloseMailbox();
  void Join();
  bool OnLoopThread() const { return std::this_thread::get_id() == thread_id_; }

 private:
  static void OnWake(uv_async_t* async) noexcept;
  void Drain();

  uv_loop_t loop_;
  uv_async_t wake_;
  std::mutex mu_;
  std::vector<std::function<void()>> pending_;  // guarded by mu_
  bool stopping_ = false;                       // guarded by mu_: the mailbox is closed
  bool stop_requested_ = false;                 // guarded by mu_
  std::function<void()> stop_hook_;
  bool defer_mailbox_close_ = false;
  bool mailbox_closed_ = false;  // loop thread only
  std::thread thread_;
  std::thread::id thread_id_;
};

}  // namespace warmcache::net
