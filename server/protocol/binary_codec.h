// SPDX-License-Identifier: BSD-3-Clause
// memcached's binary protocol: one request frame -> Request, and replies -> bytes, with the
// validation, statuses and error bodies of memcached 1.6.18 (server/protocol/BINARY.md lists
// them, each checked against the real server). Pure: no sockets, no storage, no allocation
// per request (only the Append* helpers grow the caller's string).
// Thread safety: stateless; every function may be called from any thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace warmcache::protocol::binary {

inline constexpr size_t kHeaderSize = 24;
inline constexpr size_t kMaxKeyLength = 250;
// memcached reads header, extras and key into a fixed 16 KiB buffer; a frame whose head
// (those three) is longer can never be read, and memcached closes the connection.
inline constexpr size_t kMaxFrameHead = 16384;

enum class Magic : uint8_t { kRequest = 0x80, kResponse = 0x81 };

// Every opcode memcached 1.6.18 names. Other byte values are valid Opcode values too (the
// enum is uint8_t-based) and are answered kUnknownCommand.
enum class Opcode : uint8_t {
  kGet = 0x00,
  kSet = 0x01,
  kAdd = 0x02,
  kReplace = 0x03,
  kDelete = 0x04,
  kIncrement = 0x05,
  kDecrement = 0x06,
  kQuit = 0x07,
  kFlush = 0x08,
  kGetQ = 0x09,
  kNoop = 0x0a,
  kVersion = 0x0b,
  kGetK = 0x0c,
  kGetKQ = 0x0d,
  kAppend = 0x0e,
  kPrepend = 0x0f,
  kStat = 0x10,
  kSetQ = 0x11,
  kAddQ = 0x12,
  kReplaceQ = 0x13,
  kDeleteQ = 0x14,
  kIncrementQ = 0x15,
  kDecrementQ = 0x16,
  kQuitQ = 0x17,
  kFlushQ = 0x18,
  kAppendQ = 0x19,
  kPrependQ = 0x1a,
  kVerbosity = 0x1b,  // named in protocol_binary.h, but 1.6.18 answers kUnknownCommand
  kTouch = 0x1c,
  kGat = 0x1d,
  kGatQ = 0x1e,
  kSaslListMechs = 0x20,
  kSaslAuth = 0x21,
  kSaslStep = 0x22,
  kGatK = 0x23,
  kGatKQ = 0x24,
};

enum class ResponseStatus : uint16_t {
  kSuccess = 0x0000,
  kKeyNotFound = 0x0001,
  kKeyExists = 0x0002,
  kTooLarge = 0x0003,
  kInvalidArguments = 0x0004,
  kNotStored = 0x0005,
  kDeltaBadValue = 0x0006,
  kAuthError = 0x0020,
  kAuthContinue = 0x0021,
  kUnknownCommand = 0x0081,
  kOutOfMemory = 0x0082,
};

// What a request asks for, with quiet variants folded into their base command. Only
// requests that Parse returns as kOk carry a command other than kUnknown.
enum class Command : uint8_t {
  kUnknown,
  kGet,
  kGetK,
  kSet,
  kAdd,
  kReplace,
  kAppend,
  kPrepend,
  kDelete,
  kIncrement,
  kDecrement,
  kTouch,
  kGat,
  kGatK,
  kFlush,
  kNoop,
  kVersion,
  kStat,
  kQuit,
};

struct ParseLimits {
  // -I. A set/add/replace/append/prepend value longer than this is not buffered: Parse
  // returns it as value_too_large and the session discards it (memcached answers kTooLarge).
  size_t max_value_len = 1u << 20;
};

// One request. Views point into the input given to Parse.
struct Request {
  Opcode opcode = Opcode::kNoop;  // as sent: replies echo it, quiet opcodes included
  Command command = Command::kUnknown;
  bool quiet = false;
  uint32_t opaque = 0;  // echoed in every reply
  uint64_t cas = 0;     // non-zero on set/add/replace: a CAS store; also on append/delete/incr
  std::string_view extras;
  std::string_view key;
  std::string_view value;  // set/add/replace/append/prepend, unless value_too_large
  uint32_t flags = 0;      // set/add/replace
  // set/add/replace/incr/decr/touch/gat/flush. Unsigned: memcached converts it without a
  // sign, so 0xffffffff is an absolute time in 2106, never "already expired".
  uint32_t exptime = 0;
  uint64_t delta = 0;    // incr/decr
  uint64_t initial = 0;  // incr/decr: stored on a miss unless exptime == kNoAutoCreate
  bool value_too_large = false;
  size_t value_length = 0;  // the value length the header declares

  static constexpr uint32_t kNoAutoCreate = 0xffffffff;
};

