// SPDX-License-Identifier: BSD-3-Clause
#include "net/output_queue.h"

#include <cstring>

namespace warmcache::net {

OutputQueue::~OutputQueue() {
  for (Segment& s : staged_) s.pin.Release();
  for (Segment& s : inflight_) s.pin.Release();
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
  // Reuse a free block that fits, else make one (oversized for a large copy).
  int chosen = -1;
  for (size_t i = 0; i < blocks_.size(); ++i) {
    Block& b = blocks_[i];
    if (!b.inflight && static_cast<int>(i) != open_block_ && b.used == 0 && b.capacity >= size) {
      chosen = static_cast<int>(i);
      break;
    }
  }
  if (chosen < 0) {
    Block block;
    block.capacity = size > kBlockSize ? size : kBlockSize;
    block.bytes = std::make_unique<char[]>(block.capacity);
    blocks_.push_back(std::move(block));
    chosen = static_cast<int>(blocks_.size() - 1);
  }
  open_block_ = chosen;
  Block& block = blocks_[static_cast<size_t>(chosen)];
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
  for (Block& b : blocks_) {
    if (b.inflight) {
      b.inflight = false;
      b.used = 0;
    }
  }
  // Oversized blocks made for one large copy are not kept.
  while (blocks_.size() > 4 && !blocks_.back().inflight && blocks_.back().used == 0 &&
         static_cast<int>(blocks_.size() - 1) != open_block_) {
    blocks_.pop_back();
  }
  return written;
}

}  // namespace warmcache::net
