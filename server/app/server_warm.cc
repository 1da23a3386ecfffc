// SPDX-License-Identifier: BSD-3-Clause
// The warm tier's place in the server: where its data lives, opening it, its stats.
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cctype>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <system_error>

#include "server/app/server.h"
#include "server/protocol/replies.h"

namespace warmcache::app {

using protocol::reply::AppendStat;

namespace {

// Beside each other in one tree, so instances on different ports never share a database.
constexpr const char* kDefaultDataRoot = "/var/tmp/warmcached";

std::string SocketDirName(const std::string& path) {
  std::string name = "socket";
  for (char c : path) name += (std::isalnum(static_cast<unsigned char>(c)) ? c : '_');
  return name;
}

}  // namespace

Status Server::OpenWarmTier() {
  if (!settings_.persistence) return Status::Ok();
  std::string dir = settings_.data_dir;
  if (dir.empty() && settings_.port > 0 && settings_.unix_socket.empty()) {
    dir = std::string(kDefaultDataRoot) + "/port-" + std::to_string(settings_.port);
  } else if (dir.empty() && !settings_.unix_socket.empty()) {
    dir = std::string(kDefaultDataRoot) + "/" + SocketDirName(settings_.unix_socket);
  } else if (dir.empty()) {
    // An ephemeral port (-p -1) has no identity to come back to: a private directory that is
    // removed at exit.
    std::error_code ec;
    std::filesystem::create_directories(kDefaultDataRoot, ec);
    std::string pattern = std::string(kDefaultDataRoot) + "/ephemeral-XXXXXX";
    if (mkdtemp(pattern.data()) == nullptr) {
      return Status::IoError("cannot create a data directory under " +
                             std::string(kDefaultDataRoot) + ": " + std::strerror(errno));
    }
    dir = pattern;
    remove_data_dir_at_exit_ = true;
  }
  storage::warm::WarmOptions o;
  o.data_dir = dir;
  o.disk_limit = settings_.disk_limit;
  o.io_threads = settings_.warm_io_threads;
  o.compress_min = settings_.compress_min;
  o.compress_level = settings_.compress_level;
  o.write_through = settings_.write_through;
  o.snapshot_interval = settings_.snapshot_interval;
  o.discard_damaged = settings_.discard_damaged;
  o.snapshot_dir = settings_.snapshot_dir;
  o.snapshot_keep = settings_.snapshot_keep;
  o.snapshot_file_interval = settings_.snapshot_file_interval;
  o.current_cas = [engine = &engine_] { return engine->current_cas(); };
  if (!settings_.restore_from.empty()) WC_RETURN_IF_ERROR(RestoreFrom(settings_.restore_from, o));
  // The backlog of evictions waiting for disk is RAM too: an eighth of -m, 4..32 MiB.
  o.spill_queue_bytes = std::clamp<size_t>(settings_.memory_limit / 8, 4u << 20, 32u << 20);
  Result<std::unique_ptr<storage::warm::WarmTier>> opened =
      storage::warm::WarmTier::Open(o, clock_, &flush_, &memory_);
  if (!opened.ok()) return opened.status();
  warm_ = std::move(opened).value();
  data_dir_ = dir;
  // Continue where the data on disk left off, before the first request.
  const storage::warm::RestoredState& restored = warm_->restored();
  engine_.RestoreCas(restored.next_cas);
  flush_.Set(restored.flush_oldest_live, restored.flush_oldest_cas);
  memory_.SetLowerTier(warm_.get());
  session_context_.warm = warm_.get();
  spdlog::info("warm tier in {} (disk limit {} MiB): {} start", dir, settings_.disk_limit >> 20,
               storage::warm::WarmStartName(restored.start));
  if (restored.start == storage::warm::WarmStart::kDiscarded) {
    spdlog::warn("warm tier: data in {} deleted: {}", dir, restored.discard_reason);
  }
  warm_->StartBackground();
  return Status::Ok();
}

Status Server::RestoreFrom(const std::string& path, const storage::warm::WarmOptions& o) {
  storage::warm::RestoreOptions restore;
  restore.disk_limit = o.disk_limit;
  Result<storage::warm::RestoreProgress> done =
      storage::warm::RestoreDatabase(path, o.data_dir, restore, clock_->NowSeconds());
  if (!done.ok() && done.status().code() == StatusCode::kInvalidArgument) {
    // A data directory that holds a cache already is newer than any file: a restart of a
    // server started with --restore-from must not roll it back.
    spdlog::info("--restore-from ignored: {}", done.status().message());
    return Status::Ok();
  }
  if (!done.ok()) return Status(done.status().code(), "--restore-from " + done.status().message());
  spdlog::info("restored {} items from {} ({} expired, skipped)", done->restored, path,
               done->expired);
  return Status::Ok();
}

void Server::CloseWarmTier() {
  if (!warm_) return;
  // Only after the last request: RAM is final, so the disk can be marked clean.
  warm_->Close(engine_.current_cas());
  memory_.SetLowerTier(nullptr);
  session_context_.warm = nullptr;
  warm_.reset();
  if (remove_data_dir_at_exit_) {
    std::error_code ec;
    std::filesystem::remove_all(data_dir_, ec);
  }
}

void Server::WriteWarmStats(std::string& out, const StatsSnapshot& t) {
  if (!warm_) return;
  const storage::warm::WarmStats w = warm_->Stats();
  AppendStat(out, "warm_items", w.items);
  AppendStat(out, "warm_bytes_disk", w.disk_bytes);
  AppendStat(out, "warm_disk_limit", settings_.disk_limit);
  AppendStat(out, "warm_spills", w.spills);
  AppendStat(out, "warm_clean_drops", w.clean_drops);
  AppendStat(out, "warm_spill_queue", w.queue_entries);
  AppendStat(out, "warm_spill_queue_bytes", w.queue_bytes);
  AppendStat(out, "warm_spill_stalls", t.warm_spill_stalls);
  AppendStat(out, "warm_hits", w.hits);
  AppendStat(out, "warm_misses", w.misses);
  AppendStat(out, "warm_promotions", w.promotions);
  AppendStat(out, "warm_deletes", w.invalidations);
  AppendStat(out, "warm_read_errors", w.read_errors);
  AppendStat(out, "warm_write_errors", w.write_errors);
  AppendStat(out, "warm_budget_drops", w.budget_drops);
  AppendStat(out, "warm_budget_dropped_bytes", w.budget_dropped_bytes);
  AppendStat(out, "warm_bytes_raw", w.bytes_raw);
  AppendStat(out, "warm_bytes_stored", w.bytes_stored);
  const double ratio = w.bytes_stored == 0
                           ? 1.0
                           : static_cast<double>(w.bytes_raw) / static_cast<double>(w.bytes_stored);
  AppendStat(out, "warm_compression_ratio", fmt::format("{:.2f}", ratio));
  AppendStat(out, "warm_start", storage::warm::WarmStartName(w.start));
  AppendStat(out, "warm_reload_state", w.reload_state);
  AppendStat(out, "warm_reloaded_items", w.reloaded_items);
  AppendStat(out, "warm_snapshots", w.snapshots);
}

void Server::WriteWarmSettings(std::string& out) const {
  AppendStat(out, "persistence", warm_ ? "yes" : "no");
  if (!warm_) return;
  AppendStat(out, "data_dir", data_dir_);
  AppendStat(out, "disk_limit", settings_.disk_limit);
  AppendStat(out, "warm_io_threads", static_cast<uint64_t>(settings_.warm_io_threads));
  AppendStat(out, "compress_min", static_cast<uint64_t>(settings_.compress_min));
  AppendStat(out, "compress_level", static_cast<uint64_t>(settings_.compress_level));
  AppendStat(out, "snapshot_interval", static_cast<uint64_t>(settings_.snapshot_interval));
  AppendStat(out, "durability", settings_.write_through ? "write-through" : "snapshot");
}

}  // namespace warmcache::app