enum class ParseStatus : uint8_t {
  kOk,        // *out is a request; its reply is up to the session
  kNeedMore,  // incomplete; `need` is the total byte count to wait for (0 before the header)
  kError,     // answer EncodeError(out->opcode, error, out->opaque), even for quiet opcodes
  kClose,     // close at once, with no reply (bad magic, or a head over kMaxFrameHead)
};

struct ParseResult {
  ParseStatus status = ParseStatus::kNeedMore;
  // kOk and kError: the request's bytes at the start of the input. For stat, touch and gat
  // this is less than the declared body when the client sent more: memcached reads those
  // extra bytes as the next request.
  size_t consumed = 0;
  size_t need = 0;
  // kOk and kError: after `consumed`, discard this many more bytes, which may not have
  // arrived yet: a value over the limit, or what memcached skips after an unknown opcode.
  size_t swallow = 0;
  ResponseStatus error = ResponseStatus::kSuccess;  // kError only
  bool close_after_reply = false;                   // kError: close once the reply is sent
};

// Parses the request at the start of `input`; *out is reset first. Reads only within
// `input`, and never asks for more than a head of kMaxFrameHead bytes plus a value of
// limits.max_value_len, whatever the header claims. After kError, out->opcode and
// out->opaque are set for the reply.
ParseResult Parse(std::string_view input, Request* out, const ParseLimits& limits);

// Whether memcached sends a reply with `status` for `request`: quiet gets (getq, getkq,
// gatq, gatkq) drop misses, other quiet commands drop successes, errors are always sent.
bool ShouldReply(const Request& request, ResponseStatus status);

// memcached's status for an add/replace/append/prepend the engine did not store:
// add -> kKeyExists, replace -> kKeyNotFound, append/prepend (and set) -> kNotStored.
ResponseStatus NotStoredStatus(Command command);

// ---- Replies ---------------------------------------------------------------------------

inline constexpr size_t kFlagsSize = 4;
// A head with 4 bytes of extras and a full-length key: every reply head the server builds.
inline constexpr size_t kMaxResponseHead = kHeaderSize + kFlagsSize + kMaxKeyLength;

struct Response {
  Opcode opcode = Opcode::kNoop;
  ResponseStatus status = ResponseStatus::kSuccess;
  uint32_t opaque = 0;
  uint64_t cas = 0;
  std::string_view extras = {};
  std::string_view key = {};
  size_t value_length = 0;  // counted in the body length; the caller sends the value itself
};

// Writes the 24-byte header, then extras and key, into `out` (room for 24 + extras + key
// bytes; kMaxResponseHead covers extras <= 4 and key <= 250). Returns the bytes written.
size_t EncodeResponseHeader(const Response& response, char* out);
// Appends header, extras, key and `value` (whose size replaces response.value_length).
void AppendResponse(std::string& out, Response response, std::string_view value);

// memcached's error body for a status, e.g. "Not found"; empty for kSuccess.
std::string_view ErrorMessage(ResponseStatus status);
inline constexpr size_t kMaxErrorResponse = kHeaderSize + 46;  // the longest message
// An error reply: status, memcached's message as the body, CAS 0. Returns its size.
size_t EncodeError(Opcode opcode, ResponseStatus status, uint32_t opaque, char* out);

// A success with no body (set, delete, append, flush, noop, quit...). 24 bytes.
size_t EncodeSuccess(const Request& request, uint64_t cas, char* out);
// A get/getk/gat/gatk hit: header, 4-byte flags and, for getk/gatk, the key, sized for a
// value of `value_length` bytes that the caller sends next. For touch pass value_length 0:
// memcached answers a touch with the flags only. `out` needs kMaxResponseHead bytes.
size_t EncodeValueHeader(const Request& request, uint32_t flags, uint64_t cas, size_t value_length,
                         char* out);
// A get-family miss: getk/gatk carry the key as the body, the others "Not found".
// `out` needs kMaxResponseHead bytes.
size_t EncodeNotFound(const Request& request, char* out);
// incr/decr success: the new value as an 8-byte big-endian body.
inline constexpr size_t kCounterResponseSize = kHeaderSize + 8;
size_t EncodeCounter(const Request& request, uint64_t cas, uint64_t value, char* out);

// One stat packet (name as key, value as body) and the empty packet that ends a listing.
void AppendStat(std::string& out, uint32_t opaque, std::string_view name, std::string_view value);
void AppendStatsEnd(std::string& out, uint32_t opaque);
// Converts a text listing ("STAT name value\r\n"... "END\r\n") into stat packets and the
// end packet. False, with `out` unchanged, if `text` is anything else.
bool AppendStatsFromText(std::string& out, uint32_t opaque, std::string_view text);

}  // namespace warmcache::protocol::binary
