// SPDX-License-Identifier: BSD-3-Clause
#include "server/protocol/text_parser.h"

#include <climits>
#include <cstring>

#include "server/common/numbers.h"
#include "server/protocol/meta_parser.h"
#include "server/protocol/parse_internal.h"
#include "server/protocol/replies.h"

namespace warmcache::protocol {

namespace {

ParseResult Done(size_t consumed) { return ParsedOk(consumed); }
ParseResult Closed() { return {ParseStatus::kClose, 0, 0, {}}; }

ParseResult Fail(size_t consumed, std::string_view reply, bool noreply = false) {
  return ParseFailed(consumed, reply, noreply);
}

bool HasNoreply(const Tokens& t) { return t.last() == "noreply"; }

// A line of only the command plus one of `a` or `b` total tokens.
bool ArityIs(const Tokens& t, size_t a, size_t b) { return t.count == a || t.count == b; }

class LineParser {
 public:
  LineParser(const ParserOptions& options, std::string_view input, std::string_view line,
             size_t consumed, Command* cmd, MetaRequest* meta)
      : options_(options), input_(input), line_(line), consumed_(consumed), cmd_(cmd), meta_(meta) {
    Tokenize(line, &t_);
  }

  ParseResult Run();

 private:
  ParseResult Get(CommandType type);
  ParseResult Update(CommandType type);
  ParseResult Delete();
  ParseResult Arithmetic(CommandType type);
  ParseResult Touch();
  ParseResult FlushAll();
  ParseResult Verbosity();
  ParseResult CacheMemlimit();
  ParseResult WithArgs(CommandType type);
  ParseResult Unknown() { return Fail(consumed_, reply::kError); }
  // memcached's order for keyed commands: noreply is noted first (so it silences the errors
  // that follow), then the key is checked. False when the key is too long.
  bool TakeNoreplyAndKey();

