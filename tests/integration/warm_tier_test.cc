// SPDX-License-Identifier: BSD-3-Clause
// Issue #4, the warm tier: items evicted from RAM are spilled to RocksDB and served from there.
//
// Every command on a disk-only item must answer byte for byte as memcached answers for an item
// in RAM. The tests of command semantics (WarmTierSemanticsTest) therefore run twice:
//  - on warmcached, where the items under test are first pushed out of RAM (stored first, never
//    read, then 4x the memory limit of filler; then `stats` is polled until the spill queue is
//    empty), and the delta of `warm_hits` proves that the disk path answered;
//  - on the memcached oracle, where nothing is pushed out and the same expected replies are
//    checked against an item in RAM: this keeps the expectations themselves honest.
// Each check uses its own keys, because reading a disk-only item promotes it back to RAM.
// The WarmTierServerTest tests (stats, the disk limit, --persistence=off, a busy data directory)
// are warmcached's own and run on it alone.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

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

constexpr int kRamMb = 8;                             // -m for every warmcached here
constexpr size_t kFillerValueBytes = 4096;            // filler items are about 4 KB ...
constexpr int kFillerFactor = 4;                      // ... and 4x -m of them push the victims out
constexpr milliseconds kSpillDeadline = seconds(30);  // spill queue drained (slow sanitizers)
constexpr milliseconds kExpiryDeadline = seconds(8);  // a 1-3 s TTL has surely passed
constexpr milliseconds kReplyTimeout = seconds(20);   // a reply may wait for the disk

enum class Target { kWarmcached, kMemcached };

// Shared plumbing: one server, one client, the filler that pushes items out of RAM, and replies
// read by their structure (so values may hold any bytes).
class WarmTierBase : public ::testing::Test {
 protected:
  // A clean exit: under ASan/TSan a leak or a race in the server makes its exit status non-zero.
  void TearDown() override {
    if (server_ && server_->IsRunning()) {
      EXPECT_EQ(0, server_->Stop()) << server_->StderrText();
    }
  }
  void StartWarmcached(const std::vector<std::string>& extra = {}, bool with_data_dir = true) {
    if (with_data_dir && !data_dir_) {
      auto dir = TempDir::Create("wc_warm_");
      ASSERT_TRUE(dir.ok()) << dir.status().ToString();
      data_dir_ = std::move(*dir);
    }
    std::vector<std::string> args = EphemeralPortArgs();
    args.insert(args.end(), {"-m", std::to_string(kRamMb)});
    if (with_data_dir) args.insert(args.end(), {"--data-dir", data_dir_->path()});
    args.insert(args.end(), extra.begin(), extra.end());
    auto started = ServerProcess::Start(WC_WARMCACHED_PATH, args);
    ASSERT_TRUE(started.ok()) << started.status().ToString();
    server_ = std::move(*started);
    Connect();
  }
  void Connect() {
    auto client = TestClient::Connect(server_->port());
    ASSERT_TRUE(client.ok()) << client.status().ToString();
    client_ = std::move(*client);
    client_->set_timeout(kReplyTimeout);
  }

  std::string Call(const std::string& request, const std::string& terminator = "\r\n") {
    return CallOrFail(*client_, request, terminator);
  }
  std::string Get(const std::string& request) { return GetOrFail(*client_, request); }
  std::string Meta(const std::string& request) { return MetaOrFail(*client_, request); }
  uint64_t Store(const std::string& key, const std::string& data, uint32_t flags = 0,
                 int64_t exptime = 0) {
    return StoreWithCas(*client_, key, data, flags, exptime);
  }

  // Stores 4x -m of new filler items (noreply, pipelined), so every item stored before and not
  // read since leaves RAM; with `wait_for_disk`, then polls until the spill queue is empty.
  // With `touch_each`, each filler item is also touched once, a second access that moves it to
  // the protected segment, so items read before (themselves protected) are pushed out too.
  // Returns how long it took.
  Clock::duration FillRam(bool wait_for_disk = true, bool touch_each = false) {
    const auto start = Clock::now();
    const std::string value(kFillerValueBytes, 'f');
    const size_t count = (size_t{kFillerFactor} * kRamMb << 20) / kFillerValueBytes;
    std::string batch;
    for (size_t i = 0; i < count; ++i) {
      const std::string key = "filler:" + std::to_string(filler_next_++);
      batch +=
          "set " + key + " 0 0 " + std::to_string(value.size()) + " noreply\r\n" + value + "\r\n";
      if (touch_each) batch += "touch " + key + " 0 noreply\r\n";
      if (batch.size() >= (1 << 20) || i + 1 == count) {
        EXPECT_TRUE(client_->Send(batch).ok());
        batch.clear();
      }
    }
    EXPECT_EQ("MN\r\n", Call("mn\r\n"));  // every set before it was processed
    if (wait_for_disk) {
      auto drained = WaitForStats(
          *client_, [](const StatMap& s) { return StatInt(s, "warm_spill_queue") == 0; },
          kSpillDeadline, "warm_spill_queue");
      EXPECT_TRUE(drained.ok()) << drained.status().ToString();
    }
    return Clock::now() - start;
  }

  int64_t StatNow(const std::string& name) {
    auto stats = ReadStats(*client_);
    EXPECT_TRUE(stats.ok()) << stats.status().ToString();
    if (!stats.ok()) return -1;
    const auto value = StatInt(*stats, name);
    EXPECT_TRUE(value.has_value()) << "no integer stat " << name;
    return value.value_or(-1);
  }

