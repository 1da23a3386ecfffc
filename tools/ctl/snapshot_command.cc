// SPDX-License-Identifier: BSD-3-Clause
#include "tools/ctl/snapshot_command.h"

#include <fmt/core.h>

#include <vector>

#include "server/common/clock.h"
#include "storage/snapshot/snapshot_reader.h"
#include "tools/ctl/snapshot_summary.h"
#include "tools/ctl/snapshot_transfer.h"

namespace warmcache::ctl {

namespace {

using storage::snapshot::SnapshotReader;
using storage::snapshot::SnapshotRecord;

constexpr const char* kGroupHelp =
    "Usage: warmcachectl snapshot COMMAND ...\n"
    "Portable snapshot files: one file that moves a cache between machines and versions.";

constexpr const char* kInspectHelp =
    "Usage: warmcachectl snapshot inspect PATH\n"
    "Prints a snapshot's header (version, creation time, source, next CAS, flush state), its\n"
    "totals, a histogram of item TTLs relative to now, and whether every checksum matched (it\n"
    "reads the whole file). Exit status: 0 intact, 1 damaged or not a snapshot, 64 usage.";

constexpr const char* kVerifyHelp =
    "Usage: warmcachectl snapshot verify PATH\n"
    "Reads the whole snapshot and checks every checksum and the trailer's totals. Prints\n"
    "\"OK: N records, M bytes, checksums verified\" (M: key and value bytes), or the problem on\n"
    "stderr. Exit status: 0 intact, 1 damaged or not a snapshot, 64 usage.";

// Reads all of `path` into `summary`; the reader's first error ends up in summary->status.
// Returns false if the file could not even be opened as a snapshot.
bool ReadSummary(const std::string& path, int64_t now, SnapshotSummary* summary) {
  summary->path = path;
  Result<std::unique_ptr<SnapshotReader>> reader = SnapshotReader::Open(path);
  if (!reader.ok()) {
    summary->status = reader.status();
    return false;
  }
  summary->info = (*reader)->info();
  summary->file_bytes = (*reader)->file_bytes();
  SnapshotRecord record;
  for (;;) {
    Result<bool> more = (*reader)->Next(&record);
    if (!more.ok()) summary->status = more.status();
    if (!more.ok() || !*more) break;
    summary->ttl.Add(record.exptime, now);
  }
  summary->totals = (*reader)->totals();
  return true;
}

// Parses `args` as one PATH; on help or a usage error, sets *exit_code and returns false.
bool PathOrExit(const Args& args, const char* command, const char* help, std::string* path,
                int* exit_code) {
  PathArgs parsed = ParseOnePath(args);
  if (parsed.kind == PathArgs::Kind::kHelp) {
    fmt::print("{}\n", help);
    *exit_code = kExitOk;
    return false;
  }
  if (parsed.kind == PathArgs::Kind::kError) {
    *exit_code = UsageError(command, parsed.error);
    return false;
  }
  *path = parsed.path;
  return true;
}

int RunInspect(const Args& args) {
  std::string path;
  int exit_code = kExitOk;
  if (!PathOrExit(args, "snapshot inspect", kInspectHelp, &path, &exit_code)) return exit_code;
  const int64_t now = SystemClock::Get()->NowSeconds();
  SnapshotSummary summary;
  if (ReadSummary(path, now, &summary)) fmt::print("{}", FormatSummary(summary, now));
  if (!summary.status.ok()) return Fail(path + ": " + summary.status.message());
  return kExitOk;
}

int RunVerify(const Args& args) {
  std::string path;
  int exit_code = kExitOk;
  if (!PathOrExit(args, "snapshot verify", kVerifyHelp, &path, &exit_code)) return exit_code;
  SnapshotSummary summary;
  ReadSummary(path, SystemClock::Get()->NowSeconds(), &summary);
  if (!summary.status.ok()) return Fail(path + ": " + summary.status.message());
  fmt::print("OK: {} records, {} bytes, checksums verified\n", summary.totals.records,
             summary.totals.key_bytes + summary.totals.value_bytes);
  return kExitOk;
}

}  // namespace

int RunSnapshotCommand(const Args& args) {
  static const std::vector<Command> kCommands = {
      kSnapshotCreate,
      kSnapshotRestore,
      {"inspect", "print a snapshot's header, totals and TTL histogram; check it", RunInspect},
      {"verify", "check every checksum of a snapshot", RunVerify},
  };
  return Dispatch("snapshot", kGroupHelp, kCommands, args);
}

}  // namespace warmcache::ctl
