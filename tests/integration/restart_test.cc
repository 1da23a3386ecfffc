// SPDX-License-Identifier: BSD-3-Clause
// Issue #5, restarts without a cold cache (notes/restart-spec.md): a clean shutdown keeps every
// live item with its flags, expiry and CAS; flush_all, deletes and overwrites hold across it;
// after kill -9 a key is a miss or its newest value, never an older or a torn one (and in
// write-through mode every acknowledged write is there); a damaged or busy data dir is refused
// with one line and exit code 70, or discarded on request. (Snapshot files: snapshot_files_test.)
//
// Every server here runs with a small -m and its own --data-dir, reused across the restarts of
// one test. Items are pushed out of RAM as in warm_tier_test.cc: stored first, never read, then
// 4x -m of filler, then `stats` is polled until the spill queue is empty.
#include <gtest/gtest.h>
#include <signal.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "tests/testutil/crash_workload.h"
#include "tests/testutil/escape.h"
#include "tests/testutil/expect_calls.h"
#include "tests/testutil/oracle.h"
#include "tests/testutil/reply_text.h"
#include "tests/testutil/server_process.h"
#include "tests/testutil/stats.h"
#include "tests/testutil/temp_dir.h"
#include "tests/testutil/test_client.h"

namespace warmcache::testutil {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using Clock = std::chrono::steady_clock;

constexpr int kRamMb = 8;                              // -m for every warmcached here
constexpr size_t kFillerValueBytes = 4096;             // filler items are about 4 KB ...
constexpr int kFillerFactor = 4;                       // ... and 4x -m of them push items out
constexpr milliseconds kSpillDeadline = seconds(30);   // spill queue drained (slow sanitizers)
constexpr milliseconds kReplyTimeout = seconds(20);    // a reply may wait for the disk
constexpr milliseconds kStartDeadline = seconds(30);   // listening, after RocksDB recovery
constexpr milliseconds kExitDeadline = seconds(30);    // a clean exit writes RAM to disk
constexpr milliseconds kRefuseDeadline = seconds(10);  // a refused start exits in seconds
constexpr milliseconds kReloadDeadline = seconds(30);  // background reload done
constexpr int kExitDataDir = 70;                       // EX_SOFTWARE: damaged or busy data dir
constexpr int kKill9Iterations = 20;                   // issue #5: at least 20 kills
constexpr int kWriteThroughIterations = 3;

enum class StopHow { kSigterm, kSigint, kShutdownCommand };
void PrintTo(StopHow how, std::ostream* os) { *os << static_cast<int>(how); }

// The lines of a child's stderr that are errors: everything but warnings (as root, one warns
// that memcached would insist on -u).
std::vector<std::string> ErrorLines(const std::string& stderr_text) {
  std::vector<std::string> errors;
  std::istringstream lines(stderr_text);
  for (std::string line; std::getline(lines, line);) {
    if (!line.empty() && line.find(" warning ") == std::string::npos) errors.push_back(line);
  }
  return errors;
}

double SecondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// Polls the clock in small steps until `until` (waiting for wall-clock time, e.g. a TTL).
void WaitUntil(Clock::time_point until) {
  while (Clock::now() < until) std::this_thread::sleep_for(milliseconds(20));
}

class RestartTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = TempDir::Create("wc_restart_");
    ASSERT_TRUE(dir.ok()) << dir.status().ToString();
    data_dir_ = std::move(*dir);
  }
  // A clean exit: under ASan/TSan a leak or a race in the server makes its exit status non-zero.
  void TearDown() override {
    client_.reset();
    if (server_ && server_->IsRunning()) {
      EXPECT_EQ(0, server_->Stop(kExitDeadline)) << server_->StderrText();
    }
  }

  std::vector<std::string> Args(const std::vector<std::string>& extra) const {
    std::vector<std::string> args = EphemeralPortArgs();
    args.insert(args.end(), {"-m", std::to_string(kRamMb), "--data-dir", data_dir_->path()});
    args.insert(args.end(), extra.begin(), extra.end());
    return args;
  }
  Result<std::unique_ptr<ServerProcess>> TryStart(const std::vector<std::string>& extra,
                                                  milliseconds deadline = kStartDeadline) {
    return ServerProcess::Start(WC_WARMCACHED_PATH, Args(extra), {}, deadline);
  }
  // Starts warmcached on data_dir_ and connects client_. Use under ASSERT_NO_FATAL_FAILURE.
  void Start(const std::vector<std::string>& extra = {}) {
    auto started = TryStart(extra);
    ASSERT_TRUE(started.ok()) << started.status().ToString();
    server_ = std::move(*started);
    auto client = TestClient::Connect(server_->port());
    ASSERT_TRUE(client.ok()) << client.status().ToString();
    client_ = std::move(*client);
    client_->set_timeout(kReplyTimeout);
  }
  // Polls until the server exited; false if it is still running at the deadline.
  bool WaitForExit(milliseconds deadline) {
    const auto until = Clock::now() + deadline;
    while (server_->IsRunning()) {
      if (Clock::now() >= until) return false;
      std::this_thread::sleep_for(milliseconds(5));
    }
    return true;
  }
  // Stops the server the given way and expects exit code 0.
  void StopCleanly(StopHow how = StopHow::kSigterm) {
    ASSERT_TRUE(server_ != nullptr);
    int status = ServerProcess::kStillRunning;
    if (how == StopHow::kSigterm) {
      status = server_->Stop(kExitDeadline);
    } else {
      if (how == StopHow::kSigint) {
        ASSERT_EQ(0, kill(server_->pid(), SIGINT));
      } else {
        ASSERT_TRUE(client_->Send("shutdown\r\n").ok());
        EXPECT_TRUE(client_->WaitClosedByPeer(kExitDeadline).ok()) << "shutdown did not close";
      }
      EXPECT_TRUE(WaitForExit(kExitDeadline))
          << "still running after " << kExitDeadline.count() << " ms";
      status = server_->Stop();  // the exit status (SIGTERM and SIGKILL if it still runs)
    }
    client_.reset();
    EXPECT_EQ(0, status) << DescribeExitStatus(status) << "; stderr: " << server_->StderrText();
  }
  void Kill9() {
    EXPECT_EQ(-SIGKILL, server_->Kill9());
    client_.reset();
  }

  std::string Call(const std::string& request, const std::string& terminator = "\r\n") {
    return CallOrFail(*client_, request, terminator);
  }
  std::string Get(const std::string& request) { return GetOrFail(*client_, request); }
  uint64_t Store(const std::string& key, const std::string& data, uint32_t flags = 0,
                 int64_t exptime = 0) {
    return StoreWithCas(*client_, key, data, flags, exptime);
  }
  // The remaining TTL `mg KEY t` shows (-1: never expires); nullopt on a miss or a bad reply.
  std::optional<int64_t> RemainingTtl(const std::string& key) {
    const std::string reply = Call("mg " + key + " t\r\n");
    if (reply.rfind("HD t", 0) != 0) {
      ADD_FAILURE() << "mg " << key << " t: " << EscapeBytes(reply);
      return std::nullopt;
    }
    return std::stoll(reply.substr(4));
  }

  // Stores 4x -m of new filler items (noreply, pipelined), so every item stored before and not
  // read since leaves RAM, then polls until the spill queue is empty.
  void FillRam() {
    const std::string value(kFillerValueBytes, 'f');
    const size_t count = (size_t{kFillerFactor} * kRamMb << 20) / kFillerValueBytes;
    std::string batch;
    for (size_t i = 0; i < count; ++i) {
      batch += "set filler:" + std::to_string(filler_next_++) + " 0 0 " +
               std::to_string(value.size()) + " noreply\r\n" + value + "\r\n";
      if (batch.size() >= (1 << 20) || i + 1 == count) {
        EXPECT_TRUE(client_->Send(batch).ok());
        batch.clear();
      }
    }
    EXPECT_EQ("MN\r\n", Call("mn\r\n"));  // every set before it was processed
    auto drained = WaitForStats(
        *client_, [](const StatMap& s) { return StatInt(s, "warm_spill_queue") == 0; },
        kSpillDeadline, "warm_spill_queue");
    EXPECT_TRUE(drained.ok()) << drained.status().ToString();
  }

  // A stat's text ("" and a failure if absent).
  std::string StatText(const std::string& name, const std::string& group = "") {
    auto stats = ReadStats(*client_, group);
    EXPECT_TRUE(stats.ok()) << stats.status().ToString();
    if (!stats.ok()) return "";
    const auto it = stats->find(name);
    EXPECT_TRUE(it != stats->end()) << "no stat " << name;
    return it == stats->end() ? "" : it->second;
  }
  int64_t StatNow(const std::string& name) {
    auto stats = ReadStats(*client_);
    EXPECT_TRUE(stats.ok()) << stats.status().ToString();
    const auto value = stats.ok() ? StatInt(*stats, name) : std::nullopt;
    EXPECT_TRUE(value.has_value()) << "no integer stat " << name;
    return value.value_or(-1);
  }

  // Starts / writes / kill -9s `iterations` times on one data dir (see Kill9LoopNeverStale).
  void CrashLoop(int iterations, bool write_through);
  // Runs the writers; after a snapshot (polled) or delay/2 moves them to other keys, and after
  // `delay` more kills the server with SIGKILL.
  WriteRun WriteThenKill9(CrashWorkload& workload, int round, bool after_snapshot,
                          milliseconds delay);

  std::unique_ptr<TempDir> data_dir_;
  std::unique_ptr<ServerProcess> server_;
  std::unique_ptr<TestClient> client_;
  int filler_next_ = 0;
};

