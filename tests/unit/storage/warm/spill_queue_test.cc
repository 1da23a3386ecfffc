// SPDX-License-Identifier: BSD-3-Clause
#include "storage/warm/spill_queue.h"

#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

namespace warmcache::storage::warm {
namespace {

ItemRef MakeItem(const std::string& key, const std::string& value) {
  ItemRef item = ItemRef::Allocate(key, value.size());
  std::memcpy(item->mutable_value(), value.data(), value.size());
  return item;
}

constexpr auto kNoWait = std::chrono::milliseconds(0);

TEST(SpillQueueTest, QueuedItemsAreReadableUntilRetired) {
  SpillQueue queue(1u << 20);
  queue.PushItem(MakeItem("a", "1"));
  ASSERT_TRUE(queue.Lookup("a").has_value());
  EXPECT_EQ("1", (*queue.Lookup("a"))->value());
  std::vector<SpillQueue::Entry> batch;
  ASSERT_TRUE(queue.TakeBatch(&batch, 10, 1u << 20, kNoWait));
  ASSERT_EQ(1u, batch.size());
  EXPECT_TRUE(queue.Lookup("a").has_value());  // taken, not yet on disk
  queue.Retire(&batch);
  EXPECT_FALSE(queue.Lookup("a").has_value());
  EXPECT_EQ(0u, queue.pending_bytes());
  EXPECT_EQ(0u, queue.pending_entries());
}

TEST(SpillQueueTest, TheNewestEntryForAKeyWins) {
  SpillQueue queue(1u << 20);
  queue.PushItem(MakeItem("a", "1"));
  queue.PushInvalidate("a");
  ASSERT_TRUE(queue.Lookup("a").has_value());
  EXPECT_FALSE(*queue.Lookup("a"));  // hidden: an invalidation is queued
  queue.PushItem(MakeItem("a", "3"));
  std::vector<SpillQueue::Entry> first;
  ASSERT_TRUE(queue.TakeBatch(&first, 2, 1u << 20, kNoWait));
  ASSERT_EQ(2u, first.size());  // in order: the item, then the invalidation
  EXPECT_TRUE(first[0].item);
  EXPECT_FALSE(first[1].item);
  queue.Retire(&first);
  // Retiring older entries leaves the newer one visible.
  ASSERT_TRUE(queue.Lookup("a").has_value());
  EXPECT_EQ("3", (*queue.Lookup("a"))->value());
}

TEST(SpillQueueTest, BatchesAreBoundedByCountAndBytes) {
  SpillQueue queue(1u << 30);
  for (int i = 0; i < 10; ++i) queue.PushItem(MakeItem("k" + std::to_string(i), "v"));
  std::vector<SpillQueue::Entry> batch;
  ASSERT_TRUE(queue.TakeBatch(&batch, 3, 1u << 20, kNoWait));
  EXPECT_EQ(3u, batch.size());
  EXPECT_EQ("k0", batch[0].key);
  queue.Retire(&batch);
  ASSERT_TRUE(queue.TakeBatch(&batch, 100, 1, kNoWait));
  EXPECT_EQ(1u, batch.size());  // one entry always fits
  queue.Retire(&batch);
}

TEST(SpillQueueTest, WritersWaitForRoomAndAreWokenWhenItDrains) {
  SpillQueue queue(4096);
  for (int i = 0; i < 8; ++i)
    queue.PushItem(MakeItem("k" + std::to_string(i), std::string(1000, 'x')));
  ASSERT_TRUE(queue.Backlogged());
  int woken = 0;
  queue.WhenRoom([&] { ++woken; });
  EXPECT_EQ(0, woken);
  std::vector<SpillQueue::Entry> batch;
  ASSERT_TRUE(queue.TakeBatch(&batch, 100, 1u << 20, kNoWait));
  queue.Retire(&batch);
  EXPECT_EQ(1, woken);
  EXPECT_FALSE(queue.Backlogged());
  queue.WhenRoom([&] { ++woken; });  // room now: at once
  EXPECT_EQ(2, woken);
}

TEST(SpillQueueTest, StopEndsTheWriterOnceDrained) {
  SpillQueue queue(1u << 20);
  queue.PushItem(MakeItem("a", "1"));
  queue.Stop();
  std::vector<SpillQueue::Entry> batch;
  EXPECT_TRUE(queue.TakeBatch(&batch, 10, 1u << 20, kNoWait));  // what is left still goes
  EXPECT_EQ(1u, batch.size());
  queue.Retire(&batch);
  EXPECT_FALSE(queue.TakeBatch(&batch, 10, 1u << 20, kNoWait));
}

}  // namespace
}  // namespace warmcache::storage::warm