  std::string StatText(const std::string& name) {
    auto stats = ReadStats(*client_);
    EXPECT_TRUE(stats.ok()) << stats.status().ToString();
    if (!stats.ok()) return {};
    auto it = stats->find(name);
    return it == stats->end() ? std::string() : it->second;
  }

  // Gets `key` until it misses (deadline kExpiryDeadline). Every hit must be exactly `data`
  // with `flags`; once it missed it must stay a miss. Returns false if it never missed.
  bool PollUntilMiss(const std::string& key, uint32_t flags, const std::string& data) {
    const auto until = Clock::now() + kExpiryDeadline;
    while (Clock::now() < until) {
      const std::string reply = Get("get " + key + "\r\n");
      if (reply == "END\r\n") {
        for (int i = 0; i < 3; ++i) EXPECT_EQ("END\r\n", Get("get " + key + "\r\n")) << key;
        return true;
      }
      EXPECT_EQ(Value(key, flags, data) + "END\r\n", reply) << "a stale value of " << key;
      std::this_thread::sleep_for(milliseconds(20));  // between polls
    }
    return false;
  }

  std::unique_ptr<TempDir> data_dir_;
  std::unique_ptr<ServerProcess> server_;
  std::unique_ptr<TestClient> client_;
  int filler_next_ = 0;
};

// ---------------------------------------------------------------------------------------------
// Command semantics on disk-only items, on warmcached and (as the reference) on memcached.

class WarmTierSemanticsTest : public WarmTierBase, public ::testing::WithParamInterface<Target> {
 protected:
  void SetUp() override {
    if (GetParam() == Target::kWarmcached) {
      StartWarmcached();
      return;
    }
    const auto oracle = FindOracle();
    if (!oracle) GTEST_SKIP() << "memcached (the oracle) is not installed";
    std::vector<std::string> args = oracle->args;
    for (const std::string& arg : EphemeralPortArgs()) args.push_back(arg);
    args.insert(args.end(), {"-m", "64"});
    auto started = ServerProcess::Start(oracle->binary, args);
    ASSERT_TRUE(started.ok()) << started.status().ToString();
    server_ = std::move(*started);
    Connect();
  }
  void TearDown() override {
    if (server_ && GetParam() == Target::kMemcached) server_->Kill9();  // memcached exits slowly
    WarmTierBase::TearDown();
  }
  bool warm() const { return GetParam() == Target::kWarmcached; }

  // On warmcached: FillRam(). On memcached, where the items simply stay in RAM: nothing.
  Clock::duration PushOutOfRam(bool wait_for_disk = true) {
    return warm() ? FillRam(wait_for_disk) : Clock::duration{};
  }
  // warm_hits on warmcached; 0 on memcached.
  int64_t WarmHits() { return warm() ? StatNow("warm_hits") : 0; }
  // On warmcached: exactly `n` disk reads were served since `before` was taken.
  void ExpectDiskHits(int64_t before, int64_t n) {
    if (!warm()) return;
    EXPECT_EQ(before + n, StatNow("warm_hits")) << "disk reads served";
  }
  // On warmcached: at least `n` disk reads were served since `before` was taken.
  void ExpectDiskHitsAtLeast(int64_t before, int64_t n) {
    if (!warm()) return;
    EXPECT_LE(before + n, StatNow("warm_hits")) << "disk reads served";
  }
};

TEST_P(WarmTierSemanticsTest, GetAndGetsAreUnchanged) {
  Store("get:a", "alpha", 0);
  const uint64_t cas_b = Store("get:b", "bravo value", 4294967295u);
  const uint64_t cas_c = Store("get:c", "", 17);
  PushOutOfRam();
  const int64_t hits = WarmHits();
  EXPECT_EQ(Value("get:a", 0, "alpha") + "END\r\n", Get("get get:a\r\n"));
  EXPECT_EQ(Value("get:b", 4294967295u, "bravo value", cas_b) + "END\r\n", Get("gets get:b\r\n"));
  EXPECT_EQ(Value("get:c", 17, "", cas_c) + "END\r\n", Get("gets get:c\r\n"));
  ExpectDiskHits(hits, 3);
  // Promoted back to RAM, with the same CAS.
  EXPECT_EQ(Value("get:b", 4294967295u, "bravo value", cas_b) + "END\r\n", Get("gets get:b\r\n"));
}

TEST_P(WarmTierSemanticsTest, MultiGetMixesRamDiskAndMissingKeysInRequestOrder) {
  const uint64_t cas_d1 = Store("mix:d1", "disk one", 1);
  const uint64_t cas_d2 = Store("mix:d2", "disk two", 2);
  const uint64_t cas_d3 = Store("mix:d3", "disk three", 3);
  PushOutOfRam();
  const uint64_t cas_r1 = Store("mix:r1", "ram one", 11);
  Store("mix:r2", "ram two", 12);
  const int64_t hits = WarmHits();
  EXPECT_EQ(Value("mix:d1", 1, "disk one") + Value("mix:r1", 11, "ram one") +
                Value("mix:d2", 2, "disk two") + Value("mix:r2", 12, "ram two") + "END\r\n",
            Get("get mix:d1 mix:r1 mix:none1 mix:d2 mix:r2 mix:none2\r\n"));
  ExpectDiskHits(hits, 2);
  // gets, and the same disk-only key twice in one request (the second read may be in flight
  // while the first is): each copy answers.
  EXPECT_EQ(Value("mix:d3", 3, "disk three", cas_d3) + Value("mix:r1", 11, "ram one", cas_r1) +
                Value("mix:d3", 3, "disk three", cas_d3) + Value("mix:d1", 1, "disk one", cas_d1) +
                "END\r\n",
            Get("gets mix:none3 mix:d3 mix:r1 mix:d3 mix:d1\r\n"));
  // The same, pipelined as separate requests.
  const std::string d2 = Value("mix:d2", 2, "disk two", cas_d2) + "END\r\n";
  const std::string none = "END\r\n";
  ASSERT_TRUE(client_->Send("gets mix:d2\r\nget mix:none4\r\ngets mix:d2\r\n").ok());
  EXPECT_EQ(d2 + none + d2, *client_->ReadBytes(2 * d2.size() + none.size()));
}

