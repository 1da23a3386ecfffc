// SPDX-License-Identifier: BSD-3-Clause
#include "server/protocol/meta_parser.h"

#include <climits>

#include "server/common/numbers.h"
#include "server/protocol/base64.h"
#include "server/protocol/parse_internal.h"
#include "server/protocol/replies.h"

namespace warmcache::protocol {

namespace {

constexpr size_t kMaxOptionTokens = 20;  // memcached's MFLAG_MAX_OPT_LENGTH, counted in ntokens
constexpr size_t kMaxOpaqueLength = 32;  // the token including its 'O'

using reply::kBadFormat;
constexpr std::string_view kBadToken = "CLIENT_ERROR bad token in command line format\r\n";
constexpr std::string_view kDuplicateFlag = "CLIENT_ERROR duplicate flag\r\n";
constexpr std::string_view kInvalidFlag = "CLIENT_ERROR invalid flag\r\n";
constexpr std::string_view kInvalidOrDuplicate = "CLIENT_ERROR invalid or duplicate flag\r\n";
constexpr std::string_view kDecodingKey = "CLIENT_ERROR error decoding key\r\n";
constexpr std::string_view kOpaqueTooLong = "CLIENT_ERROR opaque token too long\r\n";
constexpr std::string_view kMLength = "CLIENT_ERROR incorrect length for M token\r\n";
constexpr std::string_view kBadInitial = "CLIENT_ERROR invalid numeric initial value\r\n";
constexpr std::string_view kBadDelta = "CLIENT_ERROR invalid numeric delta value\r\n";
constexpr std::string_view kBadSetMode = "CLIENT_ERROR invalid mode for ms M token\r\n";
constexpr std::string_view kBadArithMode = "CLIENT_ERROR invalid mode for ma M token\r\n";

// memcached's _meta_flag_preparse: decodes the flags from token `start` on. Returns the
// error to send, or an empty view.
std::string_view PreparseFlags(const Tokens& t, size_t start, Command* cmd, MetaRequest* m) {
  bool seen[128] = {};
  std::string_view error;
  for (size_t i = start; i + 1 < t.count; ++i) {
    const std::string_view token = t.v(i);
    const auto code = static_cast<unsigned char>(token[0]);
    if (code >= 127 || seen[code]) return kDuplicateFlag;
    seen[code] = true;
    const std::string_view arg = token.substr(1);
    if (m->nflags < MetaRequest::kMaxFlags) m->flags[m->nflags++] = MetaFlag{token[0], arg};
    switch (code) {
      case 'b': {
        const size_t n = Base64Decode(cmd->key, m->key_buf);
        if (n == 0) error = kDecodingKey;
        cmd->key = std::string_view(m->key_buf, n);
        m->key_binary = true;
        break;
      }
      case 'N':
        m->vivify = true;
        if (!SafeStrtol(arg, &m->vivify_ttl)) error = kBadToken;
        break;
      case 'T':
        if (!SafeStrtol(arg, &m->ttl)) {
          error = kBadToken;
        } else {
          m->has_ttl = true;
        }
        break;
      case 'R':
        m->has_recache = true;
        if (!SafeStrtol(arg, &m->recache_ttl)) error = kBadToken;
        break;
      case 'v':
        m->value = true;
        break;
      case 'u':
        m->no_update = true;
        break;
      case 'q':
        m->quiet = true;
        break;
      case 'I':
        m->invalidate = true;
        break;
      case 'F':
        if (!SafeStrtoul(arg, &m->client_flags) && error.empty()) error = kBadFormat;
        break;
      case 'C':
        if (!SafeStrtoull(arg, &m->compare_cas)) {
          error = kBadToken;
        } else {
          m->has_cas = true;
        }
        break;
      case 'M':
        if (token.size() != 2) {
          error = kMLength;
        } else {
          m->mode = token[1];
        }
        break;
      case 'J':
        if (!SafeStrtoull(arg, &m->initial)) error = kBadInitial;
        break;
      case 'D':
        if (!SafeStrtoull(arg, &m->delta)) error = kBadDelta;
        break;
      case 'O':
      case 'P':
      case 'L':
      case 'l':
      case 'h':
      case 'k':
      case 's':
      case 't':
      case 'c':
      case 'f':
        break;
      default:
        return kInvalidFlag;
    }
  }
  return error;
}

// Notes where the first over-long opaque stands; true if there is one.
bool OpaqueTooLong(MetaRequest& m) {
  for (int i = 0; i < m.nflags; ++i) {
    if (m.flags[i].code == 'O' && m.flags[i].token.size() + 1 > kMaxOpaqueLength) {
      m.long_opaque_at = i;
      return true;
    }
  }
  return false;
}

ParseResult Debug(const Tokens& t, size_t consumed, Command* cmd, MetaRequest* m) {
  cmd->type = CommandType::kMetaDebug;
  if (t.count < 3 || t.v(1).size() > TextParser::kMaxKeyLength) {
    return ParseFailed(consumed, kBadFormat);
  }
  cmd->key = t.v(1);
  if (t.count >= 4 && t.v(2) == "b") {
    const size_t n = Base64Decode(cmd->key, m->key_buf);
    if (n == 0) return ParseFailed(consumed, kBadFormat);
    cmd->key = std::string_view(m->key_buf, n);
    m->key_binary = true;
  }
  return ParsedOk(consumed);
}

ParseResult Get(const Tokens& t, size_t consumed, Command* cmd, MetaRequest* m) {
  cmd->type = CommandType::kMetaGet;
  if (t.v(1).size() > TextParser::kMaxKeyLength) return ParseFailed(consumed, kBadFormat);
  if (t.count > kMaxOptionTokens) {
    return ParseFailed(consumed, "CLIENT_ERROR options flags are too long\r\n");
  }
  cmd->key = t.v(1);
  if (std::string_view error = PreparseFlags(t, 2, cmd, m); !error.empty()) {
    return ParseFailed(consumed, error);
  }
  m->opaque_too_long = OpaqueTooLong(*m);
  cmd->noreply = m->quiet;
  return ParsedOk(consumed);
}

ParseResult Set(const Tokens& t, std::string_view input, size_t consumed,
                const ParserOptions& options, Command* cmd, MetaRequest* m) {
  cmd->type = CommandType::kMetaSet;
  if (t.v(1).size() > TextParser::kMaxKeyLength || t.count == 3) {
    return ParseFailed(consumed, kBadFormat);
  }
  if (t.count > kMaxOptionTokens) {
    return ParseFailed(consumed, "CLIENT_ERROR options flags too long\r\n");
  }
  int32_t vlen = 0;
  if (!SafeStrtol(t.v(2), &vlen) || vlen < 0 || vlen > INT_MAX - 2) {
    return ParseFailed(consumed, kBadFormat);
  }
  cmd->key = t.v(1);
  const size_t block = static_cast<size_t>(vlen) + 2;
  // From here on an error also discards the data block, as memcached does.
  std::string_view error = PreparseFlags(t, 3, cmd, m);
  if (error.empty()) {
    if (OpaqueTooLong(*m)) error = kOpaqueTooLong;
    // A bad mode is reported over a long opaque: memcached checks it after, same message slot.
    if (m->mode != 0 && m->mode != 'E' && m->mode != 'A' && m->mode != 'P' && m->mode != 'R' &&
        m->mode != 'S') {
      error = kBadSetMode;
    }
  }
  cmd->noreply = m->quiet;
  if (!error.empty() || static_cast<size_t>(vlen) > options.max_value_len) {
    cmd->arg_error = error;
    cmd->too_large = error.empty();
    cmd->swallow = block;
    return ParsedOk(consumed);
  }
  const size_t total = consumed + block;
  if (input.size() < total) return {ParseStatus::kNeedMore, 0, total, {}};
  const std::string_view data = input.substr(consumed, block);
  if (data[block - 2] != '\r' || data[block - 1] != '\n') {
    return ParseFailed(total, reply::kBadDataChunk);
  }
  cmd->value = data.substr(0, static_cast<size_t>(vlen));
  return ParsedOk(total);
}

// md and ma share their checks and their catch-all flag error.
ParseResult DeleteOrArith(CommandType type, const Tokens& t, size_t consumed, Command* cmd,
                          MetaRequest* m) {
  cmd->type = type;
  if (t.v(1).size() > TextParser::kMaxKeyLength) return ParseFailed(consumed, kBadFormat);
  if (t.count > kMaxOptionTokens) {
    return ParseFailed(consumed, "CLIENT_ERROR options flags too long\r\n");
  }
  cmd->key = t.v(1);
  if (!PreparseFlags(t, 2, cmd, m).empty()) return ParseFailed(consumed, kInvalidOrDuplicate);
  // md checks the opaque before acting; ma only after (see the session).
  m->opaque_too_long = OpaqueTooLong(*m);
  if (type == CommandType::kMetaDelete && m->opaque_too_long) {
    return ParseFailed(consumed, kOpaqueTooLong);
  }
  if (type == CommandType::kMetaArith && m->mode != 0 && m->mode != 'I' && m->mode != '+' &&
      m->mode != 'D' && m->mode != '-') {
    return ParseFailed(consumed, kBadArithMode);
  }
  cmd->noreply = m->quiet;
  return ParsedOk(consumed);
}

}  // namespace

ParseResult ParseMeta(const Tokens& t, std::string_view input, size_t consumed,
                      const ParserOptions& options, Command* cmd, MetaRequest* meta) {
  meta->Reset();
  const char which = t.v(0)[1];
  if (which == 'e') return Debug(t, consumed, cmd, meta);
  if (t.count < 3) return ParseFailed(consumed, reply::kError);
  switch (which) {
    case 'g':
      return Get(t, consumed, cmd, meta);
    case 's':
      return Set(t, input, consumed, options, cmd, meta);
    case 'd':
      return DeleteOrArith(CommandType::kMetaDelete, t, consumed, cmd, meta);
    case 'a':
      return DeleteOrArith(CommandType::kMetaArith, t, consumed, cmd, meta);
    default:
      return ParseFailed(consumed, reply::kError);
  }
}

}  // namespace warmcache::protocol
