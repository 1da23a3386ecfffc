// SPDX-License-Identifier: BSD-3-Clause
#include "tests/testutil/crash_workload.h"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <memory>
#include <random>
#include <string_view>
#include <thread>
#include <unordered_map>

#include "tests/testutil/escape.h"

namespace warmcache::testutil {

namespace {

constexpr size_t kMaxExamples = 8;
constexpr size_t kMaxSegments = 4;       // appends stop there; the next write is a set
constexpr size_t kMinAppend = 50;        // an appended segment's payload, uniform in ...
constexpr size_t kMaxAppend = 500;       // ... [kMinAppend, kMaxAppend]
constexpr size_t kKeysPerGet = 100;      // keys per multi-get in Check()
constexpr size_t kPoolBytes = 64 << 10;  // payloads are slices of a random pool this big

uint64_t Fnv1a(std::string_view bytes, uint64_t hash = 1469598103934665603ull) {
  for (unsigned char c : bytes) hash = (hash ^ c) * 1099511628211ull;
  return hash;
}

uint64_t Mix(uint64_t x) {
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdull;
  x ^= x >> 33;
  return x;
}

// The flags a set of `version` stores; a value's flags must match its first segment.
uint32_t FlagsOf(uint64_t version) { return static_cast<uint32_t>(Mix(version)); }

std::optional<uint64_t> ParseU64(std::string_view text) {
  uint64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty()) return std::nullopt;
  return value;
}

// Splits `data` into segments of `key`; false (and `why`) on any inconsistency.
bool ParseSegments(const std::string& key, std::string_view data, std::vector<uint64_t>* versions,
                   std::string* why) {
  const auto fail = [why](std::string text) {
    *why = std::move(text);
    return false;
  };
  size_t pos = 0;
  while (pos < data.size()) {
    const size_t bar = data.find('|', pos);
    if (bar == std::string_view::npos) return fail("no '|' after byte " + std::to_string(pos));
    const std::string_view header = data.substr(pos, bar - pos);
    const size_t s1 = header.find('/');
    const size_t s2 = header.find('/', s1 + 1);
    const size_t s3 = header.find('/', s2 + 1);
    if (s3 == std::string_view::npos || header.substr(0, s1) != key) {
      return fail("bad header '" + EscapeBytes(header.substr(0, 80)) + "'");
    }
    const auto version = ParseU64(header.substr(s1 + 1, s2 - s1 - 1));
    const auto len = ParseU64(header.substr(s2 + 1, s3 - s2 - 1));
    if (!version || !len || bar + 1 + *len > data.size()) {
      return fail("bad version/length in '" + EscapeBytes(header) + "'");
    }
    const std::string_view payload = data.substr(bar + 1, *len);
    char hex[17];
    std::snprintf(hex, sizeof(hex), "%016llx",
                  static_cast<unsigned long long>(Fnv1a(payload, Fnv1a(header.substr(0, s3)))));
    if (header.substr(s3 + 1) != hex) {
      return fail("checksum mismatch in segment of version " + std::to_string(*version));
    }
    versions->push_back(*version);
    pos = bar + 1 + *len;
  }
  if (versions->empty()) return fail("empty value");
  return true;
}

void AddExample(std::vector<std::string>* examples, std::string text) {
  if (examples->size() < kMaxExamples) examples->push_back(std::move(text));
}

}  // namespace

std::string CrashCheck::Summary() const {
  return "hits " + std::to_string(hits) + ", misses " + std::to_string(misses) + ", stale " +
         std::to_string(stale) + ", corrupt " + std::to_string(corrupt) + ", lost " +
         std::to_string(lost) + ", uncertain " + std::to_string(uncertain) + ", unread " +
         std::to_string(unread);
}

CrashWorkload::CrashWorkload(const CrashWorkloadOptions& options) : options_(options) {
  std::mt19937 rng(options.seed);
  pool_.resize(kPoolBytes);
  for (char& c : pool_) c = static_cast<char>('a' + rng() % 26);
  keys_.resize(static_cast<size_t>(options.blob_keys + options.counter_keys));
  for (size_t i = 0; i < keys_.size(); ++i) {
    const bool counter = i >= static_cast<size_t>(options.blob_keys);
    keys_[i].counter = counter;
    keys_[i].name =
        counter ? "ctr:" + std::to_string(i - options.blob_keys) : "blob:" + std::to_string(i);
  }
  for (Key& key : keys_) key.since_acked[0] = State{};  // never written: a miss
}

std::string CrashWorkload::Segment(const std::string& key, uint64_t version, size_t len) const {
  const size_t at = Mix(Fnv1a(key) ^ version) % (pool_.size() - len + 1);
  const std::string_view payload(pool_.data() + at, len);
  const std::string header = key + "/" + std::to_string(version) + "/" + std::to_string(len);
  char hex[17];
  std::snprintf(hex, sizeof(hex), "%016llx",
                static_cast<unsigned long long>(Fnv1a(payload, Fnv1a(header))));
  return header + "/" + hex + "|" + std::string(payload);
}

