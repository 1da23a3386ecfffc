// SPDX-License-Identifier: BSD-3-Clause
// Number parsing with memcached's exact acceptance rules (its safe_strto* helpers), so that
// odd inputs ("+5", "5\t", "-0", flags past 2^32) get the same answer as from memcached.
#pragma once

#include <cstdint>
#include <string_view>

namespace warmcache {

// strtoull semantics: 64-bit unsigned, a '-' only when the result stays non-negative as int64.
bool SafeStrtoull(std::string_view text, uint64_t* out);
// memcached's safe_strtoul on LP64: parsed as 64-bit, then truncated to 32 bits.
bool SafeStrtoul(std::string_view text, uint32_t* out);
// memcached 1.6.18's safe_strtol: parsed as a 64-bit long, then truncated to 32 bits.
bool SafeStrtol(std::string_view text, int32_t* out);

}  // namespace warmcache
