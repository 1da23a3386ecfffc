// SPDX-License-Identifier: BSD-3-Clause
// Versioned values and the record of which versions a writer sent and had acknowledged, for
// checking a server after a crash (write and check modes).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "server/common/status.h"
#include "tools/bench/request_codec.h"
#include "tools/bench/value_generator.h"

namespace warmcache::tools::bench {

// Version v (>= 1) of key k: "v" + v in ten digits + " ", then a body generated from (k, v), so
// two versions of a key differ all along and a value torn between versions is caught.
// Thread safety: const and shareable.
class VersionedValues {
 public:
  static constexpr uint32_t kHeaderBytes = 12;
  // `codec` names the keys and gives the flags; not owned, outlives this. value_size >= 16.
  VersionedValues(const RequestCodec* codec, uint32_t value_size, ValueKind kind);

  // Appends "set <key> <flags> 0 <size>\r\n<version v of key>\r\n".
  void AppendSet(uint64_t key_id, uint32_t version, std::string* out) const;
  // The version a returned value holds, or 0 if it is not exactly one that Fill would write.
  uint32_t VersionOf(uint64_t key_id, uint32_t flags, std::string_view data) const;

 private:
  void FillBody(uint64_t key_id, uint32_t version, char* out) const;
  std::string BodyKey(uint64_t key_id, uint32_t version) const;

  const RequestCodec* codec_;
  uint32_t value_size_;
  ValueGenerator body_;
};

// Per key: the last version sent and the last version acknowledged (STORED); 0 = none.
struct WriteLog {
  std::vector<uint32_t> sent;
  std::vector<uint32_t> acked;

  explicit WriteLog(uint64_t keys = 0) : sent(keys, 0), acked(keys, 0) {}
  // Text: a header line "warmcache-bench write-log 1 <keys>", then "<sent> <acked>" per key.
  Status Save(const std::string& path) const;
  static Result<WriteLog> Load(const std::string& path);
};

}  // namespace warmcache::tools::bench
