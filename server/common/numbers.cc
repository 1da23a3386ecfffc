// SPDX-License-Identifier: BSD-3-Clause
#include "server/common/numbers.h"

#include <cstring>

namespace warmcache {

namespace {

bool IsSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

struct Scan {
  uint64_t magnitude = 0;
  bool negative = false;
  bool overflow = false;
  size_t end = 0;  // index of the first character not parsed; 0 when nothing was parsed
};

// The digits strto(u)ll would read, with its whitespace and sign handling.
Scan ScanDecimal(std::string_view s) {
  Scan scan;
  size_t i = 0;
  while (i < s.size() && IsSpace(s[i])) ++i;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) {
    scan.negative = s[i] == '-';
    ++i;
  }
  const size_t digits_start = i;
  while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
    const uint64_t digit = static_cast<uint64_t>(s[i] - '0');
    if (scan.magnitude > (UINT64_MAX - digit) / 10) scan.overflow = true;
    scan.magnitude = scan.magnitude * 10 + digit;
    ++i;
  }
  scan.end = i == digits_start ? 0 : i;
  return scan;
}

// What follows the number must be whitespace or the end of the token.
// (A NUL ends a C string, which is how memcached sees stored values.)
bool EndsCleanly(std::string_view s, size_t end) {
  return end != 0 && (end == s.size() || IsSpace(s[end]) || s[end] == '\0');
}

}  // namespace

bool SafeStrtoull(std::string_view text, uint64_t* out) {
  *out = 0;
  Scan scan = ScanDecimal(text);
  if (scan.overflow || !EndsCleanly(text, scan.end)) return false;
  const uint64_t value = scan.negative ? (0 - scan.magnitude) : scan.magnitude;
  if (static_cast<int64_t>(value) < 0 && std::memchr(text.data(), '-', scan.end) != nullptr) {
    return false;
  }
  *out = value;
  return true;
}

bool SafeStrtoul(std::string_view text, uint32_t* out) {
  uint64_t value = 0;
  *out = 0;
  if (!SafeStrtoull(text, &value)) return false;
  *out = static_cast<uint32_t>(value);
  return true;
}

bool SafeStrtol(std::string_view text, int32_t* out) {
  *out = 0;
  Scan scan = ScanDecimal(text);
  if (scan.end == 0) return false;
  // strtol saturates (ERANGE) outside the int64 range.
  const uint64_t limit = scan.negative ? uint64_t{1} << 63 : (uint64_t{1} << 63) - 1;
  if (scan.overflow || scan.magnitude > limit) return false;
  if (!EndsCleanly(text, scan.end)) return false;
  const int64_t value = scan.negative ? static_cast<int64_t>(0 - scan.magnitude)
                                      : static_cast<int64_t>(scan.magnitude);
  // memcached 1.6.18 stores the long into an int32_t unchecked: 4000000000 becomes negative.
  *out = static_cast<int32_t>(static_cast<uint32_t>(static_cast<uint64_t>(value)));
  return true;
}

}  // namespace warmcache
