// SPDX-License-Identifier: BSD-3-Clause
// Lets an ejected node back into the ring without it serving values older than the writes
// made while it was out: deletes the keys written elsewhere meanwhile from it (or flushes it,
// when there were too many or it missed a flush_all) and from the nodes that stood in for it,
// then marks it live. Rounds repeat while writes are still being noted; a failure ejects the
// node again and keeps the work for next time. See PoolState's rejoin notes.
//
// Thread safety: confined to the loop thread of the worker that claimed the rejoin.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "server/proxy/pool_state.h"
#include "server/proxy/reply_sink.h"

namespace warmcache::proxy {

class ProxyWorker;

// Appends "md <key> q\r\n" (base64 with the b flag when the key is not printable text).
void AppendQuietDelete(std::string_view key, std::string* out);

class RejoinTask final : public ReplySink {
 public:
  RejoinTask(ProxyWorker* worker, std::shared_ptr<PoolState> pool, int node, RejoinWork work);
  ~RejoinTask() override;
  RejoinTask(const RejoinTask&) = delete;
  RejoinTask& operator=(const RejoinTask&) = delete;

  // Sends the first round.
  void Start();
  bool done() const { return done_; }
  int node() const { return node_; }

  // ReplySink
  void OnReply(uint64_t seq, int part, std::string_view reply) override;
  void OnPartFailed(uint64_t seq, int part, std::string_view error_line) override;

 private:
  struct Part {
    int node;
    bool flush;                // flush_all, which must answer OK
    std::vector<size_t> keys;  // indexes into work_.keys deleted on that node
  };
  void SendRound();
  void PartDone(uint64_t seq, int part, bool ok);
  // A stand-in part failed: fine if that node is out itself (its own rejoin then cleans it).
  bool HandOverToStandIn(const Part& part);

  ProxyWorker* worker_;  // not owned; owns this
  std::shared_ptr<PoolState> pool_;
  const int node_;
  RejoinWork work_;
  SinkHandle handle_;
  uint64_t round_ = 0;
  std::vector<Part> parts_;
  int waiting_ = 0;
  bool failed_ = false;
  bool done_ = false;
};

}  // namespace warmcache::proxy
