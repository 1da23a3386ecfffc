// SPDX-License-Identifier: BSD-3-Clause
#include "storage/memory/memory_tier.h"

#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <thread>
#include <vector>

namespace warmcache::storage {
namespace {

class MemoryTierTest : public ::testing::Test {
 protected:
  void Make(size_t limit, bool evict = true) {
    MemoryTierOptions o;
    o.memory_limit = limit;
    o.evict_when_full = evict;
    tier_ = std::make_unique<MemoryTier>(o, &clock_, &flush_);
  }
  bool Put(const std::string& key, const std::string& value, uint32_t exptime = 0) {
    ItemRef item = ItemRef::Allocate(key, value.size());
    std::memcpy(item->mutable_value(), value.data(), value.size());
    item->exptime = exptime;
    item->cas = ++cas_;
    return tier_->WithKey(key, [&](MemoryTier::KeyTxn& txn) { return txn.Store(item); });
  }
  std::string Get(const std::string& key) {
    ItemRef item = tier_->WithKey(key, [](MemoryTier::KeyTxn& txn) {
      txn.RecordHit();
      return txn.Ref();
    });
    return item ? std::string(item->value()) : "<miss>";
  }
  bool Has(const std::string& key) {
    return tier_->WithKey(key, [](MemoryTier::KeyTxn& txn) { return txn.item() != nullptr; });
  }

