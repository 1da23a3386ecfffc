// SPDX-License-Identifier: BSD-3-Clause
// Finds where a memcached server's reply ends, without copying: what a proxy needs to cut a
// backend's reply stream into one reply per forwarded request. Pure and allocation-free.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace warmcache::protocol {

// A reply line (its "\r\n" included, a data block not) longer than this is kInvalid: no
// memcached reply line comes near it, so the stream is out of step.
inline constexpr size_t kMaxReplyLine = 8192;

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

// The first reply in `input`, which must start at a reply boundary. Never reads past `input`;
// `length` is 0 unless kComplete. Lines end with "\r\n" (a bare "\n" or an empty line is
// kInvalid). By shape:
// - kLine: any one line (STORED, a number, VERSION ...); nothing else is checked.
// - kValues: VALUE blocks (key of 1-250 bytes without spaces or control bytes, decimal flags
//   < 2^32, size < 2^32, optional CAS < 2^64, single spaces) until "END"; an error line ends
//   it. Any other line is kInvalid. Only headers are parsed: the data blocks are skipped by
//   their sizes.
// - kMeta: a line whose first word is HD, EN, NF, NS, EX, MN, ME (whatever follows), "VA
//   <size> ..." followed by its data block, or an error line; any other word is kInvalid.
// An error line starts with "ERROR" (memcached also sends "ERROR <text>"), or is
// "CLIENT_ERROR[ <text>]" or "SERVER_ERROR[ <text>]".
// `checked` (optional, kValues only; other shapes leave it alone): the bytes at the start of
// `input` that an earlier call on the same reply found to be whole VALUE blocks, advanced past
// the ones found now, so a caller fed a long reply in many reads scans each header once.
Frame FrameReply(std::string_view input, ReplyShape shape, size_t* checked = nullptr);

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
// The first piece of `input`, which must start at a piece boundary of a kValues reply. A caller
// walks a reply by advancing `length` bytes per kValue until kEnd or kError.
ValuePiece NextValuePiece(std::string_view input);

}  // namespace warmcache::protocol
