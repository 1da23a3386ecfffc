// SPDX-License-Identifier: BSD-3-Clause
#include "tools/ctl/ring_move.h"

#include <fmt/core.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <map>
#include <memory>
#include <string_view>
#include <utility>

#include "server/common/clock.h"
#include "server/protocol/base64.h"
#include "server/ring/pool_config.h"
#include "server/ring/ring.h"
#include "storage/snapshot/snapshot_reader.h"
#include "tools/ctl/node_client.h"

namespace warmcache::ctl {

namespace {

using storage::snapshot::SnapshotReader;
using storage::snapshot::SnapshotRecord;

constexpr const char* kHelp =
    "Usage: warmcachectl ring move --pool OLD --pool-new NEW [--pool-name NAME] [--delete-moved]\n"
    "Warm hand-off after a pool change: copies every item whose owner the change moved from its\n"
    "old node to its new one, so the new pool starts with the old pool's hit ratio.\n"
    "Switch clients (or the proxy) to NEW first, then run this; see docs/handoff.md.\n"
    "For each node of OLD: asks it for a snapshot file (the `snapshot` command; the node needs\n"
    "--snapshot-dir), reads the file, and stores each live item that OLD gives this node and NEW\n"
    "gives another on that other node, in add mode (`ms ... ME`): a value already there, e.g. one\n"
    "written through NEW since the switch, is never overwritten. Flags and the remaining TTL\n"
    "are kept; expired and stale items are not moved; CAS values are new.\n"
    "The tool reads the snapshot files where the nodes write them, so it must run on the nodes'\n"
    "machine, or where their --snapshot-dir is visible under the same path.\n"
    "  --pool OLD        the pool file (twemproxy YAML) the items were stored with\n"
    "  --pool-new NEW    the pool file clients use now\n"
    "  --pool-name NAME  the pool to use in both files (default: each file's only pool)\n"
    "  --delete-moved    then delete each moved item from its old node (only items stored on,\n"
    "                    or already present on, the new owner; not if changed since the\n"
    "                    snapshot), so no old copy comes back if the ring changes again\n"
    "Prints per node and in total: items scanned, moved, already present on the new owner,\n"
    "expired, failed, owner unchanged, not owned (left over from an older ring, not moved),\n"
    "stale, deleted; seconds and items scanned per second.\n"
    "Exit status: 0 done, 1 a node could not be reached or an item could not be moved, 64 usage.";

constexpr size_t kBatchItems = 4096;             // requests per round trip ...
constexpr size_t kBatchBytes = size_t{4} << 20;  // ... or this many request bytes
constexpr std::chrono::milliseconds kTimeout = std::chrono::seconds(60);
constexpr uint8_t kItemStale = 1;   // snapshot item bits (storage/rocks/FORMAT.md)
constexpr uint8_t kItemBase64 = 4;  // the key was stored with the meta `b` flag

struct Pools {
  ring::PoolConfig old_pool;
  ring::PoolConfig new_pool;
  ring::Ring old_ring;
  ring::Ring new_ring;
};

struct MoveCounts {
  uint64_t scanned = 0, moved = 0, present = 0, expired = 0, failed = 0;
  uint64_t stay = 0, not_owned = 0, stale = 0, deleted = 0, not_deleted = 0;
  double seconds = 0;

  void Add(const MoveCounts& o) {
    scanned += o.scanned, moved += o.moved, present += o.present, expired += o.expired;
    failed += o.failed, stay += o.stay, not_owned += o.not_owned, stale += o.stale;
    deleted += o.deleted, not_deleted += o.not_deleted, seconds += o.seconds;
  }
  std::string Format(std::string_view what, bool deletes) const {
    std::string line = fmt::format(
        "{}: scanned {}, moved {}, already present {}, expired {}, failed {}, owner unchanged "
        "{}, not owned {}, stale {}",
        what, scanned, moved, present, expired, failed, stay, not_owned, stale);
    if (deletes) line += fmt::format(", deleted {}, not deleted {}", deleted, not_deleted);
    return line + fmt::format("; {:.2f} s, {:.0f} items/s", seconds,
                              seconds > 0 ? static_cast<double>(scanned) / seconds : 0.0);
  }
};

// Appends the key as a request token: base64 (for the `b` flag; returns true) when it was
// stored that way or holds bytes a text key cannot.
bool AppendKey(std::string* out, const std::string& key, bool was_base64) {
  bool base64 = was_base64;
  for (unsigned char c : key) base64 = base64 || c <= ' ' || c == 0x7f;
  if (!base64) {
    out->append(key);
    return false;
  }
  std::string encoded;
  protocol::Base64Encode(key, &encoded);
  out->append(encoded);
  return true;
}

// Requests of one pipelined round trip, and the item each one is about.
struct Batch {
  struct Entry {
    std::string key;
    uint64_t cas = 0;  // the snapshot's, so a delete can check the item did not change since
    uint8_t item_bits = 0;
  };
  std::string requests;
  std::vector<Entry> entries;

