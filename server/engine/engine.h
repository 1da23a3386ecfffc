// SPDX-License-Identifier: BSD-3-Clause
// What memcache commands mean: CAS, TTLs, add/replace/append rules, incr/decr, flush_all.
// The engine speaks in outcomes; only the protocol layer turns them into wire text.
#pragma once

#include <atomic>
#include <cstdint>
#include <string_view>

#include "server/common/clock.h"
#include "server/common/thread_stats.h"
#include "server/engine/meta.h"
#include "storage/fetch_batch.h"
#include "storage/flush_state.h"
#include "storage/memory/memory_tier.h"

namespace warmcache::engine {

struct EngineOptions {
  bool use_cas = true;              // -C turns CAS off: every item's CAS is 0
  size_t item_size_max = 1u << 20;  // -I: largest item, header and key included
  bool warm_tier = false;           // a RAM miss may be answered by the warm tier
};

// Who is asking: the calling thread's counters and, from sessions that can wait for the warm
// tier, the batch where a request notes the keys it must fetch first. Without a batch, a RAM
// miss is final (admin paths and tests).
struct Caller {
  Caller(ThreadStats& s, storage::FetchBatch* f = nullptr)  // NOLINT: implicit by design
      : stats(s), fetches(f) {}
  ThreadStats& stats;
  storage::FetchBatch* fetches;
};

enum class StoreMode : uint8_t { kSet, kAdd, kReplace, kAppend, kPrepend, kCas };
enum class StoreOutcome : uint8_t { kStored, kNotStored, kExists, kNotFound, kTooLarge, kNoMemory };
enum class DeltaOutcome : uint8_t { kOk, kNotFound, kNonNumeric, kNoMemory };

struct StoreRequest {
  StoreMode mode = StoreMode::kSet;
  std::string_view key;
  uint32_t flags = 0;
  int64_t exptime = 0;  // as sent on the wire (text: signed 32-bit; binary: unsigned 32-bit)
  std::string_view value;
  uint64_t cas = 0;          // kCas (and append/prepend when non-zero)
  bool allow_stale = false;  // kCas: an older CAS stores the value marked stale (meta I)
  bool key_binary = false;   // the key came base64-encoded (meta b)
};

// Thread safety: all methods may be called concurrently from any loop thread; each call is
// atomic with respect to its key. `caller.stats` must be the calling thread's own counters.
// The warm tier: when a request's key is missing from RAM and the warm tier may hold it, the
// request does nothing (no reply, no counters) but add the key to caller.fetches; the session
// checks `!caller.fetches->empty()` after each call, fetches, and runs the request again.
class Engine {
 public:
  // memcached's upper bound for relative expiry times: 30 days.
  static constexpr int32_t kMaxRelativeExptime = 60 * 60 * 24 * 30;

  Engine(const EngineOptions& options, storage::MemoryTier* memory, storage::FlushState* flush,
         const Clock* clock);

  // get/gets: the live item, or empty on a miss.
  storage::ItemRef Get(std::string_view key, const Caller& caller);
  // gat/gats: as Get, and sets a new expiry on a hit.
  storage::ItemRef GetAndTouch(std::string_view key, int64_t exptime, const Caller& caller);
  StoreOutcome Store(const StoreRequest& request, const Caller& caller, uint64_t* cas_out);
  // A value over the size limit was refused before it was read. A set still removes the old
  // value, so a later read cannot return what the client meant to overwrite.
  void RejectTooLarge(StoreMode mode, std::string_view key, ThreadStats& stats);
  bool Delete(std::string_view key, const Caller& caller);
  // incr/decr. On kOk, `result` holds the new value.
  DeltaOutcome Delta(std::string_view key, bool incr, uint64_t delta, const Caller& caller,
                     uint64_t* result);
  bool Touch(std::string_view key, int64_t exptime, const Caller& caller);
  // A key a multi-key request will ask for: noted for the warm tier if missing from RAM.
  void NoteIfMissing(std::string_view key, const Caller& caller);
  // flush_all [delay]: items stored before the deadline become invisible in every tier.
  void FlushAll(int64_t delay);

  // The meta commands (engine_meta.cc).
  MetaGetResult MetaGet(const MetaGetRequest& request, const Caller& caller);
  StoreOutcome MetaSet(const MetaSetRequest& request, const Caller& caller, uint64_t* cas_out);
  MetaDeleteOutcome MetaDelete(const MetaDeleteRequest& request, const Caller& caller);
  MetaArithResult MetaArith(const MetaArithRequest& request, const Caller& caller);
  // me: a live item's metadata without touching it.
  MetaDebugInfo Debug(std::string_view key, const Caller& caller);

  // memcached's exptime rule -> absolute unix seconds (0 = never; 1 = already expired).
  uint32_t AbsoluteExptime(int64_t exptime) const;
  bool ItemSizeOk(size_t key_len, size_t value_len, uint32_t flags) const;
  // What memcached would count for this item (its ITEM_ntotal): me's size=, the size limit.
  size_t MemcachedItemSize(size_t key_len, size_t value_len, uint32_t flags) const;
  uint64_t NextCas();
  uint64_t current_cas() const { return cas_.load(std::memory_order_relaxed); }
  // A restart: CAS values continue above every value handed out before (before serving).
  void RestoreCas(uint64_t last_handed_out) {
    cas_.store(last_handed_out, std::memory_order_relaxed);
  }
  int64_t Now() const { return clock_->NowSeconds(); }
  // Seconds left as the meta t flag prints them. memcached counts time from its start (less
  // 62 s) in 32 bits, so a TTL already in the past prints as a number just under 2^32.
  uint32_t TtlForReply(uint32_t exptime, int64_t now) const;
  const EngineOptions& options() const { return options_; }

 private:
  StoreOutcome StoreLocked(storage::MemoryTier::KeyTxn& txn, const StoreRequest& request,
                           storage::ItemRef fresh, const Caller& caller, uint64_t* cas_out);
  // A RAM miss the warm tier may answer: notes the key for fetching and returns true.
  bool DeferToWarm(storage::MemoryTier::KeyTxn& txn, const Caller& caller) const;
  storage::ItemRef Concatenate(const storage::Item& old, const StoreRequest& request);

  const EngineOptions options_;
  storage::MemoryTier* memory_;  // not owned; outlives the engine
  storage::FlushState* flush_;   // not owned; outlives the engine
  const Clock* clock_;           // not owned; outlives the engine
  std::atomic<uint64_t> cas_{0};
  const int64_t process_started_;  // memcached's epoch for relative times: start - 62 s
};

}  // namespace warmcache::engine
