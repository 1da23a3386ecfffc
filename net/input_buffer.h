// SPDX-License-Identifier: BSD-3-Clause
// Bytes read from a socket and not yet consumed by the protocol.
#pragma once

#include <cstddef>
#include <memory>
#include <string_view>

namespace warmcache::net {

// Grows as data arrives (never ahead of it), up to a hard cap; shrinks back when drained.
// Thread safety: confined to its connection's loop thread.
class InputBuffer {
 public:
  static constexpr size_t kInitialSize = 16 * 1024;

  std::string_view data() const { return {bytes_.get() + begin_, end_ - begin_}; }
  size_t size() const { return end_ - begin_; }
  size_t capacity() const { return capacity_; }

  // Space to read into: at least `min_free` bytes, without growing past `max_total` of data.
  // Returns an empty span when the buffer holds `max_total` bytes already.
  std::pair<char*, size_t> PrepareRead(size_t max_total);
  void Commit(size_t n) { end_ += n; }
  void Consume(size_t n);
  // Frees memory held by an empty buffer after a large request.
  void ReleaseIfIdle();

 private:
  std::unique_ptr<char[]> bytes_;
  size_t capacity_ = 0;
  size_t begin_ = 0;
  size_t end_ = 0;
};

}  // namespace warmcache::net