  bool full() const { return entries.size() >= kBatchItems || requests.size() >= kBatchBytes; }
  void Clear() {
    requests.clear();
    entries.clear();
  }
  // `ms <key> <len> [b] F<flags> T<ttl> ME q O<i>`: add mode, quiet, tagged with its index.
  void AddSet(const SnapshotRecord& r, int64_t ttl) {
    requests += "ms ";
    const bool base64 = AppendKey(&requests, r.key, (r.item_bits & kItemBase64) != 0);
    requests += fmt::format(" {}{} F{} T{} ME q O{}\r\n", r.value.size(), base64 ? " b" : "",
                            r.client_flags, ttl, entries.size());
    requests += r.value;
    requests += "\r\n";
    entries.push_back({r.key, r.cas, r.item_bits});
  }
  // `md <key> [b] [C<cas>] q O<i>`: only if the item is still the one the snapshot saw.
  void AddDelete(const Entry& e) {
    requests += "md ";
    const bool base64 = AppendKey(&requests, e.key, (e.item_bits & kItemBase64) != 0);
    requests += fmt::format("{}{} q O{}\r\n", base64 ? " b" : "",
                            e.cas != 0 ? fmt::format(" C{}", e.cas) : "", entries.size());
    entries.push_back(e);
  }
};

// Hands off the nodes of the old pool one after the other.
class Mover {
 public:
  Mover(const Pools& pools, bool delete_moved) : pools_(pools), delete_moved_(delete_moved) {}

  // Moves what node `index` of the old pool must give away; prints its summary line.
  // False if anything failed (the reason is printed, one line each).
  bool MoveNode(size_t index, MoveCounts* counts);

 private:
  struct Target {
    std::unique_ptr<NodeConnection> conn;  // null if it could not be reached
    Batch batch;
  };

  bool ReadSnapshot(const std::string& source, const std::string& path, MoveCounts* c);
  void Route(const SnapshotRecord& r, const std::string& source, int64_t now, MoveCounts* c);
  Target& TargetFor(const std::string& address);
  void FlushTarget(Target& t, MoveCounts* c);
  void FlushDeletes(MoveCounts* c);
  void Report(const std::string& line);

