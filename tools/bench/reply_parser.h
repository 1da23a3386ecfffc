// SPDX-License-Identifier: BSD-3-Clause
// Incremental parser for memcached text-protocol replies to get and storage commands.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

namespace warmcache::tools::bench {

// What the client sent, so the parser can reject a reply that belongs to another command.
enum class ExpectedReply { kRetrieval, kStorage };

// "Need more bytes" is not an error; kMalformed means the stream can no longer be trusted.
enum class ParseStatus { kOk, kNeedMore, kMalformed };

enum class ReplyKind {
  kEnd,  // get reply: zero or more VALUE blocks then END
  kStored,
  kNotStored,
  kExists,
  kNotFound,
  kError,        // "ERROR"
  kClientError,  // "CLIENT_ERROR <message>"
  kServerError,  // "SERVER_ERROR <message>"
};

// Views into the caller's input buffer; valid until that buffer changes.
struct ValueRef {
  std::string_view key;
  uint32_t flags = 0;
  std::string_view data;
};

struct Reply {
  ReplyKind kind = ReplyKind::kEnd;
  std::vector<ValueRef> values;  // VALUE blocks seen before END (or before an error line)
  std::string_view message;      // text after CLIENT_ERROR / SERVER_ERROR
  size_t consumed = 0;           // bytes of input this reply used (on kOk)
  size_t need_total = 0;         // on kNeedMore: reparsing is useless below this input size
};

// Largest value the parser accepts in a VALUE header; beyond it the stream is called malformed.
inline constexpr uint64_t kMaxValueBytes = uint64_t{1} << 30;
// Longest reply line (VALUE header, error text) the parser waits for before giving up.
inline constexpr size_t kMaxLineBytes = 8192;

// Parses one complete reply at the front of `input` into `*reply` (reusing its storage).
// Stateless: on kNeedMore the caller appends bytes and calls again with the whole input; it may
// skip calls until input.size() >= reply->need_total. On kMalformed, reply->message says why.
ParseStatus ParseReply(std::string_view input, ExpectedReply expected, Reply* reply);

}  // namespace warmcache::tools::bench