// ---------------------------------------------------------------------------------------------
// Clean restarts.

struct StoredItem {
  std::string key;
  uint32_t flags;
  std::string data;
  int64_t ttl;  // seconds from `stored`; 0: never expires
  uint64_t cas;
  Clock::time_point stored;
};

class CleanRestartTest : public RestartTest, public ::testing::WithParamInterface<StopHow> {
 protected:
  // Stores `count` items named prefix:<i>: flags, sizes and TTLs (none, relative, absolute) vary.
  void StoreItems(const std::string& prefix, int count, std::vector<StoredItem>* items) {
    constexpr uint32_t kFlags[] = {0, 1, 4294967295u, 65536};
    constexpr size_t kSizes[] = {0, 1, 100, 1000, 3000, 20000, 150000};
    for (int i = 0; i < count; ++i) {
      StoredItem item{prefix + ":" + std::to_string(i),
                      kFlags[i % 4],
                      AwkwardBytes(kSizes[i % 7], static_cast<uint32_t>(i)),
                      0,
                      0,
                      Clock::now()};
      int64_t exptime = 0;
      if (i % 3 == 1) {
        item.ttl = exptime = 3600 + i;  // relative
      } else if (i % 3 == 2) {
        item.ttl = 40 * 86400 + i;  // more than 30 days: an absolute unix time
        exptime = static_cast<int64_t>(std::time(nullptr)) + item.ttl;
      }
      item.cas = Store(item.key, item.data, item.flags, exptime);
      items->push_back(std::move(item));
    }
  }
  void Stop() { ASSERT_NO_FATAL_FAILURE(StopCleanly(GetParam())); }
};