// More disk-only keys in one get than one fetch batch takes (64): every one still answers.
TEST_P(WarmTierSemanticsTest, ALongMultiGetOfDiskOnlyKeysAnswersEveryKey) {
  constexpr int kKeys = 300;
  std::string request = "get";
  std::string expected;
  for (int i = 0; i < kKeys; ++i) {
    const std::string key = "long:" + std::to_string(i);
    Store(key, "value " + std::to_string(i), static_cast<uint32_t>(i));
    request += " " + key;
    expected += Value(key, static_cast<uint32_t>(i), "value " + std::to_string(i));
  }
  PushOutOfRam();
  const int64_t hits = WarmHits();
  EXPECT_EQ(expected + "END\r\n", Get(request + "\r\n"));
  ExpectDiskHitsAtLeast(hits, kKeys);
}

TEST_P(WarmTierSemanticsTest, CasOnDiskOnlyItems) {
  const uint64_t cas_ok = Store("cas:ok", "old", 5);
  const uint64_t cas_bad = Store("cas:bad", "keep", 6);
  Store("cas:gets", "gets first", 7);
  PushOutOfRam();
  const int64_t hits = WarmHits();
  EXPECT_EQ("STORED\r\n", Call("cas cas:ok 8 0 3 " + std::to_string(cas_ok) + "\r\nnew\r\n"));
  EXPECT_EQ("EXISTS\r\n",
            Call("cas cas:bad 0 0 3 " + std::to_string(cas_bad + 1000) + "\r\nnop\r\n"));
  // The CAS of an earlier gets (itself served from disk).
  const std::string gets = Get("gets cas:gets\r\n");
  ExpectDiskHits(hits, 3);
  ASSERT_EQ(0u, gets.rfind("VALUE cas:gets 7 10 ", 0)) << gets;
  const std::string cas_gets = gets.substr(20, gets.find('\r') - 20);
  EXPECT_EQ("STORED\r\n", Call("cas cas:gets 9 0 6 " + cas_gets + "\r\nsecond\r\n"));
  EXPECT_EQ("NOT_FOUND\r\n", Call("cas cas:none 0 0 1 1\r\nx\r\n"));
  EXPECT_EQ(Value("cas:ok", 8, "new") + Value("cas:bad", 6, "keep") +
                Value("cas:gets", 9, "second") + "END\r\n",
            Get("get cas:ok cas:bad cas:gets cas:none\r\n"));
}

TEST_P(WarmTierSemanticsTest, TouchAndGatSetANewTtl) {
  Store("ttl:touch1", "t1", 1);
  Store("ttl:touch1000", "t1000", 2);
  Store("ttl:gat1", "g1", 3);
  const uint64_t cas_gats = Store("ttl:gats1000", "g1000", 4);
  PushOutOfRam();
  const int64_t hits = WarmHits();
  EXPECT_EQ("TOUCHED\r\n", Call("touch ttl:touch1 1\r\n"));
  EXPECT_EQ("TOUCHED\r\n", Call("touch ttl:touch1000 1000\r\n"));
  EXPECT_EQ(Value("ttl:gat1", 3, "g1") + "END\r\n", Get("gat 1 ttl:gat1\r\n"));
  EXPECT_EQ(Value("ttl:gats1000", 4, "g1000", cas_gats) + "END\r\n",
            Get("gats 1000 ttl:gats1000\r\n"));
  ExpectDiskHits(hits, 4);
  EXPECT_EQ("NOT_FOUND\r\n", Call("touch ttl:none 1\r\n"));
  EXPECT_EQ("END\r\n", Get("gat 1 ttl:none\r\n"));
  for (const std::string key : {"ttl:touch1000", "ttl:gats1000"}) {
    const std::string ttl = Meta("mg " + key + " t\r\n");
    EXPECT_TRUE(ttl == "HD t1000\r\n" || ttl == "HD t999\r\n") << key << ": " << ttl;
  }
  // The short TTLs take effect, and no older copy (without a TTL) comes back from disk.
  EXPECT_TRUE(PollUntilMiss("ttl:touch1", 1, "t1")) << "touch 1 did not expire the item";
  EXPECT_TRUE(PollUntilMiss("ttl:gat1", 3, "g1")) << "gat 1 did not expire the item";
  PushOutOfRam();
  EXPECT_EQ("END\r\n", Get("get ttl:touch1 ttl:gat1\r\n"));
}

TEST_P(WarmTierSemanticsTest, IncrDecrOnDiskOnlyItems) {
  Store("num:a", "41", 1);
  Store("num:b", "10", 2);
  Store("num:c", "5", 3);
  Store("num:text", "abc", 4);
  Store("num:max", "18446744073709551615", 5);
  PushOutOfRam();
  const int64_t hits = WarmHits();
  EXPECT_EQ("42\r\n", Call("incr num:a 1\r\n"));
  EXPECT_EQ("7\r\n", Call("decr num:b 3\r\n"));
  EXPECT_EQ("0\r\n", Call("decr num:c 9\r\n"));
  EXPECT_EQ("CLIENT_ERROR cannot increment or decrement non-numeric value\r\n",
            Call("incr num:text 1\r\n"));
  EXPECT_EQ("0\r\n", Call("incr num:max 1\r\n"));
  ExpectDiskHits(hits, 5);
  EXPECT_EQ("NOT_FOUND\r\n", Call("incr num:none 1\r\n"));
  // memcached pads a value that got shorter with spaces (also one that wrapped); flags are kept.
  EXPECT_EQ(Value("num:a", 1, "42") + Value("num:b", 2, "7 ") + Value("num:c", 3, "0") +
                Value("num:text", 4, "abc") + Value("num:max", 5, "0" + std::string(19, ' ')) +
                "END\r\n",
            Get("get num:a num:b num:c num:text num:max\r\n"));
}

