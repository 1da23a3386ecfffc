// SPDX-License-Identifier: BSD-3-Clause
#include "storage/warm/warm_tier.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstring>
#include <future>
#include <string>
#include <thread>

#include "tests/testutil/temp_dir.h"

namespace warmcache::storage::warm {
namespace {

class WarmTierTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = testutil::TempDir::Create();
    ASSERT_TRUE(dir.ok());
    dir_ = std::move(dir).value();
    MemoryTierOptions m;
    m.memory_limit = 4u << 20;  // 64 KiB per shard: room for a protected segment
    memory_ = std::make_unique<MemoryTier>(m, &clock_, &flush_);
    WarmOptions o;
    o.data_dir = dir_->path() + "/db";
    o.disk_limit = 64u << 20;
    auto opened = WarmTier::Open(o, &clock_, &flush_, memory_.get());
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    warm_ = std::move(opened).value();
    memory_->SetLowerTier(warm_.get());
  }
  void TearDown() override {
    if (warm_) warm_->Stop();
    if (memory_) memory_->SetLowerTier(nullptr);
  }

  void Put(const std::string& key, const std::string& value, uint32_t exptime = 0) {
    ItemRef item = ItemRef::Allocate(key, value.size());
    std::memcpy(item->mutable_value(), value.data(), value.size());
    item->exptime = exptime;
    item->client_flags = 7;
    item->cas = ++cas_;
    ASSERT_TRUE(memory_->WithKey(key, [&](MemoryTier::KeyTxn& txn) { return txn.Store(item); }));
  }
  bool InRam(const std::string& key) {
    return memory_->WithKey(key, [](MemoryTier::KeyTxn& txn) { return txn.item() != nullptr; });
  }
  // Pushes `key` out of RAM with filler, then waits for the writer to put it on disk.
  void Spill(const std::string& key) {
    while (InRam(key)) Put("filler" + std::to_string(filler_++), std::string(8000, 'f'));
    WaitForQueueToDrain();
  }
  void WaitForQueueToDrain() {
    // Generous: sanitizer builds on a busy 2-core CI machine write slowly.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (warm_->Stats().queue_entries > 0 && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::yield();
    }
    ASSERT_EQ(0u, warm_->Stats().queue_entries);
  }
  // One key through the fetch path, synchronously.
  FetchOutcome Fetch(const std::string& key) {
    auto batch = std::make_shared<FetchBatch>();
    memory_->WithKey(key, [&](MemoryTier::KeyTxn& txn) {
      txn.BeginFetch(batch->Add());
      return true;
    });
    std::promise<void> done;
    warm_->Fetch(batch, [&] { done.set_value(); });
    warm_->Kick();
    done.get_future().wait();
    if (batch->IsFinalMiss(key)) return FetchOutcome::kAbsent;
    return InRam(key) ? FetchOutcome::kInstalled : FetchOutcome::kInvalidated;
  }
  std::string Value(const std::string& key) {
    ItemRef item = memory_->WithKey(key, [](MemoryTier::KeyTxn& txn) { return txn.Ref(); });
    return item ? std::string(item->value()) : "<miss>";
  }

  std::unique_ptr<testutil::TempDir> dir_;
  FakeClock clock_;
  FlushState flush_;
  std::unique_ptr<MemoryTier> memory_;
  std::unique_ptr<WarmTier> warm_;
  uint64_t cas_ = 0;
  int filler_ = 0;
};

TEST_F(WarmTierTest, EvictedItemsComeBackByteExactWithTheirMetadata) {
  const std::string value = std::string("line one\r\nline two\0three", 25) + std::string(3000, 'j');
  Put("victim", value);
  Spill("victim");
  EXPECT_GE(warm_->Stats().spills, 1u);
  ASSERT_EQ(FetchOutcome::kInstalled, Fetch("victim"));
  EXPECT_EQ(value, Value("victim"));
  const auto [flags, cas] = memory_->WithKey("victim", [](MemoryTier::KeyTxn& txn) {
    return std::pair(txn.item()->client_flags, txn.item()->cas);
  });
  EXPECT_EQ(7u, flags);
  EXPECT_EQ(1u, cas);
  EXPECT_EQ(1u, warm_->Stats().promotions);
  EXPECT_EQ(1u, warm_->Stats().hits);
}

TEST_F(WarmTierTest, ResetZeroesTheCountersNotTheGauges) {
  Put("victim", "v");
  Spill("victim");
  ASSERT_EQ(FetchOutcome::kInstalled, Fetch("victim"));
  ASSERT_GT(warm_->Stats().spills, 0u);
  warm_->ResetStats();
  const WarmStats after = warm_->Stats();
  EXPECT_EQ(0u, after.spills);
  EXPECT_EQ(0u, after.hits);
  EXPECT_EQ(0u, after.promotions);
  EXPECT_GT(after.items, 0u);  // what is on disk stays counted
}

