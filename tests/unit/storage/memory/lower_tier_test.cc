// SPDX-License-Identifier: BSD-3-Clause
// The memory tier's seam to the warm tier: what it reports on eviction and removal, the disk
// state each item carries, and fetch tickets racing writes.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include "storage/memory/memory_tier.h"

namespace warmcache::storage {
namespace {

class RecordingLower final : public LowerTier {
 public:
  void OnEvict(const ItemRef& item) override {
    evicted.emplace_back(item->key());
    evicted_disk.push_back(item->disk);
  }
  void OnInvalidate(std::string_view key) override { invalidated.emplace_back(key); }
  bool OnChange(const Item& item) override {
    if (write_through) written.emplace_back(item.key());
    return write_through;
  }
  void OnFlushAll() override { ++flushes; }
  bool MayHoldKeys() const override { return may_hold; }
  bool MayHold(std::string_view) override { return may_hold; }

  std::vector<std::string> evicted;
  std::vector<uint8_t> evicted_disk;
  std::vector<std::string> invalidated;
  std::vector<std::string> written;
  int flushes = 0;
  bool may_hold = false;
  bool write_through = false;
};

class LowerTierTest : public ::testing::Test {
 protected:
  LowerTierTest() {
    MemoryTierOptions o;
    o.memory_limit = 1u << 20;
    tier_ = std::make_unique<MemoryTier>(o, &clock_, &flush_);
    tier_->SetLowerTier(&lower_);
  }
  ItemRef Make(const std::string& key, const std::string& value, uint32_t exptime = 0) {
    ItemRef item = ItemRef::Allocate(key, value.size());
    std::memcpy(item->mutable_value(), value.data(), value.size());
    item->exptime = exptime;
    item->cas = ++cas_;
    return item;
  }
  void Put(const std::string& key, const std::string& value, uint32_t exptime = 0) {
    ItemRef item = Make(key, value, exptime);
    ASSERT_TRUE(tier_->WithKey(key, [&](MemoryTier::KeyTxn& txn) { return txn.Store(item); }));
  }
  uint8_t DiskOf(const std::string& key) {
    return tier_->WithKey(key, [](MemoryTier::KeyTxn& txn) {
      return txn.item() ? static_cast<uint8_t>(txn.item()->disk) : uint8_t{255};
    });
  }
  void Remove(const std::string& key) {
    tier_->WithKey(key, [](MemoryTier::KeyTxn& txn) {
      txn.Remove();
      return true;
    });
  }
  FetchOutcome Fetch(const std::string& key, ItemRef found, FetchTicket* ticket) {
    tier_->WithKey(key, [&](MemoryTier::KeyTxn& txn) {
      txn.BeginFetch(ticket);
      return true;
    });
    return tier_->EndFetch(ticket, std::move(found));
  }