TEST_P(WarmTierSemanticsTest, AppendPrependOnDiskOnlyItems) {
  Store("cat:app", "hello", 3);
  Store("cat:pre", "world", 4);
  PushOutOfRam();
  const int64_t hits = WarmHits();
  EXPECT_EQ("STORED\r\n", Call("append cat:app 0 0 6\r\n world\r\n"));
  EXPECT_EQ("STORED\r\n", Call("prepend cat:pre 0 0 6\r\nhello \r\n"));
  ExpectDiskHits(hits, 2);
  EXPECT_EQ("NOT_STORED\r\n", Call("append cat:none 0 0 1\r\nx\r\n"));
  EXPECT_EQ("NOT_STORED\r\n", Call("prepend cat:none 0 0 1\r\nx\r\n"));
  EXPECT_EQ(Value("cat:app", 3, "hello world") + Value("cat:pre", 4, "hello world") + "END\r\n",
            Get("get cat:app cat:pre cat:none\r\n"));
}

TEST_P(WarmTierSemanticsTest, AddAndReplaceSeeDiskOnlyItems) {
  Store("ar:add", "original", 5);
  Store("ar:replace", "before", 6);
  PushOutOfRam();
  const int64_t hits = WarmHits();
  EXPECT_EQ("NOT_STORED\r\n", Call("add ar:add 0 0 3\r\nnew\r\n"));
  EXPECT_EQ("STORED\r\n", Call("replace ar:replace 9 0 5\r\nafter\r\n"));
  ExpectDiskHits(hits, 2);
  EXPECT_EQ("NOT_STORED\r\n", Call("replace ar:none 0 0 1\r\nx\r\n"));
  EXPECT_EQ("STORED\r\n", Call("add ar:fresh 1 0 1\r\nx\r\n"));
  EXPECT_EQ(Value("ar:add", 5, "original") + Value("ar:replace", 9, "after") +
                Value("ar:fresh", 1, "x") + "END\r\n",
            Get("get ar:add ar:replace ar:none ar:fresh\r\n"));
}

TEST_P(WarmTierSemanticsTest, DeletedItemsStayDeleted) {
  Store("del:disk", "on disk", 1);
  Store("del:witness", "stored with it", 2);
  Store("del:promoted", "read back first", 3);
  PushOutOfRam();
  EXPECT_EQ("DELETED\r\n", Call("delete del:disk\r\n"));
  EXPECT_EQ("NOT_FOUND\r\n", Call("delete del:disk\r\n"));
  // A disk copy of a promoted item must go too.
  EXPECT_EQ(Value("del:promoted", 3, "read back first") + "END\r\n", Get("get del:promoted\r\n"));
  EXPECT_EQ("DELETED\r\n", Call("delete del:promoted\r\n"));
  // del:witness, stored in the same batch and never read, shows where del:disk was.
  const int64_t hits = WarmHits();
  EXPECT_EQ(Value("del:witness", 2, "stored with it") + "END\r\n",
            Get("get del:disk del:witness del:promoted\r\n"));
  ExpectDiskHits(hits, 1);
  PushOutOfRam();  // move everything around again: no stale copy may resurrect
  EXPECT_EQ("END\r\n", Get("get del:disk del:promoted\r\n"));
  EXPECT_EQ("EN\r\n", Meta("mg del:disk v\r\n"));
  EXPECT_EQ("STORED\r\n", Call("add del:disk 4 0 3\r\nnew\r\n"));
  EXPECT_EQ(Value("del:disk", 4, "new") + "END\r\n", Get("get del:disk\r\n"));
}

TEST_P(WarmTierSemanticsTest, OverwrittenItemsNeverShowTheOldValue) {
  Store("over:set", "old value", 1);
  Store("over:setdel", "old too", 2);
  PushOutOfRam();
  // Not read before the next push: a read would move it to the protected segment.
  EXPECT_EQ("STORED\r\n", Call("set over:set 5 0 3\r\nnew\r\n"));
  EXPECT_EQ("STORED\r\n", Call("set over:setdel 6 0 5\r\nnewer\r\n"));
  EXPECT_EQ("DELETED\r\n", Call("delete over:setdel\r\n"));
  EXPECT_EQ("END\r\n", Get("get over:setdel\r\n"));
  PushOutOfRam();  // now the new over:set is on disk too
  const int64_t hits = WarmHits();
  EXPECT_EQ(Value("over:set", 5, "new") + "END\r\n", Get("get over:set over:setdel\r\n"));
  ExpectDiskHits(hits, 1);
}