  const Pools& pools_;  // not owned; outlives the mover
  const bool delete_moved_;
  std::map<std::string, Target> targets_;   // by address, connected on first use
  std::unique_ptr<NodeConnection> source_;  // the node being handed off, for deletes
  Batch deletes_;
  bool ok_ = true;  // false once anything failed for the node being handed off
};

void Mover::Report(const std::string& line) {
  ok_ = false;
  Fail(line);
}

Mover::Target& Mover::TargetFor(const std::string& address) {
  auto [it, inserted] = targets_.try_emplace(address);
  if (inserted) {
    Result<std::unique_ptr<NodeConnection>> conn = NodeConnection::Connect(address, kTimeout);
    if (conn.ok()) {
      it->second.conn = std::move(*conn);
    } else {
      Report(conn.status().message());
    }
  }
  return it->second;
}

void Mover::Route(const SnapshotRecord& r, const std::string& source, int64_t now, MoveCounts* c) {
  ++c->scanned;
  const int64_t ttl = RemainingTtl(r.exptime, now);
  const int old_owner = pools_.old_ring.Owner(r.key);
  const int new_owner = pools_.new_ring.Owner(r.key);
  if (ttl < 0) {
    ++c->expired;
  } else if ((r.item_bits & kItemStale) != 0) {
    ++c->stale;
  } else if (old_owner < 0 || pools_.old_pool.servers[old_owner].Address() != source) {
    ++c->not_owned;  // an older ring's copy: it may be out of date, so it stays where it is
  } else if (new_owner < 0 || pools_.new_pool.servers[new_owner].Address() == source) {
    ++c->stay;
  } else {
    Target& t = TargetFor(pools_.new_pool.servers[new_owner].Address());
    if (!t.conn) {
      ++c->failed;
    } else if (source_ && !t.conn->peer().empty() && t.conn->peer() == source_->peer()) {
      ++c->stay;  // two names of the source itself: nothing to move, and never to delete
    } else {
      t.batch.AddSet(r, ttl);
      if (t.batch.full()) FlushTarget(t, c);
    }
  }
}

void Mover::FlushTarget(Target& t, MoveCounts* c) {
  if (t.batch.entries.empty()) return;
  const size_t n = t.batch.entries.size();
  Result<std::vector<std::string>> lines = t.conn->RoundTrip(t.batch.requests);
  if (!lines.ok()) {
    c->failed += n;
    Report(lines.status().message());
    t.conn.reset();  // every later item for this node fails at once
    t.batch.Clear();
    return;
  }
  const QuietReplies replies = MatchQuietReplies(*lines, n);
  // An error line that names no request could be any item's: the hidden successes count as
  // moved less that many failures, and none of them is deleted from the old node.
  const bool certain = replies.errors.empty();
  uint64_t hidden = 0;
  for (size_t i = 0; i < n; ++i) {
    const std::string& code = replies.codes[i];
    if (code.empty()) ++hidden;
    if (code == "NS") ++c->present;
    if (!code.empty() && code != "NS") ++c->failed;
    const bool on_new_owner = code == "NS" || (code.empty() && certain);
    if (delete_moved_ && on_new_owner) deletes_.AddDelete(t.batch.entries[i]);
  }
  const uint64_t unknown = std::min<uint64_t>(hidden, replies.errors.size());
  c->moved += hidden - unknown;
  c->failed += unknown;
  if (!certain) Report(fmt::format("{}: {}", t.conn->address(), replies.errors.front()));
  t.batch.Clear();
  if (deletes_.full()) FlushDeletes(c);
}

void Mover::FlushDeletes(MoveCounts* c) {
  const size_t n = deletes_.entries.size();
  if (n == 0) return;
  Result<std::vector<std::string>> lines = Status::IoError("not connected");
  if (source_) {
    lines = source_->RoundTrip(deletes_.requests);
    if (!lines.ok()) Report(lines.status().message());
  }
  deletes_.Clear();
  if (!lines.ok()) {
    c->not_deleted += n;
    source_.reset();
    return;
  }
  // EX: changed since the snapshot, so it is kept. NF: gone already (expired, evicted). An
  // error line names no request: that many silent ones count as not deleted.
  const QuietReplies replies = MatchQuietReplies(*lines, n);
  const uint64_t silent = std::count(replies.codes.begin(), replies.codes.end(), "");
  const uint64_t unknown = std::min<uint64_t>(silent, replies.errors.size());
  c->deleted += silent - unknown;
  c->not_deleted += n - (silent - unknown);
  if (!replies.errors.empty()) {
    Report(fmt::format("{}: {}", source_->address(), replies.errors.front()));
  }
}

bool Mover::ReadSnapshot(const std::string& source, const std::string& path, MoveCounts* c) {
  Result<std::unique_ptr<SnapshotReader>> reader = SnapshotReader::Open(path);
  if (!reader.ok()) {
    Report(
        fmt::format("cannot read {}, the snapshot file {} wrote ({}): ring move must run "
                    "where the nodes' --snapshot-dir is visible{}",
                    path, source, reader.status().message(),
                    path.rfind('/', 0) == 0 ? "" : " (and given as an absolute path)"));
    return false;
  }
  const int64_t now = SystemClock::Get()->NowSeconds();
  SnapshotRecord record;
  for (;;) {
    Result<bool> more = (*reader)->Next(&record);
    if (!more.ok()) {
      Report(fmt::format("{}: {}", path, more.status().message()));
      return false;
    }
    if (!*more) return true;
    Route(record, source, now, c);
  }
}

bool Mover::MoveNode(size_t index, MoveCounts* counts) {
  const std::string source = pools_.old_pool.servers[index].Address();
  const auto started = std::chrono::steady_clock::now();
  ok_ = true;
  MoveCounts c;
  Result<std::string> reply = AskServer(source, "snapshot\r\n");
  if (!reply.ok()) {
    Report(reply.status().message());
  } else if (reply->rfind("OK ", 0) != 0) {
    Report(fmt::format("{}: snapshot: {}", source, *reply));
  } else {
    // "OK <path> <items>"; the path may hold spaces, the count does not.
    const std::string path = reply->substr(3, reply->rfind(' ') - 3);
    // For deletes, and to recognise the source under another name in the new pool.
    Result<std::unique_ptr<NodeConnection>> conn = NodeConnection::Connect(source, kTimeout);
    if (conn.ok()) {
      source_ = std::move(*conn);
    } else {
      Report(conn.status().message());
    }
    ReadSnapshot(source, path, &c);
    for (auto& [address, target] : targets_) {
      if (target.conn) FlushTarget(target, &c);
    }
    FlushDeletes(&c);
    source_.reset();
  }
  if (c.failed > 0) ok_ = false;
  c.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  fmt::print("{}\n", c.Format(source, delete_moved_));
  std::fflush(stdout);
  counts->Add(c);
  return ok_;
}

// Loads both pool files and builds their rings; a one-line message on failure.
Result<Pools> LoadPools(const ParsedOptions& p) {
  Pools pools;
  Result<ring::PoolConfig> old_pool = ring::LoadPoolConfig(p.Get("pool"), p.Get("pool-name"));
  if (!old_pool.ok()) return old_pool.status();
  Result<ring::PoolConfig> new_pool = ring::LoadPoolConfig(p.Get("pool-new"), p.Get("pool-name"));
  if (!new_pool.ok()) return new_pool.status();
  pools.old_pool = std::move(*old_pool);
  pools.new_pool = std::move(*new_pool);
  for (const ring::PoolConfig* pool : {&pools.old_pool, &pools.new_pool}) {
    for (const std::string& warning : pool->warnings) {
      fmt::print(stderr, "warmcachectl: warning: pool '{}': {}\n", pool->name, warning);
    }
    if (pool->replicas != 1) {
      return Status::InvalidArgument(
          fmt::format("pool {}: replicas: {}: ring move handles pools of one copy per key only",
                      pool->name, pool->replicas));
    }
  }
  pools.old_ring = ring::BuildRing(pools.old_pool);
  pools.new_ring = ring::BuildRing(pools.new_pool);
  return pools;
}

}  // namespace

int64_t RemainingTtl(uint32_t exptime, int64_t now) {
  constexpr int64_t kMaxRelative = 30 * 24 * 3600;  // memcached's limit for relative times
  if (exptime == 0) return 0;
  const int64_t left = static_cast<int64_t>(exptime) - now;
  if (left <= 0) return -1;
  return left <= kMaxRelative ? left : static_cast<int64_t>(exptime);
}

QuietReplies MatchQuietReplies(const std::vector<std::string>& lines, size_t requests) {
  QuietReplies out;
  out.codes.resize(requests);
  for (const std::string& line : lines) {
    const size_t space = line.find(' ');
    const std::string code = line.substr(0, space);
    size_t index = requests;  // none
    for (size_t pos = space; pos != std::string::npos && code.size() == 2;) {
      const size_t start = pos + 1;
      pos = line.find(' ', start);
      const std::string token = line.substr(start, pos == std::string::npos ? pos : pos - start);
      if (token.size() < 2 || token[0] != 'O') continue;
      const std::string digits = token.substr(1);
      if (digits.find_first_not_of("0123456789") == std::string::npos && digits.size() < 10) {
        index = std::stoul(digits);
      }
    }
    if (index < requests && out.codes[index].empty()) {
      out.codes[index] = code;
    } else {
      out.errors.push_back(line);
    }
  }
  return out;
}

int RunRingMove(const Args& args) {
  const ParsedOptions p = ParseOptions(args, {"pool", "pool-new", "pool-name"}, {"delete-moved"});
  if (p.help) {
    fmt::print("{}\n", kHelp);
    return kExitOk;
  }
  if (!p.error.empty()) return UsageError("ring move", p.error);
  if (!p.positional.empty()) return UsageError("ring move", "unexpected " + p.positional[0]);
  if (p.Get("pool").empty() || p.Get("pool-new").empty()) {
    return UsageError("ring move", "give --pool OLD and --pool-new NEW");
  }
  Result<Pools> pools = LoadPools(p);
  if (!pools.ok()) return Fail(pools.status().message());
  Mover mover(*pools, p.Has("delete-moved"));
  MoveCounts total;
  bool ok = true;
  for (size_t i = 0; i < pools->old_pool.servers.size(); ++i) {
    ok = mover.MoveNode(i, &total) && ok;
  }
  fmt::print("{}\n", total.Format("total", p.Has("delete-moved")));
  return ok ? kExitOk : kExitFailure;
}

}  // namespace warmcache::ctl
