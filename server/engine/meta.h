// SPDX-License-Identifier: BSD-3-Clause
// What the meta commands (mg, ms, md, ma) ask of the engine, and what they get back.
#pragma once

#include <cstdint>
#include <string_view>

#include "storage/memory/item.h"

namespace warmcache::engine {

// mg. Times are as sent on the wire (the engine applies memcached's exptime rule).
struct MetaGetRequest {
  std::string_view key;
  bool no_update = false;  // u: no LRU bump, not marked fetched
  bool vivify = false;     // N: create an empty item on a miss
  int64_t vivify_ttl = 0;
  bool touch = false;  // T
  int64_t ttl = 0;
  bool recache = false;  // R: win if the remaining TTL is below this
  int32_t recache_ttl = 0;
  bool recache_before_touch = false;  // R precedes T among the flags
  // The reply will be an error (an over-long opaque): memcached stops at that flag, so the
  // flags before it took effect and nothing after: no win, no bump if the item was locked.
  bool aborted = false;
  bool vivify_sets_ttl = true;  // N came before the abort
  bool locked = false;          // any of N T R h l: memcached bumps late (or not at all)
  bool key_binary = false;
};

struct MetaGetResult {
  storage::ItemRef item;              // empty on a miss
  bool created = false;               // vivified by this request
  bool won = false;                   // W: this client should recache
  bool already_won = false;           // Z: another client was told first
  bool stale = false;                 // X
  bool fetched_before = false;        // h, as it was before this request
  uint32_t idle_before = 0;           // l: seconds since the last access, before this request
  uint32_t exptime_before = 0;        // before T/N applied (for t flags preceding them)
  uint32_t exptime_after_touch = 0;   // T's new exptime
  uint32_t exptime_after_vivify = 0;  // N's exptime for a created item
  int64_t now = 0;                    // the request's clock reading, for t
};

// ms. `mode` is memcached's M letter (0 = set).
struct MetaSetRequest {
  std::string_view key;
  std::string_view value;
  uint32_t flags = 0;
  int64_t exptime = 0;
  char mode = 0;
  bool has_cas = false;
  uint64_t cas = 0;
  bool invalidate = false;  // I: a CAS older than the item's stores a stale item
  bool key_binary = false;
};

enum class MetaDeleteOutcome : uint8_t { kDeleted, kNotFound, kExists };

struct MetaDeleteRequest {
  std::string_view key;
  bool has_cas = false;
  uint64_t cas = 0;
  bool invalidate = false;  // I: mark stale with a new CAS instead of deleting
  bool touch = false;       // T, with I
  int64_t ttl = 0;
};

enum class MetaArithOutcome : uint8_t {
  kOk,
  kNotFound,
  kNotStored,
  kExists,
  kNonNumeric,
  kNoMemory,
};

struct MetaArithRequest {
  std::string_view key;
  bool incr = true;
  uint64_t delta = 1;
  bool has_cas = false;
  uint64_t cas = 0;
  bool vivify = false;  // N: create with `initial` on a miss
  int64_t vivify_ttl = 0;
  uint64_t initial = 0;
  bool touch = false;  // T: new TTL on success
  int64_t ttl = 0;
};

struct MetaArithResult {
  MetaArithOutcome outcome = MetaArithOutcome::kNotFound;
  uint64_t value = 0;
  storage::ItemRef item;  // the stored item on success (for c and t)
  bool created = false;
  uint32_t exptime_before = 0;  // the item's exptime before T/N (for t preceding them)
  uint32_t exptime_after_touch = 0;
  uint32_t exptime_after_vivify = 0;
  int64_t now = 0;
};

// me: an item's metadata, read under its shard lock (mutable fields included).
struct MetaDebugInfo {
  storage::ItemRef item;  // key, flags, CAS and value length (immutable); empty on a miss
  uint32_t exptime = 0;
  uint32_t time = 0;
  bool fetched = false;
  uint8_t size_class = 0;
  int64_t now = 0;
};

}  // namespace warmcache::engine