CrashWorkload::Pending CrashWorkload::AddRequest(size_t index, uint32_t random, std::string* out) {
  Key& key = keys_[index];
  const uint64_t version = key.highest_sent + 1;
  Pending pending{index, version, "STORED"};
  State next;
  if (key.counter) {
    // incr only from the highest number sent, so every version is used once; else restart
    // the count there with a set.
    next = State{.present = true, .flags = 0, .segments = {version}};
    if (key.current.present && key.current.segments[0] == key.highest_sent) {
      *out += "incr " + key.name + " 1\r\n";
      pending.expect = std::to_string(version);
    } else {
      const std::string number = std::to_string(version);
      *out +=
          "set " + key.name + " 0 0 " + std::to_string(number.size()) + "\r\n" + number + "\r\n";
    }
  } else if (key.current.present && random % 100 < 15) {
    *out += "delete " + key.name + "\r\n";
    pending.expect = "DELETED";
  } else if (key.current.present && random % 100 < 40 &&
             key.current.segments.size() < kMaxSegments) {
    const size_t len = kMinAppend + (random >> 8) % (kMaxAppend - kMinAppend + 1);
    const std::string segment = Segment(key.name, version, len);
    *out +=
        "append " + key.name + " 0 0 " + std::to_string(segment.size()) + "\r\n" + segment + "\r\n";
    next = key.current;
    next.segments.push_back(version);
  } else {
    const size_t span = options_.max_value - options_.min_value + 1;
    const std::string segment =
        Segment(key.name, version, options_.min_value + (random >> 8) % span);
    *out += "set " + key.name + " " + std::to_string(FlagsOf(version)) + " 0 " +
            std::to_string(segment.size()) + "\r\n" + segment + "\r\n";
    next = State{.present = true, .flags = FlagsOf(version), .segments = {version}};
  }
  key.highest_sent = version;
  key.current = next;
  key.since_acked[version] = std::move(next);
  return pending;
}

std::vector<size_t> CrashWorkload::ActiveKeys(int connection, uint32_t salt) const {
  std::vector<size_t> keys;
  const size_t step = static_cast<size_t>(options_.connections);
  for (size_t i = static_cast<size_t>(connection); i < keys_.size(); i += step) {
    if (Mix(i * 1000003 + salt) % 100 < static_cast<uint64_t>(options_.active_percent)) {
      keys.push_back(i);
    }
  }
  return keys;
}

void CrashWorkload::Acknowledge(Key& key, uint64_t version) {
  key.last_acked = std::max(key.last_acked, version);
  key.since_acked.erase(key.since_acked.begin(), key.since_acked.lower_bound(key.last_acked));
}

WriteRun CrashWorkload::Run(uint16_t port, uint32_t round, const std::atomic<bool>& stop,
                            const std::atomic<int>& phase, std::atomic<int64_t>& acked) {
  const int n = options_.connections;
  std::vector<WriteRun> runs(n);
  std::vector<std::thread> threads;
  for (int c = 0; c < n; ++c) {
    threads.emplace_back([&, c] {
      WriteRun& run = runs[c];
      auto connected = TestClient::Connect(port);
      if (!connected.ok()) return AddExample(&run.examples, connected.status().ToString());
      TestClient& client = **connected;
      client.set_timeout(std::chrono::seconds(20));  // a reply may wait for the disk
      std::mt19937 rng(options_.seed * 7919 + round * 131 + static_cast<uint32_t>(c));
      std::vector<size_t> mine;
      int mine_phase = -1;
      std::vector<Pending> pending;
      std::string batch;
      while (!stop.load()) {
        if (phase.load() != mine_phase) {
          mine_phase = phase.load();
          mine = ActiveKeys(c, round * 1000 + static_cast<uint32_t>(mine_phase));
          if (mine.empty()) return;
        }
        pending.clear();
        batch.clear();
        for (int d = 0; d < options_.pipeline_depth; ++d) {
          const size_t index = mine[rng() % mine.size()];
          if (!keys_[index].uncertain) pending.push_back(AddRequest(index, rng(), &batch));
        }
        run.sent += static_cast<int64_t>(pending.size());
        if (!client.Send(batch).ok()) return;  // the server is gone
        for (const Pending& p : pending) {
          auto line = client.ReadLine();
          if (!line.ok()) return;
          if (*line == p.expect) {
            Acknowledge(keys_[p.key], p.version);
            ++run.acked;
            acked.fetch_add(1);
            continue;
          }
          ++run.errors;
          keys_[p.key].uncertain = true;
          AddExample(&run.examples, keys_[p.key].name + " version " + std::to_string(p.version) +
                                        ": expected " + p.expect + ", got " + EscapeBytes(*line));
        }
      }
    });
  }
  WriteRun total;
  for (int c = 0; c < n; ++c) {
    threads[c].join();
    total.sent += runs[c].sent;
    total.acked += runs[c].acked;
    total.errors += runs[c].errors;
    for (std::string& e : runs[c].examples) AddExample(&total.examples, std::move(e));
  }
  return total;
}

