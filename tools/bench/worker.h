// SPDX-License-Identifier: BSD-3-Clause
// One client thread: an epoll loop driving its share of the connections.
#pragma once

#include <netinet/in.h>

#include <memory>
#include <vector>

#include "server/common/status.h"
#include "tools/bench/connection.h"
#include "tools/bench/request_source.h"
#include "tools/bench/run_stats.h"

namespace warmcache::tools::bench {

// Everything a worker reads and never owns; it all outlives the worker.
struct WorkerContext {
  const BenchOptions* options;
  const RequestCodec* codec;
  const KeyChooser* chooser;
  const Schedule* schedule;  // filled in by the caller before Run()
  SharedCounters* shared;
};

// Thread safety: Open() and stats() on the owning thread before/after Run(); Run() on the
// worker's own thread. Only WorkerContext::shared is touched concurrently.
class Worker {
 public:
  Worker(const WorkerContext& context, uint64_t seed);
  ~Worker();
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  // Creates the epoll set and opens `connections` connections to `address`.
  Status Open(const sockaddr_in& address, int connections);
  // Runs until nothing more is issued and every reply has come back, or until hard_end.
  void Run();

  const RunStats& stats() const { return stats_; }

 private:
  void CloseConnection(size_t index, const Status& why);
  bool Finished() const;
  void Watch(size_t index);

  WorkerContext context_;
  RunStats stats_;
  RequestSource source_;
  int epoll_fd_ = -1;
  std::vector<std::unique_ptr<Connection>> connections_;  // null once closed
  std::vector<bool> watching_write_;
};

}  // namespace warmcache::tools::bench
