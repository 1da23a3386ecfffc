// SPDX-License-Identifier: BSD-3-Clause
#include "storage/memory/size_classes.h"

#include <algorithm>

namespace warmcache::storage {

namespace {
constexpr size_t kAlignment = 8;
// memcached's item header with CAS: the smallest chunk is header + -n bytes.
constexpr size_t kMemcachedHeader = 48;
}  // namespace

SizeClasses::SizeClasses(double growth_factor, size_t min_size, size_t item_size_max) {
  sizes_.push_back(0);
  const size_t chunk_max = std::max<size_t>(item_size_max / 2, 1024);
  size_t size = kMemcachedHeader + min_size;
  while (static_cast<int>(sizes_.size()) < kMaxClasses - 1 && size < chunk_max) {
    if (size % kAlignment) size += kAlignment - size % kAlignment;
    sizes_.push_back(size);
    size_t next = static_cast<size_t>(static_cast<double>(size) * growth_factor);
    size = std::max(next, size + kAlignment);
  }
  sizes_.push_back(chunk_max);
}

uint8_t SizeClasses::ClassFor(size_t total_bytes) const {
  auto it = std::lower_bound(sizes_.begin() + 1, sizes_.end(), total_bytes);
  if (it == sizes_.end()) return static_cast<uint8_t>(sizes_.size() - 1);  // large items
  return static_cast<uint8_t>(it - sizes_.begin());
}

}  // namespace warmcache::storage
