// SPDX-License-Identifier: BSD-3-Clause
// Proxy mode's side of a client connection: parses text and meta requests with the server's
// own parser, routes each key to its node, and answers in request order, however the nodes'
// replies interleave. A multi-get whose keys live on several nodes is split, one get per
// node, and the VALUE blocks are merged back into the order the client asked for.
//
// Thread safety: confined to its connection's loop thread.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "net/connection.h"
#include "server/protocol/command.h"
#include "server/protocol/text_parser.h"
#include "server/proxy/proxy_worker.h"
#include "server/proxy/reply_sink.h"

namespace warmcache::proxy {

// Shared by every proxy session; outlives them all.
struct ProxyContext {
  const protocol::TextParser* parser = nullptr;
  // The reply to `stats ...` (args exclude "stats"); any thread.
  std::function<std::string(const std::string_view* args, int nargs)> stats;
  int reqs_per_event = 20;    // -R
  bool flush_enabled = true;  // -F disables flush_all
  // Requests a client may have in flight before the proxy stops reading from it.
  size_t max_in_flight = 4096;
};

class ProxySession final : public net::ConnectionHandler, public ReplySink {
 public:
  ProxySession(const ProxyContext* context, ProxyWorker* worker, net::Connection* conn);
  ~ProxySession() override;

  net::InputResult OnInput(std::string_view input) override;
  bool AwaitsReplies() override { return !queue_.empty(); }

  // ReplySink
  void OnReply(uint64_t seq, int part, std::string_view reply) override;
  void OnPartFailed(uint64_t seq, int part, std::string_view error_line) override;
  // Sends what the replies so far completed (ProxyWorker calls it once per event).
  void FlushOutput();

 private:
  enum class Kind : uint8_t {
    kRelay,      // one node's reply goes to the client (other parts are replicas)
    kMerge,      // a multi-get over several nodes
    kBroadcast,  // flush_all: OK if every node said OK
    kLocal,      // answered by the proxy itself
  };
  struct Request {
    Kind kind = Kind::kLocal;
    bool swallow = false;  // noreply: the client gets nothing
    bool ready = false;    // `text` holds the reply (or the relay was written already)
    bool written = false;  // a relay at the head went straight to the output
    int waiting = 0;       // parts not answered yet
    std::string text;
    // kMerge: each part's reply, the keys in request order and the part serving each.
    std::vector<std::string> parts;
    std::vector<std::string_view> keys;  // into key_text
    std::vector<uint16_t> key_part;
    std::string key_text;
    bool failed = false;
    // kRelay writes: the parts that carry the write itself (the rest are cleanup deletes),
    // their nodes, and the nodes it was routed around (noted once every part is done).
    int write_parts = 0;
    int16_t nodes[ProxyWorker::kMaxReplicas] = {};
    std::vector<ProxyWorker::MovedWrite> moved;
    std::string moved_key;
    std::shared_ptr<PoolState> pool;  // the pool those node numbers belong to
  };

  // Queues or sends a request's parts; false when no node could take it (answered already).
  void Route(const protocol::Command& cmd, std::string_view raw);
  void RouteGet(const protocol::Command& cmd, std::string_view raw);
  void RouteToOwner(const protocol::Command& cmd, std::string_view raw, bool quiet_meta);
  void RouteFlushAll(const protocol::Command& cmd, std::string_view raw);
  // A reply made here, kept in order behind the requests still in flight.
  void Local(std::string_view text);
  Request& Push(Kind kind, bool swallow, int parts);
  Request* Find(uint64_t seq);
  void Complete(Request& request);
  // The write parts are done: notes the writes routed around ejected nodes, or, if such a
  // node is live again by now, sends the deletes that keep its copies from turning stale.
  // True if parts were added (the request waits for them).
  bool NoteMovedWrites(uint64_t seq, Request& request);
  // Writes finished requests at the head of the queue.
  void Drain();
  // Replies up to this size are copied into the output's blocks; longer ones are handed over.
  static constexpr size_t kCopyThreshold = 16 * 1024;
  void AppendText(std::string text);
  void MarkDirty();
  std::string MergeValues(Request& request) const;
  bool Swallow(std::string_view input, size_t* consumed);

  const ProxyContext* ctx_;
  ProxyWorker* worker_;
  net::Connection* conn_;
  SinkHandle handle_;  // what backends hold: nulled when this goes
  std::deque<Request> queue_;
  uint64_t head_seq_ = 0;  // the sequence number of queue_.front()
  protocol::Command cmd_;
  protocol::MetaRequest meta_;
  size_t swallow_remaining_ = 0;
  bool dirty_ = false;
  // Suspended (for `quit`, or with too many requests in flight): resume once fewer than this
  // many requests wait. 0 while not suspended.
  size_t resume_below_ = 0;
  bool first_input_ = true;
  std::function<void()> resumer_;
  std::vector<std::string> scratch_;  // per-node get lines while splitting
};

}  // namespace warmcache::proxy