TEST_P(WarmTierSemanticsTest, MetaCommandsOnDiskOnlyItems) {
  const uint64_t cas_get = Store("meta:get", "value", 9);
  const uint64_t cas_cmp = Store("meta:cas", "compare", 8);
  Store("meta:append", "abc", 7);
  Store("meta:add", "first", 6);
  Store("meta:num", "41", 5);
  Store("meta:set", "old", 4);
  Store("meta:del", "doomed", 3);
  PushOutOfRam();
  const int64_t hits = WarmHits();
  EXPECT_EQ("VA 5 f9 c" + std::to_string(cas_get) + " t-1 s5\r\nvalue\r\n",
            Meta("mg meta:get v f c t s\r\n"));
  EXPECT_EQ("HD\r\n", Meta("ms meta:cas 3 C" + std::to_string(cas_cmp) + "\r\nnew\r\n"));
  EXPECT_EQ("HD\r\n", Meta("ms meta:append 3 MA\r\ndef\r\n"));
  EXPECT_EQ("NS\r\n", Meta("ms meta:add 1 ME\r\nx\r\n"));
  EXPECT_EQ("VA 2\r\n42\r\n", Meta("ma meta:num v\r\n"));
  ExpectDiskHits(hits, 5);
  EXPECT_EQ("HD\r\n", Meta("ms meta:set 3 F1\r\nnew\r\n"));
  EXPECT_EQ("HD\r\n", Meta("md meta:del\r\n"));
  EXPECT_EQ("NF\r\n", Meta("md meta:del\r\n"));
  EXPECT_EQ("EN\r\n", Meta("mg meta:none v\r\n"));
  EXPECT_EQ("VA 3 f0\r\nnew\r\n", Meta("mg meta:cas v f\r\n"));
  EXPECT_EQ("VA 6 f7\r\nabcdef\r\n", Meta("mg meta:append v f\r\n"));
  EXPECT_EQ("VA 5 f6\r\nfirst\r\n", Meta("mg meta:add v f\r\n"));
  EXPECT_EQ("VA 2\r\n42\r\n", Meta("mg meta:num v\r\n"));
  EXPECT_EQ("VA 3 f1\r\nnew\r\n", Meta("mg meta:set v f\r\n"));
  EXPECT_EQ("EN\r\n", Meta("mg meta:del v\r\n"));
}

// Binary protocol helpers: a GET request, and the reply header memcached sends.
std::string BinaryGet(const std::string& key) {
  std::string frame(24, '\0');
  frame[0] = '\x80';
  frame[3] = static_cast<char>(key.size());
  frame[11] = static_cast<char>(key.size());
  frame[12] = '\x5a';  // opaque, echoed back
  return frame + key;
}
std::string BigEndian(uint64_t value, int bytes) {
  std::string out;
  for (int i = bytes - 1; i >= 0; --i) out += static_cast<char>((value >> (8 * i)) & 0xff);
  return out;
}
std::string BinaryReply(uint16_t status, uint8_t extras, const std::string& body, uint64_t cas) {
  return std::string("\x81\x00\x00\x00", 4) + static_cast<char>(extras) + '\0' +
         BigEndian(status, 2) + BigEndian(body.size(), 4) + BigEndian(0x5a000000, 4) +
         BigEndian(cas, 8) + body;
}

TEST_P(WarmTierSemanticsTest, BinaryGetOfDiskOnlyItem) {
  const uint64_t cas = Store("bin:key", std::string("bin\0value\r\n", 11), 0xdeadbeef);
  PushOutOfRam();
  const int64_t hits = WarmHits();
  Connect();  // a fresh connection: its first byte makes it a binary one
  const std::string hit =
      BinaryReply(0, 4, BigEndian(0xdeadbeef, 4) + std::string("bin\0value\r\n", 11), cas);
  const std::string miss = BinaryReply(1, 0, "Not found", 0);
  ASSERT_TRUE(client_->Send(BinaryGet("bin:key") + BinaryGet("bin:none")).ok());
  auto reply = client_->ReadBytes(hit.size() + miss.size());
  ASSERT_TRUE(reply.ok()) << reply.status().ToString();
  EXPECT_EQ(EscapeBytes(hit + miss), EscapeBytes(*reply));
  Connect();
  ExpectDiskHits(hits, 1);
}

TEST_P(WarmTierSemanticsTest, FlushAllHidesDiskOnlyItems) {
  Store("flush:a", "A", 1);
  Store("flush:b", "B", 2);
  PushOutOfRam();
  EXPECT_EQ("OK\r\n", Call("flush_all\r\n"));
  EXPECT_EQ("END\r\n", Get("get flush:a flush:b\r\n"));
  EXPECT_EQ("EN\r\n", Meta("mg flush:b v\r\n"));
  // Items stored after the flush are served, from disk too; the flushed ones stay gone.
  Store("flush:after", "after", 3);
  PushOutOfRam();
  const int64_t hits = WarmHits();
  EXPECT_EQ(Value("flush:after", 3, "after") + "END\r\n",
            Get("get flush:a flush:after flush:b\r\n"));
  ExpectDiskHits(hits, 1);
  EXPECT_EQ("NOT_STORED\r\n", Call("replace flush:a 0 0 1\r\nx\r\n"));
  EXPECT_EQ("STORED\r\n", Call("add flush:b 0 0 1\r\nx\r\n"));
}

TEST_P(WarmTierSemanticsTest, DelayedFlushAllServesUntilTheDeadline) {
  Store("dflush:polled", "polled", 1);
  Store("dflush:late", "late", 2);
  PushOutOfRam();
  const int64_t hits = WarmHits();
  // memcached's delayed flush starts at the first clock tick at or after now + delay - 1 s, so
  // with 2 it may start at once; with 3 the first read below is surely before it.
  EXPECT_EQ("OK\r\n", Call("flush_all 3\r\n"));
  EXPECT_EQ(Value("dflush:polled", 1, "polled") + "END\r\n", Get("get dflush:polled\r\n"));
  ExpectDiskHits(hits, 1);
  EXPECT_TRUE(PollUntilMiss("dflush:polled", 1, "polled")) << "the delayed flush never came";
  // Read for the first time after the deadline: the disk copy is flushed too.
  EXPECT_EQ("END\r\n", Get("get dflush:late\r\n"));
}