TEST_P(CleanRestartTest, ServesEveryItemWithFlagsTtlAndCas) {
  ASSERT_NO_FATAL_FAILURE(Start({"-A"}));
  EXPECT_EQ("fresh", StatText("warm_start"));
  std::vector<StoredItem> items;
  StoreItems("disk", 21, &items);
  FillRam();
  StoreItems("ram", 21, &items);
  uint64_t max_cas = 0;
  for (const StoredItem& item : items) max_cas = std::max(max_cas, item.cas);
  ASSERT_NO_FATAL_FAILURE(Stop());
  ASSERT_NO_FATAL_FAILURE(Start({"-A"}));
  EXPECT_EQ("clean", StatText("warm_start"));

  for (const StoredItem& item : items) {
    const bool served = Value(item.key, item.flags, item.data, item.cas) + "END\r\n" ==
                        Get("gets " + item.key + "\r\n");
    EXPECT_TRUE(served) << item.key << " (" << item.data.size() << " bytes, flags " << item.flags
                        << ") is not served as stored with CAS " << item.cas;
    if (!served) continue;
    const std::optional<int64_t> ttl = RemainingTtl(item.key);
    if (!ttl) continue;
    if (item.ttl == 0) {
      EXPECT_EQ(-1, *ttl) << item.key << " had no TTL";
    } else {
      EXPECT_NEAR(static_cast<double>(item.ttl) - SecondsSince(item.stored),
                  static_cast<double>(*ttl), 2.0)
          << item.key << " remaining TTL";
    }
  }
  // Filler that was on disk is served too.
  EXPECT_EQ(Value("filler:0", 0, std::string(kFillerValueBytes, 'f')) + "END\r\n",
            Get("get filler:0\r\n"));
  // A CAS from before the restart is still usable; new CAS values are all greater.
  for (const size_t i : {size_t{0}, items.size() - 1}) {
    EXPECT_EQ("STORED\r\n", Call("cas " + items[i].key + " 3 0 3 " + std::to_string(items[i].cas) +
                                 "\r\nnew\r\n"))
        << items[i].key;
    const std::string reply = Get("gets " + items[i].key + "\r\n");
    const std::string prefix = "VALUE " + items[i].key + " 3 3 ";
    ASSERT_EQ(0u, reply.rfind(prefix, 0)) << reply;
    EXPECT_GT(std::stoull(reply.substr(prefix.size())), max_cas) << "a CAS value came again";
  }
  EXPECT_GT(Store("after:restart", "new"), max_cas) << "a CAS value came again";
}

INSTANTIATE_TEST_SUITE_P(StopBy, CleanRestartTest,
                         ::testing::Values(StopHow::kSigterm, StopHow::kSigint,
                                           StopHow::kShutdownCommand),
                         [](const ::testing::TestParamInfo<StopHow>& info) {
                           switch (info.param) {
                             case StopHow::kSigterm:
                               return "SIGTERM";
                             case StopHow::kSigint:
                               return "SIGINT";
                             case StopHow::kShutdownCommand:
                               return "ShutdownCommand";
                           }
                           return "unknown";
                         });

TEST_F(RestartTest, SettingsAndStartKinds) {
  ASSERT_NO_FATAL_FAILURE(Start({"--snapshot-interval", "1", "--durability=snapshot"}));
  EXPECT_EQ("1", StatText("snapshot_interval", "settings"));
  EXPECT_EQ("snapshot", StatText("durability", "settings"));
  EXPECT_EQ("fresh", StatText("warm_start"));
  EXPECT_EQ(0, StatNow("warm_reloaded_items"));
  Store("settings:k", "v");
  auto snapshot = WaitForStats(
      *client_, [](const StatMap& s) { return StatInt(s, "warm_snapshots") >= 1; }, seconds(10),
      "warm_snapshots");
  EXPECT_TRUE(snapshot.ok()) << "no periodic snapshot with --snapshot-interval 1: "
                             << snapshot.status().ToString();
  ASSERT_NO_FATAL_FAILURE(StopCleanly());

  ASSERT_NO_FATAL_FAILURE(Start({"--durability", "write-through"}));
  EXPECT_EQ("60", StatText("snapshot_interval", "settings"));
  EXPECT_EQ("write-through", StatText("durability", "settings"));
  EXPECT_EQ("clean", StatText("warm_start"));
  EXPECT_EQ(Value("settings:k", 0, "v") + "END\r\n", Get("get settings:k\r\n"));
}

