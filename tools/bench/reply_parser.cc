// SPDX-License-Identifier: BSD-3-Clause
#include "tools/bench/reply_parser.h"

#include <algorithm>
#include <charconv>
#include <optional>
#include <utility>

namespace warmcache::tools::bench {

namespace {

// The line at `pos` without its "\r\n", or nullopt if the terminator has not arrived yet.
// `*malformed` is set when the line can never become valid.
std::optional<std::string_view> NextLine(std::string_view input, size_t pos, bool* malformed) {
  const size_t nl = input.find('\n', pos);
  if (nl == std::string_view::npos) {
    *malformed = input.size() - pos > kMaxLineBytes;
    return std::nullopt;
  }
  if (nl == pos || input[nl - 1] != '\r') {
    *malformed = true;
    return std::nullopt;
  }
  return input.substr(pos, nl - 1 - pos);
}

// Splits off the next space-separated token of `*rest`.
std::string_view NextToken(std::string_view* rest) {
  const size_t start = rest->find_first_not_of(' ');
  if (start == std::string_view::npos) {
    *rest = {};
    return {};
  }
  const size_t end = rest->find(' ', start);
  const std::string_view token = rest->substr(start, end - start);
  *rest = end == std::string_view::npos ? std::string_view{} : rest->substr(end);
  return token;
}

template <typename T>
bool ParseNumber(std::string_view token, T* out) {
  if (token.empty()) return false;
  const auto [ptr, ec] = std::from_chars(token.data(), token.data() + token.size(), *out);
  return ec == std::errc() && ptr == token.data() + token.size();
}

// "VALUE <key> <flags> <bytes> [<cas>]" without the leading "VALUE".
bool ParseValueHeader(std::string_view rest, ValueRef* value, uint64_t* bytes) {
  value->key = NextToken(&rest);
  uint64_t cas = 0;
  if (value->key.empty() || !ParseNumber(NextToken(&rest), &value->flags) ||
      !ParseNumber(NextToken(&rest), bytes) || *bytes > kMaxValueBytes) {
    return false;
  }
  const std::string_view cas_token = NextToken(&rest);
  if (!cas_token.empty() && !ParseNumber(cas_token, &cas)) return false;
  return NextToken(&rest).empty();
}

// Lines that end any reply. Returns false if `line` is none of them.
bool ParseTerminalLine(std::string_view line, ExpectedReply expected, Reply* reply) {
  struct Word {
    std::string_view text;
    ReplyKind kind;
    bool storage;
  };
  static constexpr Word kWords[] = {
      {"END", ReplyKind::kEnd, false},
      {"STORED", ReplyKind::kStored, true},
      {"NOT_STORED", ReplyKind::kNotStored, true},
      {"EXISTS", ReplyKind::kExists, true},
      {"NOT_FOUND", ReplyKind::kNotFound, true},
      {"ERROR", ReplyKind::kError, false},
  };
  for (const Word& word : kWords) {
    if (line != word.text) continue;
    const bool is_error = word.kind == ReplyKind::kError;
    if (!is_error && word.storage != (expected == ExpectedReply::kStorage)) return false;
    reply->kind = word.kind;
    return true;
  }
  for (auto [prefix, kind] :
       {std::pair{std::string_view("CLIENT_ERROR"), ReplyKind::kClientError},
        std::pair{std::string_view("SERVER_ERROR"), ReplyKind::kServerError}}) {
    if (line.starts_with(prefix) && (line.size() == prefix.size() || line[prefix.size()] == ' ')) {
      reply->kind = kind;
      reply->message = line.substr(std::min(line.size(), prefix.size() + 1));
      return true;
    }
  }
  return false;
}

ParseStatus Malformed(Reply* reply, std::string_view why) {
  reply->message = why;
  return ParseStatus::kMalformed;
}

ParseStatus NeedMore(Reply* reply, size_t need_total) {
  reply->need_total = need_total;
  return ParseStatus::kNeedMore;
}

}  // namespace

ParseStatus ParseReply(std::string_view input, ExpectedReply expected, Reply* reply) {
  reply->values.clear();
  reply->message = {};
  reply->consumed = 0;
  reply->need_total = 0;
  size_t pos = 0;
  for (;;) {
    bool malformed = false;
    const std::optional<std::string_view> line = NextLine(input, pos, &malformed);
    if (malformed) return Malformed(reply, "reply line not terminated by \\r\\n");
    if (!line) return NeedMore(reply, input.size() + 1);
    const size_t data_pos = pos + line->size() + 2;
    if (ParseTerminalLine(*line, expected, reply)) {
      reply->consumed = data_pos;
      return ParseStatus::kOk;
    }
    if (expected != ExpectedReply::kRetrieval || !line->starts_with("VALUE ")) {
      return Malformed(reply, "unexpected reply line");
    }
    ValueRef value;
    uint64_t bytes = 0;
    if (!ParseValueHeader(line->substr(6), &value, &bytes)) {
      return Malformed(reply, "bad VALUE header");
    }
    const size_t end = data_pos + static_cast<size_t>(bytes);
    if (input.size() < end + 2) return NeedMore(reply, end + 2);
    if (input.compare(end, 2, "\r\n") != 0) return Malformed(reply, "value not followed by \\r\\n");
    value.data = input.substr(data_pos, static_cast<size_t>(bytes));
    reply->values.push_back(value);
    pos = end + 2;
  }
}

}  // namespace warmcache::tools::bench
