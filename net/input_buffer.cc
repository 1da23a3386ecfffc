// SPDX-License-Identifier: BSD-3-Clause
#include "net/input_buffer.h"

#include <algorithm>
#include <cstring>

namespace warmcache::net {

std::pair<char*, size_t> InputBuffer::PrepareRead(size_t max_total) {
  const size_t held = size();
  if (held >= max_total) return {nullptr, 0};
  if (begin_ > 0 && (end_ == capacity_ || begin_ >= capacity_ / 2)) {
    std::memmove(bytes_.get(), bytes_.get() + begin_, held);
    begin_ = 0;
    end_ = held;
  }
  if (capacity_ == 0 && max_total >= kInitialSize) {
    bytes_ = pool_->Acquire();
    capacity_ = kInitialSize;
  } else if (end_ == capacity_) {
    // Double, so a large value costs O(size) copies in total.
    size_t grown = std::max(kInitialSize, capacity_ * 2);
    grown = std::min(grown, std::max(max_total, kInitialSize));
    auto bigger = std::make_unique<char[]>(grown);
    if (held > 0) std::memcpy(bigger.get(), bytes_.get() + begin_, held);
    bytes_ = std::move(bigger);
    capacity_ = grown;
    begin_ = 0;
    end_ = held;
  }
  const size_t room = std::min(capacity_ - end_, max_total - held);
  return {bytes_.get() + end_, room};
}

void InputBuffer::Consume(size_t n) {
  begin_ += n;
  if (begin_ == end_) begin_ = end_ = 0;
}

void InputBuffer::ReleaseIfIdle() {
  if (begin_ != end_ || capacity_ == 0) return;
  if (capacity_ == kInitialSize) {
    pool_->Release(std::move(bytes_));
  } else {
    bytes_.reset();
  }
  capacity_ = 0;
  begin_ = end_ = 0;
}

}  // namespace warmcache::net
