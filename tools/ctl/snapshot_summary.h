// SPDX-License-Identifier: BSD-3-Clause
// What `warmcachectl snapshot inspect` reports, gathered while reading a file and formatted
// apart from the reading so tests can fix the clock.
#pragma once

#include <array>
#include <cstdint>
#include <string>

#include "server/common/status.h"
#include "storage/snapshot/snapshot_format.h"

namespace warmcache::ctl {

// How long the items have left to live, relative to `now`.
class TtlHistogram {
 public:
  enum Bucket { kNever, kExpired, kUnderMinute, kUnderHour, kUnderDay, kUnder30Days, kLonger };
  static constexpr int kBuckets = kLonger + 1;

  void Add(uint32_t exptime, int64_t now);
  uint64_t count(int bucket) const { return counts_[bucket]; }
  static const char* Label(int bucket);

 private:
  std::array<uint64_t, kBuckets> counts_{};
};

struct SnapshotSummary {
  std::string path;
  storage::snapshot::SnapshotInfo info;
  storage::snapshot::SnapshotTotals totals;  // read before the end or the damage
  uint64_t file_bytes = 0;
  TtlHistogram ttl;
  Status status;  // OK once the whole file was read and checked
};

// The multi-line inspect report.
std::string FormatSummary(const SnapshotSummary& summary, int64_t now);

// "2023-11-14T22:13:20Z"
std::string FormatUtc(int64_t unix_seconds);
// "2d 3h", "4m 5s", "0s": the two largest units.
std::string FormatDuration(int64_t seconds);

}  // namespace warmcache::ctl