TEST_F(RestartTest, FlushAllHoldsAcrossRestart) {
  ASSERT_NO_FATAL_FAILURE(Start());
  for (int i = 0; i < 5; ++i) Store("flushed:disk:" + std::to_string(i), "old disk");
  FillRam();
  for (int i = 0; i < 5; ++i) Store("flushed:ram:" + std::to_string(i), "old ram");
  EXPECT_EQ("OK\r\n", Call("flush_all\r\n"));
  for (int i = 0; i < 5; ++i) Store("kept:disk:" + std::to_string(i), "new disk", 7);
  FillRam();
  for (int i = 0; i < 5; ++i) Store("kept:ram:" + std::to_string(i), "new ram", 8);
  ASSERT_NO_FATAL_FAILURE(StopCleanly());
  ASSERT_NO_FATAL_FAILURE(Start());
  for (int i = 0; i < 5; ++i) {
    const std::string n = std::to_string(i);
    EXPECT_EQ("END\r\n", Get("get flushed:disk:" + n + " flushed:ram:" + n + "\r\n"))
        << "a flushed item came back";
    EXPECT_EQ(
        Value("kept:disk:" + n, 7, "new disk") + Value("kept:ram:" + n, 8, "new ram") + "END\r\n",
        Get("get kept:disk:" + n + " kept:ram:" + n + "\r\n"));
  }
  EXPECT_EQ("STORED\r\n", Call("add flushed:disk:0 0 0 1\r\nx\r\n"));
}

TEST_F(RestartTest, DelayedFlushAllHoldsAcrossRestart) {
  ASSERT_NO_FATAL_FAILURE(Start());
  for (int i = 0; i < 5; ++i) Store("dflush:disk:" + std::to_string(i), "disk");
  FillRam();
  for (int i = 0; i < 5; ++i) Store("dflush:ram:" + std::to_string(i), "ram");
  const auto issued = Clock::now();
  EXPECT_EQ("OK\r\n", Call("flush_all 2\r\n"));
  ASSERT_NO_FATAL_FAILURE(StopCleanly());
  ASSERT_NO_FATAL_FAILURE(Start());
  // Until the deadline the items may still be served (exactly as stored); after it, never.
  const auto deadline = issued + seconds(10);
  bool all_gone = false;
  while (!all_gone && Clock::now() < deadline) {
    all_gone = true;
    for (int i = 0; i < 5; ++i) {
      const std::string n = std::to_string(i);
      const std::string reply = Get("get dflush:disk:" + n + " dflush:ram:" + n + "\r\n");
      all_gone = all_gone && reply == "END\r\n";
      EXPECT_TRUE(reply == "END\r\n" || reply.find("VALUE") == 0) << reply;
    }
    if (!all_gone) std::this_thread::sleep_for(milliseconds(50));
  }
  EXPECT_TRUE(all_gone) << "the delayed flush_all did not hold across the restart ("
                        << SecondsSince(issued) << " s after it)";
  // Items stored after the deadline are kept (memcached flushes those stored in its second
  // too, so wait a tick past it).
  WaitUntil(issued + milliseconds(3500));
  Store("dflush:after", "after");
  EXPECT_EQ(Value("dflush:after", 0, "after") + "END\r\n", Get("get dflush:after\r\n"));
}

TEST_F(RestartTest, DelayedFlushAllPassingWhileDownHolds) {
  ASSERT_NO_FATAL_FAILURE(Start());
  for (int i = 0; i < 5; ++i) Store("dflush:" + std::to_string(i), "v");
  const auto issued = Clock::now();
  EXPECT_EQ("OK\r\n", Call("flush_all 2\r\n"));
  ASSERT_NO_FATAL_FAILURE(StopCleanly());
  WaitUntil(issued + milliseconds(3500));
  ASSERT_NO_FATAL_FAILURE(Start());
  EXPECT_EQ("END\r\n", Get("get dflush:0 dflush:1 dflush:2 dflush:3 dflush:4\r\n"));
}

TEST_F(RestartTest, DeletesAndOverwritesHold) {
  ASSERT_NO_FATAL_FAILURE(Start());
  Store("del:disk", "deleted on disk");
  Store("ow:set", "old value", 1);
  Store("ow:append", "base", 2);
  Store("ow:prepend", "base", 3);
  Store("ow:incr", "41", 4);
  const uint64_t cas = Store("ow:cas", "old cas value", 5);
  Store("ow:touch", "touched", 6, 100);
  Store("ow:md", "meta deleted", 7);
  FillRam();  // everything above is on disk only now
  Store("del:ram", "deleted in RAM");
  EXPECT_EQ("DELETED\r\n", Call("delete del:ram\r\n"));
  EXPECT_EQ("DELETED\r\n", Call("delete del:disk\r\n"));
  EXPECT_EQ("HD\r\n", Call("md ow:md\r\n"));
  EXPECT_EQ("STORED\r\n", Call("set ow:set 11 0 9\r\nnew value\r\n"));
  EXPECT_EQ("STORED\r\n", Call("append ow:append 0 0 5\r\n+tail\r\n"));
  EXPECT_EQ("STORED\r\n", Call("prepend ow:prepend 0 0 5\r\nhead+\r\n"));
  EXPECT_EQ("42\r\n", Call("incr ow:incr 1\r\n"));
  EXPECT_EQ("STORED\r\n",
            Call("cas ow:cas 15 0 13 " + std::to_string(cas) + "\r\nnew cas value\r\n"));
  const auto touched = Clock::now();
  EXPECT_EQ("TOUCHED\r\n", Call("touch ow:touch 3600\r\n"));
  ASSERT_NO_FATAL_FAILURE(StopCleanly());
  ASSERT_NO_FATAL_FAILURE(Start());
  EXPECT_EQ("END\r\n", Get("get del:ram del:disk ow:md\r\n")) << "a deleted item came back";
  EXPECT_EQ(Value("ow:set", 11, "new value") + Value("ow:append", 2, "base+tail") +
                Value("ow:prepend", 3, "head+base") + Value("ow:incr", 4, "42") +
                Value("ow:cas", 15, "new cas value") + Value("ow:touch", 6, "touched") + "END\r\n",
            Get("get ow:set ow:append ow:prepend ow:incr ow:cas ow:touch\r\n"));
  const std::optional<int64_t> ttl = RemainingTtl("ow:touch");
  if (ttl) {
    EXPECT_NEAR(3600 - SecondsSince(touched), static_cast<double>(*ttl), 2.0);
  }
}

