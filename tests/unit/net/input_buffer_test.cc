// SPDX-License-Identifier: BSD-3-Clause
#include "net/input_buffer.h"

#include <gtest/gtest.h>

#include <cstring>

namespace warmcache::net {
namespace {

void Feed(InputBuffer& b, const std::string& bytes, size_t cap) {
  size_t done = 0;
  while (done < bytes.size()) {
    auto [p, n] = b.PrepareRead(cap);
    ASSERT_GT(n, 0u);
    n = std::min(n, bytes.size() - done);
    std::memcpy(p, bytes.data() + done, n);
    b.Commit(n);
    done += n;
  }
}

TEST(InputBufferTest, GrowsWithDataNotAheadOfIt) {
  BufferPool pool;
  InputBuffer b(&pool);
  EXPECT_EQ(0u, b.capacity());
  Feed(b, "get k\r\n", 1 << 20);
  EXPECT_EQ(InputBuffer::kInitialSize, b.capacity());
  const std::string big(100 * 1024, 'v');
  Feed(b, big, 1 << 20);
  EXPECT_EQ("get k\r\n" + big, std::string(b.data()));
  EXPECT_LE(b.capacity(), 256u * 1024);
}

TEST(InputBufferTest, RefusesToGrowPastTheCap) {
  BufferPool pool;
  InputBuffer b(&pool);
  Feed(b, std::string(1000, 'x'), 1000);
  auto [p, n] = b.PrepareRead(1000);
  EXPECT_EQ(0u, n);
}

TEST(InputBufferTest, ConsumeCompactsAndIdleReleases) {
  BufferPool pool;
  InputBuffer b(&pool);
  Feed(b, std::string(100 * 1024, 'x'), 1 << 20);
  b.Consume(100 * 1024 - 3);
  EXPECT_EQ("xxx", b.data());
  b.Consume(3);
  b.ReleaseIfIdle();
  EXPECT_EQ(0u, b.capacity());
}

TEST(InputBufferTest, DrainedBufferReturnsItsBlockToThePool) {
  BufferPool pool;
  InputBuffer b(&pool);
  Feed(b, "get k\r\n", 1 << 20);
  EXPECT_EQ(0u, pool.cached());
  b.Consume(7);
  b.ReleaseIfIdle();
  EXPECT_EQ(1u, pool.cached());
  Feed(b, "x", 1 << 20);
  EXPECT_EQ(0u, pool.cached());
}

}  // namespace
}  // namespace warmcache::net