  FakeClock clock_;
  FlushState flush_;
  RecordingLower lower_;
  std::unique_ptr<MemoryTier> tier_;
  uint64_t cas_ = 0;
};

TEST_F(LowerTierTest, NewKeysNeedNoInvalidationWhileTheDiskIsEmpty) {
  Put("a", "1");
  EXPECT_EQ(kNoDiskCopy, DiskOf("a"));
  Remove("a");
  EXPECT_TRUE(lower_.invalidated.empty());
}

TEST_F(LowerTierTest, ANewKeyInvalidatesWhatTheDiskMayHoldAtOnce) {
  lower_.may_hold = true;
  Put("a", "1");
  // Invalidated when stored, not when it leaves RAM: a crash in between must not bring an
  // older disk copy back.
  EXPECT_EQ(std::vector<std::string>{"a"}, lower_.invalidated);
  EXPECT_EQ(kNoDiskCopy, DiskOf("a"));
  Put("a", "2");  // nothing older below any more
  Remove("a");
  EXPECT_EQ(std::vector<std::string>{"a"}, lower_.invalidated);
}

TEST_F(LowerTierTest, WriteThroughHandsEveryChangeDown) {
  lower_.may_hold = true;
  lower_.write_through = true;
  Put("a", "1");
  EXPECT_EQ(kDiskClean, DiskOf("a"));
  tier_->WithKey("a", [](MemoryTier::KeyTxn& txn) {
    txn.SetExptime(static_cast<uint32_t>(txn.now() + 100));
    return true;
  });
  EXPECT_EQ((std::vector<std::string>{"a", "a"}), lower_.written);
  EXPECT_TRUE(lower_.invalidated.empty());  // each write supersedes the older record
  Remove("a");
  EXPECT_EQ(std::vector<std::string>{"a"}, lower_.invalidated);
}

TEST_F(LowerTierTest, FlushAllIsHandedDown) {
  tier_->NoteFlushAll();
  EXPECT_EQ(1, lower_.flushes);
}

TEST_F(LowerTierTest, EvictionHandsItemsDownWithTheirDiskState) {
  const std::string big(100 * 1024, 'x');
  for (int i = 0; i < 20; ++i) Put("k" + std::to_string(i), big);
  ASSERT_FALSE(lower_.evicted.empty());
  // The item just stored is never the one evicted to make room for it.
  EXPECT_EQ(0, std::count(lower_.evicted.begin(), lower_.evicted.end(), "k19"));
  for (uint8_t disk : lower_.evicted_disk) EXPECT_EQ(kNoDiskCopy, disk);
}

TEST_F(LowerTierTest, InstalledItemsAreCleanUntilChanged) {
  FetchTicket ticket;
  ItemRef found = Make("a", "from disk");
  found->time = 123;
  ASSERT_EQ(FetchOutcome::kInstalled, Fetch("a", std::move(found), &ticket));
  EXPECT_EQ(kDiskClean, DiskOf("a"));
  // The store time survives promotion: flush_all compares it.
  EXPECT_EQ(123u, tier_->WithKey("a", [](MemoryTier::KeyTxn& txn) { return txn.item()->time; }));
  tier_->WithKey("a", [](MemoryTier::KeyTxn& txn) {
    txn.SetExptime(static_cast<uint32_t>(txn.now() + 100));
    return true;
  });
  // A touch makes the disk copy out of date: it is invalidated at once.
  EXPECT_EQ(kNoDiskCopy, DiskOf("a"));
  EXPECT_EQ(std::vector<std::string>{"a"}, lower_.invalidated);
}

TEST_F(LowerTierTest, RemovingACleanItemInvalidatesItsDiskCopy) {
  FetchTicket ticket;
  ASSERT_EQ(FetchOutcome::kInstalled, Fetch("a", Make("a", "v"), &ticket));
  Remove("a");
  EXPECT_EQ(std::vector<std::string>{"a"}, lower_.invalidated);
}

TEST_F(LowerTierTest, ExpiryInvalidatesNothing) {
  lower_.may_hold = true;
  const auto soon = static_cast<uint32_t>(clock_.NowSeconds() + 5);
  Put("new", "v", soon);  // invalidates at once whatever older copy the disk may hold
  FetchTicket ticket;
  ItemRef clean = Make("clean", "v", soon);
  ASSERT_EQ(FetchOutcome::kInstalled, Fetch("clean", std::move(clean), &ticket));
  lower_.invalidated.clear();
  clock_.Advance(10);
  EXPECT_EQ(255, DiskOf("new"));
  EXPECT_EQ(255, DiskOf("clean"));
  // The clean copy on disk expires with the item, and nothing older is left below.
  EXPECT_TRUE(lower_.invalidated.empty());
}

TEST_F(LowerTierTest, AWriteDuringAFetchWins) {
  FetchTicket ticket;
  tier_->WithKey("a", [&](MemoryTier::KeyTxn& txn) {
    txn.BeginFetch(&ticket);
    return true;
  });
  Put("a", "new");
  Remove("a");  // even gone again, the fetched value is older than that write
  EXPECT_EQ(FetchOutcome::kInvalidated, tier_->EndFetch(&ticket, Make("a", "old")));
  EXPECT_EQ(255, DiskOf("a"));
}

TEST_F(LowerTierTest, ARefusedSetInvalidatesAFetchInFlight) {
  lower_.may_hold = true;
  FetchTicket ticket;
  tier_->WithKey("a", [&](MemoryTier::KeyTxn& txn) {
    txn.BeginFetch(&ticket);
    return true;
  });
  tier_->WithKey("a", [](MemoryTier::KeyTxn& txn) {
    txn.Forget();
    return true;
  });
  EXPECT_EQ(std::vector<std::string>{"a"}, lower_.invalidated);
  EXPECT_EQ(FetchOutcome::kInvalidated, tier_->EndFetch(&ticket, Make("a", "old")));
}

TEST_F(LowerTierTest, AnEmptyFetchIsAFinalMiss) {
  FetchTicket ticket;
  EXPECT_EQ(FetchOutcome::kAbsent, Fetch("a", ItemRef(), &ticket));
}

}  // namespace
}  // namespace warmcache::storage
