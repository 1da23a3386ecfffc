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

RequestCodec::RequestCodec(std::string key_prefix, uint32_t value_size, ValueKind value_kind)
    : key_prefix_(std::move(key_prefix)), values_(value_kind, value_size) {}

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
  values_.Fill(key_id, Key(key_id), out);
}

void RequestCodec::AppendSet(uint64_t key_id, std::string* out) const {
  out->append("set ");
  const size_t key_at = out->size();
  AppendKey(key_id, out);
  const size_t key_len = out->size() - key_at;
  fmt::format_to(std::back_inserter(*out), " {} 0 {}\r\n", Flags(key_id), values_.size());
  const size_t at = out->size();
  out->resize(at + values_.size());
  // The key is read from `out` after the resize, which may have moved it.
  values_.Fill(key_id, std::string_view(out->data() + key_at, key_len), out->data() + at);
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
  // CheckGet matched value.key against key_id's key already.
  return value.flags == Flags(key_id) && values_.Matches(key_id, value.key, value.data);
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
    if (next == key_ids.size()) {
      check.unexpected = true;
      break;
    }
    if (ValueMatches(key_ids[next], value)) {
      ++check.hits;
    } else if (check.mismatched++ == 0) {
      check.first_mismatched_id = key_ids[next];
    }
    ++next;
  }
  check.misses = key_ids.size() - std::min<uint64_t>(check.hits + check.mismatched, key_ids.size());
  return check;
}

}  // namespace warmcache::tools::bench