TEST_F(RestartTest, ExpiredWhileDownIsNotServed) {
  ASSERT_NO_FATAL_FAILURE(Start());
  const auto stored = Clock::now();
  for (int i = 0; i < 5; ++i) Store("exp:" + std::to_string(i), "short", 1, 2);
  Store("exp:never", "never", 2);
  Store("exp:long", "long", 3, 3600);
  ASSERT_NO_FATAL_FAILURE(StopCleanly());
  if (SecondsSince(stored) >= 2) {
    std::cout << "note: the stop took " << SecondsSince(stored)
              << " s, the items expired before the server went down\n";
  }
  // memcached's clock ticks once a second: a 2 s TTL is surely over after 3.5 s.
  WaitUntil(stored + milliseconds(3500));
  ASSERT_NO_FATAL_FAILURE(Start());
  EXPECT_EQ(Value("exp:never", 2, "never") + Value("exp:long", 3, "long") + "END\r\n",
            Get("get exp:0 exp:1 exp:never exp:2 exp:3 exp:long exp:4\r\n"));
}

TEST_F(RestartTest, ReloadsHotItems) {
  ASSERT_NO_FATAL_FAILURE(Start());
  const std::string value(1000, 'h');
  std::string gets;
  for (int i = 0; i < 500; ++i) {
    const std::string key = "hot:" + std::to_string(i);
    Store(key, value);
    gets += " " + key;
  }
  Get("get" + gets + "\r\n");  // twice: these are the hottest items
  Get("get" + gets + "\r\n");
  FillRam();  // filler stored once and never read: colder, and more than -m of it
  ASSERT_NO_FATAL_FAILURE(StopCleanly());
  ASSERT_NO_FATAL_FAILURE(Start());
  auto done = WaitForStats(
      *client_,
      [](const StatMap& s) {
        return s.contains("warm_reload_state") && s.at("warm_reload_state") == "done";
      },
      kReloadDeadline, "warm_reload_state");
  ASSERT_TRUE(done.ok()) << done.status().ToString();
  EXPECT_GT(StatInt(*done, "warm_reloaded_items").value_or(0), 0);
  EXPECT_GT(StatInt(*done, "hot_items").value_or(0), 0);
  // They were in RAM at shutdown and are the hottest: all back in RAM, read without the disk.
  const int64_t warm_hits = StatInt(*done, "warm_hits").value_or(-1);
  EXPECT_EQ(Value("hot:0", 0, value) + Value("hot:499", 0, value) + "END\r\n",
            Get("get hot:0 hot:499\r\n"));
  Get("get" + gets + "\r\n");
  EXPECT_EQ(warm_hits, StatNow("warm_hits")) << "hot items were read from disk after the reload";
}

// ---------------------------------------------------------------------------------------------
// kill -9.

// The crash loop's seed: $WC_CRASH_SEED, to replay or vary a run, else a fixed one.
uint32_t CrashSeed() {
  const char* env = std::getenv("WC_CRASH_SEED");
  return env != nullptr && env[0] != '\0' ? static_cast<uint32_t>(std::stoul(env)) : 5;
}

void AddTo(CrashCheck* total, const CrashCheck& check) {
  total->hits += check.hits;
  total->misses += check.misses;
  total->stale += check.stale;
  total->corrupt += check.corrupt;
  total->lost += check.lost;
  total->uncertain += check.uncertain;
  total->unread += check.unread;
}

