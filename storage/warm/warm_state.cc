// SPDX-License-Identifier: BSD-3-Clause
#include "storage/warm/warm_state.h"

#include <fcntl.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <system_error>

namespace warmcache::storage::warm {

namespace {

// Meta record names (FORMAT.md).
constexpr const char* kFormatKey = "format";
constexpr const char* kFormatValue = "1";
constexpr const char* kCleanKey = "clean";
constexpr const char* kCasCeilingKey = "cas_ceiling";
constexpr const char* kFlushKey = "flush";
constexpr const char* kHotPrefix = "hot/";
constexpr size_t kHotChunkBytes = 64u << 10;

std::string RunFilePath(const std::string& dir) { return dir + "/warmcache.run"; }
std::string DictionaryFilePath(const std::string& dir) { return dir + "/warmcache.zdict"; }

void PutU64(std::string* out, uint64_t v) {
  for (int i = 0; i < 8; ++i) out->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

uint64_t GetU64(std::string_view in, size_t at) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v |= uint64_t{static_cast<uint8_t>(in[at + i])} << (8 * i);
  return v;
}

// A u64 meta record, or `fallback` if it is absent or malformed.
uint64_t ReadU64(rocks::KvStore* kv, const char* name, uint64_t fallback) {
  Result<std::string> value = kv->GetMeta(name);
  return value.ok() && value->size() == 8 ? GetU64(*value, 0) : fallback;
}

rocks::Mutation MetaPut(std::string name, std::string value) {
  return rocks::Mutation{.key = std::move(name), .record = std::move(value), .meta = true};
}

rocks::Mutation MetaErase(std::string name) {
  return rocks::Mutation{.key = std::move(name), .record = {}, .erase = true, .meta = true};
}

// Which boot of the machine this is: a process crash keeps the page cache (and with it every
// write RocksDB's log received), a reboot may not.
std::string CurrentBootId() {
  std::ifstream in("/proc/sys/kernel/random/boot_id");
  std::string id;
  std::getline(in, id);
  return id;
}

std::string ReadRunFile(const std::string& dir) {
  std::ifstream in(RunFilePath(dir));
  std::string id;
  if (!in || !std::getline(in, id)) return {};
  return id;
}

Status WriteSynced(const std::string& path, const std::string& bytes) {
  const std::string temp = path + ".tmp";
  const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return Status::IoError("cannot write " + temp + ": " + std::strerror(errno));
  const bool ok = ::write(fd, bytes.data(), bytes.size()) == static_cast<ssize_t>(bytes.size()) &&
                  ::fsync(fd) == 0;
  ::close(fd);
  if (!ok || std::rename(temp.c_str(), path.c_str()) != 0) {
    return Status::IoError("cannot write " + path + ": " + std::strerror(errno));
  }
  return Status::Ok();
}

std::vector<std::string> DecodeHotKeys(
    const std::vector<std::pair<std::string, std::string>>& chunks) {
  std::vector<std::string> keys;
  for (const auto& [name, chunk] : chunks) {
    size_t at = 0;
    while (at < chunk.size()) {
      const size_t len = static_cast<uint8_t>(chunk[at++]);
      if (len == 0 || at + len > chunk.size()) break;  // damaged: the rest is only a hint
      keys.emplace_back(chunk.substr(at, len));
      at += len;
    }
  }
  return keys;
}

// Decides what the data left in the directory may be used for.
WarmStart Decide(rocks::KvStore* kv, const std::string& dir, std::string* reason) {
  if (kv->was_discarded()) {
    *reason = "the database could not be opened (damaged) and was deleted";
    return WarmStart::kDiscarded;
  }
  const bool has_format = kv->GetMeta(kFormatKey).ok();
  if (!has_format) {
    if (!kv->HasAnyKey()) return WarmStart::kFresh;
    *reason = "written by an older warmcached that did not make restarts safe";
    return WarmStart::kDiscarded;
  }
  if (kv->GetMeta(kCleanKey).ok()) return WarmStart::kClean;
  const std::string run = ReadRunFile(dir);
  if (run.empty()) {
    *reason = "the previous process stopped after its disk tier had failed";
    return WarmStart::kDiscarded;
  }
  if (run != CurrentBootId()) {
    *reason = "the previous process did not shut down cleanly before the machine restarted";
    return WarmStart::kDiscarded;
  }
  return WarmStart::kRecovered;
}

}  // namespace

const char* WarmStartName(WarmStart start) {
  switch (start) {
    case WarmStart::kFresh:
      return "fresh";
    case WarmStart::kClean:
      return "clean";
    case WarmStart::kRecovered:
      return "recovered";
    case WarmStart::kDiscarded:
      return "discarded";
  }
  return "unknown";
}

Result<RestoredState> OpenWarmState(rocks::KvStore* kv, const std::string& dir) {
  RestoredState state;
  state.start = Decide(kv, dir, &state.discard_reason);
  // CAS values handed out before must not come back, even for data that is dropped: a client
  // may still hold one.
  const uint64_t ceiling = ReadU64(kv, kCasCeilingKey, 0);
  state.next_cas = state.start == WarmStart::kClean ? ReadU64(kv, kCleanKey, ceiling) : ceiling;
  std::error_code ec;
  if (state.start == WarmStart::kDiscarded) {
    WC_RETURN_IF_ERROR(kv->DiscardAll());
    std::filesystem::remove(DictionaryFilePath(dir), ec);
  } else if (state.start == WarmStart::kFresh) {
    std::filesystem::remove(DictionaryFilePath(dir), ec);  // describes no record
  } else {
    Result<std::string> flush = kv->GetMeta(kFlushKey);
    if (flush.ok() && flush->size() == 16) {
      state.flush_oldest_live = static_cast<int64_t>(GetU64(*flush, 0));
      state.flush_oldest_cas = GetU64(*flush, 8);
    }
    state.hot_keys = DecodeHotKeys(kv->ScanMeta(kHotPrefix));
  }
  std::vector<rocks::Mutation> run = {
      MetaPut(kFormatKey, kFormatValue), MetaErase(kCleanKey),
      CasCeilingMutation(state.next_cas + kCasReservation),
      FlushStateMutation(state.flush_oldest_live, state.flush_oldest_cas)};
  for (const auto& [name, chunk] : kv->ScanMeta(kHotPrefix)) run.push_back(MetaErase(name));
  WC_RETURN_IF_ERROR(kv->Write(run, /*sync=*/true));
  WC_RETURN_IF_ERROR(WriteSynced(RunFilePath(dir), CurrentBootId() + "\n"));
  return state;
}

Status ReadCleanState(rocks::KvStore* kv, RestoredState* state) {
  Result<std::string> clean = kv->GetMeta(kCleanKey);
  if (!clean.ok() || clean->size() != 8) {
    return Status::InvalidArgument(
        "not shut down cleanly (or in use): stop warmcached with SIGTERM first, or ask the "
        "running server with --server");
  }
  state->start = WarmStart::kClean;
  state->next_cas = GetU64(*clean, 0);
  Result<std::string> flush = kv->GetMeta(kFlushKey);
  if (flush.ok() && flush->size() == 16) {
    state->flush_oldest_live = static_cast<int64_t>(GetU64(*flush, 0));
    state->flush_oldest_cas = GetU64(*flush, 8);
  }
  return Status::Ok();
}

void DistrustData(const std::string& dir) { ::unlink(RunFilePath(dir).c_str()); }

rocks::Mutation CasCeilingMutation(uint64_t ceiling) {
  std::string value;
  PutU64(&value, ceiling);
  return MetaPut(kCasCeilingKey, std::move(value));
}

rocks::Mutation FlushStateMutation(int64_t oldest_live, uint64_t oldest_cas) {
  std::string value;
  PutU64(&value, static_cast<uint64_t>(oldest_live));
  PutU64(&value, oldest_cas);
  return MetaPut(kFlushKey, std::move(value));
}

namespace {

// The hottest keys as meta records, replacing the ones saved before.
void AppendHotKeys(rocks::KvStore* kv, const std::vector<std::string>& hot_keys,
                   std::vector<rocks::Mutation>* batch) {
  for (const auto& [name, chunk] : kv->ScanMeta(kHotPrefix)) batch->push_back(MetaErase(name));
  std::string chunk;
  size_t chunks = 0;
  auto emit = [&] {
    char name[32];
    std::snprintf(name, sizeof(name), "%s%08zu", kHotPrefix, chunks++);
    batch->push_back(MetaPut(name, std::move(chunk)));
    chunk.clear();
  };
  for (const std::string& key : hot_keys) {
    if (key.empty() || key.size() > 255) continue;
    chunk.push_back(static_cast<char>(key.size()));
    chunk += key;
    if (chunk.size() >= kHotChunkBytes) emit();
  }
  if (!chunk.empty()) emit();
}

}  // namespace

Status SaveHotKeys(rocks::KvStore* kv, const std::vector<std::string>& hot_keys) {
  std::vector<rocks::Mutation> batch;
  AppendHotKeys(kv, hot_keys, &batch);
  return kv->Write(batch);
}

Status SaveCleanShutdown(rocks::KvStore* kv, uint64_t next_cas, int64_t flush_oldest_live,
                         uint64_t flush_oldest_cas, const std::vector<std::string>& hot_keys) {
  std::vector<rocks::Mutation> batch;
  AppendHotKeys(kv, hot_keys, &batch);
  std::string clean;
  PutU64(&clean, next_cas);
  batch.push_back(MetaPut(kFormatKey, kFormatValue));
  batch.push_back(MetaPut(kCleanKey, std::move(clean)));
  batch.push_back(CasCeilingMutation(next_cas + kCasReservation));
  batch.push_back(FlushStateMutation(flush_oldest_live, flush_oldest_cas));
  WC_RETURN_IF_ERROR(kv->Write(batch, /*sync=*/true));
  return kv->FlushMemtables();
}

}  // namespace warmcache::storage::warm
