// SPDX-License-Identifier: BSD-3-Clause
// Issue #6, the warm hand-off: `warmcachectl ring move` between real warmcached processes.
//
// Four nodes run with a --data-dir and a --snapshot-dir each. The OLD pool file names the first
// three, the NEW one all four (the pools a grown deployment has before and after). Items are
// stored directly on their OLD-ring owners, as any ketama client would have stored them; then
// the test reads every key from its NEW-ring owner, as clients switched to NEW do: about 3/4 hit
// before the move and all of them after it. The rings come from the same pool files through
// wc_ring, which tests/unit/server/ring/ and ring_nutcracker_test check against libmemcached and
// twemproxy.
#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <map>
#include <memory>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "server/protocol/base64.h"
#include "server/ring/pool_config.h"
#include "server/ring/ring.h"
#include "tests/testutil/bulk_items.h"
#include "tests/testutil/escape.h"
#include "tests/testutil/expect_calls.h"
#include "tests/testutil/oracle.h"
#include "tests/testutil/run_command.h"
#include "tests/testutil/server_process.h"
#include "tests/testutil/temp_dir.h"
#include "tests/testutil/test_client.h"

namespace warmcache::testutil {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr int kKeys = 20000;
constexpr int kTtl = 3600;                          // every 7th item has it; the others none
constexpr milliseconds kCtlTimeout = seconds(120);  // one warmcachectl run (sanitizer builds)
constexpr milliseconds kReplyTimeout = seconds(30);
constexpr milliseconds kExpireDeadline = seconds(10);

// The counts of the "total: scanned N, moved N, already present N, ..." line of a run.
struct MoveTotals {
  uint64_t scanned = 0, moved = 0, present = 0, expired = 0, failed = 0, deleted = 0;
};
MoveTotals ParseTotals(const std::string& output) {
  const size_t start = output.find("total: ");
  if (start == std::string::npos) {
    ADD_FAILURE() << "no total line in: " << output;
    return {};
  }
  const std::string line = output.substr(start, output.find('\n', start) - start);
  const auto field = [&](const std::string& name) -> uint64_t {
    std::smatch m;
    if (std::regex_search(line, m, std::regex("[:,] " + name + " (\\d+)"))) {
      return std::stoull(m[1]);
    }
    ADD_FAILURE() << "no '" << name << "' in: " << line;
    return 0;
  };
  MoveTotals t{field("scanned"), field("moved"),  field("already present"),
               field("expired"), field("failed"), 0};
  if (line.find(", deleted ") != std::string::npos) t.deleted = field("deleted");
  return t;
}

// One item of the data set: values of varied length, flags over the whole 32-bit range.
BulkItem MakeItem(int i) {
  BulkItem item;
  item.key = "hk:" + std::to_string(i);
  item.data = "value " + std::to_string(i) + " " + std::string(20 + i % 150, 'a' + i % 26);
  item.flags = static_cast<uint32_t>(i) * 2654435761u;
  item.ttl = i % 7 == 0 ? kTtl : 0;
  return item;
}

class HandoffTest : public ::testing::Test {
 protected:
  struct Node {
    std::unique_ptr<TempDir> dir;  // data/ and snapshots/
    std::unique_ptr<ServerProcess> server;
    std::unique_ptr<TestClient> client;
    std::string address;
  };

  void SetUp() override {
    auto dir = TempDir::Create("wc_handoff_");
    ASSERT_TRUE(dir.ok()) << dir.status().ToString();
    dir_ = std::move(*dir);
    for (int i = 0; i < 4; ++i) ASSERT_NO_FATAL_FAILURE(StartNode());
    old_pool_ = WritePool("old.yml", 3);
    new_pool_ = WritePool("new.yml", 4);
    old_ring_ = LoadRing(old_pool_);
    new_ring_ = LoadRing(new_pool_);
  }

  // A clean exit: under ASan/TSan a leak or a race makes the exit status non-zero.
  void TearDown() override {
    for (Node& node : nodes_) {
      node.client.reset();
      if (node.server && node.server->IsRunning()) {
        EXPECT_EQ(0, node.server->Stop()) << node.server->StderrText();
      }
    }
  }

