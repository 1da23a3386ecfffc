// SPDX-License-Identifier: BSD-3-Clause
// Per-worker cache of fixed-size byte blocks for connection input and output buffers, so an
// idle connection holds no buffer memory and a busy one does not call malloc per request.
#pragma once

#include <cstddef>
#include <memory>
#include <vector>

namespace warmcache::net {

// Thread safety: confined to one loop thread.
class BufferPool {
 public:
  static constexpr size_t kBlockSize = 16 * 1024;

  explicit BufferPool(size_t max_cached = 64) : max_cached_(max_cached) {}

  std::unique_ptr<char[]> Acquire() {
    if (free_.empty()) return std::make_unique<char[]>(kBlockSize);
    std::unique_ptr<char[]> block = std::move(free_.back());
    free_.pop_back();
    return block;
  }
  // Takes back a block of kBlockSize bytes; beyond max_cached it is freed.
  void Release(std::unique_ptr<char[]> block) {
    if (block && free_.size() < max_cached_) free_.push_back(std::move(block));
  }
  size_t cached() const { return free_.size(); }

 private:
  const size_t max_cached_;
  std::vector<std::unique_ptr<char[]>> free_;
};

}  // namespace warmcache::net
