// SPDX-License-Identifier: BSD-3-Clause
#include "tools/bench/request_codec.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <utility>

namespace warmcache::tools::bench {

namespace {
constexpr size_t kKeyDigits = 10;
}  // namespace

RequestCodec::RequestCodec(std::string key_prefix, uint32_t value_size)
    : key_prefix_(std::move(key_prefix)), value_size_(value_size) {}

void RequestCodec::AppendKey(uint64_t key_id, std::string* out) const {
  // Hand-rolled: this runs for every key of every request, and fmt costs several times more.
  char digits[20];
  size_t n = 0;
  do {
    digits[n++] = static_cast<char>('0' + key_id % 10);
    key_id /= 10;
  } while (key_id != 0);
  out->append(key_prefix_);
  if (n < kKeyDigits) out->append(kKeyDigits - n, '0');
  while (n > 0) out->push_back(digits[--n]);
}

std::string RequestCodec::Key(uint64_t key_id) const {
  std::string key;
  AppendKey(key_id, &key);
  return key;
}

void RequestCodec::FillValue(uint64_t key_id, char* out) const {
  const std::string key = Key(key_id);
  const size_t head = std::min<size_t>(key.size(), value_size_);
  std::memcpy(out, key.data(), head);
  std::memset(out + head, 'a' + static_cast<int>(key_id % 26), value_size_ - head);
}

void RequestCodec::AppendSet(uint64_t key_id, std::string* out) const {
  out->append("set ");
  AppendKey(key_id, out);
  fmt::format_to(std::back_inserter(*out), " {} 0 {}\r\n", Flags(key_id), value_size_);
  const size_t at = out->size();
  out->resize(at + value_size_);
  FillValue(key_id, out->data() + at);
  out->append("\r\n");
}

void RequestCodec::AppendGet(std::span<const uint64_t> key_ids, std::string* out) const {
  out->append("get");
  for (uint64_t id : key_ids) {
    out->push_back(' ');
    AppendKey(id, out);
  }
  out->append("\r\n");
}

bool RequestCodec::ValueMatches(uint64_t key_id, const ValueRef& value) const {
  if (value.flags != Flags(key_id) || value.data.size() != value_size_) return false;
  const std::string key = Key(key_id);
  const size_t head = std::min<size_t>(key.size(), value_size_);
  if (value.data.substr(0, head) != std::string_view(key).substr(0, head)) return false;
  const char fill = static_cast<char>('a' + key_id % 26);
  return std::all_of(value.data.begin() + static_cast<std::ptrdiff_t>(head), value.data.end(),
                     [fill](char c) { return c == fill; });
}

RequestCodec::GetCheck RequestCodec::CheckGet(std::span<const uint64_t> key_ids,
                                              const Reply& reply) const {
  GetCheck check;
  size_t next = 0;  // first requested key not yet matched
  std::string key;
  for (const ValueRef& value : reply.values) {
    // Skip requested keys that missed until one matches this VALUE's key.
    for (; next < key_ids.size(); ++next) {
      key.clear();
      AppendKey(key_ids[next], &key);
      if (key == value.key) break;
    }
    if (next == key_ids.size() || !ValueMatches(key_ids[next], value)) {
      check.ok = false;
      break;
    }
    ++check.hits;
    ++next;
  }
  check.misses = key_ids.size() - std::min<uint64_t>(check.hits, key_ids.size());
  return check;
}

}  // namespace warmcache::tools::bench
