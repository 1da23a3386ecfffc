// SPDX-License-Identifier: BSD-3-Clause
// What the warm tier keeps about itself across restarts (FORMAT.md, "Meta records"), and the
// start-up decision: whether the data a previous process left may be served.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "server/common/status.h"
#include "storage/rocks/kv_store.h"

namespace warmcache::storage::warm {

enum class WarmStart : uint8_t {
  kFresh,      // a new or empty data directory
  kClean,      // the previous process shut down cleanly: everything it held is here
  kRecovered,  // the previous process crashed (same boot): what reached the log is kept
  kDiscarded,  // the data could not be trusted (or read) and was deleted
};
const char* WarmStartName(WarmStart start);

// What a starting process continues from.
struct RestoredState {
  WarmStart start = WarmStart::kFresh;
  std::string discard_reason;  // with kDiscarded: one line for the log
  uint64_t next_cas = 0;       // every CAS handed out before is at most this
  int64_t flush_oldest_live = 0;
  uint64_t flush_oldest_cas = 0;
  std::vector<std::string> hot_keys;  // saved at the last clean shutdown, hottest first
};

// How far ahead of the CAS counter the saved ceiling stays: after a crash the counter resumes
// at the ceiling, so no CAS value is ever handed out twice.
constexpr uint64_t kCasReservation = uint64_t{1} << 32;

// Reads the state in `kv`, decides what may be kept, deletes what may not (with the dictionary
// file), and records the new run: the format, no clean marker, a CAS ceiling above next_cas,
// and a run file naming this boot (synced before serving).
Result<RestoredState> OpenWarmState(rocks::KvStore* kv, const std::string& data_dir);

// The run file goes when the disk tier fails: an invalidation may have been lost, so the next
// start must not trust the data. Works on a full disk (unlink).
void DistrustData(const std::string& data_dir);

// The state a cleanly shut down database was left with, for offline tools (nothing changes).
// kInvalidArgument if it was not shut down cleanly.
Status ReadCleanState(rocks::KvStore* kv, RestoredState* state);

// Meta mutations the writer adds to its batches.
rocks::Mutation CasCeilingMutation(uint64_t ceiling);
rocks::Mutation FlushStateMutation(int64_t oldest_live, uint64_t oldest_cas);

// The hottest keys, hottest first, for the reload after a restart (also after a crash).
Status SaveHotKeys(rocks::KvStore* kv, const std::vector<std::string>& hot_keys);

// A clean shutdown, after every item and invalidation is written: the clean marker with the
// exact CAS counter, the flush state and the hottest keys, synced; then memtables flushed.
Status SaveCleanShutdown(rocks::KvStore* kv, uint64_t next_cas, int64_t flush_oldest_live,
                         uint64_t flush_oldest_cas, const std::vector<std::string>& hot_keys);

}  // namespace warmcache::storage::warm
