// SPDX-License-Identifier: BSD-3-Clause
// Builds the bench's requests and checks the values that come back.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "tools/bench/reply_parser.h"
#include "tools/bench/value_generator.h"

namespace warmcache::tools::bench {

// Key k is `prefix` + k in ten zero-padded digits ("wcb:0000000042"). Every value is a pure
// function of its key id (see ValueGenerator), and so are its flags, so a reply is checked byte
// for byte even while other connections overwrite the same key.
class RequestCodec {
 public:
  RequestCodec(std::string key_prefix, uint32_t value_size,
               ValueKind value_kind = ValueKind::kFill);

  // Appends "set <key> <flags> 0 <value_size>\r\n<value>\r\n".
  void AppendSet(uint64_t key_id, std::string* out) const;
  // Appends "get <key> [<key> ...]\r\n".
  void AppendGet(std::span<const uint64_t> key_ids, std::string* out) const;

  std::string Key(uint64_t key_id) const;
  static uint32_t Flags(uint64_t key_id) { return static_cast<uint32_t>(key_id % 65536); }
  // Writes the expected value of `key_id` into `out` (value_size bytes).
  void FillValue(uint64_t key_id, char* out) const;

  // Counts what a get reply holds for the keys that were asked, in order. The values must be a
  // subsequence of `key_ids` (servers skip misses but keep order) with the expected bytes.
  struct GetCheck {
    uint64_t hits = 0;        // values with the expected flags and bytes
    uint64_t misses = 0;      // asked keys with no value (or left unchecked after `unexpected`)
    uint64_t mismatched = 0;  // values of asked keys with wrong flags or bytes
    uint64_t first_mismatched_id = 0;  // valid when mismatched > 0
    bool unexpected = false;  // a value for a key not asked, or out of order; the rest unchecked
    bool ok() const { return mismatched == 0 && !unexpected; }
  };
  GetCheck CheckGet(std::span<const uint64_t> key_ids, const Reply& reply) const;

  uint32_t value_size() const { return values_.size(); }
  ValueKind value_kind() const { return values_.kind(); }

 private:
  bool ValueMatches(uint64_t key_id, const ValueRef& value) const;
  void AppendKey(uint64_t key_id, std::string* out) const;

  std::string key_prefix_;
  ValueGenerator values_;
};

}  // namespace warmcache::tools::bench