TEST_F(WarmTierTest, CertainMissesAreSettledWithoutTheReaders) {
  Put("victim", "v");
  Spill("victim");
  auto batch = std::make_shared<FetchBatch>();
  memory_->WithKey("never-stored", [&](MemoryTier::KeyTxn& txn) {
    txn.BeginFetch(batch->Add());
    return true;
  });
  EXPECT_TRUE(warm_->ResolveWithoutIo(*batch));  // the bloom filters rule it out
  EXPECT_TRUE(batch->empty());
  EXPECT_TRUE(batch->IsFinalMiss("never-stored"));
  batch->Reset();
  memory_->WithKey("victim", [&](MemoryTier::KeyTxn& txn) {
    txn.BeginFetch(batch->Add());
    return true;
  });
  EXPECT_FALSE(warm_->ResolveWithoutIo(*batch));  // on disk: a reader must fetch it
  EXPECT_EQ(1u, batch->size());
  std::promise<void> done;
  warm_->Fetch(batch, [&] { done.set_value(); });
  warm_->Kick();
  done.get_future().wait();
  EXPECT_EQ("v", Value("victim"));
}

TEST_F(WarmTierTest, QueuedItemsAreServedBeforeTheyReachDisk) {
  Put("victim", "queued value");
  while (InRam("victim")) Put("filler" + std::to_string(filler_++), std::string(8000, 'f'));
  // Whether or not the writer got to it yet, the fetch finds it.
  ASSERT_EQ(FetchOutcome::kInstalled, Fetch("victim"));
  EXPECT_EQ("queued value", Value("victim"));
}

TEST_F(WarmTierTest, ACleanPromotedItemIsDroppedWithoutARewrite) {
  Put("victim", "v");
  Spill("victim");
  ASSERT_EQ(FetchOutcome::kInstalled, Fetch("victim"));
  Spill("victim");
  EXPECT_GE(warm_->Stats().clean_drops, 1u);
  ASSERT_EQ(FetchOutcome::kInstalled, Fetch("victim"));  // the disk copy still serves it
  EXPECT_EQ("v", Value("victim"));
}

TEST_F(WarmTierTest, ExpiredRecordsAreNeverServed) {
  Put("victim", "v", static_cast<uint32_t>(clock_.NowSeconds() + 10));
  Spill("victim");
  clock_.Advance(11);
  EXPECT_EQ(FetchOutcome::kAbsent, Fetch("victim"));
}

TEST_F(WarmTierTest, FlushedRecordsAreNeverServed) {
  Put("victim", "v");
  Spill("victim");
  clock_.Advance(2);
  flush_.Set(clock_.NowSeconds() - 1, cas_ + 1);
  EXPECT_EQ(FetchOutcome::kAbsent, Fetch("victim"));
}

TEST_F(WarmTierTest, ADeletedKeyStaysDeletedOnDisk) {
  Put("victim", "old");
  Spill("victim");
  ASSERT_EQ(FetchOutcome::kInstalled, Fetch("victim"));
  memory_->WithKey("victim", [](MemoryTier::KeyTxn& txn) {
    txn.Remove();
    return true;
  });
  EXPECT_EQ(FetchOutcome::kAbsent, Fetch("victim"));  // hidden while queued
  WaitForQueueToDrain();
  EXPECT_EQ(FetchOutcome::kAbsent, Fetch("victim"));  // and deleted on disk
  EXPECT_GE(warm_->Stats().invalidations, 1u);
}

TEST_F(WarmTierTest, ANewerValueThatExpiresDoesNotUncoverTheOldOne) {
  Put("victim", "old");
  Spill("victim");
  Put("victim", "new", static_cast<uint32_t>(clock_.NowSeconds() + 5));  // set over a disk copy
  clock_.Advance(6);
  EXPECT_FALSE(InRam("victim"));  // expired (and its disk copy invalidated)
  EXPECT_EQ(FetchOutcome::kAbsent, Fetch("victim"));
}

TEST_F(WarmTierTest, PromotingAScanOfDiskItemsKeepsTheItemsReadAgain) {
  for (int i = 0; i < 60; ++i) Put("scan" + std::to_string(i), std::string(8000, 's'));
  for (int i = 0; i < 60; ++i) Spill("scan" + std::to_string(i));
  Put("hot", std::string(8000, 'h'));
  memory_->WithKey("hot", [](MemoryTier::KeyTxn& txn) {
    txn.RecordHit();  // read again: protected
    return true;
  });
  // A one-pass read of every disk item promotes each into probation only.
  for (int i = 0; i < 60; ++i)
    ASSERT_EQ(FetchOutcome::kInstalled, Fetch("scan" + std::to_string(i)));
  EXPECT_TRUE(InRam("hot"));
}

TEST(DiskBudgetTest, LeavesHeadroomForRocksDb) {
  const DiskBudget small = SplitDiskBudget(16u << 20);
  EXPECT_EQ(1u << 20, small.write_buffer_bytes);
  EXPECT_EQ((16u << 20) - 12 * (1u << 20), small.table_bytes);
  const DiskBudget large = SplitDiskBudget(100ull << 30);
  EXPECT_EQ(16u << 20, large.write_buffer_bytes);
  EXPECT_GT(large.table_bytes, 99ull << 30);
}

}  // namespace
}  // namespace warmcache::storage::warm
