// SPDX-License-Identifier: BSD-3-Clause
#include "server/engine/delta.h"

#include <charconv>
#include <cstring>

#include "server/common/numbers.h"

namespace warmcache::engine {

bool ParseCounter(std::string_view value, uint64_t* out) {
  if (value.empty()) return false;
  // memcached parses the stored bytes followed by "\r\n"; an all-digit value ends cleanly.
  return SafeStrtoull(value, out);
}

uint64_t ApplyDelta(uint64_t value, bool incr, uint64_t delta) {
  if (incr) return value + delta;
  return delta > value ? 0 : value - delta;
}

storage::ItemRef BuildCounterItem(const storage::Item& old, uint64_t value) {
  char digits[24];
  const size_t len =
      static_cast<size_t>(std::to_chars(digits, digits + sizeof(digits), value).ptr - digits);
  const size_t stored_len = len <= old.value_len ? old.value_len : len;
  storage::ItemRef item = storage::ItemRef::Allocate(old.key(), stored_len);
  if (!item) return item;
  std::memcpy(item->mutable_value(), digits, len);
  std::memset(item->mutable_value() + len, ' ', stored_len - len);
  item->client_flags = old.client_flags;
  item->exptime = old.exptime;
  return item;
}

}  // namespace warmcache::engine
