// SPDX-License-Identifier: BSD-3-Clause
// A few threads that run the warm tier's blocking reads, so loop threads never touch disk.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace warmcache::storage::warm {

// Thread safety: Submit may be called from any thread; Start/Stop from the owner only.
class IoPool {
 public:
  IoPool() = default;
  ~IoPool() { Stop(); }
  IoPool(const IoPool&) = delete;
  IoPool& operator=(const IoPool&) = delete;

  void Start(int threads, const std::string& name);
  // Queues `task`; tasks run in submission order per thread, in any order across threads.
  void Submit(std::function<void()> task);
  // Runs what is queued, then joins. Later Submits run on the caller's thread.
  void Stop();

 private:
  void Main();

  std::mutex mu_;
  std::condition_variable ready_;
  std::deque<std::function<void()>> tasks_;  // guarded by mu_
  bool stopping_ = false;                    // guarded by mu_
  std::vector<std::thread> threads_;
};

}  // namespace warmcache::storage::warm