WriteRun RestartTest::WriteThenKill9(CrashWorkload& workload, int round, bool after_snapshot,
                                     milliseconds delay) {
  std::atomic<bool> stop{false};
  std::atomic<int> phase{0};
  std::atomic<int64_t> acks{0};
  WriteRun run;
  std::thread writer([&] { run = workload.Run(server_->port(), round, stop, phase, acks); });
  const auto until = Clock::now() + seconds(20);
  while (acks.load() == 0 && Clock::now() < until) std::this_thread::sleep_for(milliseconds(1));
  if (after_snapshot) {
    auto snapshot = WaitForStats(
        *client_, [](const StatMap& s) { return StatInt(s, "warm_snapshots") >= 1; }, seconds(20),
        "warm_snapshots");
    EXPECT_TRUE(snapshot.ok()) << snapshot.status().ToString();
  } else {
    std::this_thread::sleep_for(delay / 2);
  }
  // The writers move on to other keys: what they wrote so far stays (on disk, if the snapshot
  // or an eviction put it there) and is overwritten in later runs, the stale-value risk.
  phase = 1;
  std::this_thread::sleep_for(after_snapshot ? delay : delay / 2);
  auto stats = ReadStats(*client_);
  Kill9();
  stop = true;
  writer.join();
  std::cout << "run " << round << (after_snapshot ? " (--snapshot-interval 1)" : "") << ": sent "
            << run.sent << ", acknowledged " << run.acked << ", killed "
            << (after_snapshot ? "after a snapshot + " : "after ") << delay.count() << " ms";
  if (stats.ok()) {
    std::cout << "; warm_spills " << (*stats)["warm_spills"] << ", warm_snapshots "
              << (*stats)["warm_snapshots"] << ", warm_items " << (*stats)["warm_items"];
  }
  std::cout << "\n";
  EXPECT_GT(run.acked, 0) << "run " << round;
  EXPECT_EQ(0, run.errors) << "run " << round << ", e.g. "
                           << (run.examples.empty() ? "" : run.examples[0]);
  return run;
}

void RestartTest::CrashLoop(int iterations, bool write_through) {
  const uint32_t seed = CrashSeed();
  std::cout << "seed " << seed << " (WC_CRASH_SEED)\n";
  std::mt19937 rng(seed);
  CrashWorkloadOptions options;
  options.seed = seed;
  CrashWorkload workload(options);
  CrashCheck total;
  int64_t sent = 0;
  int64_t acked = 0;
  for (int it = 0; it <= iterations; ++it) {
    std::vector<std::string> extra;
    if (write_through) extra = {"--durability", "write-through"};
    const bool snapshots = it % 2 == 0;
    if (snapshots) extra.insert(extra.end(), {"--snapshot-interval", "1"});
    ASSERT_NO_FATAL_FAILURE(Start(extra));
    EXPECT_EQ(it == 0 ? "fresh" : "recovered", StatText("warm_start")) << "start " << it;
    if (it > 0) {
      const CrashCheck check = workload.Check(*client_, write_through);
      std::cout << "after kill " << it << ": " << check.Summary() << "\n";
      for (const std::string& e : check.examples) std::cout << "  " << e << "\n";
      AddTo(&total, check);
      EXPECT_EQ(0, check.unread) << "kill " << it;
    }
    if (it == iterations) break;
    // The random moment of the crash: 50-500 ms into the writes, or as long after a snapshot.
    const WriteRun run = WriteThenKill9(workload, it, snapshots, milliseconds(50 + rng() % 451));
    sent += run.sent;
    acked += run.acked;
  }
  std::cout << "total over " << iterations << " kills: sent " << sent << ", acknowledged " << acked
            << "; " << total.Summary() << "\n";
  RecordProperty("hits", std::to_string(total.hits));
  RecordProperty("misses", std::to_string(total.misses));
  RecordProperty("stale", std::to_string(total.stale));
  RecordProperty("corrupt", std::to_string(total.corrupt));
  EXPECT_EQ(0, total.stale);
  EXPECT_EQ(0, total.corrupt);
  // Keys the writers left alone after a snapshot are on disk: a loop that never reads anything
  // back proves nothing.
  EXPECT_GT(total.hits, 0) << "nothing survived any kill";
  if (write_through) {
    EXPECT_EQ(0, total.lost);
  }
}

// CAS values never repeat, after a crash too (the ceiling is saved ahead of the counter).
TEST_F(RestartTest, CasNeverRepeatsAfterKill9) {
  ASSERT_NO_FATAL_FAILURE(Start());
  uint64_t max_cas = 0;
  for (int i = 0; i < 2000; ++i) {
    max_cas = std::max(max_cas, Store("cas:" + std::to_string(i), "v"));
  }
  Kill9();
  ASSERT_NO_FATAL_FAILURE(Start());
  EXPECT_EQ("recovered", StatText("warm_start"));
  EXPECT_GT(Store("cas:new", "after the crash"), max_cas) << "a CAS value came again";
}

// flush_all is on disk before its reply: after kill -9 a flushed item never comes back, whether
// it was on disk (spilled, or written by a snapshot) or in RAM.
TEST_F(RestartTest, FlushAllHoldsAfterKill9) {
  ASSERT_NO_FATAL_FAILURE(Start({"--snapshot-interval", "1"}));
  for (int i = 0; i < 5; ++i) Store("kflush:disk:" + std::to_string(i), "spilled");
  FillRam();
  for (int i = 0; i < 5; ++i) Store("kflush:snap:" + std::to_string(i), "snapshotted");
  const int64_t snapshots = StatNow("warm_snapshots");
  auto snapshot = WaitForStats(
      *client_, [&](const StatMap& s) { return StatInt(s, "warm_snapshots") > snapshots; },
      seconds(10), "warm_snapshots");
  EXPECT_TRUE(snapshot.ok()) << snapshot.status().ToString();
  for (int i = 0; i < 5; ++i) Store("kflush:ram:" + std::to_string(i), "in RAM");
  EXPECT_EQ("OK\r\n", Call("flush_all\r\n"));
  Kill9();
  ASSERT_NO_FATAL_FAILURE(Start());
  EXPECT_EQ("recovered", StatText("warm_start"));
  for (int i = 0; i < 5; ++i) {
    const std::string n = std::to_string(i);
    EXPECT_EQ("END\r\n",
              Get("get kflush:disk:" + n + " kflush:snap:" + n + " kflush:ram:" + n + "\r\n"))
        << "a flushed item came back after kill -9";
  }
  EXPECT_EQ("END\r\n", Get("get filler:0\r\n"));
}