void CrashWorkload::CheckValue(Key& key, uint32_t flags, const std::string& data, bool strict,
                               CrashCheck* check) {
  (void)strict;  // any allowed value is fine in both modes
  ++check->hits;
  State seen;
  seen.present = true;
  seen.flags = flags;
  std::string why;
  if (key.counter) {
    if (const auto number = ParseU64(data)) {
      seen.segments = {*number};
    } else {
      why = "not a number: " + EscapeBytes(data.substr(0, 40));
    }
  } else {
    ParseSegments(key.name, data, &seen.segments, &why);
  }
  const uint64_t version = seen.segments.empty() ? 0 : seen.segments.back();
  const auto it = key.since_acked.find(version);
  if (why.empty() && version < key.last_acked) {
    ++check->stale;
    key.uncertain = true;
    AddExample(&check->examples, key.name + ": version " + std::to_string(version) +
                                     " is older than the last acknowledged " +
                                     std::to_string(key.last_acked));
    return;
  }
  if (why.empty() && version > key.highest_sent) {
    why = "version " + std::to_string(version) + " was never sent (highest " +
          std::to_string(key.highest_sent) + ")";
  } else if (why.empty() && (it == key.since_acked.end() || !it->second.present ||
                             it->second.segments != seen.segments || it->second.flags != flags)) {
    why = "does not hold what version " + std::to_string(version) + " wrote (" +
          std::to_string(seen.segments.size()) + " segments, flags " + std::to_string(flags) + ")";
  }
  if (!why.empty()) {
    ++check->corrupt;
    key.uncertain = true;
    AddExample(&check->examples, key.name + ": " + why);
    return;
  }
  // A value a client has read counts as acknowledged: it must never go back to an older one.
  key.current = it->second;
  Acknowledge(key, version);
}

void CrashWorkload::CheckMiss(Key& key, bool strict, CrashCheck* check) {
  ++check->misses;
  const bool allowed = std::any_of(key.since_acked.begin(), key.since_acked.end(),
                                   [](const auto& entry) { return !entry.second.present; });
  if (strict && !allowed) {
    ++check->lost;
    AddExample(&check->examples, key.name + ": a miss, but version " +
                                     std::to_string(key.last_acked) +
                                     " was acknowledged (and no later delete sent)");
  }
  key.current = State{};
}

CrashCheck CrashWorkload::Check(TestClient& client, bool strict) {
  CrashCheck check;
  for (size_t first = 0; first < keys_.size(); first += kKeysPerGet) {
    const size_t last = std::min(keys_.size(), first + kKeysPerGet);
    std::string request = "get";
    std::unordered_map<std::string, size_t> index;
    for (size_t i = first; i < last; ++i) {
      request += " " + keys_[i].name;
      index[keys_[i].name] = i;
    }
    std::vector<bool> found(last - first, false);
    std::vector<bool> skip(last - first, false);
    for (size_t i = first; i < last; ++i) {
      skip[i - first] = keys_[i].uncertain;
      if (keys_[i].uncertain) ++check.uncertain;
    }
    Status sent = client.Send(request + "\r\n");
    while (sent.ok()) {
      auto line = client.ReadLine();
      if (!line.ok()) {
        sent = line.status();
        break;
      }
      if (*line == "END") break;
      // "VALUE <key> <flags> <bytes>"
      char name[256];
      unsigned flags = 0;
      size_t bytes = 0;
      auto it = index.end();
      if (std::sscanf(line->c_str(), "VALUE %255s %u %zu", name, &flags, &bytes) == 3) {
        it = index.find(name);
      }
      if (it == index.end()) {
        sent = Status::IoError("unexpected reply line " + EscapeBytes(*line));
        break;
      }
      auto data = client.ReadBytes(bytes + 2);
      if (!data.ok()) {
        sent = data.status();
        break;
      }
      data->resize(bytes);
      found[it->second - first] = true;
      if (!skip[it->second - first]) CheckValue(keys_[it->second], flags, *data, strict, &check);
    }
    if (!sent.ok()) {
      check.unread += static_cast<int64_t>(last - first);
      AddExample(&check.examples, "reading " + keys_[first].name + "..: " + sent.ToString());
      return check;
    }
    for (size_t i = first; i < last; ++i) {
      if (!skip[i - first] && !found[i - first]) CheckMiss(keys_[i], strict, &check);
    }
  }
  return check;
}

}  // namespace warmcache::testutil
