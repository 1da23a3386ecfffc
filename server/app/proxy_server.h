// SPDX-License-Identifier: BSD-3-Clause
// warmcached --proxy: the same front end as the cache server (acceptor loop, -t workers,
// memcached's flags for listening and connections), but each worker routes requests to a
// pool of nodes (server/proxy) instead of running them on a cache.
//
// Threads: the main thread runs the acceptor loop (listeners, SIGTERM/SIGINT/SIGUSR1 to stop,
// SIGHUP to reload the pool file); `-t` workers each own their client connections and one
// backend connection per node.
// Reload: the file is parsed on the main thread; if it is good, each worker switches to it on
// its own loop thread. Client connections stay open; requests already sent finish.
#pragma once

#include <uv.h>

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "net/conn_registry.h"
#include "net/listener.h"
#include "net/loop.h"
#include "net/worker.h"
#include "server/app/frontend_setup.h"
#include "server/app/settings.h"
#include "server/common/clock.h"
#include "server/protocol/text_parser.h"
#include "server/proxy/pool_state.h"
#include "server/proxy/proxy_session.h"
#include "server/proxy/proxy_worker.h"

namespace warmcache::app {

class ProxyServer {
 public:
  explicit ProxyServer(const Settings& settings, const Clock* clock = SystemClock::Get());
  ~ProxyServer();
  ProxyServer(const ProxyServer&) = delete;
  ProxyServer& operator=(const ProxyServer&) = delete;

  // Loads the pool file, binds the listeners, starts the workers. The error is one line.
  Status Start();
  // Runs the acceptor loop on the calling thread until shutdown has finished.
  void Run();
  std::vector<std::string> ListenerNames() const;
  const ring::PoolConfig& pool_config() const { return pool_->config(); }

 private:
  Status OpenListeners();
  void OnAccept(int fd, bool is_unix, const std::string& listen_addr);
  void Shutdown();
  void Reload();
  std::string StatsReply(const std::string_view* args, int nargs);

  const Settings settings_;
  const Clock* clock_;  // not owned
  const int64_t started_at_;
  protocol::TextParser parser_;
  proxy::ProxyContext context_;
  std::mutex pool_mu_;
  std::shared_ptr<proxy::PoolState> pool_;  // guarded by pool_mu_ after Start
  uint64_t reloads_ = 0;                    // guarded by pool_mu_
  net::ConnRegistry registry_;
  ConnectionCounts connections_;
  net::Loop acceptor_;
  uv_signal_t signals_[4];
  std::vector<std::unique_ptr<net::Listener>> listeners_;
  std::vector<std::unique_ptr<net::Worker>> workers_;
  std::vector<std::unique_ptr<proxy::ProxyWorker>> proxy_workers_;  // one per worker
  size_t next_worker_ = 0;                                          // acceptor thread only
  std::atomic<bool> shutting_down_{false};
};

}  // namespace warmcache::app
