// SPDX-License-Identifier: BSD-3-Clause
#include "tools/bench/report.h"

#include <fmt/format.h>

#include <algorithm>

namespace warmcache::tools::bench {

namespace {

constexpr double kNsPerS = 1e9;
constexpr double kNsPerUs = 1e3;

// Rates divide by the measured window, cut short if the run stopped early (--max-requests,
// load finished) so that an early stop does not dilute them.
double MeasuredSeconds(const RunResult& run) {
  const Schedule& s = run.schedule;
  const int64_t end =
      std::min(s.measure_end_ns, std::max(run.stats.last_completion_ns, s.measure_start_ns));
  return static_cast<double>(end - s.measure_start_ns) / kNsPerS;
}

int Depth(const BenchOptions& o) { return IsOnePass(o.mode) ? o.load_depth : o.depth; }

// Keeps JSON strings valid whatever the user put in --label.
std::string JsonEscape(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == '"' || c == '\\') out.push_back('\\');
    if (static_cast<unsigned char>(c) < 0x20) {
      out += fmt::format("\\u{:04x}", c);
      continue;
    }
    out.push_back(c);
  }
  return out;
}

}  // namespace

Summary Summarize(const BenchOptions& options, const RunResult& run) {
  const RunStats& st = run.stats;
  Summary sum;
  sum.seconds = MeasuredSeconds(run);
  if (sum.seconds > 0) {
    sum.requests_per_s = static_cast<double>(st.requests) / sum.seconds;
    sum.keys_per_s = static_cast<double>(st.get_keys + st.sets) / sum.seconds;
  }
  sum.hit_ratio = st.get_keys == 0 ? 0 : static_cast<double>(st.hits) / st.get_keys;
  const Histogram& h = st.latency_ns;
  sum.p50_us = h.ValueAtQuantile(0.50) / kNsPerUs;
  sum.p90_us = h.ValueAtQuantile(0.90) / kNsPerUs;
  sum.p99_us = h.ValueAtQuantile(0.99) / kNsPerUs;
  sum.p999_us = h.ValueAtQuantile(0.999) / kNsPerUs;
  sum.max_us = h.max() / kNsPerUs;
  sum.mean_us = h.mean() / kNsPerUs;
  sum.errors = st.errors();
  if (options.mode == Mode::kLoad) sum.complete = st.sets == options.keys;
  if (options.mode == Mode::kVerify) sum.complete = st.get_keys == options.keys;
  return sum;
}

std::string FormatText(const BenchOptions& o, const RunResult& run, const Summary& s) {
  const RunStats& st = run.stats;
  std::string text = fmt::format(
      "warmcache-bench {} {}:{}{}: {} conns x depth {}, {} thread(s), {} keys x {} B {}",
      ModeName(o.mode), o.host, o.port, o.label.empty() ? "" : " (" + o.label + ")", o.connections,
      Depth(o), o.threads, o.keys, o.value_size, ValueKindName(o.value_kind));
  if (o.mode == Mode::kMixed) text += fmt::format(", get {}%", o.get_percent);
  if (o.mode == Mode::kMultiget || o.mode == Mode::kVerify) {
    text += fmt::format(", {} keys per get", o.multiget_keys);
  }
  if (o.mode == Mode::kVerify) text += fmt::format(", {} order", KeyOrderName(o.order));
  if (!IsOnePass(o.mode)) text += fmt::format(", {}", DistributionName(o.distribution));
  text += fmt::format("\n  measured   {:.2f} s{}\n", s.seconds,
                      IsOnePass(o.mode) ? "" : fmt::format(" after {:.1f} s warm-up", o.warmup_s));
  text += fmt::format("  requests   {:>10}  {:>12.0f} req/s\n", st.requests, s.requests_per_s);
  text +=
      fmt::format("  keys       {:>10}  {:>12.0f} keys/s\n", st.get_keys + st.sets, s.keys_per_s);
  text += fmt::format("  gets {} sets {} hits {} misses {} hit ratio {:.2f}%\n", st.gets, st.sets,
                      st.hits, st.misses, 100 * s.hit_ratio);
  text += fmt::format(
      "  latency us p50 {:.1f} p90 {:.1f} p99 {:.1f} p99.9 {:.1f} max {:.1f} mean {:.1f}\n",
      s.p50_us, s.p90_us, s.p99_us, s.p999_us, s.max_us, s.mean_us);
  text += fmt::format("  client CPU {:.2f} s in {:.2f} s ({:.0f}% of one core)\n", run.client_cpu_s,
                      run.wall_s, run.wall_s > 0 ? 100 * run.client_cpu_s / run.wall_s : 0.0);
  text += fmt::format(
      "  errors {} (error replies {}, bad values {}, malformed {}, failed connections {}, "
      "unfinished {}){}\n",
      s.errors, st.error_replies, st.bad_values, st.malformed, st.failed_connections, st.unfinished,
      s.complete ? ""
                 : fmt::format("; INCOMPLETE: {} of {} keys {}", st.sets + st.get_keys, o.keys,
                               o.mode == Mode::kLoad ? "stored" : "read"));
  return text;
}

std::string FormatJson(const BenchOptions& o, const RunResult& run, const Summary& s) {
  const RunStats& st = run.stats;
  return fmt::format(
      "{{\"tool\":\"warmcache-bench\",\"label\":\"{}\",\"mode\":\"{}\",\"host\":\"{}\","
      "\"port\":{},\"connections\":{},\"threads\":{},\"depth\":{},\"keys\":{},"
      "\"value_size\":{},\"value_kind\":\"{}\",\"get_percent\":{},\"distribution\":\"{}\","
      "\"multiget_keys\":{},\"order\":\"{}\","
      "\"seconds\":{:.3f},\"requests\":{},\"requests_per_s\":{:.1f},\"keys_per_s\":{:.1f},"
      "\"gets\":{},\"sets\":{},\"hits\":{},\"misses\":{},\"hit_ratio\":{:.4f},"
      "\"p50_us\":{:.1f},\"p90_us\":{:.1f},\"p99_us\":{:.1f},\"p999_us\":{:.1f},"
      "\"max_us\":{:.1f},\"mean_us\":{:.1f},\"errors\":{},\"error_replies\":{},"
      "\"bad_values\":{},\"malformed\":{},\"failed_connections\":{},\"unfinished\":{},"
      "\"wall_s\":{:.3f},\"client_cpu_s\":{:.3f},\"ok\":{}}}",
      JsonEscape(o.label), ModeName(o.mode), JsonEscape(o.host), o.port, o.connections, o.threads,
      Depth(o), o.keys, o.value_size, ValueKindName(o.value_kind), o.get_percent,
      DistributionName(o.distribution), o.multiget_keys, KeyOrderName(o.order), s.seconds,
      st.requests, s.requests_per_s, s.keys_per_s, st.gets, st.sets, st.hits, st.misses,
      s.hit_ratio, s.p50_us, s.p90_us, s.p99_us, s.p999_us, s.max_us, s.mean_us, s.errors,
      st.error_replies, st.bad_values, st.malformed, st.failed_connections, st.unfinished,
      run.wall_s, run.client_cpu_s, s.ok());
}

}  // namespace warmcache::tools::bench
