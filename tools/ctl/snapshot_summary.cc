// SPDX-License-Identifier: BSD-3-Clause
#include "tools/ctl/snapshot_summary.h"

#include <fmt/format.h>

#include <ctime>

namespace warmcache::ctl {

namespace {

constexpr int64_t kMinute = 60;
constexpr int64_t kHour = 60 * kMinute;
constexpr int64_t kDay = 24 * kHour;

std::string FormatAge(int64_t created, int64_t now) {
  if (created > now) return FormatDuration(created - now) + " in the future";
  return FormatDuration(now - created) + " ago";
}

std::string FormatFlush(const storage::snapshot::SnapshotInfo& info) {
  if (info.flush_oldest_live == 0) return "none";
  const std::string at = "flush_all at " + FormatUtc(info.flush_oldest_live);
  if (info.flush_oldest_cas == 0) return at;
  return fmt::format("{} (also flushes CAS < {})", at, info.flush_oldest_cas);
}

std::string FormatRatio(const SnapshotSummary& s) {
  if (s.file_bytes == 0) return "-";
  const double raw = static_cast<double>(s.totals.key_bytes + s.totals.value_bytes);
  return fmt::format("{:.2f}x (key+value bytes / file bytes)",
                     raw / static_cast<double>(s.file_bytes));
}

}  // namespace

void TtlHistogram::Add(uint32_t exptime, int64_t now) {
  const int64_t left = static_cast<int64_t>(exptime) - now;
  Bucket b = kLonger;
  if (exptime == 0) {
    b = kNever;
  } else if (left <= 0) {
    b = kExpired;  // memcached's rule: expired once exptime <= now
  } else if (left < kMinute) {
    b = kUnderMinute;
  } else if (left < kHour) {
    b = kUnderHour;
  } else if (left < kDay) {
    b = kUnderDay;
  } else if (left < 30 * kDay) {
    b = kUnder30Days;
  }
  ++counts_[b];
}

const char* TtlHistogram::Label(int bucket) {
  static constexpr const char* kLabels[kBuckets] = {
      "never expires", "already expired", "< 1 min", "< 1 h", "< 1 day", "< 30 days", "longer"};
  return kLabels[bucket];
}

std::string FormatUtc(int64_t unix_seconds) {
  const std::time_t t = static_cast<std::time_t>(unix_seconds);
  std::tm tm{};
  if (gmtime_r(&t, &tm) == nullptr) return std::to_string(unix_seconds);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string FormatDuration(int64_t s) {
  if (s >= kDay) return fmt::format("{}d {}h", s / kDay, s % kDay / kHour);
  if (s >= kHour) return fmt::format("{}h {}m", s / kHour, s % kHour / kMinute);
  if (s >= kMinute) return fmt::format("{}m {}s", s / kMinute, s % kMinute);
  return fmt::format("{}s", s);
}

std::string FormatSummary(const SnapshotSummary& s, int64_t now) {
  std::string out;
  auto line = [&out](std::string_view name, const std::string& value) {
    fmt::format_to(std::back_inserter(out), "{:<18} {}\n", std::string(name) + ":", value);
  };
  line("path", s.path);
  line("format version", std::to_string(s.info.format_version));
  line("created",
       FormatUtc(s.info.created_unix) + " (" + FormatAge(s.info.created_unix, now) + ")");
  line("source", s.info.source.empty() ? "-" : s.info.source);
  line("next CAS", std::to_string(s.info.next_cas));
  line("flush state", FormatFlush(s.info));
  // After damage the totals cover only the intact frames before it.
  line("records", std::to_string(s.totals.records) + (s.status.ok() ? "" : " (before the error)"));
  line("frames", std::to_string(s.totals.frames));
  line("key bytes", std::to_string(s.totals.key_bytes));
  line("value bytes", std::to_string(s.totals.value_bytes));
  line("file bytes", std::to_string(s.file_bytes));
  line("compression ratio", FormatRatio(s));
  out += "TTL (from now):\n";
  for (int b = 0; b < TtlHistogram::kBuckets; ++b) {
    fmt::format_to(std::back_inserter(out), "  {:<16} {}\n", TtlHistogram::Label(b),
                   s.ttl.count(b));
  }
  line("checksums", s.status.ok() ? "ok" : "FAILED: " + s.status.message());
  return out;
}

}  // namespace warmcache::ctl
