// SPDX-License-Identifier: BSD-3-Clause
#include "server/protocol/reply_framer.h"

#include <charconv>
#include <cstring>

namespace warmcache::protocol {

namespace {

constexpr size_t kMaxKeyLength = 250;

// Where the first line of `input` ends. A server ends every line with "\r\n", so a bare '\n'
// (or an empty line) means the stream is out of step with the requests.
struct Line {
  FrameStatus status = FrameStatus::kNeedMore;
  std::string_view text;  // without "\r\n"
  size_t length = 0;      // with "\r\n"
};

Line FirstLine(std::string_view input) {
  Line line;
  if (input.empty()) return line;  // memchr must not see a null pointer, even for 0 bytes
  const size_t scan = std::min(input.size(), kMaxReplyLine);
  const void* nl = std::memchr(input.data(), '\n', scan);
  if (nl == nullptr) {
    // A line that long is no reply line: waiting for its end could only grow the buffer.
    if (scan == kMaxReplyLine) line.status = FrameStatus::kInvalid;
    return line;
  }
  const size_t at = static_cast<size_t>(static_cast<const char*>(nl) - input.data());
  if (at < 2 || input[at - 1] != '\r') {
    line.status = FrameStatus::kInvalid;
    return line;
  }
  line.status = FrameStatus::kComplete;
  line.text = input.substr(0, at - 1);
  line.length = at + 1;
  return line;
}

bool StartsWith(std::string_view text, std::string_view prefix) {
  return text.substr(0, prefix.size()) == prefix;
}

// "ERROR" (memcached also sends "ERROR <text>" and "ERROR: <text>"), "CLIENT_ERROR <text>",
// "SERVER_ERROR <text>".
bool IsErrorLine(std::string_view line) {
  if (StartsWith(line, "ERROR")) return true;
  for (std::string_view word :
       {std::string_view("CLIENT_ERROR"), std::string_view("SERVER_ERROR")}) {
    if (StartsWith(line, word) && (line.size() == word.size() || line[word.size()] == ' ')) {
      return true;
    }
  }
  return false;
}

// Strict decimal: digits only, no sign, no spaces, no overflow of T.
template <typename T>
bool ParseNumber(std::string_view text, T* out) {
  if (text.empty()) return false;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, *out);
  return ec == std::errc() && ptr == end;
}

// Splits off the next token ended by a single space or the end of `rest`. Empty when `rest`
// starts with a space (two spaces in a row are not what a server writes).
std::string_view NextToken(std::string_view* rest) {
  const size_t space = rest->find(' ');
  std::string_view token = rest->substr(0, space);
  rest->remove_prefix(space == std::string_view::npos ? rest->size() : space + 1);
  return token;
}

bool IsKey(std::string_view key) {
  if (key.empty() || key.size() > kMaxKeyLength) return false;
  for (char c : key) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte <= ' ' || byte == 0x7f) return false;
  }
  return true;
}

// A header line of `header_length` bytes announced `size` data bytes: the whole piece, or why
// not yet.
FrameStatus DataBlock(std::string_view input, size_t header_length, uint64_t size, size_t* length) {
  // Sizes are bounded to 32 bits by the callers, so this cannot overflow.
  const size_t total = header_length + static_cast<size_t>(size) + 2;
  if (input.size() < total) {
    // Enough of it is here to see a missing terminator early.
    if (input.size() > total - 2 && input[total - 2] != '\r') return FrameStatus::kInvalid;
    return FrameStatus::kNeedMore;
  }
  if (input[total - 2] != '\r' || input[total - 1] != '\n') return FrameStatus::kInvalid;
  *length = total;
  return FrameStatus::kComplete;
}

// "VALUE <key> <flags> <bytes>[ <cas>]" (without "\r\n"): the key and data size.
bool ParseValueHeader(std::string_view line, std::string_view* key, uint32_t* size) {
  std::string_view rest = line;
  if (NextToken(&rest) != "VALUE") return false;
  *key = NextToken(&rest);
  uint32_t flags = 0;
  if (!IsKey(*key) || !ParseNumber(NextToken(&rest), &flags)) return false;
  if (!ParseNumber(NextToken(&rest), size)) return false;
  if (rest.empty()) return line.back() != ' ';
  uint64_t cas = 0;
  return ParseNumber(NextToken(&rest), &cas) && rest.empty() && line.back() != ' ';
}

