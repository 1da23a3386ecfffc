// SPDX-License-Identifier: BSD-3-Clause
// memcached text protocol: bytes -> Command. Pure and allocation-free; knows nothing of
// sockets or storage.
#pragma once

#include <cstddef>
#include <string_view>

#include "server/protocol/command.h"

namespace warmcache::protocol {

struct ParserOptions {
  size_t max_value_len = 1u << 20;  // -I: larger values are discarded, never buffered
  size_t max_get_line = 8u << 20;   // longest get/gets line buffered before closing
};

enum class ParseStatus : uint8_t {
  kOk,        // *command is complete and owns the first `consumed` bytes
  kNeedMore,  // incomplete; `need` is the total size when known (a value in flight), else 0
  kError,     // answered by the parser: send `reply` (empty under noreply), drop `consumed`
  kClose,     // the input can never become a command: close the connection
};

struct ParseResult {
  ParseStatus status = ParseStatus::kNeedMore;
  size_t consumed = 0;
  size_t need = 0;
  std::string_view reply;
};

class TextParser {
 public:
  // memcached's limit on a command line that is not a multi-get.
  static constexpr size_t kMaxLine = 2048;
  static constexpr size_t kMaxKeyLength = 250;

  explicit TextParser(const ParserOptions& options) : options_(options) {}

  // Parses the first request in `input`. Meta commands fill `meta` (without one they are
  // unknown commands).
  ParseResult Parse(std::string_view input, Command* command, MetaRequest* meta = nullptr) const;

 private:
  ParserOptions options_;
};

}  // namespace warmcache::protocol
