// SPDX-License-Identifier: BSD-3-Clause
// Wires the layers together and owns every thread.
//
// Threads: the main thread runs the acceptor loop (listeners, signals); `-t` workers each run
// a loop with their connections; one crawler thread reclaims expired items; the warm tier has
// a spill writer and --warm-io-threads readers.
// Shutdown order: stop accepting, let each worker answer what it has read and close its
// connections, join workers, stop the crawler, stop the warm tier (reads finish, queued
// spills are written, RocksDB closes), then free the memory tier.
#pragma once

#include <uv.h>

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "net/conn_registry.h"
#include "net/listener.h"
#include "net/loop.h"
#include "net/worker.h"
#include "server/app/frontend_setup.h"
#include "server/app/settings.h"
#include "server/common/clock.h"
#include "server/common/thread_stats.h"
#include "server/engine/engine.h"
#include "server/engine/prefix_stats.h"
#include "server/protocol/text_parser.h"
#include "server/session/memcache_session.h"
#include "storage/flush_state.h"
#include "storage/memory/memory_tier.h"
#include "storage/warm/warm_tier.h"

namespace warmcache::app {

class Server final : public session::ServerControl {
 public:
  explicit Server(const Settings& settings, const Clock* clock = SystemClock::Get());
  ~Server() override;
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds the listeners and starts the worker and crawler threads. The error is one line.
  Status Start();
  // Runs the acceptor loop on the calling thread until shutdown has finished.
  void Run();

  // session::ServerControl; any thread.
  void RequestShutdown(bool graceful) override;
  void SetVerbosity(uint32_t level) override;
  void SetMemoryLimitMb(uint32_t megabytes) override;
  std::string StatsReply(const std::string_view* args, int nargs) override;

  // The ports bound, for the port file and the startup line.
  std::vector<std::string> ListenerNames() const;

 private:
  Status OpenListeners();
  // The warm tier (server_warm.cc): --data-dir (or one derived from the port), open, wire.
  Status OpenWarmTier();
  void CloseWarmTier();
  // --restore-from: fills an empty data directory from a snapshot file before it is opened.
  Status RestoreFrom(const std::string& path, const storage::warm::WarmOptions& o);
  void WriteWarmStats(std::string& out, const StatsSnapshot& t);
  void WriteWarmSettings(std::string& out) const;
  void OnAccept(int fd, bool is_unix, const std::string& listen_addr);
  void Shutdown();
  void CrawlerMain();
  // Joins the workers, then stops and joins the crawler. Idempotent.
  void JoinThreads();
  void WritePortFile() const;
  StatsSnapshot SumThreadStats() const;
  // Stat groups (server_stats.cc).
  void WriteGeneralStats(std::string& out);
  void WriteSettingsStats(std::string& out) const;
  void WriteItemsStats(std::string& out) const;
  void WriteSlabsStats(std::string& out);
  void WriteConnsStats(std::string& out) const;
  std::string StatsDetail(const std::string_view* args, int nargs);
  void ResetStats();
  std::string CacheDump(const std::string_view* args, int nargs);

  const Settings settings_;
  const Clock* clock_;  // not owned
  const int64_t started_at_;
  storage::FlushState flush_;
  storage::MemoryTier memory_;
  engine::Engine engine_;
  engine::PrefixStats prefix_stats_;
  protocol::TextParser parser_;
  session::SessionContext session_context_;
  std::unique_ptr<storage::warm::WarmTier> warm_;  // null with --persistence=off
  std::string data_dir_;
  bool remove_data_dir_at_exit_ = false;
  net::ConnRegistry registry_;
  ConnectionCounts connections_;
  std::atomic<uint64_t> crawler_passes_{0};

  net::Loop acceptor_;
  uv_signal_t signals_[3];
  std::vector<std::unique_ptr<net::Listener>> listeners_;
  std::vector<std::unique_ptr<net::Worker>> workers_;
  size_t next_worker_ = 0;                  // acceptor thread only
  std::atomic<bool> shutting_down_{false};  // read by `stats` on worker threads

  std::thread crawler_;
  std::mutex crawler_mu_;
  std::condition_variable crawler_cv_;
  bool crawler_stop_ = false;  // guarded by crawler_mu_

  mutable std::mutex stats_mu_;
  StatsSnapshot stats_baseline_;  // guarded by stats_mu_; `stats reset` sets it
};

}  // namespace warmcache::app
