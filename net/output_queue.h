// SPDX-License-Identifier: BSD-3-Clause
// Reply bytes waiting for a socket. Small replies are copied into reusable blocks; large
// values are referenced in place and kept alive by a Pin until written. One batch is
// written at a time, so replies gathered while a write is in flight go out in one writev.
#pragma once

#include <uv.h>

#include <cstddef>
#include <cstring>
#include <memory>
#include <string_view>
#include <vector>

#include "net/buffer_pool.h"

namespace warmcache::net {

// Keeps referenced memory alive until the bytes are written. No allocation: an object and
// the function that lets go of it.
struct Pin {
  void* object = nullptr;
  void (*release)(void*) = nullptr;
  void Release() {
    if (release != nullptr) release(object);
    object = nullptr;
    release = nullptr;
  }
};

// Thread safety: confined to its connection's loop thread.
class OutputQueue {
 public:
  explicit OutputQueue(BufferPool* pool) : pool_(pool) {}
  ~OutputQueue();
  OutputQueue(const OutputQueue&) = delete;
  OutputQueue& operator=(const OutputQueue&) = delete;

  void Append(std::string_view bytes) {
    // Fast path: the bytes fit the open block right after the last staged segment.
    if (open_block_ >= 0 && !staged_.empty()) {
      Block& block = blocks_[static_cast<size_t>(open_block_)];
      Segment& last = staged_.back();
      char* tail = block.bytes.get() + block.used;
      if (last.data + last.size == tail && block.capacity - block.used >= bytes.size()) {
        std::memcpy(tail, bytes.data(), bytes.size());
        block.used += bytes.size();
        last.size += bytes.size();
        staged_bytes_ += bytes.size();
        return;
      }
    }
    AppendSlow(bytes);
  }
  // Sends `bytes` without copying; `pin` is released once they are written or dropped.
  void AppendRef(std::string_view bytes, Pin pin);

  // Bytes gathered and not yet handed to a write.
  size_t staged_bytes() const { return staged_bytes_; }
  // Everything not yet confirmed written, in flight or staged.
  size_t pending_bytes() const { return staged_bytes_ + inflight_bytes_; }
  bool has_inflight() const { return !inflight_.empty(); }

  // Moves the staged bytes into the in-flight batch and describes it as uv buffers.
  const std::vector<uv_buf_t>& BeginWrite();
  // The first `n` bytes of the in-flight batch went out already; returns what is left of it.
  const std::vector<uv_buf_t>& SkipWritten(size_t n);
  size_t inflight_bytes() const { return inflight_bytes_; }
  // The in-flight batch was written (or abandoned): releases its pins and blocks.
  size_t EndWrite();

 private:
  struct Segment {
    const char* data;
    size_t size;
    Pin pin;
    int block;  // index into blocks_ the bytes live in, or -1
  };
  // A slot whose bytes are null holds no memory (its block went back to the pool).
  struct Block {
    std::unique_ptr<char[]> bytes;
    size_t capacity = 0;
    size_t used = 0;
    bool inflight = false;
  };
  static constexpr size_t kBlockSize = BufferPool::kBlockSize;

  char* Reserve(size_t size, int* block_index);
  void AppendSlow(std::string_view bytes);

  BufferPool* pool_;  // not owned; outlives the queue
  std::vector<Segment> staged_;
  std::vector<Segment> inflight_;
  std::vector<Block> blocks_;
  int open_block_ = -1;  // the staged block appends go to
  std::vector<uv_buf_t> bufs_;
  size_t staged_bytes_ = 0;
  size_t inflight_bytes_ = 0;
};

}  // namespace warmcache::net
