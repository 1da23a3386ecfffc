// SPDX-License-Identifier: BSD-3-Clause
#include "net/loop.h"

#include <pthread.h>
#include <spdlog/spdlog.h>

namespace warmcache::net {

Loop::Loop() {
  uv_loop_init(&loop_);
  uv_async_init(&loop_, &wake_, &Loop::OnWake);
  wake_.data = this;
  thread_id_ = std::this_thread::get_id();
}

Loop::~Loop() {
  Join();
  // Close whatever is left (the wake handle at least) and let the close callbacks run.
  uv_walk(
      &loop_,
      [](uv_handle_t* handle, void*) {
        if (!uv_is_closing(handle)) uv_close(handle, nullptr);
      },
      nullptr);
  uv_run(&loop_, UV_RUN_DEFAULT);
  if (uv_loop_close(&loop_) != 0) spdlog::warn("event loop closed with live handles");
}

bool Loop::Post(std::function<void()> task) {
  {
    std::lock_guard lock(mu_);
    if (stopping_) return false;
    pending_.push_back(std::move(task));
  }
  uv_async_send(&wake_);
  return true;
}

void Loop::Start(std::string name) {
  thread_ = std::thread([this, name = std::move(name)] {
    pthread_setname_np(pthread_self(), name.substr(0, 15).c_str());
    Run();
  });
}

void Loop::Run() {
  thread_id_ = std::this_thread::get_id();
  uv_run(&loop_, UV_RUN_DEFAULT);
}

void Loop::Stop() {
  {
    std::lock_guard lock(mu_);
    if (stopping_ || stop_requested_) return;
    pending_.push_back([this] {
      if (stop_hook_) stop_hook_();
      if (!defer_mailbox_close_) CloseMailbox();
    });
    stop_requested_ = true;
  }
  uv_async_send(&wake_);
}

void Loop::CloseMailbox() {
  if (mailbox_closed_) return;
  mailbox_closed_ = true;
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  uv_close(reinterpret_cast<uv_handle_t*>(&wake_), nullptr);
}

void Loop::Join() {
  if (thread_.joinable()) thread_.join();
}

void Loop::OnWake(uv_async_t* async) noexcept { static_cast<Loop*>(async->data)->Drain(); }

void Loop::Drain() {
  std::vector<std::function<void()>> tasks;
  {
    std::lock_guard lock(mu_);
    tasks.swap(pending_);
  }
  for (auto& task : tasks) task();
  // Tasks posted after Stop() closed the mailbox are dropped by Post().
}

}  // namespace warmcache::net
