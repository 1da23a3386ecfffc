// SPDX-License-Identifier: BSD-3-Clause
// The start-up decision: which data a new process may serve, and the CAS and flush_all state
// it continues from.
#include "storage/warm/warm_state.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "server/common/clock.h"
#include "storage/flush_state.h"

namespace warmcache::storage::warm {
namespace {

class WarmStateTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = (std::filesystem::path(::testing::TempDir()) /
            ("wc_state_" + std::to_string(::getpid()) + "_" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name()))
               .string();
    std::filesystem::remove_all(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::unique_ptr<rocks::KvStore> OpenKv() {
    rocks::KvOptions options;
    options.path = dir_;
    auto kv = rocks::KvStore::Open(options, &clock_, &flush_);
    EXPECT_TRUE(kv.ok()) << kv.status().ToString();
    return kv.ok() ? std::move(*kv) : nullptr;
  }
  // One process's life: open, optionally write a record, then stop cleanly or "crash".
  RestoredState Run(bool write_record, bool clean, uint64_t cas_at_stop = 0) {
    auto kv = OpenKv();
    Result<RestoredState> state = OpenWarmState(kv.get(), dir_);
    EXPECT_TRUE(state.ok()) << state.status().ToString();
    if (write_record) {
      EXPECT_TRUE(kv->Write({{"k", "record"}}).ok());
    }
    if (clean) {
      EXPECT_TRUE(SaveCleanShutdown(kv.get(), cas_at_stop, 100, 7, {"hot1", "hot2"}).ok());
    }
    return state.ok() ? std::move(*state) : RestoredState{};
  }

  std::string dir_;
  FakeClock clock_;
  FlushState flush_;
};

TEST_F(WarmStateTest, ANewDirectoryIsFresh) {
  const RestoredState state = Run(false, false);
  EXPECT_EQ(WarmStart::kFresh, state.start);
  EXPECT_EQ(0u, state.next_cas);  // CAS values start as memcached's do
}

TEST_F(WarmStateTest, ACleanStopIsServedWithItsCasFlushStateAndHotKeys) {
  Run(true, true, /*cas_at_stop=*/42);
  const RestoredState state = Run(false, false);
  EXPECT_EQ(WarmStart::kClean, state.start);
  EXPECT_EQ(42u, state.next_cas);
  EXPECT_EQ(100, state.flush_oldest_live);
  EXPECT_EQ(7u, state.flush_oldest_cas);
  EXPECT_EQ((std::vector<std::string>{"hot1", "hot2"}), state.hot_keys);
  auto kv = OpenKv();
  EXPECT_TRUE(kv->Get("k").ok());
}

TEST_F(WarmStateTest, ACrashOnTheSameBootKeepsTheDataAndJumpsPastEveryCas) {
  Run(true, true, /*cas_at_stop=*/42);
  Run(false, false);  // this process crashes: no clean marker
  const RestoredState state = Run(false, false);
  EXPECT_EQ(WarmStart::kRecovered, state.start);
  EXPECT_EQ(42u + kCasReservation, state.next_cas);  // the ceiling the crashed process saved
  EXPECT_EQ(100, state.flush_oldest_live);
  EXPECT_TRUE(state.hot_keys.empty());  // read once, by the process after the clean stop
  auto kv = OpenKv();
  EXPECT_TRUE(kv->Get("k").ok());
}

TEST_F(WarmStateTest, ACrashBeforeARebootDiscardsTheDataButNotTheCasCeiling) {
  Run(true, false);
  std::ofstream(dir_ + "/warmcache.run") << "another-boot\n";
  const RestoredState state = Run(false, false);
  EXPECT_EQ(WarmStart::kDiscarded, state.start);
  EXPECT_NE(std::string::npos, state.discard_reason.find("restarted")) << state.discard_reason;
  EXPECT_EQ(kCasReservation, state.next_cas);
  auto kv = OpenKv();
  EXPECT_EQ(StatusCode::kNotFound, kv->Get("k").status().code());
}

TEST_F(WarmStateTest, AFailedDiskTierIsNotTrustedAfterACrash) {
  Run(true, false);
  DistrustData(dir_);
  const RestoredState state = Run(false, false);
  EXPECT_EQ(WarmStart::kDiscarded, state.start);
  auto kv = OpenKv();
  EXPECT_EQ(StatusCode::kNotFound, kv->Get("k").status().code());
}

TEST_F(WarmStateTest, RecordsWithoutAFormatMarkerComeFromAnOlderVersion) {
  {
    auto kv = OpenKv();
    ASSERT_TRUE(kv->Write({{"k", "record"}}).ok());
  }
  const RestoredState state = Run(false, false);
  EXPECT_EQ(WarmStart::kDiscarded, state.start);
  auto kv = OpenKv();
  EXPECT_FALSE(kv->HasAnyKey());
}

TEST_F(WarmStateTest, ReadCleanStateRefusesADatabaseInUseOrCrashed) {
  Run(true, false);
  auto kv = OpenKv();
  RestoredState state;
  EXPECT_EQ(StatusCode::kInvalidArgument, ReadCleanState(kv.get(), &state).code());
  ASSERT_TRUE(SaveCleanShutdown(kv.get(), 9, 0, 0, {}).ok());
  ASSERT_TRUE(ReadCleanState(kv.get(), &state).ok());
  EXPECT_EQ(9u, state.next_cas);
}

}  // namespace
}  // namespace warmcache::storage::warm