// write-through: each kind of mutation of an item whose older version is on disk survives
// kill -9, and so does a flush_all.
TEST_F(RestartTest, WriteThroughEveryMutationSurvivesKill9) {
  ASSERT_NO_FATAL_FAILURE(Start({"--durability", "write-through"}));
  Store("wt:set", "old", 1);
  Store("wt:replace", "old", 2);
  Store("wt:append", "base", 3);
  Store("wt:prepend", "base", 4);
  const uint64_t cas = Store("wt:cas", "old", 5);
  Store("wt:incr", "41", 6);
  Store("wt:decr", "43", 7);
  Store("wt:touch", "touched", 8, 100);
  Store("wt:delete", "deleted", 9);
  Store("wt:md", "meta deleted", 10);
  FillRam();  // the older versions are on disk only
  EXPECT_EQ("STORED\r\n", Call("set wt:set 11 0 3\r\nnew\r\n"));
  EXPECT_EQ("STORED\r\n", Call("add wt:add 12 0 5\r\nadded\r\n"));
  EXPECT_EQ("STORED\r\n", Call("replace wt:replace 13 0 8\r\nreplaced\r\n"));
  EXPECT_EQ("STORED\r\n", Call("append wt:append 0 0 5\r\n+tail\r\n"));
  EXPECT_EQ("STORED\r\n", Call("prepend wt:prepend 0 0 5\r\nhead+\r\n"));
  EXPECT_EQ("STORED\r\n", Call("cas wt:cas 15 0 3 " + std::to_string(cas) + "\r\nnew\r\n"));
  EXPECT_EQ("42\r\n", Call("incr wt:incr 1\r\n"));
  EXPECT_EQ("42\r\n", Call("decr wt:decr 1\r\n"));
  const auto touched = Clock::now();
  EXPECT_EQ("TOUCHED\r\n", Call("touch wt:touch 3600\r\n"));
  EXPECT_EQ("DELETED\r\n", Call("delete wt:delete\r\n"));
  EXPECT_EQ("HD\r\n", Call("md wt:md\r\n"));
  Kill9();
  ASSERT_NO_FATAL_FAILURE(Start({"--durability", "write-through"}));
  EXPECT_EQ("recovered", StatText("warm_start"));
  EXPECT_EQ(Value("wt:set", 11, "new") + Value("wt:add", 12, "added") +
                Value("wt:replace", 13, "replaced") + Value("wt:append", 3, "base+tail") +
                Value("wt:prepend", 4, "head+base") + Value("wt:cas", 15, "new") +
                Value("wt:incr", 6, "42") + Value("wt:decr", 7, "42") +
                Value("wt:touch", 8, "touched") + "END\r\n",
            Get("get wt:set wt:add wt:replace wt:append wt:prepend wt:cas wt:incr wt:decr "
                "wt:touch wt:delete wt:md\r\n"));
  const std::optional<int64_t> ttl = RemainingTtl("wt:touch");
  if (ttl) {
    EXPECT_NEAR(3600 - SecondsSince(touched), static_cast<double>(*ttl), 2.0) << "touch was lost";
  }
  EXPECT_EQ("OK\r\n", Call("flush_all\r\n"));
  Kill9();
  ASSERT_NO_FATAL_FAILURE(Start({"--durability", "write-through"}));
  EXPECT_EQ("END\r\n", Get("get wt:set wt:add wt:touch filler:0\r\n"));
}

// The checker itself, on a server that is not killed: after the writers stop, every key holds
// exactly its last acknowledged state; a value set behind the writer's back is caught.
TEST_F(RestartTest, CrashWorkloadCheckerSeesALiveServerExactly) {
  ASSERT_NO_FATAL_FAILURE(Start());
  CrashWorkloadOptions options;
  options.active_percent = 100;
  CrashWorkload workload(options);
  std::atomic<bool> stop{false};
  const std::atomic<int> phase{0};
  std::atomic<int64_t> acks{0};
  WriteRun run;
  std::thread writer([&] { run = workload.Run(server_->port(), 0, stop, phase, acks); });
  const auto until = Clock::now() + seconds(20);
  while (acks.load() < 20000 && Clock::now() < until) {
    std::this_thread::sleep_for(milliseconds(1));
  }
  stop = true;
  writer.join();
  EXPECT_EQ(0, run.errors) << (run.examples.empty() ? "" : run.examples[0]);
  EXPECT_EQ(run.sent, run.acked);
  CrashCheck check = workload.Check(*client_, /*strict=*/true);
  for (const std::string& e : check.examples) std::cout << "  " << e << "\n";
  EXPECT_GT(check.hits, 1000) << check.Summary();
  EXPECT_EQ(0, check.stale + check.corrupt + check.lost + check.uncertain + check.unread)
      << check.Summary();
  // An old counter value and a foreign value: one stale, one corrupt.
  EXPECT_EQ("STORED\r\n", Call("set ctr:0 0 0 1\r\n1\r\n"));
  EXPECT_EQ("STORED\r\n", Call("set blob:0 0 0 7\r\ngarbage\r\n"));
  check = workload.Check(*client_, /*strict=*/true);
  EXPECT_EQ(1, check.stale) << check.Summary();
  EXPECT_EQ(1, check.corrupt) << check.Summary();
}

