// SPDX-License-Identifier: BSD-3-Clause
#include "server/proxy/pool_state.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "server/common/clock.h"
#include "server/ring/pool_config.h"

namespace warmcache::proxy {
namespace {

constexpr int64_t kRetrySeconds = 30;

// A pool of `ports` on 127.0.0.1 that ejects after 2 failures for kRetrySeconds.
std::shared_ptr<PoolState> MakePool(const std::vector<int>& ports, const FakeClock& clock,
                                    uint64_t generation = 0) {
  std::string yaml =
      "p:\n  auto_eject_hosts: true\n  server_failure_limit: 2\n"
      "  server_retry_timeout: " +
      std::to_string(kRetrySeconds * 1000) + "\n  servers:\n";
  for (int port : ports) yaml += "   - 127.0.0.1:" + std::to_string(port) + ":1\n";
  auto config = ring::ParsePoolConfig(yaml);
  EXPECT_TRUE(config.ok()) << config.status().ToString();
  return std::make_shared<PoolState>(std::move(config).value(), &clock, generation);
}

void Eject(PoolState& pool, int node) {
  pool.RecordFailure(node);
  pool.RecordFailure(node);
  ASSERT_TRUE(pool.IsEjected(node));
}

std::vector<std::string> Keys(const RejoinWork& work) {
  std::vector<std::string> keys;
  for (const MovedKey& k : work.keys) keys.push_back(k.key);
  return keys;
}

TEST(PoolStateTest, EjectsAfterTheFailureLimitAndASuccessResetsTheCount) {
  FakeClock clock;
  auto pool = MakePool({11211, 11212}, clock);
  pool->RecordFailure(0);
  pool->RecordSuccess(0);
  pool->RecordFailure(0);
  EXPECT_FALSE(pool->IsEjected(0));
  pool->RecordFailure(0);
  EXPECT_TRUE(pool->IsEjected(0));
  EXPECT_FALSE(pool->IsEjected(1));
  EXPECT_EQ(1u, pool->counters(0).ejections.load());
  std::vector<bool> live;
  EXPECT_EQ(clock.MonotonicMicros() + kRetrySeconds * 1'000'000, pool->LiveMask(0, &live));
  EXPECT_EQ((std::vector<bool>{false, true}), live);
}

TEST(PoolStateTest, ANodeWithNothingNotedIsBackAtItsRetryTime) {
  FakeClock clock;
  auto pool = MakePool({11211, 11212}, clock);
  Eject(*pool, 0);
  RejoinWork work;
  EXPECT_FALSE(pool->ClaimRejoin(0, clock.MonotonicMicros(), &work));
  EXPECT_TRUE(pool->IsEjected(0)) << "back before its retry time";
  clock.Advance(kRetrySeconds);
  EXPECT_FALSE(pool->ClaimRejoin(0, clock.MonotonicMicros(), &work));
  EXPECT_FALSE(pool->IsEjected(0));
}

TEST(PoolStateTest, MovedWritesAreDroppedBeforeTheNodeRejoins) {
  FakeClock clock;
  auto pool = MakePool({11211, 11212}, clock);
  EXPECT_FALSE(pool->NoteMovedWrite(0, "live", 1)) << "a live node: the caller cleans up";
  Eject(*pool, 0);
  EXPECT_TRUE(pool->NoteMovedWrite(0, "a", 1));
  clock.Advance(kRetrySeconds);
  RejoinWork work;
  ASSERT_TRUE(pool->ClaimRejoin(0, clock.MonotonicMicros(), &work));
  EXPECT_EQ(std::vector<std::string>{"a"}, Keys(work));
  EXPECT_EQ(1, work.keys[0].interim);
  // Noted during the rejoin: done before the node is live.
  EXPECT_TRUE(pool->NoteMovedWrite(0, "b", 1));
  RejoinWork more;
  EXPECT_FALSE(pool->FinishRejoin(0, &more));
  EXPECT_EQ(std::vector<std::string>{"b"}, Keys(more));
  EXPECT_TRUE(pool->FinishRejoin(0, &more));
  EXPECT_FALSE(pool->IsEjected(0));
}

TEST(PoolStateTest, AnAbortedRejoinKeepsItsWork) {
  FakeClock clock;
  auto pool = MakePool({11211, 11212}, clock);
  Eject(*pool, 0);
  EXPECT_TRUE(pool->NoteMovedWrite(0, "a", 1));
  clock.Advance(kRetrySeconds);
  RejoinWork work;
  ASSERT_TRUE(pool->ClaimRejoin(0, clock.MonotonicMicros(), &work));
  pool->AbortRejoin(0);
  EXPECT_TRUE(pool->IsEjected(0));
  EXPECT_TRUE(pool->NoteMissedFlush(0));
  clock.Advance(kRetrySeconds);
  ASSERT_TRUE(pool->ClaimRejoin(0, clock.MonotonicMicros(), &work));
  EXPECT_EQ(std::vector<std::string>{"a"}, Keys(work));
  EXPECT_TRUE(work.flush_home);
}

TEST(PoolStateTest, TooManyKeysFlushTheNodeAndTheStandIn) {
  RejoinWork work;
  RejoinWork more;
  more.keys = {MovedKey{"a", 1}, MovedKey{"b", 2}, MovedKey{"c", -1}};
  work.Merge(more, 1);
  EXPECT_EQ(std::vector<std::string>{"a"}, Keys(work));
  EXPECT_TRUE(work.flush_home);
  EXPECT_EQ(std::vector<int>{2}, work.flush_interims);
}

// A reload keeps an ejected node out with its notes, stand-ins renumbered by address.
TEST(PoolStateTest, AReloadInheritsEjectionsAndNotesByAddress) {
  FakeClock clock;
  auto old_pool = MakePool({11211, 11212, 11213}, clock);
  Eject(*old_pool, 1);
  EXPECT_TRUE(old_pool->NoteMovedWrite(1, "k", 2));
  auto pool = MakePool({11213, 11212, 11214}, clock, 1);
  pool->InheritFrom(*old_pool);
  EXPECT_EQ(1, pool->IndexOf("127.0.0.1:11212"));
  EXPECT_EQ(-1, pool->IndexOf("127.0.0.1:11211"));
  EXPECT_FALSE(pool->IsEjected(0));
  EXPECT_TRUE(pool->IsEjected(1));
  clock.Advance(kRetrySeconds);
  RejoinWork work;
  ASSERT_TRUE(pool->ClaimRejoin(1, clock.MonotonicMicros(), &work));
  ASSERT_EQ(std::vector<std::string>{"k"}, Keys(work));
  EXPECT_EQ(0, work.keys[0].interim) << "127.0.0.1:11213 is node 0 of the new pool";
}

// A write or flush still in flight against the old pool when the reload copied its notes:
// the note reaches the new pool, or the caller is told to clean up (the node is live there).
TEST(PoolStateTest, NotesMadeOnTheOldPoolAfterAReloadReachTheNewOne) {
  FakeClock clock;
  auto old_pool = MakePool({11211, 11212, 11213}, clock);
  Eject(*old_pool, 1);
  auto pool = MakePool({11213, 11212}, clock, 1);
  pool->InheritFrom(*old_pool);
  EXPECT_TRUE(old_pool->NoteMovedWrite(1, "late", 2));
  EXPECT_TRUE(old_pool->NoteMissedFlush(1));
  EXPECT_FALSE(old_pool->NoteMovedWrite(2, "live", -1)) << "live in the new pool";
  // A replica that failed a write in flight is taken out of the new pool's reads.
  old_pool->EjectNow(2);
  EXPECT_TRUE(pool->IsEjected(0));
  // A node the new pool dropped keeps its notes in the old pool, which no one reads again.
  Eject(*old_pool, 0);
  EXPECT_TRUE(old_pool->NoteMovedWrite(0, "gone", -1));
  // A second reload: the first pool's late notes travel down the chain.
  auto newest = MakePool({11212}, clock, 2);
  newest->InheritFrom(*pool);
  EXPECT_TRUE(old_pool->NoteMovedWrite(1, "later", 2));
  clock.Advance(kRetrySeconds);
  RejoinWork work;
  ASSERT_TRUE(newest->ClaimRejoin(0, clock.MonotonicMicros(), &work));
  EXPECT_EQ((std::vector<std::string>{"late", "later"}), Keys(work));
  EXPECT_EQ(-1, work.keys[1].interim) << "127.0.0.1:11213 is not in the newest pool";
  EXPECT_TRUE(work.flush_home);
  RejoinWork more;
  EXPECT_TRUE(newest->FinishRejoin(0, &more));
  EXPECT_FALSE(old_pool->NoteMovedWrite(1, "after", -1)) << "back in the newest pool";
}

}  // namespace
}  // namespace warmcache::proxy
