// SPDX-License-Identifier: BSD-3-Clause
#include "server/protocol/binary_codec.h"

#include <cassert>
#include <cstring>
#include <iterator>

namespace warmcache::protocol::binary {

namespace {

uint16_t Load16(const char* p) {
  return static_cast<uint16_t>(static_cast<uint8_t>(p[0]) << 8 | static_cast<uint8_t>(p[1]));
}

uint32_t Load32(const char* p) { return static_cast<uint32_t>(Load16(p)) << 16 | Load16(p + 2); }

uint64_t Load64(const char* p) { return static_cast<uint64_t>(Load32(p)) << 32 | Load32(p + 4); }

char* Store16(char* p, uint16_t v) {
  p[0] = static_cast<char>(v >> 8);
  p[1] = static_cast<char>(v);
  return p + 2;
}

char* Store32(char* p, uint32_t v) {
  return Store16(Store16(p, v >> 16), static_cast<uint16_t>(v));
}

char* Store64(char* p, uint64_t v) {
  return Store32(Store32(p, static_cast<uint32_t>(v >> 32)), static_cast<uint32_t>(v));
}

// The length rules memcached 1.6.18 applies to an opcode (dispatch_bin_command).
enum class Shape : uint8_t {
  kUnknown,   // answered kUnknownCommand; memcached then skips `body length` more bytes
  kEmpty,     // noop, version, quit, sasl list mechs: no extras, key or body
  kFlush,     // optional 4-byte exptime, nothing else
  kStore,     // set/add/replace: 8 bytes of extras, a key, any value
  kKeyOnly,   // get family, delete: a key and nothing else
  kDelta,     // incr/decr: 20 bytes of extras and a key, nothing else
  kConcat,    // append/prepend: a key and any value, no extras
  kStat,      // optional key; a longer body is not consumed
  kTouch,     // touch/gat family: 4 bytes of extras and a key; a longer body is not consumed
  kSaslList,  // valid as kEmpty, then kUnknownCommand (no SASL configured)
  kSaslAuth,  // a key and any value, then kUnknownCommand with the value skipped
};

struct OpcodeInfo {
  Command command;
  Shape shape;
  bool quiet;
};

// Indexed by opcode; every opcode past the end is unknown.
constexpr OpcodeInfo kOpcodes[] = {
    {Command::kGet, Shape::kKeyOnly, false},       // 0x00 get
    {Command::kSet, Shape::kStore, false},         // 0x01 set
    {Command::kAdd, Shape::kStore, false},         // 0x02 add
    {Command::kReplace, Shape::kStore, false},     // 0x03 replace
    {Command::kDelete, Shape::kKeyOnly, false},    // 0x04 delete
    {Command::kIncrement, Shape::kDelta, false},   // 0x05 increment
    {Command::kDecrement, Shape::kDelta, false},   // 0x06 decrement
    {Command::kQuit, Shape::kEmpty, false},        // 0x07 quit
    {Command::kFlush, Shape::kFlush, false},       // 0x08 flush
    {Command::kGet, Shape::kKeyOnly, true},        // 0x09 getq
    {Command::kNoop, Shape::kEmpty, false},        // 0x0a noop
    {Command::kVersion, Shape::kEmpty, false},     // 0x0b version
    {Command::kGetK, Shape::kKeyOnly, false},      // 0x0c getk
    {Command::kGetK, Shape::kKeyOnly, true},       // 0x0d getkq
    {Command::kAppend, Shape::kConcat, false},     // 0x0e append
    {Command::kPrepend, Shape::kConcat, false},    // 0x0f prepend
    {Command::kStat, Shape::kStat, false},         // 0x10 stat
    {Command::kSet, Shape::kStore, true},          // 0x11 setq
    {Command::kAdd, Shape::kStore, true},          // 0x12 addq
    {Command::kReplace, Shape::kStore, true},      // 0x13 replaceq
    {Command::kDelete, Shape::kKeyOnly, true},     // 0x14 deleteq
    {Command::kIncrement, Shape::kDelta, true},    // 0x15 incrementq
    {Command::kDecrement, Shape::kDelta, true},    // 0x16 decrementq
    {Command::kQuit, Shape::kEmpty, true},         // 0x17 quitq
    {Command::kFlush, Shape::kFlush, true},        // 0x18 flushq
    {Command::kAppend, Shape::kConcat, true},      // 0x19 appendq
    {Command::kPrepend, Shape::kConcat, true},     // 0x1a prependq
    {Command::kUnknown, Shape::kUnknown, false},   // 0x1b verbosity: unknown to 1.6.18
    {Command::kTouch, Shape::kTouch, false},       // 0x1c touch
    {Command::kGat, Shape::kTouch, false},         // 0x1d gat
    {Command::kGat, Shape::kTouch, true},          // 0x1e gatq
    {Command::kUnknown, Shape::kUnknown, false},   // 0x1f (none)
    {Command::kUnknown, Shape::kSaslList, false},  // 0x20 sasl list mechs
    {Command::kUnknown, Shape::kSaslAuth, false},  // 0x21 sasl auth
    {Command::kUnknown, Shape::kSaslAuth, false},  // 0x22 sasl step
    {Command::kGatK, Shape::kTouch, false},        // 0x23 gatk
    {Command::kGatK, Shape::kTouch, true},         // 0x24 gatkq
};

OpcodeInfo Describe(Opcode opcode) {
  const size_t index = static_cast<uint8_t>(opcode);
  if (index >= std::size(kOpcodes)) return {Command::kUnknown, Shape::kUnknown, false};
  return kOpcodes[index];
}

// The request header fields that decide validity, in host order.
struct Lengths {
  uint32_t key;
  uint32_t extras;
  uint32_t body;
};

bool ShapeValid(Shape shape, const Lengths& n) {
  switch (shape) {
    case Shape::kEmpty:
    case Shape::kSaslList:
      return n.extras == 0 && n.key == 0 && n.body == 0;
    case Shape::kFlush:
      return n.key == 0 && n.body == n.extras && (n.extras == 0 || n.extras == 4);
    case Shape::kStore:
      return n.extras == 8 && n.key != 0 && n.body >= n.key + 8;
    case Shape::kKeyOnly:
      return n.extras == 0 && n.key != 0 && n.body == n.key;
    case Shape::kDelta:
      return n.extras == 20 && n.key != 0 && n.body == n.key + 20;
    case Shape::kConcat:
    case Shape::kSaslAuth:
      return n.extras == 0 && n.key != 0;
    case Shape::kStat:
      return n.extras == 0;
    case Shape::kTouch:
      return n.extras == 4 && n.key != 0;
    case Shape::kUnknown:
      return true;
  }
  return false;
}

ParseResult Fail(size_t consumed, ResponseStatus error, bool close, size_t swallow = 0) {
  ParseResult r;
  r.status = ParseStatus::kError;
  r.consumed = consumed;
  r.swallow = swallow;
  r.error = error;
  r.close_after_reply = close;
  return r;
}

ParseResult Complete(size_t consumed, size_t swallow = 0) {
  ParseResult r;
  r.status = ParseStatus::kOk;
  r.consumed = consumed;
  r.swallow = swallow;
  return r;
}

ParseResult NeedMore(size_t need) {
  ParseResult r;
  r.need = need;
  return r;
}

void DecodeExtras(Shape shape, Request* out) {
  const char* e = out->extras.data();
  switch (shape) {
    case Shape::kStore:
      out->flags = Load32(e);
      out->exptime = Load32(e + 4);
      break;
    case Shape::kDelta:
      out->delta = Load64(e);
      out->initial = Load64(e + 8);
      out->exptime = Load32(e + 16);
      break;
    case Shape::kTouch:
      out->exptime = Load32(e);
      break;
    case Shape::kFlush:
      if (out->extras.size() == 4) out->exptime = Load32(e);
      break;
    default:
      break;
  }
}

// A success reply to `request`, to be filled in.
Response ReplyTo(const Request& request) {
  Response response;
  response.opcode = request.opcode;
  response.opaque = request.opaque;
  return response;
}

}  // namespace

ParseResult Parse(std::string_view input, Request* out, const ParseLimits& limits) {
  *out = Request();
  // memcached judges nothing, not even the magic byte, before it has the whole header.
  if (input.size() < kHeaderSize) return NeedMore(0);
  const char* h = input.data();
  if (static_cast<uint8_t>(h[0]) != static_cast<uint8_t>(Magic::kRequest))
    return {ParseStatus::kClose};
  out->opcode = static_cast<Opcode>(static_cast<uint8_t>(h[1]));
  out->opaque = Load32(h + 12);
  out->cas = Load64(h + 16);
  const Lengths n{Load16(h + 2), static_cast<uint8_t>(h[4]), Load32(h + 8)};
  const size_t head = kHeaderSize + n.extras + n.key;
  if (head > kMaxFrameHead) return {ParseStatus::kClose};

  const OpcodeInfo info = Describe(out->opcode);
  // What the body holds past extras and key; meaningful only when the frame is `framed`.
  const uint64_t value_length =
      n.body >= n.key + n.extras ? static_cast<uint64_t>(n.body) - n.key - n.extras : 0;
  const bool framed = n.key + n.extras <= n.body;
  const bool valid = framed && n.key <= kMaxKeyLength && ShapeValid(info.shape, n);
  const bool buffer_value = valid &&
                            (info.shape == Shape::kStore || info.shape == Shape::kConcat) &&
                            value_length <= limits.max_value_len;
  const size_t need = buffer_value ? head + static_cast<size_t>(value_length) : head;
  if (input.size() < need) return NeedMore(need);

  // The order of memcached's checks: framing, key length, then the opcode's own rules.
  if (!framed) return Fail(head, ResponseStatus::kUnknownCommand, true);
  if (!valid) return Fail(head, ResponseStatus::kInvalidArguments, true);
  switch (info.shape) {
    case Shape::kUnknown:
      // memcached skips `body length` bytes after the extras and key it already read, so it
      // also eats the next extras + key bytes. Kept: clients see what memcached does.
      return Fail(head, ResponseStatus::kUnknownCommand, false, n.body);
    case Shape::kSaslList:
    case Shape::kSaslAuth:
      return Fail(head, ResponseStatus::kUnknownCommand, false, value_length);
    default:
      break;
  }
  out->command = info.command;
  out->quiet = info.quiet;
  out->extras = input.substr(kHeaderSize, n.extras);
  out->key = input.substr(kHeaderSize + n.extras, n.key);
  DecodeExtras(info.shape, out);
  if (info.shape != Shape::kStore && info.shape != Shape::kConcat) return Complete(head);
  out->value_length = static_cast<size_t>(value_length);
  if (!buffer_value) {
    out->value_too_large = true;
    return Complete(head, out->value_length);
  }
  out->value = input.substr(head, out->value_length);
  return Complete(need);
}

bool ShouldReply(const Request& request, ResponseStatus status) {
  if (!request.quiet) return true;
  switch (request.command) {
    case Command::kGet:
    case Command::kGetK:
    case Command::kGat:
    case Command::kGatK:
      return status != ResponseStatus::kKeyNotFound;
    default:
      return status != ResponseStatus::kSuccess;
  }
}

ResponseStatus NotStoredStatus(Command command) {
  switch (command) {
    case Command::kAdd:
      return ResponseStatus::kKeyExists;
    case Command::kReplace:
      return ResponseStatus::kKeyNotFound;
    default:
      return ResponseStatus::kNotStored;
  }
}

size_t EncodeResponseHeader(const Response& response, char* out) {
  assert(response.extras.size() <= 0xff && response.key.size() <= 0xffff);
  const size_t body = response.extras.size() + response.key.size() + response.value_length;
  assert(body <= 0xffffffffu);
  char* p = out;
  *p++ = static_cast<char>(Magic::kResponse);
  *p++ = static_cast<char>(response.opcode);
  p = Store16(p, static_cast<uint16_t>(response.key.size()));
  *p++ = static_cast<char>(response.extras.size());
  *p++ = 0;  // data type: always raw bytes
  p = Store16(p, static_cast<uint16_t>(response.status));
  p = Store32(p, static_cast<uint32_t>(body));
  p = Store32(p, response.opaque);
  p = Store64(p, response.cas);
  if (!response.extras.empty()) std::memcpy(p, response.extras.data(), response.extras.size());
  p += response.extras.size();
  if (!response.key.empty()) std::memcpy(p, response.key.data(), response.key.size());
  p += response.key.size();
  return static_cast<size_t>(p - out);
}

void AppendResponse(std::string& out, Response response, std::string_view value) {
  response.value_length = value.size();
  const size_t start = out.size();
  out.resize(start + kHeaderSize + response.extras.size() + response.key.size());
  EncodeResponseHeader(response, out.data() + start);
  out.append(value);
}

std::string_view ErrorMessage(ResponseStatus status) {
  // memcached's write_bin_error strings, byte for byte.
  switch (status) {
    case ResponseStatus::kSuccess:
      return {};
    case ResponseStatus::kKeyNotFound:
      return "Not found";
    case ResponseStatus::kKeyExists:
      return "Data exists for key.";
    case ResponseStatus::kTooLarge:
      return "Too large.";
    case ResponseStatus::kInvalidArguments:
      return "Invalid arguments";
    case ResponseStatus::kNotStored:
      return "Not stored.";
    case ResponseStatus::kDeltaBadValue:
      return "Non-numeric server-side value for incr or decr";
    case ResponseStatus::kAuthError:
      return "Auth failure.";
    case ResponseStatus::kAuthContinue:
      return {};
    case ResponseStatus::kUnknownCommand:
      return "Unknown command";
    case ResponseStatus::kOutOfMemory:
      return "Out of memory";
  }
  return "UNHANDLED ERROR";
}

size_t EncodeError(Opcode opcode, ResponseStatus status, uint32_t opaque, char* out) {
  const std::string_view message = ErrorMessage(status);
  Response response;
  response.opcode = opcode;
  response.status = status;
  response.opaque = opaque;
  response.value_length = message.size();
  const size_t n = EncodeResponseHeader(response, out);
  std::memcpy(out + n, message.data(), message.size());
  return n + message.size();
}

size_t EncodeSuccess(const Request& request, uint64_t cas, char* out) {
  Response response = ReplyTo(request);
  response.cas = cas;
  return EncodeResponseHeader(response, out);
}

size_t EncodeValueHeader(const Request& request, uint32_t flags, uint64_t cas, size_t value_length,
                         char* out) {
  char extras[kFlagsSize];
  Store32(extras, flags);
  Response response = ReplyTo(request);
  response.cas = cas;
  response.extras = std::string_view(extras, kFlagsSize);
  if (request.command == Command::kGetK || request.command == Command::kGatK) {
    response.key = request.key;
  }
  response.value_length = value_length;
  return EncodeResponseHeader(response, out);
}

size_t EncodeNotFound(const Request& request, char* out) {
  if (request.command != Command::kGetK && request.command != Command::kGatK) {
    return EncodeError(request.opcode, ResponseStatus::kKeyNotFound, request.opaque, out);
  }
  // getk and gatk name the missing key instead of saying "Not found".
  Response response = ReplyTo(request);
  response.status = ResponseStatus::kKeyNotFound;
  response.key = request.key;
  return EncodeResponseHeader(response, out);
}

size_t EncodeCounter(const Request& request, uint64_t cas, uint64_t value, char* out) {
  Response response = ReplyTo(request);
  response.cas = cas;
  response.value_length = 8;
  const size_t n = EncodeResponseHeader(response, out);
  Store64(out + n, value);
  return n + 8;
}

void AppendStat(std::string& out, uint32_t opaque, std::string_view name, std::string_view value) {
  Response response;
  response.opcode = Opcode::kStat;
  response.opaque = opaque;
  response.key = name;
  AppendResponse(out, response, value);
}

void AppendStatsEnd(std::string& out, uint32_t opaque) { AppendStat(out, opaque, {}, {}); }

bool AppendStatsFromText(std::string& out, uint32_t opaque, std::string_view text) {
  constexpr std::string_view kStat = "STAT ";
  constexpr std::string_view kEnd = "END\r\n";
  const size_t start = out.size();
  while (text.starts_with(kStat)) {
    const size_t eol = text.find("\r\n");
    if (eol == std::string_view::npos) break;
    const std::string_view line = text.substr(kStat.size(), eol - kStat.size());
    const size_t space = line.find(' ');
    if (space == std::string_view::npos || space == 0) break;
    AppendStat(out, opaque, line.substr(0, space), line.substr(space + 1));
    text.remove_prefix(eol + 2);
  }
  if (text != kEnd) {
    out.resize(start);
    return false;
  }
  AppendStatsEnd(out, opaque);
  return true;
}

}  // namespace warmcache::protocol::binary
