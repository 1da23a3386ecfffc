// SPDX-License-Identifier: BSD-3-Clause
// A parsed request. Views point into the connection's input buffer and are valid until the
// session consumes the bytes the parser reported.
#pragma once

#include <algorithm>
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
  kSnapshot,    // warmcache's own: cut a snapshot file (--snapshot-dir)
  kMetaNoop,    // mn
  kMetaDebug,   // me
  kMetaGet,     // mg
  kMetaSet,     // ms
  kMetaDelete,  // md
  kMetaArith,   // ma
};

// One flag of a meta command ("v", "T30", "Oabc"): replies echo flags in request order.
struct MetaFlag {
  char code;
  std::string_view token;  // what follows the code letter
};

// The flags of a meta command, decoded. Kept apart from Command (which every request resets)
// because it is large; the session owns one and the parser fills it for m* commands.
struct MetaRequest {
  static constexpr int kMaxFlags = 20;

  MetaFlag flags[kMaxFlags];
  int nflags = 0;
  bool key_binary = false;   // b: the key was base64 and is decoded into key_buf
  bool value = false;        // v
  bool no_update = false;    // u
  bool quiet = false;        // q
  bool vivify = false;       // N
  bool has_ttl = false;      // T
  bool has_recache = false;  // R
  bool has_cas = false;      // C
  bool invalidate = false;   // I
  int32_t vivify_ttl = 0;
  int32_t ttl = 0;
  int32_t recache_ttl = 0;
  uint32_t client_flags = 0;     // F
  uint64_t compare_cas = 0;      // C
  uint64_t delta = 1;            // D
  uint64_t initial = 0;          // J
  char mode = 0;                 // M
  bool opaque_too_long = false;  // mg and ma report it only after acting, as memcached does
  int long_opaque_at = 0;        // index in flags of the first over-long O, if any
  char key_buf[256];

  void Reset() {
    nflags = 0;
    key_binary = value = no_update = quiet = vivify = has_ttl = has_recache = has_cas = invalidate =
        opaque_too_long = false;
    vivify_ttl = ttl = recache_ttl = 0;
    client_flags = 0;
    compare_cas = 0;
    delta = 1;
    initial = 0;
    mode = 0;
  }
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

// Takes the next space-separated word off the front of *words (a get family's `keys`):
// empty once none is left.
inline std::string_view NextWord(std::string_view* words) {
  const size_t start = words->find_first_not_of(' ');
  if (start == std::string_view::npos) {
    *words = {};
    return {};
  }
  words->remove_prefix(start);
  const size_t end = std::min(words->find(' '), words->size());
  const std::string_view word = words->substr(0, end);
  words->remove_prefix(end);
  return word;
}

}  // namespace warmcache::protocol
