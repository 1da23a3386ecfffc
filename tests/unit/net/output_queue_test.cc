// SPDX-License-Identifier: BSD-3-Clause
#include "net/output_queue.h"

#include <gtest/gtest.h>

#include <string>

namespace warmcache::net {
namespace {

std::string Join(const std::vector<uv_buf_t>& bufs) {
  std::string out;
  for (const uv_buf_t& b : bufs) out.append(b.base, b.len);
  return out;
}

TEST(OutputQueueTest, CopiesCoalesceIntoOneBuffer) {
  BufferPool pool;
  OutputQueue q(&pool);
  q.Append("VALUE k 0 1\r\n");
  q.Append("x\r\n");
  q.Append("END\r\n");
  EXPECT_EQ(21u, q.staged_bytes());
  const auto& bufs = q.BeginWrite();
  EXPECT_EQ(1u, bufs.size());
  EXPECT_EQ("VALUE k 0 1\r\nx\r\nEND\r\n", Join(bufs));
  EXPECT_EQ(21u, q.EndWrite());
  EXPECT_EQ(0u, q.pending_bytes());
}

TEST(OutputQueueTest, ReferencesArePinnedUntilWritten) {
  static int released = 0;
  released = 0;
  const std::string big(5000, 'b');
  BufferPool pool;
  OutputQueue q(&pool);
  q.Append("head ");
  q.AppendRef(big, Pin{nullptr, [](void*) { ++released; }});
  q.Append(" tail");
  const auto& bufs = q.BeginWrite();
  EXPECT_EQ(3u, bufs.size());
  EXPECT_EQ("head " + big + " tail", Join(bufs));
  // Appends during the write go to a fresh batch and do not disturb the in-flight bytes.
  q.Append("next");
  EXPECT_EQ(0, released);
  q.EndWrite();
  EXPECT_EQ(1, released);
  EXPECT_EQ("next", Join(q.BeginWrite()));
}

TEST(OutputQueueTest, LargeCopiesGetTheirOwnBlock) {
  BufferPool pool;
  OutputQueue q(&pool);
  const std::string big(100 * 1024, 'x');
  q.Append("a");
  q.Append(big);
  q.Append("z");
  EXPECT_EQ("a" + big + "z", Join(q.BeginWrite()));
  q.EndWrite();
}

TEST(OutputQueueTest, WrittenBlocksGoBackToThePool) {
  BufferPool pool;
  OutputQueue q(&pool);
  q.Append("hello");
  EXPECT_EQ(0u, pool.cached());
  q.BeginWrite();
  q.EndWrite();
  EXPECT_EQ(1u, pool.cached()) << "an idle connection should hold no output block";
  q.Append("again");
  EXPECT_EQ(0u, pool.cached());
  EXPECT_EQ("again", Join(q.BeginWrite()));
  q.EndWrite();
}

TEST(OutputQueueTest, DroppedQueueReleasesPins) {
  static int released = 0;
  released = 0;
  {
    BufferPool pool;
    OutputQueue q(&pool);
    q.AppendRef("abc", Pin{nullptr, [](void*) { ++released; }});
  }
  EXPECT_EQ(1, released);
}

}  // namespace
}  // namespace warmcache::net
