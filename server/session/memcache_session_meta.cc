// SPDX-License-Identifier: BSD-3-Clause
// Meta command replies: memcached 1.6.18's codes, with the requested flags echoed in order.
#include <fmt/format.h>

#include "server/protocol/base64.h"
#include "server/protocol/replies.h"
#include "server/session/memcache_session.h"

namespace warmcache::session {

namespace reply = protocol::reply;

constexpr std::string_view kOpaqueTooLong = "CLIENT_ERROR opaque token too long\r\n";

namespace {

std::string_view Code(engine::StoreOutcome outcome) {
  switch (outcome) {
    case engine::StoreOutcome::kStored:
      return "HD";
    case engine::StoreOutcome::kExists:
      return "EX";
    case engine::StoreOutcome::kNotFound:
      return "NF";
    default:
      return "NS";
  }
}

// t: seconds left, or -1 for no expiry.
void AppendTtl(std::string& out, const engine::Engine& engine, uint32_t exptime, int64_t now) {
  out += " t";
  out += exptime == 0 ? std::string("-1") : std::to_string(engine.TtlForReply(exptime, now));
}

// The exptime a t flag reports at its place among the flags: memcached makes one pass over
// them, so a T (or the N of a created item) changes what later t flags see.
struct TtlAtFlag {
  uint32_t exptime;
  uint32_t after_touch;
  uint32_t after_vivify;
  bool created;

