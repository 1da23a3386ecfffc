// SPDX-License-Identifier: BSD-3-Clause
// The warm tier's background thread: the reload after a restart, periodic snapshots of RAM, and
// snapshot files (scheduled, and on request).
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <filesystem>
#include <future>
#include <system_error>

#include "storage/warm/warm_tier.h"

namespace warmcache::storage::warm {

namespace {

// Reloading stops short of the memory limit: it must not evict what it loaded itself.
constexpr double kReloadFill = 0.9;
constexpr size_t kReloadBatch = 256;

void PruneSnapshotFiles(const std::string& dir, int keep) {
  std::vector<std::filesystem::path> files;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.rfind("warmcache-", 0) == 0 && entry.path().extension() == ".wcsnap") {
      files.push_back(entry.path());
    }
  }
  std::sort(files.begin(), files.end());
  for (size_t i = 0; i + static_cast<size_t>(std::max(keep, 1)) < files.size(); ++i) {
    std::filesystem::remove(files[i], ec);
  }
}

}  // namespace

void WarmTier::StartBackground() {
  background_ = std::thread([this] { BackgroundMain(); });
  pthread_setname_np(background_.native_handle(), "wc-snapshot");
}

void WarmTier::StopBackground() {
  {
    std::lock_guard lock(background_mu_);
    background_stop_ = true;
  }
  background_cv_.notify_all();
  if (background_.joinable()) background_.join();
  std::vector<std::shared_ptr<ExportJob>> jobs;
  {
    std::lock_guard lock(background_mu_);
    jobs.swap(export_jobs_);
  }
  for (const std::shared_ptr<ExportJob>& job : jobs) {
    job->result = Status(StatusCode::kShutdown, "the server is shutting down");
    job->finished.store(true, std::memory_order_release);
    job->done();
  }
}

void WarmTier::BackgroundMain() {
  ReloadHotItems();
  using SteadyClock = std::chrono::steady_clock;
  // "Never" is far enough ahead without overflowing the clock's arithmetic.
  const auto after = [](int seconds) {
    return SteadyClock::now() +
           (seconds > 0 ? std::chrono::seconds(seconds) : std::chrono::hours(24 * 3650));
  };
  const int file_interval = options_.snapshot_dir.empty() ? 0 : options_.snapshot_file_interval;
  auto next_snapshot = after(options_.snapshot_interval);
  auto next_file = after(file_interval);
  std::unique_lock lock(background_mu_);
  while (!background_stop_) {
    background_cv_.wait_until(lock, std::min(next_snapshot, next_file),
                              [this] { return background_stop_ || !export_jobs_.empty(); });
    if (background_stop_) break;
    lock.unlock();
    RunExportJobs();
    if (SteadyClock::now() >= next_snapshot) {
      spdlog::debug("warm tier: snapshot wrote {} items", Snapshot());
      // The reload after a crash starts from these.
      const Status saved = SaveHotKeys(kv_.get(), memory_->HottestKeys(memory_->memory_limit()));
      if (!saved.ok()) Fail(saved, "write");
      next_snapshot = after(options_.snapshot_interval);
    }
    if (SteadyClock::now() >= next_file) {
      std::string path;
      Result<ExportStats> stats = ExportToSnapshotDir("scheduled", NextCasForFile(), &path);
      if (!stats.ok())
        spdlog::error("warm tier: scheduled snapshot file: {}", stats.status().ToString());
      next_file = after(file_interval);
    }
    lock.lock();
  }
}

uint64_t WarmTier::NextCasForFile() const {
  // Without a counter (tests), the ceiling is above every CAS handed out.
  return options_.current_cas ? options_.current_cas() + 1 : restored_.next_cas + kCasReservation;
}

void WarmTier::RequestExport(std::shared_ptr<ExportJob> job) {
  {
    std::lock_guard lock(background_mu_);
    if (!background_stop_ && background_.joinable()) {
      export_jobs_.push_back(std::move(job));
      background_cv_.notify_all();
      return;
    }
  }
  job->result = Status(StatusCode::kShutdown, "the server is shutting down");
  job->finished.store(true, std::memory_order_release);
  job->done();
}

void WarmTier::RunExportJobs() {
  std::vector<std::shared_ptr<ExportJob>> jobs;
  {
    std::lock_guard lock(background_mu_);
    jobs.swap(export_jobs_);
  }
  for (const std::shared_ptr<ExportJob>& job : jobs) {
    job->result = ExportToSnapshotDir(job->source, job->current_cas() + 1, &job->path);
    job->finished.store(true, std::memory_order_release);
    job->done();
  }
}

// Snapshot files sort by name in the order they were written: the second, then a fixed-width
// sequence number within it ("-" before "." would sort "...Z-1" ahead of "...Z").
std::string WarmTier::SnapshotFileName(const std::string& dir, int64_t now) {
  const time_t t = static_cast<time_t>(now);
  struct tm utc {};
  gmtime_r(&t, &utc);
  char stamp[32];
  std::strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &utc);
  // After every file of this second, even ones pruned since: a reused number would sort first.
  const std::string prefix = std::string("warmcache-") + stamp + "-";
  int next = 0;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.rfind(prefix, 0) == 0)
      next = std::max(next, std::atoi(name.c_str() + prefix.size()) + 1);
  }
  next = std::max(next, last_file_seq_second_ == now ? last_file_seq_ + 1 : 0);
  last_file_seq_second_ = now;
  last_file_seq_ = next;
  return fmt::format("{}/{}{:03}.wcsnap", dir, prefix, next);
}

