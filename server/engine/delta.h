// SPDX-License-Identifier: BSD-3-Clause
// incr/decr arithmetic on stored values, with memcached's parsing, wrap and floor rules.
#pragma once

#include <cstdint>
#include <string_view>

#include "storage/memory/item.h"

namespace warmcache::engine {

// The stored value as a counter: what strtoull reads before whitespace or the end. Empty and
// non-numeric values fail.
bool ParseCounter(std::string_view value, uint64_t* out);
// incr wraps at 2^64; decr stops at 0.
uint64_t ApplyDelta(uint64_t value, bool incr, uint64_t delta);
// A new item holding `value` with old's key, flags and expiry. Like memcached, a result that
// is shorter than the old value keeps the old length, padded with spaces.
storage::ItemRef BuildCounterItem(const storage::Item& old, uint64_t value);

}  // namespace warmcache::engine
