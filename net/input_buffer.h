// SPDX-License-Identifier: BSD-3-Clause
// Bytes read from a socket and not yet consumed by the protocol.
#pragma once

#include <cstddef>
#include <memory>
#include <string_view>

#include "net/buffer_pool.h"

namespace warmcache::net {

// Grows as data arrives (never ahead of it), up to a hard cap; shrinks back when drained.
// Thread safety: confined to its connection's loop thread.
class InputBuffer {
 public:
  static constexpr size_t kInitialSize = BufferPool::kBlockSize;

  explicit InputBuffer(BufferPool* pool) : pool_(pool) {}
  ~InputBuffer() { ReleaseIfIdle(); }
  InputBuffer(const InputBuffer&) = delete;
  InputBuffer& operator=(const InputBuffer&) = delete;

  std::string_view data() const { return {bytes_.get() + begin_, end_ - begin_}; }
  size_t size() const { return end_ - begin_; }
  size_t capacity() const { return capacity_; }

  // Space to read into: at least `min_free` bytes, without growing past `max_total` of data.
  // Returns an empty span when the buffer holds `max_total` bytes already.
  std::pair<char*, size_t> PrepareRead(size_t max_total);
  void Commit(size_t n) { end_ += n; }
  void Consume(size_t n);
  // An empty buffer gives its memory back (to the pool, or to the heap after a large request).
  void ReleaseIfIdle();

 private:
  BufferPool* pool_;  // not owned; outlives the buffer
  std::unique_ptr<char[]> bytes_;
  size_t capacity_ = 0;
  size_t begin_ = 0;
  size_t end_ = 0;
};

}  // namespace warmcache::net
