// SPDX-License-Identifier: BSD-3-Clause
// The glue between a connection and the engine: parses requests, runs them, writes replies.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "net/connection.h"
#include "server/engine/engine.h"
#include "server/engine/prefix_stats.h"
#include "server/protocol/binary_codec.h"
#include "server/protocol/command.h"
#include "server/protocol/text_parser.h"
#include "storage/fetch_batch.h"
#include "storage/warm/warm_tier.h"

namespace warmcache::session {

struct SessionOptions {
  int reqs_per_event = 20;          // -R: requests handled per read event before yielding
  bool flush_enabled = true;        // -F disables flush_all
  bool shutdown_enabled = false;    // -A enables shutdown
  bool ascii_only = false;          // -B ascii: a 0x80 first byte is just text
  bool binary_only = false;         // -B binary: every connection speaks the binary protocol
  size_t item_size_max = 1u << 20;  // -I: binary values longer than this are discarded
};

// What a session may ask of the server as a whole (implemented by server/app).
// Thread safety: called from any loop thread.
class ServerControl {
 public:
  virtual ~ServerControl() = default;
  virtual void RequestShutdown(bool graceful) = 0;
  virtual void SetVerbosity(uint32_t level) = 0;
  virtual void SetMemoryLimitMb(uint32_t megabytes) = 0;
  // The complete reply to a `stats ...` request; args exclude the word "stats".
  virtual std::string StatsReply(const std::string_view* args, int nargs) = 0;
};

// Shared by every session; outlives them all.
struct SessionContext {
  engine::Engine* engine = nullptr;
  engine::PrefixStats* prefix_stats = nullptr;
  const protocol::TextParser* parser = nullptr;
  ServerControl* control = nullptr;
  storage::warm::WarmTier* warm = nullptr;  // null with --persistence=off
  SessionOptions options;
};

// Thread safety: confined to its connection's loop thread.
class MemcacheSession final : public net::ConnectionHandler {
 public:
  // Values up to this size are copied into the output; larger ones are sent from the item.
  static constexpr size_t kCopyThreshold = 1024;

  MemcacheSession(const SessionContext* context, net::Connection* conn);
  net::InputResult OnInput(std::string_view input) override;
  bool HoldsOutput() override;

 private:
  net::InputResult RunRequests(std::string_view input);
  // What a command asks of the connection afterwards.
  // kSuspend: the request waits for the warm tier and will run again from its first byte.
  enum class After : uint8_t { kContinue, kClose, kCloseAfterWrite, kSuspend };

  After Execute(const protocol::Command& cmd);
  // The request just run noted keys to fetch from the warm tier instead of answering.
  bool Deferred() const { return !fetches_->empty(); }
  // A store must wait while evictions queue for disk faster than it takes them.
  bool MustWaitForSpillRoom();
  // The noted keys are all certainly absent below, settled without waiting: run the request
  // again at once.
  bool ResolvedWithoutWaiting();
  // Hands the noted keys (or the wait for room) to the warm tier; the connection resumes at
  // `request_start` when it is done.
  net::InputResult Suspend(size_t request_start);
  // After a multi-key get deferred at one key: notes the missing ones among the rest, so one
  // fetch reads them all.
  void NoteRemainingMisses(std::string_view keys);
  void DoGet(const protocol::Command& cmd);
  void DoStore(const protocol::Command& cmd);
  void DoDelta(const protocol::Command& cmd);
  void DoFlushAll(const protocol::Command& cmd);
  After DoShutdown(const protocol::Command& cmd);
  // `snapshot`: a snapshot file into --snapshot-dir; "OK <path> <items>" once written.
  After DoSnapshot();
  void DoStats(const protocol::Command& cmd);
  void DoCacheMemlimit(const protocol::Command& cmd);
  // The binary protocol (memcache_session_binary.cc).
  net::InputResult OnBinaryInput(std::string_view input);
  After ExecuteBinary(const protocol::binary::Request& req);
  void BinaryGet(const protocol::binary::Request& req);
  void BinaryStore(const protocol::binary::Request& req);
  void BinaryDelete(const protocol::binary::Request& req);
  void BinaryArith(const protocol::binary::Request& req);
  void BinaryStat(const protocol::binary::Request& req);
  void BinaryError(const protocol::binary::Request& req, protocol::binary::ResponseStatus status);
  void AppendRawValue(storage::ItemRef item);

  // The meta commands (memcache_session_meta.cc).
  void DoMetaGet(const protocol::Command& cmd);
  void DoMetaSet(const protocol::Command& cmd);
  void DoMetaDelete(const protocol::Command& cmd);
  void DoMetaArith(const protocol::Command& cmd);
  void DoMetaDebug(const protocol::Command& cmd);
  // " O<opaque>" and " k<key>" (base64 plus " b" for binary keys), in request order.
  void AppendEchoFlags(std::string_view key, bool key_binary);
  void AppendKeyFlag(std::string_view key, bool key_binary);
  void Reply(std::string_view text, bool noreply = false);
  // Discards the rest of a refused value; true while more of it is still to come.
  bool Swallow(std::string_view input, size_t* consumed);
  void AppendValue(storage::ItemRef item);

  const SessionContext* ctx_;  // not owned; outlives every session
  net::Connection* conn_;      // not owned; owns this session
  ThreadStats& stats_;
  // Shared with the I/O thread during a fetch: it outlives this session if the client leaves.
  std::shared_ptr<storage::FetchBatch> fetches_ = std::make_shared<storage::FetchBatch>();
  engine::Caller caller_;
  size_t get_resume_offset_ = 0;  // keys of a suspended multi-key get already answered
  bool waiting_for_room_ = false;
  bool waiting_for_job_ = false;
  std::shared_ptr<storage::warm::ExportJob> export_job_;  // a `snapshot` being cut
  uint64_t durable_needed_ = 0;  // the newest write the replies so far acknowledge
  uint64_t durable_wait_ = 0;    // the newest one a releaser is registered for
  int inline_backoff_ = 0;       // see ResolvedWithoutWaiting
  int inline_skip_ = 0;
  protocol::Command cmd_;
  protocol::MetaRequest meta_;
  std::string line_;  // scratch for meta reply lines
  size_t swallow_remaining_ = 0;
  bool first_input_ = true;
  bool binary_ = false;  // decided by the first byte, as memcached's -B auto does
  protocol::binary::Request breq_;
};

}  // namespace warmcache::session
