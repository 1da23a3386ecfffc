// SPDX-License-Identifier: BSD-3-Clause
#include "net/output_queue.h"

#include <cstring>

namespace warmcache::net {

OutputQueue::~OutputQueue() {
  for (Segment& s : staged_) s.pin.Release();
  for (Segment& s : inflight_) s.pin.Release();
  for (Block& b : blocks_) {
    if (b.capacity == kBlockSize) pool_->Release(std::move(b.bytes));
  }
}

char* OutputQueue::Reserve(size_t size, int* block_index) {
  if (open_block_ >= 0) {
    Block& block = blocks_[static_cast<size_t>(open_block_)];
    if (block.capacity - block.used >= size) {
      *block_index = open_block_;
      char* p = block.bytes.get() + block.used;
      block.used += size;
      return p;
    }
  }
  // An idle slot (holding a block or not), else a new slot.
  int chosen = -1;
  for (size_t i = 0; i < blocks_.size(); ++i) {
    const Block& b = blocks_[i];
    if (!b.inflight && static_cast<int>(i) != open_block_ && b.used == 0) {
      chosen = static_cast<int>(i);
      if (b.capacity >= size) break;
    }
  }
  if (chosen < 0) {
    blocks_.emplace_back();
    chosen = static_cast<int>(blocks_.size() - 1);
  }
  Block& block = blocks_[static_cast<size_t>(chosen)];
  if (block.capacity < size) {
    if (block.capacity == kBlockSize) pool_->Release(std::move(block.bytes));
    if (size <= kBlockSize) {
      block.bytes = pool_->Acquire();
      block.capacity = kBlockSize;
    } else {
      block.bytes = std::make_unique<char[]>(size);  // one large copy gets a block of its own
      block.capacity = size;
    }
  }
  open_block_ = chosen;
  block.used = size;
  *block_index = chosen;
  return block.bytes.get();
}

void OutputQueue::AppendSlow(std::string_view bytes) {
  if (bytes.empty()) return;
  int block = -1;
  char* dst = Reserve(bytes.size(), &block);
  std::memcpy(dst, bytes.data(), bytes.size());
  staged_bytes_ += bytes.size();
  // Extend the previous segment when the bytes are contiguous with it.
  if (!staged_.empty()) {
    Segment& last = staged_.back();
    if (last.block == block && last.data + last.size == dst) {
      last.size += bytes.size();
      return;
    }
  }
  staged_.push_back(Segment{dst, bytes.size(), Pin{}, block});
}

void OutputQueue::AppendRef(std::string_view bytes, Pin pin) {
  staged_bytes_ += bytes.size();
  staged_.push_back(Segment{bytes.data(), bytes.size(), pin, -1});
}

const std::vector<uv_buf_t>& OutputQueue::BeginWrite() {
  inflight_.swap(staged_);
  inflight_bytes_ = staged_bytes_;
  staged_bytes_ = 0;
  bufs_.clear();
  for (const Segment& s : inflight_) {
    bufs_.push_back(uv_buf_init(const_cast<char*>(s.data), static_cast<unsigned>(s.size)));
    if (s.block >= 0) blocks_[static_cast<size_t>(s.block)].inflight = true;
  }
  open_block_ = -1;  // new appends must not land in a block the kernel is reading
  return bufs_;
}

const std::vector<uv_buf_t>& OutputQueue::SkipWritten(size_t n) {
  size_t first = 0;
  while (first < bufs_.size() && n >= bufs_[first].len) {
    n -= bufs_[first].len;
    ++first;
  }
  bufs_.erase(bufs_.begin(), bufs_.begin() + static_cast<std::ptrdiff_t>(first));
  if (n > 0 && !bufs_.empty()) {
    bufs_.front().base += n;
    bufs_.front().len -= n;
  }
  return bufs_;
}

size_t OutputQueue::EndWrite() {
  const size_t written = inflight_bytes_;
  for (Segment& s : inflight_) s.pin.Release();
  inflight_.clear();
  inflight_bytes_ = 0;
  for (size_t i = 0; i < blocks_.size(); ++i) {
    Block& b = blocks_[i];
    if (!b.inflight) continue;
    b.inflight = false;
    b.used = 0;
    // Written blocks go back to the pool, so an idle connection holds no output memory.
    if (static_cast<int>(i) != open_block_) {
      if (b.capacity == kBlockSize) pool_->Release(std::move(b.bytes));
      b.bytes.reset();
      b.capacity = 0;
    }
  }
  return written;
}

}  // namespace warmcache::net
