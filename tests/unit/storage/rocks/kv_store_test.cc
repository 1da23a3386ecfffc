// SPDX-License-Identifier: BSD-3-Clause
#include "storage/rocks/kv_store.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

#include "storage/rocks/record_codec.h"

namespace warmcache::storage::rocks {
namespace {

class KvStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::path(::testing::TempDir()) /
           ("wc_kv_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    options_.path = dir_.string();
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::unique_ptr<KvStore> Open() {
    auto store = KvStore::Open(options_, &clock_, &flush_);
    EXPECT_TRUE(store.ok()) << store.status().ToString();
    return store.ok() ? std::move(*store) : nullptr;
  }
  std::string Record(uint32_t exptime, uint64_t cas, const std::string& value) {
    RecordMeta meta;
    meta.exptime = exptime;
    meta.cas = cas;
    meta.time = static_cast<uint32_t>(clock_.NowSeconds());
    std::string out;
    codec_.Encode(meta, value, &out);
    return out;
  }

  std::filesystem::path dir_;
  KvOptions options_;
  FakeClock clock_;
  FlushState flush_;
  RecordCodec codec_{CodecOptions{}};
};

TEST_F(KvStoreTest, WritesReadsDeletesAndSurvivesReopen) {
  {
    auto store = Open();
    ASSERT_TRUE(store);
    ASSERT_TRUE(store->Write({{"a", Record(0, 1, "alpha")}, {"b", Record(0, 2, "beta")}}).ok());
    ASSERT_TRUE(store->Write({{"b", "", true}}).ok());
    EXPECT_EQ(StatusCode::kNotFound, store->Get("b").status().code());
    EXPECT_EQ(StatusCode::kNotFound, store->Get("never").status().code());
  }
  auto store = Open();
  ASSERT_TRUE(store);
  auto a = store->Get("a");
  ASSERT_TRUE(a.ok());
  RecordMeta meta;
  std::string value;
  ASSERT_TRUE(codec_.Decode(*a, &meta, &value).ok());
  EXPECT_EQ("alpha", value);
  EXPECT_EQ(1u, meta.cas);
}

TEST_F(KvStoreTest, ADirectoryInUseIsRefused) {
  auto first = Open();
  ASSERT_TRUE(first);
  auto second = KvStore::Open(options_, &clock_, &flush_);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(StatusCode::kBusy, second.status().code()) << second.status().ToString();
}

TEST_F(KvStoreTest, CompactionDropsExpiredAndFlushedRecords) {
  auto store = Open();
  ASSERT_TRUE(store);
  const uint32_t now = static_cast<uint32_t>(clock_.NowSeconds());
  ASSERT_TRUE(store
                  ->Write({{"live", Record(0, 1, "v")},
                           {"later", Record(now + 100, 2, "v")},
                           {"soon", Record(now + 10, 3, "v")}})
                  .ok());
  clock_.Advance(20);
  ASSERT_TRUE(store->CompactForTest().ok());
  EXPECT_TRUE(store->Get("live").ok());
  EXPECT_TRUE(store->Get("later").ok());
  EXPECT_EQ(StatusCode::kNotFound, store->Get("soon").status().code());
  flush_.Set(clock_.NowSeconds() - 1, 100);  // flush_all: everything stored before now
  ASSERT_TRUE(store->CompactForTest().ok());
  EXPECT_EQ(StatusCode::kNotFound, store->Get("live").status().code());
  EXPECT_EQ(StatusCode::kNotFound, store->Get("later").status().code());
}

TEST_F(KvStoreTest, ReportsItsSizeOnDisk) {
  auto store = Open();
  ASSERT_TRUE(store);
  std::vector<Mutation> batch;
  for (int i = 0; i < 2000; ++i) {
    batch.push_back({"k" + std::to_string(i), Record(0, i + 1, std::string(500, 'x'))});
  }
  ASSERT_TRUE(store->Write(batch).ok());
  ASSERT_TRUE(store->CompactForTest().ok());
  EXPECT_GT(store->ApproximateDiskBytes(), 0u);
  EXPECT_GT(store->ApproximateKeys(), 1000u);
}

TEST_F(KvStoreTest, MultiGetAnswersEachKeyInOrder) {
  auto store = Open();
  ASSERT_TRUE(store);
  ASSERT_TRUE(store->Write({{"a", Record(0, 1, "alpha")}, {"c", Record(0, 3, "gamma")}}).ok());
  std::vector<Result<std::string>> out;
  store->MultiGet({"c", "b", "a"}, &out);
  ASSERT_EQ(3u, out.size());
  ASSERT_TRUE(out[0].ok());
  EXPECT_EQ(Record(0, 3, "gamma"), out[0].value());
  EXPECT_EQ(StatusCode::kNotFound, out[1].status().code());
  ASSERT_TRUE(out[2].ok());
  EXPECT_EQ(Record(0, 1, "alpha"), out[2].value());
}

TEST_F(KvStoreTest, DiscardAllEmptiesRecordsAndMeta) {
  auto store = Open();
  ASSERT_TRUE(store);
  EXPECT_FALSE(store->HasAnyKey());
  ASSERT_TRUE(store->Write({{"a", Record(0, 1, "alpha")}, {"m", "v", false, /*meta=*/true}}).ok());
  EXPECT_TRUE(store->HasAnyKey());
  EXPECT_TRUE(store->GetMeta("m").ok());
  ASSERT_TRUE(store->DiscardAll().ok());
  EXPECT_FALSE(store->HasAnyKey());
  EXPECT_EQ(StatusCode::kNotFound, store->Get("a").status().code());
  EXPECT_EQ(StatusCode::kNotFound, store->GetMeta("m").status().code());
}

TEST_F(KvStoreTest, MetaRecordsLiveApartFromRecords) {
  auto store = Open();
  ASSERT_TRUE(store);
  ASSERT_TRUE(store
                  ->Write({{"hot/1", "x", false, /*meta=*/true},
                           {"hot/2", "y", false, true},
                           {"other", "z", false, true}})
                  .ok());
  EXPECT_FALSE(store->HasAnyKey());  // no memcached key can collide with them
  EXPECT_EQ(StatusCode::kNotFound, store->Get("hot/1").status().code());
  const auto hot = store->ScanMeta("hot/");
  ASSERT_EQ(2u, hot.size());
  EXPECT_EQ("hot/1", hot[0].first);
  EXPECT_EQ("y", hot[1].second);
}

TEST_F(KvStoreTest, ABudgetDropsTheOldestFiles) {
  options_.table_budget_bytes = 256u << 10;
  options_.write_buffer_bytes = 64u << 10;
  auto store = Open();
  ASSERT_TRUE(store);
  std::string noise(2000, '\0');
  uint32_t x = 12345;
  for (int i = 0; i < 600; ++i) {
    for (char& c : noise) c = static_cast<char>((x = x * 1103515245u + 12345u) >> 24);
    ASSERT_TRUE(store->Write({{"k" + std::to_string(i), Record(0, i + 1, noise)}}).ok());
  }
  ASSERT_TRUE(store->CompactForTest().ok());
  EXPECT_LE(store->ApproximateDiskBytes(), (256u << 10) + (256u << 10));
  EXPECT_GT(store->Counters().dropped_files, 0u);
  EXPECT_GT(store->Counters().dropped_bytes, 0u);
  EXPECT_EQ(StatusCode::kNotFound, store->Get("k0").status().code());  // oldest first
  EXPECT_TRUE(store->Get("k599").ok());
}

}  // namespace
}  // namespace warmcache::storage::rocks