TEST_P(WarmTierSemanticsTest, DiskOnlyItemsExpire) {
  // The items must reach disk before their TTL runs out, so the TTL is sized from how long a
  // push takes on this build (sanitizers are slow): at least 2 s.
  const double push_s = std::chrono::duration<double>(PushOutOfRam()).count();
  const int ttl = std::max(2, static_cast<int>(std::ceil(1 + 2 * push_s)));
  Store("exp:polled", "polled", 1, ttl);
  Store("exp:late", "late", 2, ttl);
  Store("exp:never", "never", 3, 0);
  PushOutOfRam();
  const int64_t hits = WarmHits();
  EXPECT_EQ(Value("exp:polled", 1, "polled") + "END\r\n", Get("get exp:polled\r\n"))
      << "TTL " << ttl << " s";
  ExpectDiskHits(hits, 1);
  EXPECT_TRUE(PollUntilMiss("exp:polled", 1, "polled")) << "never expired";
  EXPECT_EQ(Value("exp:never", 3, "never") + "END\r\n", Get("get exp:late exp:never\r\n"));
}

TEST_P(WarmTierSemanticsTest, ReadsRacingTheSpillWriterSeeTheValue) {
  // Items just evicted may still be queued for the disk: they must be found all the same.
  std::string request = "get";
  std::string expected;
  for (int i = 0; i < 200; ++i) {
    const std::string key = "race:" + std::to_string(i);
    Store(key, "value " + std::to_string(i), i);
    request += " " + key;
    expected += Value(key, i, "value " + std::to_string(i));
  }
  PushOutOfRam(/*wait_for_disk=*/false);
  EXPECT_EQ(expected + "END\r\n", Get(request + "\r\n"));
}

TEST_P(WarmTierSemanticsTest, ValuesOfAllSizesRoundTripByteExact) {
  struct Case {
    std::string key;
    std::string data;
  };
  std::string text;
  while (text.size() < 1000) text += "the warm tier keeps what RAM cannot. ";
  text.resize(1000);
  const std::vector<Case> cases = {
      {"size:0", ""},          {"size:1", std::string(1, '\0')},           {"size:crlf", "\r\n"},
      {"size:1000text", text}, {"size:500k", AwkwardBytes(500 * 1024, 4)},
  };
  std::vector<uint64_t> cas;
  for (const Case& c : cases) cas.push_back(Store(c.key, c.data, 42));
  PushOutOfRam();
  const int64_t hits = WarmHits();
  for (size_t i = 0; i < cases.size(); ++i) {
    // EXPECT_TRUE, not EXPECT_EQ: 500 KB of random bytes is no use in a failure message.
    EXPECT_TRUE(Value(cases[i].key, 42, cases[i].data, cas[i]) + "END\r\n" ==
                Get("gets " + cases[i].key + "\r\n"))
        << cases[i].key << " came back different";
  }
  // At least: the 500 KB item may be read twice (see BigPromotedItemIsReadFromDiskOnce).
  ExpectDiskHitsAtLeast(hits, static_cast<int64_t>(cases.size()));
}

INSTANTIATE_TEST_SUITE_P(Servers, WarmTierSemanticsTest,
                         ::testing::Values(Target::kWarmcached, Target::kMemcached),
                         [](const ::testing::TestParamInfo<Target>& info) {
                           return info.param == Target::kWarmcached ? "warmcached" : "memcached";
                         });

// ---------------------------------------------------------------------------------------------
// warmcached only: stats, the disk limit, --persistence=off, a busy data directory.

class WarmTierServerTest : public WarmTierBase {};

TEST_F(WarmTierServerTest, StatsAndSettingsDescribeTheWarmTier) {
  StartWarmcached({"--disk-limit", "64M"});
  auto settings = ReadStats(*client_, "settings");
  ASSERT_TRUE(settings.ok()) << settings.status().ToString();
  EXPECT_EQ(data_dir_->path(), (*settings)["data_dir"]);
  EXPECT_EQ("67108864", (*settings)["disk_limit"]);
  EXPECT_EQ("yes", (*settings)["persistence"]);
  Store("stats:victim", "v");
  FillRam();
  auto stats = ReadStats(*client_);
  ASSERT_TRUE(stats.ok()) << stats.status().ToString();
  for (const char* name :
       {"hot_items", "hot_bytes", "warm_items", "warm_bytes_disk", "warm_disk_limit", "warm_spills",
        "warm_clean_drops", "warm_spill_queue", "warm_spill_queue_bytes", "warm_spill_stalls",
        "warm_hits", "warm_misses", "warm_promotions", "warm_deletes", "warm_read_errors",
        "warm_write_errors", "warm_budget_drops", "warm_bytes_raw", "warm_bytes_stored"}) {
    EXPECT_TRUE(StatInt(*stats, name).has_value()) << "no integer stat " << name;
  }
  EXPECT_TRUE(stats->contains("warm_compression_ratio"));
  EXPECT_EQ(67108864, StatInt(*stats, "warm_disk_limit"));
  EXPECT_GT(StatInt(*stats, "hot_items").value_or(0), 0);
  EXPECT_GT(StatInt(*stats, "warm_items").value_or(0), 0);
  EXPECT_GT(StatInt(*stats, "warm_spills").value_or(0), 0);
  EXPECT_EQ(0, StatInt(*stats, "warm_read_errors"));
  EXPECT_EQ(0, StatInt(*stats, "warm_write_errors"));
  const int64_t hits = StatNow("warm_hits");
  const int64_t misses = StatNow("warm_misses");
  EXPECT_EQ(Value("stats:victim", 0, "v") + "END\r\n", Get("get stats:victim stats:none\r\n"));
  EXPECT_EQ(hits + 1, StatNow("warm_hits"));
  EXPECT_EQ(misses + 1, StatNow("warm_misses"));
  EXPECT_LE(StatNow("warm_promotions"), StatNow("warm_hits"));
}