  void StartNode() {
    auto dir = TempDir::Create("wc_handoff_node_");
    ASSERT_TRUE(dir.ok()) << dir.status().ToString();
    std::vector<std::string> args = EphemeralPortArgs();
    args.insert(args.end(), {"-m", "64", "--data-dir", (*dir)->File("data"), "--snapshot-dir",
                             (*dir)->File("snapshots")});
    auto server = ServerProcess::Start(WC_WARMCACHED_PATH, args);
    ASSERT_TRUE(server.ok()) << server.status().ToString();
    auto client = TestClient::Connect((*server)->port());
    ASSERT_TRUE(client.ok()) << client.status().ToString();
    (*client)->set_timeout(kReplyTimeout);
    const std::string address = "127.0.0.1:" + std::to_string((*server)->port());
    nodes_.push_back({std::move(*dir), std::move(*server), std::move(*client), address});
  }

  // A pool file naming the first `count` nodes, and its path.
  std::string WritePool(const std::string& name, int count, const std::string& extra = "") {
    std::string yaml = "cache:\n  hash: md5\n  distribution: ketama\n  servers:\n";
    for (int i = 0; i < count; ++i) yaml += "   - " + nodes_[i].address + ":1\n";
    yaml += extra;
    const std::string path = dir_->File(name);
    std::ofstream(path) << yaml;
    return path;
  }
  static ring::Ring LoadRing(const std::string& path) {
    auto pool = ring::LoadPoolConfig(path);
    EXPECT_TRUE(pool.ok()) << pool.status().ToString();
    return pool.ok() ? ring::BuildRing(*pool) : ring::Ring();
  }

  TestClient& OldOwner(const std::string& key) { return *nodes_[old_ring_.Owner(key)].client; }
  TestClient& NewOwner(const std::string& key) { return *nodes_[new_ring_.Owner(key)].client; }
  bool Moves(const std::string& key) const { return old_ring_.Owner(key) != new_ring_.Owner(key); }

  // Stores every item on its OLD-ring owner.
  void LoadByOldRing(const std::vector<BulkItem>& items) {
    std::map<int, std::vector<BulkItem>> by_owner;
    for (const BulkItem& item : items) by_owner[old_ring_.Owner(item.key)].push_back(item);
    ASSERT_EQ(3u, by_owner.size());
    for (const auto& [owner, owned] : by_owner) {
      Status stored = StoreMany(*nodes_[owner].client, owned);
      ASSERT_TRUE(stored.ok()) << stored.ToString();
    }
  }
  // Gets every key from the owner `ring` names; the keys found.
  std::map<std::string, Found> ReadBy(const ring::Ring& ring, const std::vector<BulkItem>& items) {
    std::map<int, std::vector<std::string>> by_owner;
    for (const BulkItem& item : items) by_owner[ring.Owner(item.key)].push_back(item.key);
    std::map<std::string, Found> found;
    for (const auto& [owner, keys] : by_owner) {
      auto got = GetMany(*nodes_[owner].client, keys);
      EXPECT_TRUE(got.ok()) << got.status().ToString();
      if (got.ok()) found.merge(*got);
    }
    return found;
  }

  CommandResult Move(const std::vector<std::string>& extra = {}) {
    std::vector<std::string> argv = {WC_WARMCACHECTL_PATH, "ring",   "move", "--pool", old_pool_,
                                     "--pool-new",         new_pool_};
    argv.insert(argv.end(), extra.begin(), extra.end());
    auto result = RunCommand(argv, kCtlTimeout);
    EXPECT_TRUE(result.ok()) << result.status().ToString();
    return result.ok() ? *result : CommandResult{-1000, ""};
  }

  // A key named `prefix<n>` that the pool change moves.
  std::string MovingKey(const std::string& prefix) const {
    for (int n = 0;; ++n) {
      if (Moves(prefix + std::to_string(n))) return prefix + std::to_string(n);
    }
  }

