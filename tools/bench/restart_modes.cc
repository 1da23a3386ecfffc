// SPDX-License-Identifier: BSD-3-Clause
#include "tools/bench/restart_modes.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <thread>
#include <vector>

#include "tools/bench/blocking_client.h"
#include "tools/bench/request_codec.h"
#include "tools/bench/run_stats.h"
#include "tools/bench/write_log.h"

namespace warmcache::tools::bench {

namespace {

constexpr int kIoTimeoutMs = 2000;  // a reply slower than this counts as a lost connection

double SecondsSince(int64_t start_ns) { return static_cast<double>(NowNs() - start_ns) / 1e9; }

double EpochSeconds() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// Free text in a JSON string: quotes, backslashes and control bytes become spaces.
std::string JsonText(std::string text) {
  for (char& c : text) {
    if (c == '"' || c == '\\' || static_cast<unsigned char>(c) < 0x20) c = ' ';
  }
  return text;
}

std::string JsonHead(const BenchOptions& o) {
  return fmt::format("{{\"tool\":\"warmcache-bench\",\"label\":\"{}\",\"mode\":\"{}\",\"port\":{}",
                     JsonText(o.label), ModeName(o.mode), o.port);
}

bool Emit(const BenchOptions& o, const std::string& text, const std::string& json) {
  fmt::print("{}", text);
  std::fflush(stdout);
  if (o.json_path.empty()) {
    fmt::print("{}\n", json);
    return true;
  }
  std::FILE* file = std::fopen(o.json_path.c_str(), "a");
  if (file == nullptr) return false;
  fmt::print(file, "{}\n", json);
  return std::fclose(file) == 0;
}

// ready: the first answered "version", each try on a fresh connection.
int RunReady(const BenchOptions& o, const sockaddr_in& address) {
  const int64_t start = NowNs();
  const auto poll = std::chrono::milliseconds(o.poll_ms);
  uint64_t attempts = 0;
  std::string version;
  double ready_epoch = 0;
  while (SecondsSince(start) < o.max_time_s) {
    const auto next = std::chrono::steady_clock::now() + poll;
    ++attempts;
    Result<BlockingClient> client = BlockingClient::Open(address, kIoTimeoutMs);
    if (client.ok() && client->Send("version\r\n").ok()) {
      Result<std::string> line = client->ReadLine();
      if (line.ok() && line->starts_with("VERSION ")) {
        ready_epoch = EpochSeconds();
        version = line->substr(8);
        break;
      }
    }
    std::this_thread::sleep_until(next);
  }
  const bool ready = ready_epoch != 0;
  const double waited = SecondsSince(start);
  const std::string text =
      ready ? fmt::format("warmcache-bench ready: '{}' answered after {:.3f} s, {} attempt(s)\n",
                          version, waited, attempts)
            : fmt::format("warmcache-bench ready: no answer within {:.1f} s\n", o.max_time_s);
  const std::string json =
      JsonHead(o) +
      fmt::format(
          ",\"ready\":{},\"attempts\":{},\"wait_s\":{:.4f},\"ready_epoch_s\":{:.6f},\"poll_ms\":{},"
          "\"ok\":{}}}",
          ready, attempts, waited, ready_epoch, o.poll_ms, ready);
  if (!Emit(o, text, json)) return 2;
  return ready ? 0 : 1;
}

struct WriteTotals {
  uint64_t sent = 0;
  uint64_t acked = 0;
  uint64_t error_replies = 0;
  std::string stop_reason = "duration";
};

// One round: a set on every connection, then every reply. Versions of a key are K positions
// apart, so the previous version of any key was answered (or its connection lost) in an earlier
// round: no two sets of one key are ever in flight together, and "acknowledged" is exact.
bool WriteRound(const BenchOptions& o, const VersionedValues& values,
                std::vector<BlockingClient>& clients, uint64_t* position, WriteLog* log,
                WriteTotals* totals) {
  std::vector<uint64_t> keys;
  std::string request;
  bool alive = true;
  for (BlockingClient& client : clients) {
    const uint64_t key = *position % o.keys;
    const auto version = static_cast<uint32_t>(*position / o.keys + 1);
    request.clear();
    values.AppendSet(key, version, &request);
    log->sent[key] = version;
    ++totals->sent;
    ++*position;
    keys.push_back(key);
    Status status = client.Send(request);
    if (!status.ok()) {
      totals->stop_reason = status.ToString();
      alive = false;
      break;
    }
  }
  Reply reply;
  for (size_t i = 0; i < keys.size() && alive; ++i) {
    Status status = clients[i].ReadReply(ExpectedReply::kStorage, &reply);
    if (!status.ok()) {
      totals->stop_reason = status.ToString();
      alive = false;
    } else if (reply.kind == ReplyKind::kStored) {
      log->acked[keys[i]] = log->sent[keys[i]];
      ++totals->acked;
    } else {
      ++totals->error_replies;
    }
  }
  return alive;
}

int RunWrite(const BenchOptions& o, const sockaddr_in& address) {
  if (o.log_path.empty() || o.value_size < 16) {
    fmt::print(stderr, "warmcache-bench: write mode needs --log and --value-size >= 16\n");
    return 2;
  }
  const RequestCodec codec(o.key_prefix, o.value_size, o.value_kind);
  const VersionedValues values(&codec, o.value_size, o.value_kind);
  std::vector<BlockingClient> clients;
  const auto connections = static_cast<int>(std::min<uint64_t>(o.connections, o.keys));
  for (int i = 0; i < connections; ++i) {
    Result<BlockingClient> client = BlockingClient::Open(address, kIoTimeoutMs);
    if (!client.ok()) {
      fmt::print(stderr, "warmcache-bench: {}\n", client.status().ToString());
      return 2;
    }
    clients.push_back(std::move(client).value());
  }
  WriteLog log(o.keys);
  WriteTotals totals;
  uint64_t position = 0;
  const int64_t start = NowNs();
  while (SecondsSince(start) < o.duration_s &&
         WriteRound(o, values, clients, &position, &log, &totals)) {
  }
  const double seconds = SecondsSince(start);
  uint64_t written = 0;
  for (uint32_t v : log.acked) written += v != 0;
  if (Status saved = log.Save(o.log_path); !saved.ok()) {
    fmt::print(stderr, "warmcache-bench: {}\n", saved.ToString());
    return 2;
  }
  const std::string text = fmt::format(
      "warmcache-bench write: {} sets sent, {} acknowledged ({:.0f}/s) over {} keys ({} with an "
      "acknowledged write) in {:.2f} s; {} error replies; stopped: {}\n",
      totals.sent, totals.acked, totals.acked / seconds, o.keys, written, seconds,
      totals.error_replies, totals.stop_reason);
  const std::string json =
      JsonHead(o) +
      fmt::format(
          ",\"keys\":{},\"value_size\":{},\"connections\":{},\"seconds\":{:.3f},\"sets_sent\":{},"
          "\"sets_acked\":{},\"sets_per_s\":{:.1f},\"keys_written\":{},\"rounds\":{},"
          "\"error_replies\":{},\"stop_reason\":\"{}\",\"ok\":{}}}",
          o.keys, o.value_size, clients.size(), seconds, totals.sent, totals.acked,
          totals.acked / seconds, written, position / std::max<size_t>(clients.size(), 1),
          totals.error_replies, JsonText(totals.stop_reason), totals.error_replies == 0);
  if (!Emit(o, text, json)) return 2;
  return totals.error_replies == 0 ? 0 : 1;
}

struct CheckTotals {
  uint64_t current = 0;     // the last acknowledged version
  uint64_t newer = 0;       // a version sent after it but never acknowledged
  uint64_t stale = 0;       // older than the last acknowledged version
  uint64_t corrupt = 0;     // not a value any write sent (bytes, flags, version)
  uint64_t misses = 0;      // no value
  uint64_t lost_acked = 0;  // misses and stale values of keys with an acknowledged write
  uint64_t first_bad_key = UINT64_MAX;
};

void Classify(const VersionedValues& values, const WriteLog& log, uint64_t key,
              const ValueRef* value, CheckTotals* t) {
  const uint32_t acked = log.acked[key];
  if (value == nullptr) {
    ++t->misses;
    t->lost_acked += acked != 0;
    return;
  }
  const uint32_t version = values.VersionOf(key, value->flags, value->data);
  if (version == 0 || version > log.sent[key]) {
    ++t->corrupt;
  } else if (version < acked) {
    ++t->stale;
    ++t->lost_acked;
  } else if (version == acked) {
    ++t->current;
    return;
  } else {
    ++t->newer;
    return;
  }
  t->first_bad_key = std::min(t->first_bad_key, key);
}

Status CheckBatch(const BenchOptions& o, const RequestCodec& codec, const VersionedValues& values,
                  const WriteLog& log, BlockingClient& client, uint64_t first, CheckTotals* t) {
  const uint64_t end = std::min<uint64_t>(first + o.multiget_keys, o.keys);
  std::string request = "get";
  for (uint64_t k = first; k < end; ++k) request += " " + codec.Key(k);
  request += "\r\n";
  WC_RETURN_IF_ERROR(client.Send(request));
  Reply reply;
  WC_RETURN_IF_ERROR(client.ReadReply(ExpectedReply::kRetrieval, &reply));
  if (reply.kind != ReplyKind::kEnd) return Status::IoError("error reply to get");
  size_t next = 0;  // servers skip misses but keep the order asked
  for (uint64_t k = first; k < end; ++k) {
    const bool hit = next < reply.values.size() && reply.values[next].key == codec.Key(k);
    Classify(values, log, k, hit ? &reply.values[next] : nullptr, t);
    next += hit;
  }
  if (next != reply.values.size()) return Status::Corruption("a value for a key not asked");
  return Status::Ok();
}

int RunCheck(const BenchOptions& o, const sockaddr_in& address) {
  Result<WriteLog> log = WriteLog::Load(o.log_path);
  if (!log.ok() || log->sent.size() != o.keys || o.value_size < 16) {
    fmt::print(stderr,
               "warmcache-bench: check needs the --log of a write run with the same "
               "--keys and --value-size (>= 16){}\n",
               log.ok() ? "" : ": " + log.status().ToString());
    return 2;
  }
  const RequestCodec codec(o.key_prefix, o.value_size, o.value_kind);
  const VersionedValues values(&codec, o.value_size, o.value_kind);
  Result<BlockingClient> client = BlockingClient::Open(address, kIoTimeoutMs);
  if (!client.ok()) {
    fmt::print(stderr, "warmcache-bench: {}\n", client.status().ToString());
    return 2;
  }
  CheckTotals t;
  Status status;
  const int64_t start = NowNs();
  uint64_t first = 0;
  for (; first < o.keys && status.ok() && SecondsSince(start) < o.max_time_s;
       first += o.multiget_keys) {
    status = CheckBatch(o, codec, values, *log, *client, first, &t);
  }
  uint64_t written = 0;
  for (uint32_t v : log->acked) written += v != 0;
  const bool complete = status.ok() && first >= o.keys;
  const bool ok = complete && t.stale == 0 && t.corrupt == 0;
  const uint64_t hits = t.current + t.newer + t.stale + t.corrupt;
  const std::string text = fmt::format(
      "warmcache-bench check: {} keys ({} with an acknowledged write): {} hits ({} current, {} "
      "newer than acknowledged, {} STALE, {} CORRUPT), {} misses; {} acknowledged writes "
      "lost{}{}\n",
      o.keys, written, hits, t.current, t.newer, t.stale, t.corrupt, t.misses, t.lost_acked,
      t.first_bad_key == UINT64_MAX ? "" : "; first bad key " + codec.Key(t.first_bad_key),
      complete ? ""
               : "; INCOMPLETE: " + (status.ok() ? std::string("time up") : status.ToString()));
  const std::string json =
      JsonHead(o) +
      fmt::format(
          ",\"keys\":{},\"keys_written\":{},\"seconds\":{:.3f},\"hits\":{},\"hit_ratio\":{:.4f},"
          "\"current\":{},\"newer\":{},\"stale\":{},\"corrupt\":{},\"misses\":{},\"lost_acked\":{},"
          "\"complete\":{},\"ok\":{}}}",
          o.keys, written, SecondsSince(start), hits, static_cast<double>(hits) / o.keys, t.current,
          t.newer, t.stale, t.corrupt, t.misses, t.lost_acked, complete, ok);
  if (!Emit(o, text, json)) return 2;
  return ok ? 0 : 1;
}

}  // namespace

int RunRestartMode(const BenchOptions& options) {
  Result<sockaddr_in> address = MakeAddress(options.host, options.port);
  if (!address.ok()) {
    fmt::print(stderr, "warmcache-bench: {}\n", address.status().message());
    return 2;
  }
  switch (options.mode) {
    case Mode::kReady:
      return RunReady(options, *address);
    case Mode::kWrite:
      return RunWrite(options, *address);
    case Mode::kCheck:
      return RunCheck(options, *address);
    default:
      return 2;
  }
}

}  // namespace warmcache::tools::bench