TEST_F(WarmTierServerTest, UnchangedPromotedItemIsNotWrittenAgain) {
  StartWarmcached();
  Store("clean:a", "unchanged");
  FillRam();
  EXPECT_EQ(Value("clean:a", 0, "unchanged") + "END\r\n", Get("get clean:a\r\n"));  // promoted
  const int64_t clean_drops = StatNow("warm_clean_drops");
  // Filler that is touched too, so clean:a leaves RAM whichever segment it is in.
  FillRam(/*wait_for_disk=*/true, /*touch_each=*/true);
  EXPECT_LT(clean_drops, StatNow("warm_clean_drops")) << "evicted again but written again";
  const int64_t hits = StatNow("warm_hits");
  EXPECT_EQ(Value("clean:a", 0, "unchanged") + "END\r\n", Get("get clean:a\r\n"));
  EXPECT_EQ(hits + 1, StatNow("warm_hits"));
}

TEST_F(WarmTierServerTest, PromotedItemEntersProbation) {
  // Issue #4: a disk hit is promoted into the probation segment, so items read once from disk
  // (a scan of cold keys) cannot push out the items read twice in RAM: plain filler, which
  // churns only probation, pushes the promoted item out again.
  StartWarmcached();
  Store("probation:a", "read once");
  FillRam();
  EXPECT_EQ(Value("probation:a", 0, "read once") + "END\r\n", Get("get probation:a\r\n"));
  FillRam();
  const int64_t hits = StatNow("warm_hits");
  EXPECT_EQ(Value("probation:a", 0, "read once") + "END\r\n", Get("get probation:a\r\n"));
  EXPECT_EQ(hits + 1, StatNow("warm_hits")) << "the promoted item was still in RAM (protected?)";
}

TEST_F(WarmTierServerTest, BigPromotedItemIsReadFromDiskOnce) {
  StartWarmcached();
  const std::string big = AwkwardBytes(500 * 1024, 5);
  Store("big:promoted", big, 1);
  FillRam();
  const int64_t hits = StatNow("warm_hits");
  const int64_t promotions = StatNow("warm_promotions");
  EXPECT_TRUE(Value("big:promoted", 1, big) + "END\r\n" == Get("get big:promoted\r\n"));
  EXPECT_EQ(hits + 1, StatNow("warm_hits")) << "one get, one disk read";
  EXPECT_EQ(promotions + 1, StatNow("warm_promotions"));
}

TEST_F(WarmTierServerTest, BigStoredItemsStayWithPersistenceOff) {
  // Without a warm tier, an item evicted by its own arrival is lost: memcached never does that.
  StartWarmcached({"--persistence=off"}, /*with_data_dir=*/false);
  FillRam(/*wait_for_disk=*/false);
  const std::string big(500 * 1024, 'B');
  for (int i = 0; i < 20; ++i) {
    const std::string key = "big:" + std::to_string(i);
    EXPECT_EQ("STORED\r\n",
              Call("set " + key + " 0 0 " + std::to_string(big.size()) + "\r\n" + big + "\r\n"));
    EXPECT_TRUE(Value(key, 0, big) + "END\r\n" == Get("get " + key + "\r\n"))
        << key << " was not served right after it was stored";
  }
}

TEST_F(WarmTierServerTest, DiskLimitHoldsUnderIncompressibleLoad) {
  constexpr int64_t kLimit = 32 << 20;
  constexpr size_t kValueBytes = 32 * 1024;
  constexpr size_t kLoadBytes = 150 << 20;
  StartWarmcached({"--disk-limit", "32M"});
  // Each value is a distinct slice of one random pool: incompressible, as each record is
  // compressed on its own.
  const std::string pool = AwkwardBytes(4 << 20, 99);
  int64_t max_disk = 0;
  uint64_t max_dir = 0;
  std::string batch;
  for (size_t i = 0; i < kLoadBytes / kValueBytes; ++i) {
    const size_t at = (i * 7919) % (pool.size() - kValueBytes);
    batch += "set load:" + std::to_string(i) + " 0 0 " + std::to_string(kValueBytes) +
             " noreply\r\n" + pool.substr(at, kValueBytes) + "\r\n";
    if (batch.size() < (4 << 20)) continue;
    ASSERT_TRUE(client_->Send(batch).ok());
    batch.clear();
    ASSERT_EQ("MN\r\n", Call("mn\r\n"));
    const int64_t disk = StatNow("warm_bytes_disk");
    const uint64_t dir = TotalFileBytes(data_dir_->path());
    max_disk = std::max(max_disk, disk);
    max_dir = std::max(max_dir, dir);
    // No tolerance: the server keeps headroom inside the limit for memtables, WAL, flushes and
    // its own files, so it means to stay under it at every moment.
    EXPECT_LE(disk, kLimit) << "warm_bytes_disk after " << i + 1 << " values";
    EXPECT_LE(dir, static_cast<uint64_t>(kLimit)) << "files in --data-dir after " << i + 1;
  }
  RecordProperty("max_warm_bytes_disk", std::to_string(max_disk));
  RecordProperty("max_data_dir_bytes", std::to_string(max_dir));
  auto drained = WaitForStats(
      *client_, [](const StatMap& s) { return StatInt(s, "warm_spill_queue") == 0; },
      kSpillDeadline, "warm_spill_queue");
  ASSERT_TRUE(drained.ok()) << drained.status().ToString();
  EXPECT_LE(StatInt(*drained, "warm_bytes_disk").value_or(-1), kLimit);
  EXPECT_GT(StatInt(*drained, "warm_budget_drops").value_or(0), 0);
  EXPECT_GT(StatInt(*drained, "warm_budget_dropped_bytes").value_or(0), 0);
  EXPECT_GT(max_disk, kLimit / 4) << "the disk was hardly used";
  // Still serving, from disk too: the newest spills are the last to be dropped.
  Store("limit:victim", "recent");
  FillRam();
  EXPECT_LE(StatNow("warm_bytes_disk"), kLimit);
  const int64_t hits = StatNow("warm_hits");
  EXPECT_EQ(Value("limit:victim", 0, "recent") + "END\r\n", Get("get limit:victim\r\n"));
  EXPECT_EQ(hits + 1, StatNow("warm_hits"));
  EXPECT_EQ(0, StatNow("warm_write_errors"));
}

