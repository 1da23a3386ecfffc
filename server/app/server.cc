// SPDX-License-Identifier: BSD-3-Clause
#include "server/app/server.h"

#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>

#include "server/app/frontend_setup.h"
#include "server/protocol/replies.h"

namespace warmcache::app {

namespace {

storage::MemoryTierOptions MemoryOptions(const Settings& s) {
  storage::MemoryTierOptions o;
  o.memory_limit = s.memory_limit;
  o.evict_when_full = s.evictions;
  o.initial_hash_power = s.hashpower > 0 ? s.hashpower : 16;
  o.growth_factor = s.growth_factor;
  o.min_chunk = s.chunk_size;
  o.item_size_max = s.item_size_max;
  return o;
}

engine::EngineOptions EngineOptionsFrom(const Settings& s) {
  engine::EngineOptions o;
  o.use_cas = s.use_cas;
  o.item_size_max = s.item_size_max;
  o.warm_tier = s.persistence;
  return o;
}

}  // namespace

Server::Server(const Settings& settings, const Clock* clock)
    : settings_(settings),
      clock_(clock),
      started_at_(clock->NowSeconds()),
      memory_(MemoryOptions(settings), clock, &flush_),
      engine_(EngineOptionsFrom(settings), &memory_, &flush_, clock),
      prefix_stats_(settings.prefix_delimiter, settings.detail_enabled),
      parser_(ParserOptionsFrom(settings)) {
  session_context_.engine = &engine_;
  session_context_.prefix_stats = &prefix_stats_;
  session_context_.parser = &parser_;
  session_context_.control = this;
  session_context_.options.reqs_per_event = settings.reqs_per_event;
  session_context_.options.flush_enabled = settings.flush_enabled;
  session_context_.options.shutdown_enabled = settings.shutdown_enabled;
  session_context_.options.ascii_only = settings.protocol == "ascii";
  session_context_.options.binary_only = settings.protocol == "binary";
  session_context_.options.item_size_max = settings.item_size_max;
}

Server::~Server() { JoinThreads(); }

void Server::JoinThreads() {
  for (auto& worker : workers_) worker->Join();
  {
    std::lock_guard lock(crawler_mu_);
    crawler_stop_ = true;
  }
  crawler_cv_.notify_all();
  if (crawler_.joinable()) crawler_.join();
  CloseWarmTier();
}

Status Server::OpenListeners() {
  const std::vector<net::ListenSpec> specs = ListenSpecsFrom(settings_);
  auto on_accept = [this](int fd, bool is_unix, const std::string& listen_addr) {
    OnAccept(fd, is_unix, listen_addr);
  };
  return app::OpenListeners(specs, settings_.backlog, &acceptor_, on_accept, &registry_,
                            &listeners_);
}

Status Server::Start() {
  WC_RETURN_IF_ERROR(OpenWarmTier());
  WC_RETURN_IF_ERROR(OpenListeners());
  connections_.total.store(listeners_.size(), std::memory_order_relaxed);  // as memcached counts
  WritePortFile();
  net::WorkerContext context;
  context.clock = clock_;
  context.registry = &registry_;
  context.open_connections = &connections_.open;
  if (warm_) context.after_events = [warm = warm_.get()] { warm->Kick(); };
  for (int i = 0; i < settings_.threads; ++i) {
    auto factory = [this](net::Connection& conn) -> std::unique_ptr<net::ConnectionHandler> {
      return std::make_unique<session::MemcacheSession>(&session_context_, &conn);
    };
    workers_.push_back(
        std::make_unique<net::Worker>(i, WorkerOptionsFrom(settings_), context, factory));
    workers_.back()->Start();
  }
  if (settings_.lru_crawler) crawler_ = std::thread([this] { CrawlerMain(); });
  const int signums[] = {SIGTERM, SIGINT, SIGUSR1};
  for (int i = 0; i < 3; ++i) {
    uv_signal_init(acceptor_.uv(), &signals_[i]);
    signals_[i].data = this;
    uv_signal_start(
        &signals_[i],
        [](uv_signal_t* handle, int signum) {
          spdlog::info("signal {} received: shutting down", signum);
          static_cast<Server*>(handle->data)->Shutdown();
        },
        signums[i]);
  }
  acceptor_.SetStopHook([this] { Shutdown(); });
  return Status::Ok();
}

void Server::Run() {
  acceptor_.Run();
  JoinThreads();
  spdlog::info("shutdown complete");
}

void Server::RequestShutdown(bool graceful) {
  spdlog::info("shutdown requested by a client{}", graceful ? " (graceful)" : "");
  acceptor_.Stop();
}

void Server::Shutdown() {
  if (shutting_down_.exchange(true)) return;
  for (auto& listener : listeners_) listener->Close();
  for (uv_signal_t& sig : signals_) uv_close(reinterpret_cast<uv_handle_t*>(&sig), nullptr);
  for (auto& worker : workers_) worker->Stop();
  acceptor_.Stop();
}

void Server::OnAccept(int fd, bool is_unix, const std::string& listen_addr) {
  if (!AdmitConnection(fd, settings_, &connections_)) return;
  net::Worker& worker = *workers_[next_worker_++ % workers_.size()];
  worker.Adopt(fd, is_unix, net::DescribeSocket(fd, is_unix, /*peer=*/true), listen_addr);
}

void Server::CrawlerMain() {
  std::unique_lock lock(crawler_mu_);
  while (!crawler_stop_) {
    crawler_cv_.wait_for(lock, std::chrono::seconds(1));
    if (crawler_stop_) break;
    lock.unlock();
    const size_t reclaimed = memory_.ReclaimExpired();
    crawler_passes_.fetch_add(1, std::memory_order_relaxed);
    if (reclaimed > 0) spdlog::debug("crawler reclaimed {} expired items", reclaimed);
    lock.lock();
  }
}

void Server::SetVerbosity(uint32_t level) {
  spdlog::set_level(level == 0   ? spdlog::level::info
                    : level == 1 ? spdlog::level::debug
                                 : spdlog::level::trace);
}

void Server::SetMemoryLimitMb(uint32_t megabytes) {
  memory_.SetMemoryLimit(static_cast<size_t>(megabytes) << 20);
}

std::vector<std::string> Server::ListenerNames() const {
  std::vector<std::string> names;
  registry_.ForEach([&](const net::ConnInfo& info) {
    if (info.state.load() == net::ConnState::kListening) names.push_back(info.addr);
  });
  return names;
}

void Server::WritePortFile() const { app::WritePortFile(listeners_); }

}  // namespace warmcache::app