Frame FrameLine(std::string_view input) {
  const Line line = FirstLine(input);
  if (line.status != FrameStatus::kComplete) return {line.status, 0, false};
  return {FrameStatus::kComplete, line.length, IsErrorLine(line.text)};
}

Frame FrameValues(std::string_view input, size_t* checked) {
  size_t offset = checked != nullptr ? *checked : 0;
  for (;;) {
    const ValuePiece piece = NextValuePiece(input.substr(offset));
    switch (piece.kind) {
      case ValuePiece::kValue:
        offset += piece.length;
        if (checked != nullptr) *checked = offset;
        break;
      case ValuePiece::kEnd:
        return {FrameStatus::kComplete, offset + piece.length, false};
      case ValuePiece::kError:
        return {FrameStatus::kComplete, offset + piece.length, true};
      case ValuePiece::kNeedMore:
        return {FrameStatus::kNeedMore, 0, false};
      case ValuePiece::kInvalid:
        return {FrameStatus::kInvalid, 0, false};
    }
  }
}

// The meta codes memcached 1.6 answers with; anything else is out of step.
bool IsMetaCode(std::string_view code) {
  static constexpr std::string_view kCodes[] = {"HD", "EN", "NF", "NS", "EX", "MN", "ME"};
  for (std::string_view known : kCodes) {
    if (code == known) return true;
  }
  return false;
}

Frame FrameMeta(std::string_view input) {
  const Line line = FirstLine(input);
  if (line.status != FrameStatus::kComplete) return {line.status, 0, false};
  if (IsErrorLine(line.text)) return {FrameStatus::kComplete, line.length, true};
  std::string_view rest = line.text;
  // Only the code and VA's size matter here; the flags after them are the client's business.
  const std::string_view code = NextToken(&rest);
  if (code != "VA") {
    if (!IsMetaCode(code)) return {FrameStatus::kInvalid, 0, false};
    return {FrameStatus::kComplete, line.length, false};
  }
  uint32_t size = 0;
  if (!ParseNumber(NextToken(&rest), &size)) return {FrameStatus::kInvalid, 0, false};
  Frame frame;
  frame.status = DataBlock(input, line.length, size, &frame.length);
  if (frame.status != FrameStatus::kComplete) frame.length = 0;
  return frame;
}

}  // namespace

Frame FrameReply(std::string_view input, ReplyShape shape, size_t* checked) {
  switch (shape) {
    case ReplyShape::kLine:
      return FrameLine(input);
    case ReplyShape::kValues:
      return FrameValues(input, checked);
    case ReplyShape::kMeta:
      return FrameMeta(input);
  }
  return {FrameStatus::kInvalid, 0, false};
}

ValuePiece NextValuePiece(std::string_view input) {
  ValuePiece piece;
  const Line line = FirstLine(input);
  if (line.status == FrameStatus::kInvalid) piece.kind = ValuePiece::kInvalid;
  if (line.status != FrameStatus::kComplete) return piece;
  if (line.text == "END") {
    piece.kind = ValuePiece::kEnd;
    piece.length = line.length;
    return piece;
  }
  if (IsErrorLine(line.text)) {
    piece.kind = ValuePiece::kError;
    piece.length = line.length;
    return piece;
  }
  std::string_view key;
  uint32_t size = 0;
  if (!ParseValueHeader(line.text, &key, &size)) {
    piece.kind = ValuePiece::kInvalid;
    return piece;
  }
  size_t length = 0;
  switch (DataBlock(input, line.length, size, &length)) {
    case FrameStatus::kComplete:
      piece.kind = ValuePiece::kValue;
      piece.length = length;
      piece.key = key;
      break;
    case FrameStatus::kNeedMore:
      break;
    case FrameStatus::kInvalid:
      piece.kind = ValuePiece::kInvalid;
      break;
  }
  return piece;
}

}  // namespace warmcache::protocol
