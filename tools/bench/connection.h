// SPDX-License-Identifier: BSD-3-Clause
// One non-blocking client connection: sends requests, matches replies in order, verifies them.
#pragma once

#include <netinet/in.h>

#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "server/common/status.h"
#include "tools/bench/reply_parser.h"
#include "tools/bench/request_codec.h"
#include "tools/bench/request_source.h"
#include "tools/bench/run_stats.h"

namespace warmcache::tools::bench {

// What a connection shares with its thread. All pointers are not owned and outlive it.
struct ConnectionContext {
  const RequestCodec* codec;
  const Schedule* schedule;
  RequestSource* source;
  RunStats* stats;
  int depth;  // requests in flight at most
};

// Thread safety: none; a connection lives on one worker thread.
// Errors: any non-OK Status from a method means the connection is unusable (peer closed, I/O
// error, malformed reply); the caller closes it and counts it.
class Connection {
 public:
  // Connects (blocking, loopback is immediate), then switches to non-blocking and TCP_NODELAY.
  static Result<std::unique_ptr<Connection>> Open(const sockaddr_in& address,
                                                  const ConnectionContext& context);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Issues requests until `depth` are in flight or the source has nothing more, and writes.
  Status Fill(int64_t now_ns);
  // Reads once, completes every whole reply, then refills. Replies are timed from a clock
  // read after the read, and requests from one read as they are queued; now_ns only decides
  // whether the run is still issuing.
  Status OnReadable(int64_t now_ns);
  // Writes what is queued.
  Status OnWritable();

  int fd() const { return fd_; }
  bool wants_write() const { return out_pos_ < out_.size(); }
  size_t in_flight() const { return pending_.size(); }

 private:
  struct Pending {
    bool is_get;
    uint32_t key_count;  // ids at the front of pending_keys_
    int64_t sent_ns;
  };

  Connection(int fd, const ConnectionContext& context);
  Status Flush();
  Status CompleteReplies(int64_t now_ns);
  void Complete(const Pending& pending, int64_t now_ns);
  void CountGet(const Pending& pending, bool in_window);

  int fd_;
  ConnectionContext context_;
  std::string out_;  // queued request bytes; out_[out_pos_..] not yet written
  size_t out_pos_ = 0;
  std::vector<char> in_;  // received bytes; in_[in_start_, in_end_) not yet parsed
  size_t in_start_ = 0;
  size_t in_end_ = 0;
  size_t need_total_ = 0;  // parse again once in_end_ - in_start_ reaches this
  std::deque<Pending> pending_;
  std::deque<uint64_t> pending_keys_;
  Request request_;  // scratch, reused
  Reply reply_;      // scratch, reused
};

}  // namespace warmcache::tools::bench