  FakeClock clock_;
  FlushState flush_;
  std::unique_ptr<MemoryTier> tier_;
  uint64_t cas_ = 0;
};

TEST_F(MemoryTierTest, StoresReplacesAndRemoves) {
  Make(64 << 20);
  EXPECT_EQ("<miss>", Get("a"));
  ASSERT_TRUE(Put("a", "1"));
  EXPECT_EQ("1", Get("a"));
  ASSERT_TRUE(Put("a", "22"));
  EXPECT_EQ("22", Get("a"));
  EXPECT_EQ(1u, tier_->Stats().curr_items);
  tier_->WithKey("a", [](MemoryTier::KeyTxn& txn) {
    txn.Remove();
    return 0;
  });
  EXPECT_EQ("<miss>", Get("a"));
  EXPECT_EQ(0u, tier_->Stats().curr_items);
  EXPECT_EQ(0u, tier_->used_memory());
}

TEST_F(MemoryTierTest, ValueCarriesCrlfTrailer) {
  Make(1 << 20);
  ASSERT_TRUE(Put("k", "abc"));
  ItemRef item = tier_->WithKey("k", [](MemoryTier::KeyTxn& txn) { return txn.Ref(); });
  EXPECT_EQ("abc\r\n", item->value_with_crlf());
}

TEST_F(MemoryTierTest, StaysWithinTheMemoryLimit) {
  const size_t limit = 2 << 20;
  Make(limit);
  const std::string value(1000, 'v');
  for (int i = 0; i < 20000; ++i) {
    ASSERT_TRUE(Put("key" + std::to_string(i), value));
    ASSERT_LE(tier_->used_memory(), limit);
  }
  MemoryTierStats stats = tier_->Stats();
  EXPECT_GT(stats.evictions, 10000u);
  EXPECT_LT(stats.curr_items, 2100u);
  EXPECT_GT(stats.curr_items, 1500u);
  EXPECT_EQ("v", Get("key19999").substr(0, 1));  // the newest survives
}

TEST_F(MemoryTierTest, ItemsHitAgainSurviveAScan) {
  const size_t limit = 4 << 20;
  Make(limit);
  const std::string value(1000, 'v');
  // A hot set, each read twice, then a scan three times the cache size.
  for (int i = 0; i < 500; ++i) ASSERT_TRUE(Put("hot" + std::to_string(i), value));
  for (int i = 0; i < 500; ++i) Get("hot" + std::to_string(i));
  for (int i = 0; i < 12000; ++i) ASSERT_TRUE(Put("scan" + std::to_string(i), value));
  int survivors = 0;
  for (int i = 0; i < 500; ++i) survivors += Has("hot" + std::to_string(i)) ? 1 : 0;
  EXPECT_GT(survivors, 450) << "the scan flushed the hot set";
}

TEST_F(MemoryTierTest, LeastRecentlyUsedGoesFirst) {
  // Eviction is per shard (like memcached's per-class LRUs), so LRU order holds statistically:
  // the oldest items are the ones gone, the newest the ones kept.
  Make(4 << 20);
  const std::string value(1000, 'v');
  for (int i = 0; i < 10000; ++i) ASSERT_TRUE(Put("k" + std::to_string(i), value));
  int oldest_kept = 0;
  int newest_kept = 0;
  for (int i = 0; i < 2000; ++i) oldest_kept += Has("k" + std::to_string(i)) ? 1 : 0;
  for (int i = 8000; i < 10000; ++i) newest_kept += Has("k" + std::to_string(i)) ? 1 : 0;
  EXPECT_EQ(0, oldest_kept);
  EXPECT_GT(newest_kept, 1900);
}

TEST_F(MemoryTierTest, NoEvictionModeRefusesWhenFull) {
  Make(1 << 20, /*evict=*/false);
  const std::string value(100 * 1024, 'v');
  int stored = 0;
  for (int i = 0; i < 20; ++i) stored += Put("k" + std::to_string(i), value) ? 1 : 0;
  EXPECT_GE(stored, 8);
  EXPECT_LT(stored, 11);
  EXPECT_TRUE(Has("k0"));  // nothing was evicted
  EXPECT_EQ(0u, tier_->Stats().evictions);
  EXPECT_LE(tier_->used_memory(), size_t{1} << 20);
}

TEST_F(MemoryTierTest, ExpiredItemsAreInvisibleAndReclaimed) {
  Make(64 << 20);
  const int64_t now = clock_.NowSeconds();
  ASSERT_TRUE(Put("short", "x", static_cast<uint32_t>(now + 10)));
  ASSERT_TRUE(Put("forever", "y"));
  EXPECT_EQ("x", Get("short"));
  clock_.Advance(9);
  EXPECT_EQ("x", Get("short"));
  clock_.Advance(1);
  EXPECT_EQ("<miss>", Get("short"));
  ASSERT_TRUE(Put("other", "z", static_cast<uint32_t>(now + 20)));
  clock_.Advance(20);
  EXPECT_EQ(1u, tier_->ReclaimExpired());  // found without being read
  EXPECT_EQ(1u, tier_->Stats().curr_items);
  EXPECT_EQ("y", Get("forever"));
}

TEST_F(MemoryTierTest, FlushedItemsAreInvisible) {
  Make(64 << 20);
  ASSERT_TRUE(Put("a", "1"));
  flush_.Set(clock_.NowSeconds() - 1, cas_ + 1);
  EXPECT_EQ("<miss>", Get("a"));
  ASSERT_TRUE(Put("b", "2"));  // stored after the flush
  EXPECT_EQ("2", Get("b"));
}

TEST_F(MemoryTierTest, LoweringTheLimitEvicts) {
  Make(8 << 20);
  const std::string value(1000, 'v');
  for (int i = 0; i < 5000; ++i) ASSERT_TRUE(Put("k" + std::to_string(i), value));
  tier_->SetMemoryLimit(1 << 20);
  EXPECT_LE(tier_->used_memory(), size_t{1} << 20);
}

TEST_F(MemoryTierTest, ReadersKeepReplacedValuesAlive) {
  Make(1 << 20);
  ASSERT_TRUE(Put("k", "old"));
  ItemRef held = tier_->WithKey("k", [](MemoryTier::KeyTxn& txn) { return txn.Ref(); });
  ASSERT_TRUE(Put("k", "new"));
  EXPECT_EQ("old", held->value());
  EXPECT_FALSE(held->linked);
  EXPECT_EQ("new", Get("k"));
}

TEST_F(MemoryTierTest, ConcurrentWritersAndReaders) {
  Make(4 << 20);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([this, t] {
      const std::string value(200, static_cast<char>('a' + t));
      for (int i = 0; i < 20000; ++i) {
        const std::string key = "k" + std::to_string((i * 7 + t) % 5000);
        if (i % 3 == 0) {
          ItemRef item = ItemRef::Allocate(key, value.size());
          std::memcpy(item->mutable_value(), value.data(), value.size());
          tier_->WithKey(key, [&](MemoryTier::KeyTxn& txn) { return txn.Store(item); });
        } else {
          ItemRef item = tier_->WithKey(key, [](MemoryTier::KeyTxn& txn) { return txn.Ref(); });
          if (item) {
            ASSERT_EQ(200u, item->value().size());
          }
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_LE(tier_->used_memory(), size_t{4} << 20);
  MemoryTierStats stats = tier_->Stats();
  EXPECT_LE(stats.curr_items, 5000u);
}

}  // namespace
}  // namespace warmcache::storage
