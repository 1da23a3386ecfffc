// SPDX-License-Identifier: BSD-3-Clause
// Reporting size classes. warmcache allocates each item exactly (no slabs), but memcached users
// read `stats slabs` and `stats items` per class, and -f / -n shape those classes; so items are
// counted under the class memcached would have put them in.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace warmcache::storage {

class SizeClasses {
 public:
  static constexpr int kMaxClasses = 64;

  // growth_factor (-f), min_size (-n, bytes of key+value+flags), item_size_max (-I).
  SizeClasses(double growth_factor, size_t min_size, size_t item_size_max);

  // Class id (1-based, like memcached) for an item of `total_bytes`.
  uint8_t ClassFor(size_t total_bytes) const;
  size_t chunk_size(int id) const { return sizes_[id]; }
  int count() const { return static_cast<int>(sizes_.size()) - 1; }  // ids 1..count()

 private:
  std::vector<size_t> sizes_;  // sizes_[0] unused
};

}  // namespace warmcache::storage