  std::unique_ptr<TempDir> dir_;  // pool files
  std::vector<Node> nodes_;
  std::string old_pool_, new_pool_;
  ring::Ring old_ring_, new_ring_;
};

std::vector<BulkItem> MakeItems(int count) {
  std::vector<BulkItem> items;
  for (int i = 0; i < count; ++i) items.push_back(MakeItem(i));
  return items;
}

TEST_F(HandoffTest, MoveGivesTheNewRingEveryKey) {
  const std::vector<BulkItem> items = MakeItems(kKeys);
  ASSERT_NO_FATAL_FAILURE(LoadByOldRing(items));
  // Before the move, clients of NEW miss what the fourth node now owns.
  const double before = static_cast<double>(ReadBy(new_ring_, items).size()) / kKeys;
  EXPECT_GT(before, 0.6);
  EXPECT_LT(before, 0.9);

  // Written through NEW since the switch: the move must not overwrite it.
  size_t fresh = 0;
  while (!Moves(items[fresh].key)) ++fresh;
  const BulkItem& fresh_item = items[fresh];
  ASSERT_TRUE(StoreMany(NewOwner(fresh_item.key), {{fresh_item.key, "fresh", 99, 0}}).ok());
  // Expired before the move: not moved.
  const std::string expired_key = MovingKey("hk:expired:");
  ASSERT_TRUE(StoreMany(OldOwner(expired_key), {{expired_key, "old", 1, 1}}).ok());
  const auto deadline = std::chrono::steady_clock::now() + kExpireDeadline;
  while (MetaOrFail(OldOwner(expired_key), "mg " + expired_key + " v\r\n") != "EN\r\n") {
    ASSERT_LT(std::chrono::steady_clock::now(), deadline) << expired_key << " did not expire";
    std::this_thread::sleep_for(milliseconds(50));
  }

  const CommandResult run = Move();
  ASSERT_EQ(0, run.exit_status) << run.output;
  const MoveTotals totals = ParseTotals(run.output);
  EXPECT_EQ(static_cast<uint64_t>(kKeys), totals.scanned) << run.output;
  EXPECT_EQ(1u, totals.present) << run.output;  // fresh_item
  EXPECT_EQ(0u, totals.failed) << run.output;
  EXPECT_NEAR((1 - before) * kKeys, static_cast<double>(totals.moved + totals.present), 0.5);

  const std::map<std::string, Found> after = ReadBy(new_ring_, items);
  EXPECT_EQ(static_cast<size_t>(kKeys), after.size());
  for (const BulkItem& item : items) {
    auto it = after.find(item.key);
    ASSERT_NE(it, after.end()) << item.key;
    const Found expected =
        item.key == fresh_item.key ? Found{"fresh", 99} : Found{item.data, item.flags};
    ASSERT_EQ(expected, it->second) << item.key;
  }
  EXPECT_EQ("EN\r\n", MetaOrFail(NewOwner(expired_key), "mg " + expired_key + " v\r\n"));
}

TEST_F(HandoffTest, MovedItemsKeepTheirTtl) {
  std::vector<BulkItem> items = MakeItems(2000);
  ASSERT_NO_FATAL_FAILURE(LoadByOldRing(items));
  const CommandResult run = Move();
  ASSERT_EQ(0, run.exit_status) << run.output;
  int checked_ttl = 0, checked_none = 0;
  static const std::regex kTtlFlag(R"(HD t(-?\d+)\r\n)");
  for (const BulkItem& item : items) {
    if (!Moves(item.key)) continue;
    const std::string reply = MetaOrFail(NewOwner(item.key), "mg " + item.key + " t\r\n");
    std::smatch m;
    ASSERT_TRUE(std::regex_match(reply, m, kTtlFlag)) << item.key << ": " << EscapeBytes(reply);
    const int ttl = std::stoi(m[1]);
    if (item.ttl == 0) {
      EXPECT_EQ(-1, ttl) << item.key;
      ++checked_none;
    } else {
      // A second may have passed; the move rounds down to whole seconds.
      EXPECT_GT(ttl, kTtl - 60) << item.key;
      EXPECT_LE(ttl, kTtl) << item.key;
      ++checked_ttl;
    }
  }
  EXPECT_GT(checked_ttl, 10);
  EXPECT_GT(checked_none, 10);
}

TEST_F(HandoffTest, RunningAgainFindsEverythingPresent) {
  const std::vector<BulkItem> items = MakeItems(3000);
  ASSERT_NO_FATAL_FAILURE(LoadByOldRing(items));
  const MoveTotals first = ParseTotals(Move().output);
  EXPECT_GT(first.moved, 0u);
  const CommandResult again = Move();
  ASSERT_EQ(0, again.exit_status) << again.output;
  const MoveTotals second = ParseTotals(again.output);
  EXPECT_EQ(0u, second.moved) << again.output;
  EXPECT_EQ(first.moved, second.present) << again.output;
  // Without --delete-moved, the old owners keep their copies.
  std::map<int, std::vector<std::string>> moved_by_old_owner;
  for (const BulkItem& item : items) {
    if (Moves(item.key)) moved_by_old_owner[old_ring_.Owner(item.key)].push_back(item.key);
  }
  size_t old_copies = 0;
  for (const auto& [owner, keys] : moved_by_old_owner) {
    auto got = GetMany(*nodes_[owner].client, keys);
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    old_copies += got->size();
  }
  EXPECT_EQ(first.moved, old_copies);
}

TEST_F(HandoffTest, DeleteMovedRemovesOldCopies) {
  const std::vector<BulkItem> items = MakeItems(5000);
  ASSERT_NO_FATAL_FAILURE(LoadByOldRing(items));
  const CommandResult run = Move({"--delete-moved"});
  ASSERT_EQ(0, run.exit_status) << run.output;
  const MoveTotals totals = ParseTotals(run.output);
  EXPECT_GT(totals.moved, 0u);
  EXPECT_EQ(totals.moved, totals.deleted) << run.output;
  EXPECT_EQ(items.size(), ReadBy(new_ring_, items).size());
  // Each key is now on its new owner only.
  const std::map<std::string, Found> on_old = ReadBy(old_ring_, items);
  for (const BulkItem& item : items) {
    EXPECT_EQ(Moves(item.key) ? 0u : 1u, on_old.count(item.key)) << item.key;
  }
}

// A key stored with the meta `b` flag (binary bytes, sent in base64) is sent the same way, and
// placed by its bytes.
TEST_F(HandoffTest, BinaryKeysMoveAsBinary) {
  std::string key;
  for (int n = 0; key.empty(); ++n) {
    const std::string candidate = std::string("bin \x01\xff key ", 11) + std::to_string(n);
    if (Moves(candidate)) key = candidate;
  }
  std::string encoded;
  protocol::Base64Encode(key, &encoded);
  EXPECT_EQ("HD\r\n", CallOrFail(OldOwner(key), "ms " + encoded + " 6 b F7 T0\r\nbinary\r\n"));
  const CommandResult run = Move();
  ASSERT_EQ(0, run.exit_status) << run.output;
  EXPECT_EQ(1u, ParseTotals(run.output).moved) << run.output;
  EXPECT_EQ("VA 6 f7\r\nbinary\r\n", MetaOrFail(NewOwner(key), "mg " + encoded + " b v f\r\n"));
}

// The NEW pool names node 0 "localhost:PORT": another hash identity, so keys "move" from node 0
// to node 0. They are left alone, and above all not deleted.
TEST_F(HandoffTest, ANodeUnderAnotherNameIsNotAnotherNode) {
  const std::vector<BulkItem> items = MakeItems(3000);
  ASSERT_NO_FATAL_FAILURE(LoadByOldRing(items));
  std::string yaml = ReadFileOrEmpty(old_pool_);
  const size_t at = yaml.find(nodes_[0].address);
  ASSERT_NE(at, std::string::npos);
  yaml.replace(at, std::string("127.0.0.1").size(), "localhost");
  new_pool_ = dir_->File("alias.yml");
  std::ofstream(new_pool_) << yaml;
  new_ring_ = LoadRing(new_pool_);
  size_t on_node0_in_both = 0;  // the keys a move by name would add to node 0 and delete there
  for (const BulkItem& item : items) {
    on_node0_in_both += old_ring_.Owner(item.key) == 0 && new_ring_.Owner(item.key) == 0;
  }
  ASSERT_GT(on_node0_in_both, 0u);
  const CommandResult run = Move({"--delete-moved"});
  EXPECT_EQ(0, run.exit_status) << run.output;
  const MoveTotals totals = ParseTotals(run.output);
  EXPECT_EQ(0u, totals.present) << run.output;
  EXPECT_EQ(totals.moved, totals.deleted) << run.output;
  // Every key is still where the new ring looks for it.
  EXPECT_EQ(items.size(), ReadBy(new_ring_, items).size());
}

TEST_F(HandoffTest, UnreachableNodeFailsWithOneLine) {
  auto port = PickFreePort();  // nothing listens there
  ASSERT_TRUE(port.ok()) << port.status().ToString();
  const std::string dead = "127.0.0.1:" + std::to_string(*port);
  old_pool_ = WritePool("old_dead.yml", 3, "   - " + dead + ":1\n");
  const CommandResult run = Move();
  EXPECT_EQ(1, run.exit_status) << run.output;
  const std::string line = "warmcachectl: cannot connect to " + dead + ": Connection refused\n";
  EXPECT_NE(run.output.find(line), std::string::npos) << run.output;
  EXPECT_EQ(run.output.find(line), run.output.rfind(line)) << run.output;
  EXPECT_NE(run.output.find("total: "), std::string::npos) << run.output;
}

}  // namespace
}  // namespace warmcache::testutil
