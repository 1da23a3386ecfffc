// SPDX-License-Identifier: BSD-3-Clause
// `warmcachectl snapshot create|restore`: snapshot files out of a server or a data directory,
// and into a data directory.
#include "tools/ctl/snapshot_transfer.h"

#include <fmt/core.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <system_error>

#include "server/common/clock.h"
#include "storage/warm/snapshot_io.h"
#include "tools/ctl/node_client.h"

namespace warmcache::ctl {

namespace {

constexpr const char* kCreateHelp =
    "Usage: warmcachectl snapshot create (--server HOST:PORT | --data-dir DIR) [--out PATH]\n"
    "Cuts a consistent point-in-time snapshot file.\n"
    "  --server HOST:PORT  ask a running warmcached (started with --snapshot-dir): it writes "
    "RAM's\n"
    "                      unsaved items, then the file into its --snapshot-dir, and keeps\n"
    "                      serving; --out copies the file there (the tool must then run on the\n"
    "                      server's machine)\n"
    "  --data-dir DIR      read the data directory of a stopped warmcached (it must have shut\n"
    "                      down cleanly); --out is required\n"
    "Exit status: 0 written, 1 failed, 64 usage.";

constexpr const char* kRestoreHelp =
    "Usage: warmcachectl snapshot restore PATH --data-dir DIR [--prefix P] [--disk-limit SIZE]\n"
    "                                   [--force]\n"
    "Checks the whole file, then writes its items into DIR (no warmcached may be using it) so\n"
    "that `warmcached --data-dir DIR` serves them from its first request. Items that have\n"
    "expired by now are skipped and counted; a TTL of 0 (never expires) stays 0.\n"
    "  --prefix P        restore only keys starting with P\n"
    "  --disk-limit SIZE the --disk-limit the server will run with (default 10g)\n"
    "  --force           replace a cache DIR already holds (otherwise refused)\n"
    "A damaged, truncated or foreign file changes nothing. Progress is shown on a terminal.\n"
    "Exit status: 0 restored, 1 failed, 64 usage.";

// "10g", "512m", "4096": bytes, as --disk-limit takes them.
bool ParseSize(const std::string& text, uint64_t* out) {
  size_t used = 0;
  unsigned long long value = 0;
  try {
    value = std::stoull(text, &used);
  } catch (const std::exception&) {
    return false;
  }
  const std::string unit = text.substr(used);
  const int shift = unit.empty()                 ? 0
                    : unit == "k" || unit == "K" ? 10
                    : unit == "m" || unit == "M" ? 20
                    : unit == "g" || unit == "G" ? 30
                    : unit == "t" || unit == "T" ? 40
                                                 : -1;
  if (shift < 0) return false;
  *out = static_cast<uint64_t>(value) << shift;
  return true;
}

int CreateFromServer(const std::string& server, const std::string& out) {
  Result<std::string> reply = AskServer(server, "snapshot\r\n");
  if (!reply.ok()) return Fail(reply.status().message());
  if (reply->rfind("OK ", 0) != 0) return Fail(server + ": " + *reply);
  // "OK <path> <records>"
  const std::string rest = reply->substr(3);
  const size_t space = rest.rfind(' ');
  const std::string path = rest.substr(0, space);
  if (out.empty()) {
    fmt::print("{}: {} items (on the server's machine)\n", path, rest.substr(space + 1));
    return kExitOk;
  }
  std::error_code ec;
  std::filesystem::copy_file(path, out, std::filesystem::copy_options::overwrite_existing, ec);
  if (ec)
    return Fail("the server wrote " + path + " but it cannot be copied here: " + ec.message());
  fmt::print("{}: {} items\n", out, rest.substr(space + 1));
  return kExitOk;
}

int RunCreate(const Args& args) {
  const ParsedOptions p = ParseOptions(args, {"server", "data-dir", "out"}, {});
  if (p.help) {
    fmt::print("{}\n", kCreateHelp);
    return kExitOk;
  }
  if (!p.error.empty()) return UsageError("snapshot create", p.error);
  if (!p.positional.empty()) return UsageError("snapshot create", "unexpected " + p.positional[0]);
  const auto opt = [&](const char* name) {
    auto it = p.options.find(name);
    return it == p.options.end() ? std::string() : it->second;
  };
  if (opt("server").empty() == opt("data-dir").empty()) {
    return UsageError("snapshot create", "give one of --server and --data-dir");
  }
  if (!opt("server").empty()) return CreateFromServer(opt("server"), opt("out"));
  if (opt("out").empty()) return UsageError("snapshot create", "--data-dir needs --out PATH");
  Result<storage::warm::ExportStats> stats =
      storage::warm::ExportDataDir(opt("data-dir"), opt("out"), SystemClock::Get()->NowSeconds());
  if (!stats.ok()) return Fail(stats.status().message());
  fmt::print("{}: {} items ({} expired or flushed, {} unreadable, skipped)\n", opt("out"),
             stats->records, stats->skipped_dead, stats->unreadable);
  return kExitOk;
}

// "\r12345/100000 items (12%), 3.4 MB, 45678 items/s, ETA 2 s" on a terminal.
void ShowProgress(const storage::warm::RestoreProgress& p,
                  std::chrono::steady_clock::time_point started) {
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  const double rate = seconds > 0 ? static_cast<double>(p.records_read) / seconds : 0;
  const double left = static_cast<double>(p.records_total - p.records_read);
  std::fprintf(stderr, "\r%llu/%llu items (%.0f%%), %.1f MB, %.0f items/s, ETA %.0f s   ",
               static_cast<unsigned long long>(p.records_read),
               static_cast<unsigned long long>(p.records_total),
               p.records_total ? 100.0 * static_cast<double>(p.records_read) /
                                     static_cast<double>(p.records_total)
                               : 100.0,
               static_cast<double>(p.value_bytes) / 1e6, rate, rate > 0 ? left / rate : 0.0);
}

int RunRestore(const Args& args) {
  const ParsedOptions p = ParseOptions(args, {"data-dir", "prefix", "disk-limit"}, {"force"});
  if (p.help) {
    fmt::print("{}\n", kRestoreHelp);
    return kExitOk;
  }
  if (!p.error.empty()) return UsageError("snapshot restore", p.error);
  if (p.positional.size() != 1) return UsageError("snapshot restore", "give one snapshot PATH");
  auto dir = p.options.find("data-dir");
  if (dir == p.options.end()) return UsageError("snapshot restore", "--data-dir DIR is required");
  storage::warm::RestoreOptions options;
  if (auto it = p.options.find("prefix"); it != p.options.end()) options.prefix = it->second;
  if (auto it = p.options.find("disk-limit"); it != p.options.end()) {
    if (!ParseSize(it->second, &options.disk_limit)) {
      return UsageError("snapshot restore", "bad --disk-limit " + it->second);
    }
  }
  options.replace = p.options.count("force") > 0;
  const auto started = std::chrono::steady_clock::now();
  const bool tty = isatty(STDERR_FILENO) != 0;
  if (tty) options.progress = [started](const auto& progress) { ShowProgress(progress, started); };
  Result<storage::warm::RestoreProgress> done = storage::warm::RestoreDatabase(
      p.positional[0], dir->second, options, SystemClock::Get()->NowSeconds());
  if (tty) std::fprintf(stderr, "\n");
  if (!done.ok()) return Fail(done.status().message());
  fmt::print("restored {} items into {} ({} expired, {} outside the prefix, skipped)\n",
             done->restored, dir->second, done->expired, done->filtered);
  return kExitOk;
}

}  // namespace

const Command kSnapshotCreate = {
    "create", "cut a snapshot file from a running server or a stopped data directory", RunCreate};
const Command kSnapshotRestore = {"restore", "write a snapshot file's items into a data directory",
                                  RunRestore};

}  // namespace warmcache::ctl
