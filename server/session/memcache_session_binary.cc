// SPDX-License-Identifier: BSD-3-Clause
// The binary protocol on a session: frames from protocol/binary_codec, meaning from the
// engine, statuses and quiet rules as memcached 1.6.18 (server/protocol/BINARY.md).
#include <algorithm>

#include "server/session/memcache_session.h"

namespace warmcache::session {

namespace bin = protocol::binary;
using bin::ResponseStatus;

namespace {

constexpr std::string_view kVersion = "1.6.18";

bin::ResponseStatus StoreStatus(engine::StoreOutcome outcome, bin::Command command) {
  switch (outcome) {
    case engine::StoreOutcome::kStored:
      return ResponseStatus::kSuccess;
    case engine::StoreOutcome::kNotStored:
      return bin::NotStoredStatus(command);
    case engine::StoreOutcome::kExists:
      return ResponseStatus::kKeyExists;
    case engine::StoreOutcome::kNotFound:
      return ResponseStatus::kKeyNotFound;
    case engine::StoreOutcome::kTooLarge:
      return ResponseStatus::kTooLarge;
    case engine::StoreOutcome::kNoMemory:
      return ResponseStatus::kOutOfMemory;
  }
  return ResponseStatus::kOutOfMemory;
}

engine::StoreMode StoreModeFor(const bin::Request& req) {
  switch (req.command) {
    case bin::Command::kAppend:
      return engine::StoreMode::kAppend;
    case bin::Command::kPrepend:
      return engine::StoreMode::kPrepend;
    default:
      break;
  }
  // A non-zero CAS turns set, add and replace alike into a CAS store, as in memcached.
  if (req.cas != 0) return engine::StoreMode::kCas;
  if (req.command == bin::Command::kAdd) return engine::StoreMode::kAdd;
  if (req.command == bin::Command::kReplace) return engine::StoreMode::kReplace;
  return engine::StoreMode::kSet;
}

}  // namespace

net::InputResult MemcacheSession::OnBinaryInput(std::string_view input) {
  const bin::ParseLimits limits{.max_value_len = ctx_->options.item_size_max};
  size_t consumed = 0;
  int handled = 0;
  while (true) {
    if (Swallow(input, &consumed)) return {consumed, net::InputAction::kNeedMore};
    if (consumed == input.size()) return {consumed, net::InputAction::kNeedMore};
    if (handled >= ctx_->options.reqs_per_event) return {consumed, net::InputAction::kYield};
    const bin::ParseResult parsed = bin::Parse(input.substr(consumed), &breq_, limits);
    switch (parsed.status) {
      case bin::ParseStatus::kNeedMore:
        return {consumed, net::InputAction::kNeedMore};
      case bin::ParseStatus::kClose:
        // memcached still sends the replies to the requests before the bad frame.
        return {consumed, net::InputAction::kCloseAfterWrite};
      case bin::ParseStatus::kError:
        consumed += parsed.consumed;
        swallow_remaining_ = parsed.swallow;
        ++handled;
        BinaryError(breq_, parsed.error);
        if (parsed.close_after_reply) return {consumed, net::InputAction::kCloseAfterWrite};
        continue;
      case bin::ParseStatus::kOk:
        break;
    }
    ++handled;
    // Views in breq_ point into `input`: run the request before consuming its bytes.
    const After after = ExecuteBinary(breq_);
    if (after == After::kSuspend) {
      if (ResolvedWithoutWaiting()) continue;  // the same frame again
      return Suspend(consumed);
    }
    fetches_->Reset();
    consumed += parsed.consumed;
    swallow_remaining_ = parsed.swallow;
    if (after == After::kClose) return {consumed, net::InputAction::kClose};
    if (after == After::kCloseAfterWrite) return {consumed, net::InputAction::kCloseAfterWrite};
  }
}

void MemcacheSession::BinaryError(const bin::Request& req, ResponseStatus status) {
  if (!bin::ShouldReply(req, status)) return;
  char buf[bin::kMaxErrorResponse];
  conn_->out().Append(std::string_view(buf, bin::EncodeError(req.opcode, status, req.opaque, buf)));
}

MemcacheSession::After MemcacheSession::ExecuteBinary(const bin::Request& req) {
  char buf[bin::kMaxResponseHead];
  switch (req.command) {
    case bin::Command::kGet:
    case bin::Command::kGetK:
    case bin::Command::kGat:
    case bin::Command::kGatK:
    case bin::Command::kTouch:
      BinaryGet(req);
      break;
    case bin::Command::kSet:
    case bin::Command::kAdd:
    case bin::Command::kReplace:
    case bin::Command::kAppend:
    case bin::Command::kPrepend:
      if (!req.value_too_large && MustWaitForSpillRoom()) return After::kSuspend;
      BinaryStore(req);
      break;
    case bin::Command::kDelete:
      BinaryDelete(req);
      break;
    case bin::Command::kIncrement:
    case bin::Command::kDecrement:
      BinaryArith(req);
      break;
    case bin::Command::kFlush:
      stats_.flush_cmds.Add();
      if (!ctx_->options.flush_enabled) {
        BinaryError(req, ResponseStatus::kAuthError);
        break;
      }
      ctx_->engine->FlushAll(req.exptime);
      if (bin::ShouldReply(req, ResponseStatus::kSuccess)) {
        conn_->out().Append(std::string_view(buf, bin::EncodeSuccess(req, 0, buf)));
      }
      break;
    case bin::Command::kNoop:
      conn_->out().Append(std::string_view(buf, bin::EncodeSuccess(req, 0, buf)));
      break;
    case bin::Command::kVersion:
      line_.clear();
      bin::AppendResponse(line_, bin::Response{.opcode = req.opcode, .opaque = req.opaque},
                          kVersion);
      conn_->out().Append(line_);
      break;
    case bin::Command::kStat:
      BinaryStat(req);
      break;
    case bin::Command::kQuit:
      if (bin::ShouldReply(req, ResponseStatus::kSuccess)) {
        conn_->out().Append(std::string_view(buf, bin::EncodeSuccess(req, 0, buf)));
      }
      return After::kCloseAfterWrite;
    case bin::Command::kUnknown:
      BinaryError(req, ResponseStatus::kUnknownCommand);
      break;
  }
  return Deferred() ? After::kSuspend : After::kContinue;
}

void MemcacheSession::BinaryGet(const bin::Request& req) {
  const bool touch = req.command == bin::Command::kGat || req.command == bin::Command::kGatK ||
                     req.command == bin::Command::kTouch;
  engine::Engine& engine = *ctx_->engine;
  storage::ItemRef item =
      touch ? engine.GetAndTouch(req.key, req.exptime, caller_) : engine.Get(req.key, caller_);
  if (Deferred()) return;
  if (ctx_->prefix_stats->enabled()) ctx_->prefix_stats->RecordGet(req.key, bool(item));
  char buf[bin::kMaxResponseHead];
  if (!item) {
    if (bin::ShouldReply(req, ResponseStatus::kKeyNotFound)) {
      conn_->out().Append(std::string_view(buf, bin::EncodeNotFound(req, buf)));
    }
    return;
  }
  // A touch answers with the flags only; the others send the value too.
  const size_t value_len = req.command == bin::Command::kTouch ? 0 : item->value_len;
  conn_->out().Append(std::string_view(
      buf, bin::EncodeValueHeader(req, item->client_flags, item->cas, value_len, buf)));
  if (value_len > 0) AppendRawValue(std::move(item));
}

void MemcacheSession::BinaryStore(const bin::Request& req) {
  const engine::StoreMode mode = StoreModeFor(req);
  if (req.value_too_large) {
    if (ctx_->prefix_stats->enabled()) ctx_->prefix_stats->RecordSet(req.key);
    ctx_->engine->RejectTooLarge(mode, req.key, stats_);
    return BinaryError(req, ResponseStatus::kTooLarge);
  }
  engine::StoreRequest request;
  request.mode = mode;
  request.key = req.key;
  request.flags = req.flags;
  request.exptime = req.exptime;
  request.value = req.value;
  request.cas = req.cas;
  uint64_t cas = 0;
  const engine::StoreOutcome outcome = ctx_->engine->Store(request, caller_, &cas);
  if (Deferred()) return;
  if (ctx_->prefix_stats->enabled()) ctx_->prefix_stats->RecordSet(req.key);
  const ResponseStatus status = StoreStatus(outcome, req.command);
  if (status != ResponseStatus::kSuccess) return BinaryError(req, status);
  if (!bin::ShouldReply(req, status)) return;
  char buf[bin::kHeaderSize];
  conn_->out().Append(std::string_view(buf, bin::EncodeSuccess(req, cas, buf)));
}

void MemcacheSession::BinaryDelete(const bin::Request& req) {
  engine::MetaDeleteRequest request;
  request.key = req.key;
  request.has_cas = req.cas != 0;
  request.cas = req.cas;
  const engine::MetaDeleteOutcome outcome = ctx_->engine->MetaDelete(request, caller_);
  if (Deferred()) return;
  if (ctx_->prefix_stats->enabled()) ctx_->prefix_stats->RecordDelete(req.key);
  switch (outcome) {
    case engine::MetaDeleteOutcome::kNotFound:
      return BinaryError(req, ResponseStatus::kKeyNotFound);
    case engine::MetaDeleteOutcome::kExists:
      return BinaryError(req, ResponseStatus::kKeyExists);
    case engine::MetaDeleteOutcome::kDeleted:
      break;
  }
  if (!bin::ShouldReply(req, ResponseStatus::kSuccess)) return;
  char buf[bin::kHeaderSize];
  conn_->out().Append(std::string_view(buf, bin::EncodeSuccess(req, 0, buf)));
}

void MemcacheSession::BinaryArith(const bin::Request& req) {
  engine::MetaArithRequest request;
  request.key = req.key;
  request.incr = req.command == bin::Command::kIncrement;
  request.delta = req.delta;
  request.has_cas = req.cas != 0;
  request.cas = req.cas;
  // A miss creates the item with `initial` unless the exptime says not to.
  request.vivify = req.exptime != bin::Request::kNoAutoCreate;
  request.vivify_ttl = req.exptime;
  request.initial = req.initial;
  const engine::MetaArithResult result = ctx_->engine->MetaArith(request, caller_);
  if (Deferred()) return;
  switch (result.outcome) {
    case engine::MetaArithOutcome::kOk:
      break;
    case engine::MetaArithOutcome::kNotFound:
      return BinaryError(req, ResponseStatus::kKeyNotFound);
    case engine::MetaArithOutcome::kExists:
      return BinaryError(req, ResponseStatus::kKeyExists);
    case engine::MetaArithOutcome::kNonNumeric:
      return BinaryError(req, ResponseStatus::kDeltaBadValue);
    case engine::MetaArithOutcome::kNotStored:
      return BinaryError(req, ResponseStatus::kNotStored);
    case engine::MetaArithOutcome::kNoMemory:
      return BinaryError(req, ResponseStatus::kOutOfMemory);
  }
  if (!bin::ShouldReply(req, ResponseStatus::kSuccess)) return;
  char buf[bin::kCounterResponseSize];
  conn_->out().Append(
      std::string_view(buf, bin::EncodeCounter(req, result.item->cas, result.value, buf)));
}

void MemcacheSession::BinaryStat(const bin::Request& req) {
  // The key is the text command's argument list: "", "settings", "detail dump", ...
  std::string_view args[protocol::Command::kMaxArgs];
  int nargs = 0;
  std::string_view rest = req.key;
  while (nargs < protocol::Command::kMaxArgs) {
    const std::string_view arg = protocol::NextWord(&rest);
    if (arg.empty()) break;
    args[nargs++] = arg;
  }
  line_.clear();
  const std::string_view sub = nargs > 0 ? args[0] : std::string_view();
  if (sub == "conns" || sub == "cachedump") {
    // Text-only listings: memcached answers them with a bare "Not found".
    return BinaryError(req, ResponseStatus::kKeyNotFound);
  }
  const std::string text = ctx_->control->StatsReply(args, nargs);
  if (sub == "detail" && nargs >= 2 && args[1] == "dump") {
    bin::AppendStat(line_, req.opaque, "detailed", text);
    bin::AppendStatsEnd(line_, req.opaque);
  } else if (sub == "reset" || (sub == "detail" && text == "OK\r\n")) {
    bin::AppendStatsEnd(line_, req.opaque);
  } else if (!bin::AppendStatsFromText(line_, req.opaque, text)) {
    return BinaryError(req, ResponseStatus::kKeyNotFound);
  }
  conn_->out().Append(line_);
}

}  // namespace warmcache::session
