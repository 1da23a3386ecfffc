// SPDX-License-Identifier: BSD-3-Clause
#include "server/engine/engine.h"

#include <gtest/gtest.h>

#include <string>

namespace warmcache::engine {
namespace {

class EngineTest : public ::testing::Test {
 protected:
  void Make(EngineOptions options = {}, size_t limit = 64 << 20, bool evict = true) {
    storage::MemoryTierOptions m;
    m.memory_limit = limit;
    m.evict_when_full = evict;
    m.item_size_max = options.item_size_max;
    memory_ = std::make_unique<storage::MemoryTier>(m, &clock_, &flush_);
    engine_ = std::make_unique<Engine>(options, memory_.get(), &flush_, &clock_);
  }
  void SetUp() override { Make(); }

  StoreOutcome Store(StoreMode mode, const std::string& key, const std::string& value,
                     int32_t exptime = 0, uint64_t cas = 0, uint32_t flags = 0) {
    StoreRequest r;
    r.mode = mode;
    r.key = key;
    r.value = value;
    r.exptime = exptime;
    r.cas = cas;
    r.flags = flags;
    return engine_->Store(r, stats_, &last_cas_);
  }
  std::string Get(const std::string& key) {
    storage::ItemRef item = engine_->Get(key, stats_);
    return item ? std::string(item->value()) : "<miss>";
  }
  uint64_t CasOf(const std::string& key) {
    storage::ItemRef item = engine_->Get(key, stats_);
    return item ? item->cas : 0;
  }

