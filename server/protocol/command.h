// SPDX-License-Identifier: BSD-3-Clause
// A parsed request. Views point into the connection's input buffer and are valid until the
// session consumes the bytes the parser reported.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace warmcache::protocol {

enum class CommandType : uint8_t {
  kGet,
  kGets,
  kGat,
  kGats,
  kSet,
  kAdd,
  kReplace,
  kAppend,
  kPrepend,
  kCas,
  kDelete,
  kIncr,
  kDecr,
  kTouch,
  kFlushAll,
  kVersion,
  kVerbosity,
  kQuit,
  kShutdown,
  kStats,
  kCacheMemlimit,
  kMetaNoop,  // mn
};

inline bool IsStorage(CommandType t) { return t >= CommandType::kSet && t <= CommandType::kCas; }

struct Command {
  static constexpr int kMaxArgs = 4;

  CommandType type = CommandType::kGet;
  bool noreply = false;
  std::string_view key;
  std::string_view keys;   // get family: every key, separated by spaces (lengths validated)
  std::string_view value;  // storage: the data block without its "\r\n"
  uint32_t flags = 0;
  int32_t exptime = 0;  // as sent; the engine applies memcached's relative/absolute rule
  uint64_t cas = 0;
  uint64_t delta = 0;
  uint32_t number = 0;  // verbosity level, cache_memlimit megabytes
  // A storage command whose value exceeds -I: the value is not buffered; the session answers
  // and discards `swallow` bytes that follow the command line.
  bool too_large = false;
  size_t swallow = 0;
  // Recognised, but its arguments are bad: the session counts the command, then answers this.
  std::string_view arg_error;
  // stats and shutdown sub-arguments.
  std::string_view args[kMaxArgs];
  int nargs = 0;
};

}  // namespace warmcache::protocol