TEST_F(WarmTierServerTest, PersistenceOffIsPlainMemcached) {
  auto dir = TempDir::Create("wc_warm_");
  ASSERT_TRUE(dir.ok());
  data_dir_ = std::move(*dir);
  const std::vector<std::string> args = {"--persistence=off"};
  StartWarmcached(args);
  auto settings = ReadStats(*client_, "settings");
  ASSERT_TRUE(settings.ok()) << settings.status().ToString();
  EXPECT_EQ("no", (*settings)["persistence"]);
  Store("off:victim", "gone");
  FillRam(/*wait_for_disk=*/false);  // there is no spill queue
  EXPECT_EQ("END\r\n", Get("get off:victim\r\n"));
  auto stats = ReadStats(*client_);
  ASSERT_TRUE(stats.ok()) << stats.status().ToString();
  EXPECT_GT(StatInt(*stats, "evictions").value_or(0), 0);
  for (const auto& [name, value] : *stats) {
    EXPECT_NE(0u, name.rfind("warm_", 0)) << "STAT " << name << " " << value;
  }
  Store("off:last", "in RAM at the restart");
  EXPECT_EQ(0, server_->Stop()) << server_->StderrText();
  StartWarmcached(args);
  EXPECT_EQ("END\r\n", Get("get off:last off:victim\r\n"));
  EXPECT_EQ(0, StatNow("curr_items"));
}

// A value that lived only in RAM when the process stopped is newer than the disk copy it
// shadowed: after a clean restart the newest value comes back, never the old one (issue #5).
TEST_F(WarmTierServerTest, ARestartNeverServesAnOlderValue) {
  StartWarmcached();
  Store("restart:k", "v1");
  Store("restart:spilled", "on disk");
  FillRam();
  EXPECT_EQ(Value("restart:k", 0, "v1") + "END\r\n", Get("get restart:k\r\n"));  // promoted
  Store("restart:k", "v2");  // in RAM only; the disk's v1 is invalidated
  EXPECT_EQ(0, server_->Stop()) << server_->StderrText();
  StartWarmcached();
  EXPECT_EQ(Value("restart:k", 0, "v2") + Value("restart:spilled", 0, "on disk") + "END\r\n",
            Get("get restart:k restart:spilled\r\n"));
}

// The same after kill -9: v2 may be lost (it was only in RAM), but v1 must not come back,
// because the invalidation of v1 reached RocksDB's log before STORED was sent.
TEST_F(WarmTierServerTest, AfterKill9NoOlderValueComesBack) {
  StartWarmcached();
  Store("crash:k", "v1");
  FillRam();
  EXPECT_EQ(Value("crash:k", 0, "v1") + "END\r\n", Get("get crash:k\r\n"));  // promoted
  Store("crash:k", "v2");  // in RAM only; the disk's v1 is invalidated
  server_->Kill9();
  client_.reset();
  StartWarmcached();
  const std::string reply = Get("get crash:k\r\n");
  EXPECT_TRUE(reply == "END\r\n" || reply == Value("crash:k", 0, "v2") + "END\r\n") << reply;
  EXPECT_EQ("recovered", StatText("warm_start"));
}

TEST_F(WarmTierServerTest, SecondServerOnTheSameDataDirFailsToStart) {
  StartWarmcached();
  std::vector<std::string> args = EphemeralPortArgs();
  args.insert(args.end(), {"-m", std::to_string(kRamMb), "--data-dir", data_dir_->path()});
  auto second = ServerProcess::Start(WC_WARMCACHED_PATH, args);
  ASSERT_FALSE(second.ok()) << "a second server runs on " << data_dir_->path();
  // ServerProcess::Start quotes the child's stderr after "stderr: ".
  const std::string& message = second.status().message();
  const size_t at = message.find("stderr: ");
  ASSERT_NE(std::string::npos, at) << message;
  // One error line naming the directory; other lines may only be warnings (as root, one says
  // memcached would insist on -u).
  std::vector<std::string> errors;
  std::istringstream lines(message.substr(at + 8));
  for (std::string line; std::getline(lines, line);) {
    if (line.find(" warning ") == std::string::npos) errors.push_back(line);
  }
  ASSERT_EQ(1u, errors.size()) << message;
  EXPECT_NE(std::string::npos, errors[0].find(data_dir_->path())) << errors[0];
  // The first server is unharmed.
  EXPECT_EQ("VERSION 1.6.18\r\n", Call("version\r\n"));
  EXPECT_TRUE(server_->IsRunning());
}

}  // namespace
}  // namespace warmcache::testutil