  void Pass(char code) {
    if (code == 'T') exptime = after_touch;
    if (code == 'N' && created) exptime = after_vivify;
  }
};

void AppendOpaque(std::string& out, std::string_view token) {
  out += " O";
  out += token;
}

}  // namespace

void MemcacheSession::AppendKeyFlag(std::string_view key, bool key_binary) {
  line_ += " k";
  if (!key_binary) {
    line_ += key;
    return;
  }
  protocol::Base64Encode(key, &line_);
  line_ += " b";
}

void MemcacheSession::AppendEchoFlags(std::string_view key, bool key_binary) {
  for (int i = 0; i < meta_.nflags; ++i) {
    const protocol::MetaFlag& f = meta_.flags[i];
    if (f.code == 'O') {
      AppendOpaque(line_, f.token);
    } else if (f.code == 'k') {
      AppendKeyFlag(key, key_binary);
    }
  }
}

void MemcacheSession::DoMetaGet(const protocol::Command& cmd) {
  engine::MetaGetRequest request;
  request.key = cmd.key;
  request.no_update = meta_.no_update;
  request.vivify = meta_.vivify;
  request.vivify_ttl = meta_.vivify_ttl;
  request.touch = meta_.has_ttl;
  request.ttl = meta_.ttl;
  request.recache = meta_.has_recache;
  request.recache_ttl = meta_.recache_ttl;
  request.key_binary = meta_.key_binary;
  bool seen_touch = false;
  for (int i = 0; i < meta_.nflags; ++i) {
    const protocol::MetaFlag& f = meta_.flags[i];
    if (f.code == 'N' || f.code == 'T' || f.code == 'R' || f.code == 'h' || f.code == 'l') {
      request.locked = true;
    }
    if (f.code == 'R' && !seen_touch) request.recache_before_touch = true;
    if (f.code == 'T') seen_touch = true;
  }
  if (meta_.opaque_too_long) {
    // Only the flags before the long opaque act (see MetaGetRequest::aborted).
    request.aborted = true;
    request.touch = request.vivify_sets_ttl = false;
    for (int i = 0; i < meta_.long_opaque_at; ++i) {
      if (meta_.flags[i].code == 'T') request.touch = true;
      if (meta_.flags[i].code == 'N') request.vivify_sets_ttl = true;
    }
  }
  engine::MetaGetResult result = ctx_->engine->MetaGet(request, caller_);
  if (Deferred()) return;
  // memcached checks the opaque while writing the reply, after the command took effect.
  if (meta_.opaque_too_long) return conn_->out().Append(kOpaqueTooLong);
  line_.clear();
  if (!result.item) {
    if (meta_.quiet) return;  // q hides a miss
    line_ += "EN";
    AppendEchoFlags(cmd.key, meta_.key_binary);
    line_ += "\r\n";
    conn_->out().Append(line_);
    return;
  }
  const storage::Item& item = *result.item;
  line_ += meta_.value ? "VA " + std::to_string(item.value_len) : std::string("HD");
  TtlAtFlag ttl{result.exptime_before, result.exptime_after_touch, result.exptime_after_vivify,
                result.created};
  for (int i = 0; i < meta_.nflags; ++i) {
    const protocol::MetaFlag& f = meta_.flags[i];
    ttl.Pass(f.code);
    switch (f.code) {
      case 's':
        line_ += " s" + std::to_string(item.value_len);
        break;
      case 't':
        AppendTtl(line_, *ctx_->engine, ttl.exptime, result.now);
        break;
      case 'c':
        line_ += " c" + std::to_string(item.cas);
        break;
      case 'f':
        line_ += " f" + std::to_string(item.client_flags);
        break;
      case 'l':
        line_ += " l" + std::to_string(result.idle_before);
        break;
      case 'h':
        line_ += result.fetched_before ? " h1" : " h0";
        break;
      case 'O':
        AppendOpaque(line_, f.token);
        break;
      case 'k':
        AppendKeyFlag(item.key(), item.key_binary);
        break;
      default:
        break;
    }
  }
  if (result.already_won) line_ += " Z";
  if (result.stale) line_ += " X";
  if (result.won) line_ += " W";
  line_ += "\r\n";
  conn_->out().Append(line_);
  if (meta_.value) AppendValue(std::move(result.item));
}

void MemcacheSession::DoMetaSet(const protocol::Command& cmd) {
  if (!cmd.arg_error.empty() || cmd.too_large) {
    // Errors are always sent, q or not; the data block is discarded either way.
    // memcached drops the old value of an oversized ms in every mode, as a set does.
    if (cmd.too_large) ctx_->engine->RejectTooLarge(engine::StoreMode::kSet, cmd.key, stats_);
    swallow_remaining_ = cmd.swallow;
    conn_->out().Append(cmd.too_large ? reply::kTooLarge : cmd.arg_error);
    return;
  }
  engine::MetaSetRequest request;
  request.key = cmd.key;
  request.value = cmd.value;
  request.flags = meta_.client_flags;
  request.exptime = meta_.has_ttl ? meta_.ttl : 0;
  request.mode = meta_.mode;
  request.has_cas = meta_.has_cas;
  request.cas = meta_.compare_cas;
  request.invalidate = meta_.invalidate;
  request.key_binary = meta_.key_binary;
  uint64_t cas = 0;
  const engine::StoreOutcome outcome = ctx_->engine->MetaSet(request, caller_, &cas);
  if (Deferred()) return;
  switch (outcome) {
    case engine::StoreOutcome::kTooLarge:
      return conn_->out().Append(reply::kTooLarge);
    case engine::StoreOutcome::kNoMemory:
      return conn_->out().Append(reply::kNoMemoryStoring);
    case engine::StoreOutcome::kStored:
      if (meta_.quiet) return;  // q hides HD only
      break;
    default:
      break;
  }
  line_.assign(Code(outcome));
  for (int i = 0; i < meta_.nflags; ++i) {
    const protocol::MetaFlag& f = meta_.flags[i];
    if (f.code == 'O') {
      AppendOpaque(line_, f.token);
    } else if (f.code == 'k') {
      AppendKeyFlag(cmd.key, meta_.key_binary);
    } else if (f.code == 'c') {
      line_ += " c" + std::to_string(cas);
    }
  }
  line_ += "\r\n";
  conn_->out().Append(line_);
}

void MemcacheSession::DoMetaDelete(const protocol::Command& cmd) {
  engine::MetaDeleteRequest request;
  request.key = cmd.key;
  request.has_cas = meta_.has_cas;
  request.cas = meta_.compare_cas;
  request.invalidate = meta_.invalidate;
  request.touch = meta_.has_ttl;
  request.ttl = meta_.ttl;
  const engine::MetaDeleteOutcome outcome = ctx_->engine->MetaDelete(request, caller_);
  if (Deferred()) return;
  if (outcome == engine::MetaDeleteOutcome::kDeleted && meta_.quiet) return;
  line_.assign(outcome == engine::MetaDeleteOutcome::kDeleted    ? "HD"
               : outcome == engine::MetaDeleteOutcome::kNotFound ? "NF"
                                                                 : "EX");
  AppendEchoFlags(cmd.key, meta_.key_binary);
  line_ += "\r\n";
  conn_->out().Append(line_);
}

void MemcacheSession::DoMetaArith(const protocol::Command& cmd) {
  engine::MetaArithRequest request;
  request.key = cmd.key;
  request.incr = meta_.mode != 'D' && meta_.mode != '-';
  request.delta = meta_.delta;
  request.has_cas = meta_.has_cas;
  request.cas = meta_.compare_cas;
  request.vivify = meta_.vivify;
  request.vivify_ttl = meta_.vivify_ttl;
  request.initial = meta_.initial;
  request.touch = meta_.has_ttl;
  request.ttl = meta_.ttl;
  engine::MetaArithResult result = ctx_->engine->MetaArith(request, caller_);
  if (Deferred()) return;
  line_.clear();
  if (meta_.opaque_too_long && (result.outcome == engine::MetaArithOutcome::kOk ||
                                result.outcome == engine::MetaArithOutcome::kNotFound ||
                                result.outcome == engine::MetaArithOutcome::kExists)) {
    return conn_->out().Append(kOpaqueTooLong);
  }
  switch (result.outcome) {
    case engine::MetaArithOutcome::kNonNumeric:
      return conn_->out().Append(reply::kNonNumeric);
    case engine::MetaArithOutcome::kNoMemory:
      return conn_->out().Append(reply::kNoMemory);
    case engine::MetaArithOutcome::kNotFound:
    case engine::MetaArithOutcome::kExists:
    case engine::MetaArithOutcome::kNotStored:
      line_ = result.outcome == engine::MetaArithOutcome::kNotFound ? "NF"
              : result.outcome == engine::MetaArithOutcome::kExists ? "EX"
                                                                    : "NS";
      AppendEchoFlags(cmd.key, meta_.key_binary);
      line_ += "\r\n";
      return conn_->out().Append(line_);
    case engine::MetaArithOutcome::kOk:
      break;
  }
  // memcached hides a quiet success only when the item already existed.
  if (meta_.quiet && !result.created) return;
  const std::string digits = std::to_string(result.value);
  line_ = meta_.value ? "VA " + std::to_string(digits.size()) : std::string("HD");
  TtlAtFlag ttl{result.exptime_before, result.exptime_after_touch, result.exptime_after_vivify,
                result.created};
  for (int i = 0; i < meta_.nflags; ++i) {
    const protocol::MetaFlag& f = meta_.flags[i];
    ttl.Pass(f.code);
    switch (f.code) {
      case 'c':
        line_ += " c" + std::to_string(result.item->cas);
        break;
      case 't':
        AppendTtl(line_, *ctx_->engine, ttl.exptime, result.now);
        break;
      case 'O':
        AppendOpaque(line_, f.token);
        break;
      case 'k':
        AppendKeyFlag(cmd.key, meta_.key_binary);
        break;
      default:
        break;
    }
  }
  if (meta_.value) line_ += "\r\n" + digits;
  line_ += "\r\n";
  conn_->out().Append(line_);
}

void MemcacheSession::DoMetaDebug(const protocol::Command& cmd) {
  const engine::MetaDebugInfo info = ctx_->engine->Debug(cmd.key, caller_);
  if (Deferred()) return;
  stats_.meta_cmds.Add();
  if (!info.item) return conn_->out().Append("EN\r\n");
  const storage::Item& item = *info.item;
  line_ = "ME ";
  if (item.key_binary) {
    protocol::Base64Encode(item.key(), &line_);
  } else {
    line_ += item.key();
  }
  const long exp = info.exptime == 0 ? -1L : static_cast<long>(info.now - info.exptime);
  const size_t size =
      ctx_->engine->MemcachedItemSize(item.key_len, item.value_len, item.client_flags);
  line_ += fmt::format(" exp={} la={} cas={} fetch={} cls={} size={}\r\n", exp,
                       static_cast<uint64_t>(info.now - info.time), item.cas,
                       info.fetched ? "yes" : "no", info.size_class, size);
  conn_->out().Append(line_);
}

}  // namespace warmcache::session
