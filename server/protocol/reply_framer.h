// SPDX-License-Identifier: BSD-3-Clause
// Finds where a memcached server's reply ends, without copying: what a proxy needs to cut a
// backend's reply stream into one reply per forwarded request. Pure and allocation-free.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace warmcache::protocol {

// What the forwarded request makes the server send back.
enum class ReplyShape : uint8_t {
  kLine,    // storage, delete, incr/decr, touch, flush_all, verbosity, version: one line
  kValues,  // get, gets, gat, gats: VALUE blocks, then END
  kMeta,    // one meta reply: one line; "VA <size> ..." is followed by <size> bytes and "\r\n"
};

enum class FrameStatus : uint8_t {
  kNeedMore,  // the reply is not complete yet
  kComplete,  // `length` bytes hold exactly one whole reply
  kInvalid,   // these bytes cannot be a reply of this shape: the stream is out of step
};

struct Frame {
  FrameStatus status = FrameStatus::kNeedMore;
  size_t length = 0;
  // The reply is (or, for kValues, ends with) an ERROR / CLIENT_ERROR / SERVER_ERROR line.
  bool error = false;
};

// The first reply in `input`, which must start at a reply boundary.
Frame FrameReply(std::string_view input, ReplyShape shape);

// One piece of a kValues reply, for merging a multi-get's replies from several servers.
struct ValuePiece {
  enum Kind : uint8_t {
    kNeedMore,
    kValue,    // "VALUE <key> <flags> <bytes> [<cas>]\r\n<data>\r\n": `length` covers all of it
    kEnd,      // "END\r\n"
    kError,    // an ERROR / CLIENT_ERROR / SERVER_ERROR line: ends the reply
    kInvalid,  // out of step
  };
  Kind kind = kNeedMore;
  size_t length = 0;
  std::string_view key;  // kValue only; points into the input
};
ValuePiece NextValuePiece(std::string_view input);

}  // namespace warmcache::protocol