Result<ExportStats> WarmTier::ExportToSnapshotDir(const std::string& source, uint64_t next_cas,
                                                  std::string* path) {
  if (options_.snapshot_dir.empty()) {
    return Status::InvalidArgument("snapshot files are off (start with --snapshot-dir DIR)");
  }
  if (failed_.load(std::memory_order_relaxed)) {
    return Status::IoError("the disk tier is out of service");
  }
  std::error_code ec;
  std::filesystem::create_directories(options_.snapshot_dir, ec);
  // Everything acknowledged so far is on disk before the file is cut: RAM's unsaved items,
  // then every queued write.
  Snapshot();
  std::promise<void> durable;
  queue_.WhenDurable(queue_.PushBarrier(), [&durable] { durable.set_value(); });
  durable.get_future().wait();
  const int64_t now = clock_->NowSeconds();
  *path = SnapshotFileName(options_.snapshot_dir, now);
  const snapshot::SnapshotInfo info{.format_version = snapshot::kFormatVersion,
                                    .created_unix = now,
                                    .source = source,
                                    .next_cas = next_cas,
                                    .flush_oldest_live = flush_->oldest_live(),
                                    .flush_oldest_cas = flush_->oldest_cas()};
  Result<ExportStats> stats = ExportDatabase(kv_.get(), codec_, info, now, *path);
  if (!stats.ok()) return stats;
  spdlog::info("warm tier: snapshot file {}: {} items", *path, stats->records);
  PruneSnapshotFiles(options_.snapshot_dir, options_.snapshot_keep);
  return stats;
}

void WarmTier::ReloadHotItems() {
  const std::vector<std::string>& keys = restored_.hot_keys;
  if (keys.empty()) return;
  reload_state_.store(1, std::memory_order_relaxed);
  const auto started = std::chrono::steady_clock::now();
  auto last_log = started;
  const size_t room =
      static_cast<size_t>(static_cast<double>(memory_->memory_limit()) * kReloadFill);
  size_t next = 0;
  size_t reloaded_bytes_per_item = 0;
  while (next < keys.size() && memory_->used_memory() < room) {
    {
      std::lock_guard lock(background_mu_);
      if (background_stop_) break;
    }
    // Near the limit, batches shrink to what still fits: an overshoot would evict the hottest
    // items, loaded first.
    const size_t used = memory_->used_memory();
    const size_t average = reloaded_bytes_per_item > 0 ? reloaded_bytes_per_item : 1;
    const size_t fits = std::clamp<size_t>((room - used) / average, 1, kReloadBatch);
    auto batch = std::make_shared<FetchBatch>();
    for (; next < keys.size() && batch->size() < fits; ++next) {
      memory_->WithKey(keys[next], [&](MemoryTier::KeyTxn& txn) {
        if (txn.item() == nullptr) txn.BeginFetch(batch->Add());
        return true;
      });
    }
    std::vector<PendingFetch> work{PendingFetch{batch, [] {}}};
    const uint64_t before = reloaded_items_.load(std::memory_order_relaxed);
    ReadBatches(work, /*reload=*/true);
    batch->Settle();
    const uint64_t installed = reloaded_items_.load(std::memory_order_relaxed) - before;
    if (installed > 0 && memory_->used_memory() > used) {
      reloaded_bytes_per_item = (memory_->used_memory() - used) / installed;
    }
    if (std::chrono::steady_clock::now() - last_log >= std::chrono::seconds(1)) {
      last_log = std::chrono::steady_clock::now();
      spdlog::info("warm tier: reloading the hottest items: {} of {}",
                   reloaded_items_.load(std::memory_order_relaxed), keys.size());
    }
  }
  reload_state_.store(2, std::memory_order_relaxed);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  spdlog::info("warm tier: reloaded {} of the {} hottest items into RAM in {:.1f} s",
               reloaded_items_.load(std::memory_order_relaxed), keys.size(), seconds);
}

size_t WarmTier::Snapshot() {
  if (failed_.load(std::memory_order_relaxed)) return 0;
  size_t written = 0;
  memory_->ForEachUnsaved(
      [&](const Item& item) {
        // A copy: the item stays linked, and hits change its header fields meanwhile.
        ItemRef copy = ItemRef::Copy(item);
        if (!copy) return false;
        may_hold_keys_.store(true, std::memory_order_relaxed);
        queue_.PushItem(std::move(copy));
        ++written;
        return true;
      },
      [&] {
        if (!queue_.Backlogged()) return;
        std::promise<void> room;
        queue_.WhenRoom([&room] { room.set_value(); });
        room.get_future().wait();
      });
  snapshots_.fetch_add(1, std::memory_order_relaxed);
  return written;
}

}  // namespace warmcache::storage::warm