// Issue #5's main requirement: 20 kills at random moments under a pipelined writer (set,
// append, delete, incr over ~2000 keys, values 100 B-8 KB so many spill to disk); after each,
// every key is a miss or a value at least as new as its last acknowledged write, never torn.
// Half of the runs take a snapshot every second, half use the default interval.
TEST_F(RestartTest, Kill9LoopNeverStale) { CrashLoop(kKill9Iterations, false); }

// write-through: every acknowledged mutation survives kill -9.
TEST_F(RestartTest, WriteThroughLosesNothing) { CrashLoop(kWriteThroughIterations, true); }

// ---------------------------------------------------------------------------------------------
// Damaged or busy data dirs.

enum class Damage { kCurrentGarbage, kManifestTruncated };
void PrintTo(Damage damage, std::ostream* os) { *os << static_cast<int>(damage); }

class DamagedDataDirTest : public RestartTest, public ::testing::WithParamInterface<Damage> {
 protected:
  void DamageDataDir() {
    namespace fs = std::filesystem;
    int damaged = 0;
    for (const auto& entry : fs::recursive_directory_iterator(data_dir_->path())) {
      const std::string name = entry.path().filename().string();
      if (GetParam() == Damage::kCurrentGarbage && name == "CURRENT") {
        std::ofstream(entry.path(), std::ios::trunc) << "garbage\x01\x02 not a manifest\n";
        ++damaged;
      } else if (GetParam() == Damage::kManifestTruncated && name.rfind("MANIFEST-", 0) == 0) {
        fs::resize_file(entry.path(), 0);
        ++damaged;
      }
    }
    ASSERT_GT(damaged, 0) << "nothing to damage in " << data_dir_->path();
  }
};

TEST_P(DamagedDataDirTest, RefusedWithOneLineOrDiscarded) {
  ASSERT_NO_FATAL_FAILURE(Start());
  Store("damaged:k", "before");
  ASSERT_NO_FATAL_FAILURE(StopCleanly());
  ASSERT_NO_FATAL_FAILURE(DamageDataDir());

  const auto start = Clock::now();
  auto refused = TryStart({}, kRefuseDeadline);
  ASSERT_FALSE(refused.ok()) << "started on a damaged data dir";
  const std::string& message = refused.status().message();
  EXPECT_NE(std::string::npos, message.find("(exit code " + std::to_string(kExitDataDir) + ")"))
      << message;
  EXPECT_LT(SecondsSince(start), 10.0);  // no crash loop, no long wait
  const size_t at = message.find("stderr: ");
  ASSERT_NE(std::string::npos, at) << message;
  const std::vector<std::string> errors = ErrorLines(message.substr(at + 8));
  ASSERT_EQ(1u, errors.size()) << message;
  EXPECT_NE(std::string::npos, errors[0].find(data_dir_->path())) << errors[0];

  ASSERT_NO_FATAL_FAILURE(Start({"--damaged-data", "discard"}));
  EXPECT_EQ("discarded", StatText("warm_start"));
  EXPECT_EQ("END\r\n", Get("get damaged:k\r\n"));
  EXPECT_EQ("STORED\r\n", Call("set damaged:new 0 0 5\r\nafter\r\n"));
  EXPECT_EQ(Value("damaged:new", 0, "after") + "END\r\n", Get("get damaged:new\r\n"));
  // The fresh database is a normal one from then on.
  ASSERT_NO_FATAL_FAILURE(StopCleanly());
  ASSERT_NO_FATAL_FAILURE(Start());
  EXPECT_EQ("clean", StatText("warm_start"));
  EXPECT_EQ(Value("damaged:new", 0, "after") + "END\r\n", Get("get damaged:k damaged:new\r\n"));
}

INSTANTIATE_TEST_SUITE_P(Damages, DamagedDataDirTest,
                         ::testing::Values(Damage::kCurrentGarbage, Damage::kManifestTruncated),
                         [](const ::testing::TestParamInfo<Damage>& info) {
                           return info.param == Damage::kCurrentGarbage ? "CurrentGarbage"
                                                                        : "ManifestTruncated";
                         });

// warm_tier_test's SecondServerOnTheSameDataDirFailsToStart checks the one line naming the
// directory; the spec adds the exit code.
TEST_F(RestartTest, BusyDataDirExitsWith70) {
  ASSERT_NO_FATAL_FAILURE(Start());
  auto second = TryStart({}, kRefuseDeadline);
  ASSERT_FALSE(second.ok()) << "a second server runs on " << data_dir_->path();
  EXPECT_NE(std::string::npos,
            second.status().message().find("(exit code " + std::to_string(kExitDataDir) + ")"))
      << second.status().message();
  EXPECT_EQ("VERSION 1.6.18\r\n", Call("version\r\n"));
}

}  // namespace
}  // namespace warmcache::testutil