  const ParserOptions& options_;
  std::string_view input_;
  std::string_view line_;
  size_t consumed_;
  Command* cmd_;
  MetaRequest* meta_;
  Tokens t_;
};

ParseResult LineParser::Run() {
  if (t_.count < 2 || t_.v(0).size() < 2) return Unknown();
  const std::string_view name = t_.v(0);
  const char first = name[0];
  if (first == 'm' && name.size() == 2) {
    if (name[1] == 'n') {
      cmd_->type = CommandType::kMetaNoop;
      return Done(consumed_);
    }
    if (meta_ == nullptr) return Unknown();  // a caller without meta support
    return ParseMeta(t_, input_, consumed_, options_, cmd_, meta_);
  }
  if (first == 'g') {
    if (t_.count < 3) return Unknown();
    if (name == "get") return Get(CommandType::kGet);
    if (name == "gets") return Get(CommandType::kGets);
    if (name == "gat") return Get(CommandType::kGat);
    if (name == "gats") return Get(CommandType::kGats);
    return Unknown();
  }
  if (first == 's') {
    if (name == "set") return ArityIs(t_, 6, 7) ? Update(CommandType::kSet) : Unknown();
    if (name == "stats") return WithArgs(CommandType::kStats);
    if (name == "shutdown") return WithArgs(CommandType::kShutdown);
    if (name == "snapshot" && t_.count == 2) {
      cmd_->type = CommandType::kSnapshot;
      return Done(consumed_);
    }
    return Unknown();
  }
  if (first == 'a') {
    if (name == "add") return ArityIs(t_, 6, 7) ? Update(CommandType::kAdd) : Unknown();
    if (name == "append") return ArityIs(t_, 6, 7) ? Update(CommandType::kAppend) : Unknown();
    return Unknown();
  }
  if (first == 'c') {
    if (name == "cas") return ArityIs(t_, 7, 8) ? Update(CommandType::kCas) : Unknown();
    if (name == "cache_memlimit") return ArityIs(t_, 3, 4) ? CacheMemlimit() : Unknown();
    return Unknown();
  }
  if (first == 'i') {
    if (name == "incr") return ArityIs(t_, 4, 5) ? Arithmetic(CommandType::kIncr) : Unknown();
    return Unknown();
  }
  if (first == 'd') {
    if (name == "delete") return t_.count >= 3 && t_.count <= 5 ? Delete() : Unknown();
    if (name == "decr") return ArityIs(t_, 4, 5) ? Arithmetic(CommandType::kDecr) : Unknown();
    return Unknown();
  }
  if (first == 't') {
    if (name == "touch") return ArityIs(t_, 4, 5) ? Touch() : Unknown();
    return Unknown();
  }
  if (name == "replace") return ArityIs(t_, 6, 7) ? Update(CommandType::kReplace) : Unknown();
  if (name == "prepend") return ArityIs(t_, 6, 7) ? Update(CommandType::kPrepend) : Unknown();
  if (name == "bget") return t_.count >= 3 ? Get(CommandType::kGet) : Unknown();
  if (name == "flush_all") return t_.count <= 4 ? FlushAll() : Unknown();
  if (name == "version") {
    cmd_->type = CommandType::kVersion;
    return Done(consumed_);
  }
  if (name == "quit") {
    cmd_->type = CommandType::kQuit;
    return Done(consumed_);
  }
  if (name == "verbosity") return ArityIs(t_, 3, 4) ? Verbosity() : Unknown();
  return Unknown();
}

ParseResult LineParser::Get(CommandType type) {
  cmd_->type = type;
  size_t first_key = 1;
  if (type == CommandType::kGat || type == CommandType::kGats) {
    if (!SafeStrtol(t_.v(1), &cmd_->exptime)) return Fail(consumed_, reply::kInvalidExptime);
    first_key = 2;
  }
  if (first_key >= t_.count - 1) {
    cmd_->keys = {};
    return Done(consumed_);
  }
  cmd_->keys = line_.substr(static_cast<size_t>(t_.v(first_key).data() - line_.data()));
  // A key over the limit anywhere fails the whole request, as in memcached.
  std::string_view rest = cmd_->keys;
  while (rest.size() > TextParser::kMaxKeyLength) {
    const size_t space = rest.find(' ');
    const size_t key_len = space == std::string_view::npos ? rest.size() : space;
    if (key_len > TextParser::kMaxKeyLength) return Fail(consumed_, reply::kBadFormat);
    rest.remove_prefix(key_len + 1 > rest.size() ? rest.size() : key_len + 1);
  }
  return Done(consumed_);
}

bool LineParser::TakeNoreplyAndKey() {
  cmd_->noreply = HasNoreply(t_);
  if (t_.v(1).size() > TextParser::kMaxKeyLength) return false;
  cmd_->key = t_.v(1);
  return true;
}

ParseResult LineParser::Update(CommandType type) {
  cmd_->type = type;
  const bool key_ok = TakeNoreplyAndKey();
  const bool noreply = cmd_->noreply;
  if (!key_ok) return Fail(consumed_, reply::kBadFormat, noreply);
  int32_t vlen = 0;
  if (!SafeStrtoul(t_.v(2), &cmd_->flags) || !SafeStrtol(t_.v(3), &cmd_->exptime) ||
      !SafeStrtol(t_.v(4), &vlen)) {
    return Fail(consumed_, reply::kBadFormat, noreply);
  }
  if (type == CommandType::kCas && !SafeStrtoull(t_.v(5), &cmd_->cas)) {
    return Fail(consumed_, reply::kBadFormat, noreply);
  }
  if (vlen < 0 || vlen > INT_MAX - 2) return Fail(consumed_, reply::kBadFormat, noreply);
  const size_t block = static_cast<size_t>(vlen) + 2;
  if (static_cast<size_t>(vlen) > options_.max_value_len) {
    cmd_->too_large = true;
    cmd_->swallow = block;
    return Done(consumed_);
  }
  const size_t total = consumed_ + block;
  if (input_.size() < total) return {ParseStatus::kNeedMore, 0, total, {}};
  std::string_view data = input_.substr(consumed_, block);
  if (data[block - 2] != '\r' || data[block - 1] != '\n') {
    return Fail(total, reply::kBadDataChunk, noreply);
  }
  cmd_->value = data.substr(0, static_cast<size_t>(vlen));
  return Done(total);
}

ParseResult LineParser::Delete() {
  cmd_->type = CommandType::kDelete;
  if (t_.count > 3) {
    const bool hold_is_zero = t_.v(2) == "0";
    cmd_->noreply = HasNoreply(t_);
    const bool valid = (t_.count == 4 && (hold_is_zero || cmd_->noreply)) ||
                       (t_.count == 5 && hold_is_zero && cmd_->noreply);
    if (!valid) return Fail(consumed_, reply::kDeleteUsage, cmd_->noreply);
  }
  if (t_.v(1).size() > TextParser::kMaxKeyLength) {
    return Fail(consumed_, reply::kBadFormat, cmd_->noreply);
  }
  cmd_->key = t_.v(1);
  return Done(consumed_);
}

ParseResult LineParser::Arithmetic(CommandType type) {
  cmd_->type = type;
  if (!TakeNoreplyAndKey()) return Fail(consumed_, reply::kBadFormat, cmd_->noreply);
  if (!SafeStrtoull(t_.v(2), &cmd_->delta)) {
    return Fail(consumed_, reply::kInvalidDelta, cmd_->noreply);
  }
  return Done(consumed_);
}

ParseResult LineParser::Touch() {
  cmd_->type = CommandType::kTouch;
  if (!TakeNoreplyAndKey()) return Fail(consumed_, reply::kBadFormat, cmd_->noreply);
  if (!SafeStrtol(t_.v(2), &cmd_->exptime)) {
    return Fail(consumed_, reply::kInvalidExptime, cmd_->noreply);
  }
  return Done(consumed_);
}

ParseResult LineParser::FlushAll() {
  cmd_->type = CommandType::kFlushAll;
  cmd_->noreply = HasNoreply(t_);
  // The delay is parsed here but judged by the session: a disabled flush_all (-F) answers
  // its own error first, whatever the argument.
  if (t_.count != (cmd_->noreply ? 3u : 2u) && !SafeStrtol(t_.v(1), &cmd_->exptime)) {
    cmd_->arg_error = reply::kInvalidExptime;
  }
  return Done(consumed_);
}

ParseResult LineParser::Verbosity() {
  cmd_->type = CommandType::kVerbosity;
  cmd_->noreply = HasNoreply(t_);
  if (!SafeStrtoul(t_.v(1), &cmd_->number)) {
    return Fail(consumed_, reply::kBadFormat, cmd_->noreply);
  }
  return Done(consumed_);
}

ParseResult LineParser::CacheMemlimit() {
  cmd_->type = CommandType::kCacheMemlimit;
  cmd_->noreply = HasNoreply(t_);
  if (!SafeStrtoul(t_.v(1), &cmd_->number)) return Fail(consumed_, reply::kError, cmd_->noreply);
  return Done(consumed_);
}

ParseResult LineParser::WithArgs(CommandType type) {
  cmd_->type = type;
  for (size_t i = 1; i + 1 < t_.count && cmd_->nargs < Command::kMaxArgs; ++i) {
    cmd_->args[cmd_->nargs++] = t_.v(i);
  }
  return Done(consumed_);
}

}  // namespace

ParseResult TextParser::Parse(std::string_view input, Command* command, MetaRequest* meta) const {
  const size_t newline = input.find('\n');
  if (newline == std::string_view::npos) {
    if (input.size() <= kMaxLine) return {};
    // Only a multi-get may legitimately be this long; anything else is junk.
    size_t lead = input.find_first_not_of(' ');
    if (lead == std::string_view::npos || lead > 100) return Closed();
    std::string_view rest = input.substr(lead);
    if (!rest.starts_with("get ") && !rest.starts_with("gets ")) return Closed();
    if (input.size() > options_.max_get_line) return Closed();
    return {};
  }
  size_t line_len = newline;
  if (line_len > 1 && input[line_len - 1] == '\r') --line_len;
  std::string_view line = input.substr(0, line_len);
  // memcached handles the line as a C string: a NUL byte ends it.
  if (size_t nul = line.find('\0'); nul != std::string_view::npos) line = line.substr(0, nul);
  *command = Command();
  return LineParser(options_, input, line, newline + 1, command, meta).Run();
}

}  // namespace warmcache::protocol