  FakeClock clock_;
  storage::FlushState flush_;
  std::unique_ptr<storage::MemoryTier> memory_;
  std::unique_ptr<Engine> engine_;
  ThreadStats stats_;
  uint64_t last_cas_ = 0;
};

TEST_F(EngineTest, AddReplaceAppendPrepend) {
  EXPECT_EQ(StoreOutcome::kNotStored, Store(StoreMode::kReplace, "k", "x"));
  EXPECT_EQ(StoreOutcome::kNotStored, Store(StoreMode::kAppend, "k", "x"));
  EXPECT_EQ(StoreOutcome::kStored, Store(StoreMode::kAdd, "k", "mid", 0, 0, 7));
  EXPECT_EQ(StoreOutcome::kNotStored, Store(StoreMode::kAdd, "k", "other"));
  EXPECT_EQ(StoreOutcome::kStored, Store(StoreMode::kAppend, "k", ">", 0, 0, 99));
  EXPECT_EQ(StoreOutcome::kStored, Store(StoreMode::kPrepend, "k", "<"));
  EXPECT_EQ("<mid>", Get("k"));
  storage::ItemRef item = engine_->Get("k", stats_);
  EXPECT_EQ(7u, item->client_flags);  // append keeps the original flags
  EXPECT_EQ(StoreOutcome::kStored, Store(StoreMode::kReplace, "k", "r"));
  EXPECT_EQ("r", Get("k"));
}

TEST_F(EngineTest, CasIsUniqueMonotonicAndChecked) {
  ASSERT_EQ(StoreOutcome::kStored, Store(StoreMode::kSet, "a", "1"));
  const uint64_t a = last_cas_;
  ASSERT_EQ(StoreOutcome::kStored, Store(StoreMode::kSet, "b", "1"));
  EXPECT_GT(last_cas_, a);
  EXPECT_EQ(StoreOutcome::kNotFound, Store(StoreMode::kCas, "zz", "1", 0, 1));
  EXPECT_EQ(StoreOutcome::kExists, Store(StoreMode::kCas, "a", "2", 0, a + 100));
  EXPECT_EQ(StoreOutcome::kExists, Store(StoreMode::kCas, "a", "2", 0, 0));
  EXPECT_EQ(StoreOutcome::kStored, Store(StoreMode::kCas, "a", "2", 0, a));
  EXPECT_EQ(StoreOutcome::kExists, Store(StoreMode::kCas, "a", "3", 0, a));  // used up
  EXPECT_EQ("2", Get("a"));
  EXPECT_EQ(1u, stats_.cas_hits.Get());
  EXPECT_EQ(3u, stats_.cas_badval.Get());
  EXPECT_EQ(1u, stats_.cas_misses.Get());
}

TEST_F(EngineTest, CasDisabledMeansZeroAndCasAlwaysExists) {
  EngineOptions o;
  o.use_cas = false;
  Make(o);
  ASSERT_EQ(StoreOutcome::kStored, Store(StoreMode::kSet, "a", "1"));
  EXPECT_EQ(0u, CasOf("a"));
  EXPECT_EQ(StoreOutcome::kExists, Store(StoreMode::kCas, "a", "2", 0, 0));
  EXPECT_EQ(StoreOutcome::kExists, Store(StoreMode::kCas, "a", "2", 0, 1));
}

TEST_F(EngineTest, ExptimeRules) {
  const int64_t now = clock_.NowSeconds();
  EXPECT_EQ(0u, engine_->AbsoluteExptime(0));
  EXPECT_EQ(static_cast<uint32_t>(now + 100), engine_->AbsoluteExptime(100));
  EXPECT_EQ(static_cast<uint32_t>(now + 2592000), engine_->AbsoluteExptime(2592000));
  EXPECT_EQ(2592001u, engine_->AbsoluteExptime(2592001));  // absolute, long past
  EXPECT_EQ(1u, engine_->AbsoluteExptime(-1));

  Store(StoreMode::kSet, "rel", "x", 10);
  Store(StoreMode::kSet, "neg", "x", -1);
  Store(StoreMode::kSet, "past", "x", 2592001);
  Store(StoreMode::kSet, "abs", "x", static_cast<int32_t>(now + 5));
  EXPECT_EQ("<miss>", Get("neg"));
  EXPECT_EQ("<miss>", Get("past"));
  EXPECT_EQ("x", Get("abs"));
  EXPECT_EQ("x", Get("rel"));
  clock_.Advance(5);
  EXPECT_EQ("<miss>", Get("abs"));
  EXPECT_EQ("x", Get("rel"));
  clock_.Advance(5);
  EXPECT_EQ("<miss>", Get("rel"));
  EXPECT_EQ(4u, stats_.get_expired.Get());
}

TEST_F(EngineTest, TouchAndGatMoveExpiry) {
  Store(StoreMode::kSet, "k", "v", 10);
  EXPECT_TRUE(engine_->Touch("k", 100, stats_));
  EXPECT_FALSE(engine_->Touch("missing", 100, stats_));
  clock_.Advance(50);
  EXPECT_EQ("v", Get("k"));
  storage::ItemRef item = engine_->GetAndTouch("k", 1, stats_);
  ASSERT_TRUE(item);
  clock_.Advance(1);
  EXPECT_EQ("<miss>", Get("k"));
  EXPECT_EQ(2u, stats_.touch_hits.Get());
  EXPECT_EQ(1u, stats_.touch_misses.Get());
}

TEST_F(EngineTest, IncrDecrEdgeCases) {
  uint64_t v = 0;
  EXPECT_EQ(DeltaOutcome::kNotFound, engine_->Delta("n", true, 1, stats_, &v));
  Store(StoreMode::kSet, "n", "18446744073709551615");
  ASSERT_EQ(DeltaOutcome::kOk, engine_->Delta("n", true, 2, stats_, &v));
  EXPECT_EQ(1u, v);  // wraps at 2^64
  ASSERT_EQ(DeltaOutcome::kOk, engine_->Delta("n", false, 5, stats_, &v));
  EXPECT_EQ(0u, v);  // floors at 0
  // A shorter result keeps the old length, padded with spaces, as memcached does.
  EXPECT_EQ("0                   ", Get("n"));
  Store(StoreMode::kSet, "s", "9", 0, 0, 42);
  ASSERT_EQ(DeltaOutcome::kOk, engine_->Delta("s", true, 1, stats_, &v));
  EXPECT_EQ("10", Get("s"));
  EXPECT_EQ(42u, engine_->Get("s", stats_)->client_flags);
  Store(StoreMode::kSet, "text", "abc");
  EXPECT_EQ(DeltaOutcome::kNonNumeric, engine_->Delta("text", true, 1, stats_, &v));
  Store(StoreMode::kSet, "empty", "");
  EXPECT_EQ(DeltaOutcome::kNonNumeric, engine_->Delta("empty", true, 1, stats_, &v));
  Store(StoreMode::kSet, "neg", "-5");
  EXPECT_EQ(DeltaOutcome::kNonNumeric, engine_->Delta("neg", true, 1, stats_, &v));
  const uint64_t before = CasOf("s");
  engine_->Delta("s", true, 1, stats_, &v);
  EXPECT_GT(CasOf("s"), before);
}

TEST_F(EngineTest, FlushAllNowAndLater) {
  Store(StoreMode::kSet, "a", "1");
  engine_->FlushAll(0);
  EXPECT_EQ("<miss>", Get("a"));
  Store(StoreMode::kSet, "b", "2");  // same second, after the flush
  EXPECT_EQ("2", Get("b"));
  EXPECT_EQ(1u, stats_.get_flushed.Get());

  engine_->FlushAll(10);
  clock_.Advance(8);
  EXPECT_EQ("2", Get("b"));
  Store(StoreMode::kSet, "c", "3");
  clock_.Advance(2);
  EXPECT_EQ("<miss>", Get("b"));
  EXPECT_EQ("<miss>", Get("c"));
  clock_.Advance(1);
  Store(StoreMode::kSet, "d", "4");
  EXPECT_EQ("4", Get("d"));
}

TEST_F(EngineTest, ItemSizeLimitMatchesMemcached) {
  EngineOptions o;
  o.item_size_max = 1024;
  Make(o);
  // 48 header + 8 CAS + key + 1 + value + 2 must fit.
  EXPECT_TRUE(engine_->ItemSizeOk(1, 1024 - 60, 0));
  EXPECT_FALSE(engine_->ItemSizeOk(1, 1024 - 59, 0));
  EXPECT_FALSE(engine_->ItemSizeOk(1, 1024 - 60, 7));  // non-zero flags take 4 bytes
  Store(StoreMode::kSet, "k", "old");
  EXPECT_EQ(StoreOutcome::kTooLarge, Store(StoreMode::kSet, "k", std::string(2000, 'x')));
  EXPECT_EQ("<miss>", Get("k"));  // a failed set never leaves the old value behind
  EXPECT_EQ(1u, stats_.store_too_large.Get());
  Store(StoreMode::kSet, "a", std::string(900, 'x'));
  EXPECT_EQ(StoreOutcome::kNotStored, Store(StoreMode::kAppend, "a", std::string(200, 'y')));
}

TEST_F(EngineTest, NoMemoryWithoutEvictionsDropsTheOldValueOnSet) {
  EngineOptions o;
  Make(o, 1 << 20, /*evict=*/false);
  Store(StoreMode::kSet, "victim", "old");
  const std::string big(200 * 1024, 'x');
  int i = 0;
  while (Store(StoreMode::kSet, "fill" + std::to_string(i), big) == StoreOutcome::kStored) ++i;
  EXPECT_EQ(StoreOutcome::kNoMemory, Store(StoreMode::kSet, "victim", big));
  EXPECT_EQ("<miss>", Get("victim"));
  EXPECT_GE(stats_.store_no_memory.Get(), 2u);
}

}  // namespace
}  // namespace warmcache::engine
