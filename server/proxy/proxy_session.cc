// SPDX-License-Identifier: BSD-3-Clause
#include "server/proxy/proxy_session.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <utility>

#include "server/protocol/replies.h"
#include "server/protocol/reply_framer.h"

namespace warmcache::proxy {

namespace reply = protocol::reply;
using protocol::CommandType;
using protocol::ParseStatus;

namespace {

constexpr uint8_t kBinaryRequestMagic = 0x80;
constexpr std::string_view kNoServer = "SERVER_ERROR no server in the pool is available\r\n";

}  // namespace

ProxySession::ProxySession(const ProxyContext* context, ProxyWorker* worker, net::Connection* conn)
    : ctx_(context), worker_(worker), conn_(conn), handle_(std::make_shared<ReplySink*>(this)) {}

ProxySession::~ProxySession() {
  *handle_ = nullptr;  // replies still on their way are dropped
  if (dirty_) worker_->ForgetSession(this);
}

net::InputResult ProxySession::OnInput(std::string_view input) {
  size_t consumed = 0;
  int handled = 0;
  net::InputResult result{0, net::InputAction::kNeedMore};
  if (first_input_ && !input.empty()) {
    first_input_ = false;
    if (static_cast<uint8_t>(input[0]) == kBinaryRequestMagic) {
      // The proxy speaks the text and meta protocols only (as twemproxy does).
      spdlog::debug("proxy: closing a binary-protocol client");
      return {input.size(), net::InputAction::kClose};
    }
  }
  while (true) {
    if (Swallow(input, &consumed) || consumed == input.size()) {
      result = {consumed, net::InputAction::kNeedMore};
      break;
    }
    if (handled >= ctx_->reqs_per_event) {
      result = {consumed, net::InputAction::kYield};
      break;
    }
    if (queue_.size() >= ctx_->max_in_flight) {
      // Too much in flight: read no more until the backends have answered half of it.
      resume_below_ = ctx_->max_in_flight / 2 + 1;
      result = {consumed, net::InputAction::kSuspend};
      break;
    }
    const size_t request_start = consumed;
    const protocol::ParseResult parsed = ctx_->parser->Parse(input.substr(consumed), &cmd_, &meta_);
    if (parsed.status == ParseStatus::kNeedMore) {
      result = {consumed, net::InputAction::kNeedMore};
      break;
    }
    if (parsed.status == ParseStatus::kClose) {
      result = {consumed, net::InputAction::kClose};
      break;
    }
    consumed += parsed.consumed;
    ++handled;
    if (parsed.status == ParseStatus::kError) {
      if (!parsed.reply.empty()) Local(parsed.reply);
      continue;
    }
    if (cmd_.type == CommandType::kQuit) {
      if (!queue_.empty()) {
        // Replies still owed come first: wait for them, then read `quit` again.
        resume_below_ = 1;
        result = {request_start, net::InputAction::kSuspend};
      } else {
        result = {consumed, net::InputAction::kCloseAfterWrite};
      }
      break;
    }
    Route(cmd_, input.substr(request_start, parsed.consumed));
  }
  if (result.action == net::InputAction::kSuspend) resumer_ = conn_->MakeResumer();
  return result;
}

bool ProxySession::Swallow(std::string_view input, size_t* consumed) {
  if (swallow_remaining_ == 0) return false;
  const size_t n = std::min(swallow_remaining_, input.size() - *consumed);
  *consumed += n;
  swallow_remaining_ -= n;
  return swallow_remaining_ > 0;
}

void ProxySession::Route(const protocol::Command& cmd, std::string_view raw) {
  if (!cmd.arg_error.empty()) {
    Local(cmd.arg_error);
    return;
  }
  if (cmd.too_large) {
    swallow_remaining_ = cmd.swallow;
    if (!cmd.noreply) Local(reply::kTooLarge);
    return;
  }
  switch (cmd.type) {
    case CommandType::kGet:
    case CommandType::kGets:
    case CommandType::kGat:
    case CommandType::kGats:
      RouteGet(cmd, raw);
      return;
    case CommandType::kSet:
    case CommandType::kAdd:
    case CommandType::kReplace:
    case CommandType::kAppend:
    case CommandType::kPrepend:
    case CommandType::kCas:
    case CommandType::kDelete:
    case CommandType::kIncr:
    case CommandType::kDecr:
    case CommandType::kTouch:
      RouteToOwner(cmd, raw, /*quiet_meta=*/false);
      return;
    case CommandType::kMetaGet:
    case CommandType::kMetaSet:
    case CommandType::kMetaDelete:
    case CommandType::kMetaArith:
    case CommandType::kMetaDebug:
      RouteToOwner(cmd, raw, meta_.quiet);
      return;
    case CommandType::kMetaNoop:
      Local(reply::kMetaNoop);
      return;
    case CommandType::kFlushAll:
      if (!ctx_->flush_enabled) {
        Local(reply::kFlushDisabled);
        return;
      }
      RouteFlushAll(cmd, raw);
      return;
    case CommandType::kVersion:
      Local(reply::kVersion);
      return;
    case CommandType::kVerbosity:
      if (!cmd.noreply) Local(reply::kOk);
      return;
    case CommandType::kStats:
      Local(ctx_->stats(cmd.args, cmd.nargs));
      return;
    case CommandType::kShutdown:
      Local(reply::kShutdownDisabled);
      return;
    case CommandType::kCacheMemlimit:
    case CommandType::kSnapshot:
      Local("SERVER_ERROR not supported by the proxy: send it to a node\r\n");
      return;
    case CommandType::kQuit:
      return;  // handled by OnInput
  }
}

ProxySession::Request& ProxySession::Push(Kind kind, bool swallow, int parts) {
  Request& r = queue_.emplace_back();
  r.kind = kind;
  r.swallow = swallow;
  r.waiting = parts;
  return r;
}

ProxySession::Request* ProxySession::Find(uint64_t seq) {
  if (seq < head_seq_ || seq - head_seq_ >= queue_.size()) return nullptr;
  return &queue_[static_cast<size_t>(seq - head_seq_)];
}

void ProxySession::Local(std::string_view text) {
  if (queue_.empty()) {
    conn_->out().Append(text);  // nothing ahead of it: no need to queue
    return;
  }
  Request& r = Push(Kind::kLocal, false, 0);
  r.text.assign(text);
  r.ready = true;
}

void ProxySession::RouteToOwner(const protocol::Command& cmd, std::string_view raw,
                                bool quiet_meta) {
  const bool meta = cmd.type >= CommandType::kMetaNoop;
  const bool reads = cmd.type == CommandType::kMetaGet || cmd.type == CommandType::kMetaDebug;
  int nodes[ProxyWorker::kMaxReplicas];
  ProxyWorker::MovedWrite moved[ProxyWorker::kMaxReplicas];
  int n = 0;
  int nmoved = 0;
  if (reads) {
    const int node = worker_->ReadNode(cmd.key);
    if (node >= 0) nodes[n++] = node;
  } else {
    n = worker_->WriteNodes(cmd.key, nodes, moved, &nmoved);
  }
  // Text noreply: the client gets nothing. Meta quiet: the node's reply (errors, and hits of
  // mg) goes to the client; the node applies the quiet rules itself.
  const bool noreply = cmd.noreply && !meta;
  if (n == 0) {
    if (!noreply) Local(kNoServer);
    return;
  }
  // noreply and quiet requests are followed by "mn", so their end is known whatever the
  // node says (or does not say).
  const Expect expect = noreply || quiet_meta ? Expect::kUntilNoop
                        : meta                ? Expect::kMeta
                                              : Expect::kLine;
  const uint64_t seq = head_seq_ + queue_.size();
  Request& r = Push(Kind::kRelay, noreply, n);
  r.write_parts = n;
  for (int i = 0; i < n; ++i) r.nodes[i] = static_cast<int16_t>(nodes[i]);
  if (nmoved > 0) r.moved.assign(moved, moved + nmoved);
  if (nmoved > 0 || n > 1) {
    r.moved_key.assign(cmd.key);
    r.pool = worker_->shared_pool();
  }
  for (int i = 0; i < n; ++i) worker_->backend(nodes[i]).Forward(raw, expect, handle_, seq, i);
}

void ProxySession::RouteGet(const protocol::Command& cmd, std::string_view raw) {
  std::string_view keys = cmd.keys;
  const std::string_view first = protocol::NextWord(&keys);
  const int first_node = worker_->ReadNode(first);
  bool one_node = first_node >= 0;
  for (std::string_view rest = keys; one_node;) {
    const std::string_view key = protocol::NextWord(&rest);
    if (key.empty()) break;
    one_node = worker_->ReadNode(key) == first_node;
  }
  if (first_node < 0 && keys.find_first_not_of(' ') == std::string_view::npos) {
    Local(kNoServer);
    return;
  }
  const uint64_t seq = head_seq_ + queue_.size();
  if (one_node) {
    Push(Kind::kRelay, false, 1);
    worker_->backend(first_node).Forward(raw, Expect::kValues, handle_, seq, 0);
    return;
  }
  // Split: one get per node, each with the prefix the client used ("gets", "gat 30", ...).
  const std::string_view prefix = raw.substr(0, static_cast<size_t>(cmd.keys.data() - raw.data()));
  Request& r = Push(Kind::kMerge, false, 0);
  r.key_text.assign(cmd.keys);
  std::vector<int> part_of_node(static_cast<size_t>(worker_->pool().size()), -1);
  std::vector<int> part_nodes;
  std::string_view all = r.key_text;
  while (true) {
    const std::string_view key = protocol::NextWord(&all);
    if (key.empty()) break;
    const int node = worker_->ReadNode(key);
    if (node < 0) {
      r.failed = true;
      r.text.assign(kNoServer);
      continue;
    }
    int& part = part_of_node[static_cast<size_t>(node)];
    if (part < 0) {
      part = static_cast<int>(part_nodes.size());
      part_nodes.push_back(node);
      if (scratch_.size() < part_nodes.size()) scratch_.resize(part_nodes.size());
      scratch_[static_cast<size_t>(part)].assign(prefix);
    } else {
      scratch_[static_cast<size_t>(part)].push_back(' ');
    }
    scratch_[static_cast<size_t>(part)].append(key);
    r.keys.push_back(key);
    r.key_part.push_back(static_cast<uint8_t>(part));
  }
  r.parts.resize(part_nodes.size());
  r.waiting = static_cast<int>(part_nodes.size());
  if (r.waiting == 0) {
    r.ready = true;  // no node at all: the error line
    if (&r == &queue_.front()) Drain();
    return;
  }
  for (size_t part = 0; part < part_nodes.size(); ++part) {
    std::string& line = scratch_[part];
    line.append("\r\n");
    worker_->backend(part_nodes[part])
        .Forward(line, Expect::kValues, handle_, seq, static_cast<int>(part));
  }
}

void ProxySession::RouteFlushAll(const protocol::Command& cmd, std::string_view raw) {
  std::vector<int> nodes;
  if (worker_->FlushNodes(&nodes) == 0) {
    if (!cmd.noreply) Local(kNoServer);
    return;
  }
  const uint64_t seq = head_seq_ + queue_.size();
  Push(Kind::kBroadcast, cmd.noreply, static_cast<int>(nodes.size()));
  const Expect expect = cmd.noreply ? Expect::kUntilNoop : Expect::kLine;
  for (size_t i = 0; i < nodes.size(); ++i) {
    worker_->backend(nodes[i]).Forward(raw, expect, handle_, seq, static_cast<int>(i));
  }
}

void ProxySession::OnReply(uint64_t seq, int part, std::string_view bytes) {
  Request* r = Find(seq);
  if (r == nullptr) return;
  switch (r->kind) {
    case Kind::kRelay:
      // Part 0 is the owner (the first replica): its reply is the client's, sent once every
      // replica has answered, so an acknowledged write is on all of them.
      if (part == 0 && !r->swallow && !r->failed) {
        if (seq == head_seq_ && r->waiting == 1 && r->moved.empty()) {
          conn_->out().Append(bytes);
          r->written = true;
          MarkDirty();
        } else {
          r->text.assign(bytes);
        }
      }
      break;
    case Kind::kMerge:
      r->parts[static_cast<size_t>(part)].assign(bytes);
      break;
    case Kind::kBroadcast:
      if (r->text.empty() && bytes != reply::kOk) r->text.assign(bytes);
      break;
    case Kind::kLocal:
      break;
  }
  if (--r->waiting == 0 && !NoteMovedWrites(seq, *r)) Complete(*r);
}

void ProxySession::OnPartFailed(uint64_t seq, int part, std::string_view error_line) {
  Request* r = Find(seq);
  if (r == nullptr) return;
  switch (r->kind) {
    case Kind::kRelay:
      if (part < std::max(r->write_parts, 1)) {  // not a cleanup delete
        // Any replica failing fails the write (it may be on some of them only), and that
        // replica may lack it: it must not serve this key until cleaned.
        if (!r->failed && !r->swallow) r->text.assign(error_line);
        r->failed = true;
        if (r->write_parts > 1) {
          const int node = r->nodes[part];
          r->pool->EjectNow(node);
          r->moved.push_back(ProxyWorker::MovedWrite{node, -1});
        }
      }
      break;
    case Kind::kMerge:
    case Kind::kBroadcast:
      if (!r->failed) {
        r->failed = true;
        r->text.assign(error_line);
      }
      break;
    case Kind::kLocal:
      break;
  }
  if (--r->waiting == 0 && !NoteMovedWrites(seq, *r)) Complete(*r);
}

bool ProxySession::NoteMovedWrites(uint64_t seq, Request& r) {
  if (r.moved.empty()) return false;
  std::vector<ProxyWorker::MovedWrite> moved;
  moved.swap(r.moved);
  std::vector<int> cleanup;
  // The node numbers are r.pool's. After a reload that pool passes the note on to the one
  // that inherited its notes; a cleanup goes to the same addresses in the worker's pool.
  const PoolState& now = *worker_->shared_pool();
  const bool same_pool = r.pool.get() == &now;
  auto here = [&](int node) {
    return node < 0 || same_pool ? node : now.IndexOf(r.pool->config().servers[node].Address());
  };
  for (const ProxyWorker::MovedWrite& m : moved) {
    if (r.pool->NoteMovedWrite(m.home, r.moved_key, m.interim)) continue;
    // The node came back while this write went around it: delete the key from it and from
    // the stand-in before replying, so neither can serve an older value later.
    for (int node : {here(m.home), here(m.interim)}) {
      if (node >= 0) cleanup.push_back(node);
    }
  }
  if (cleanup.empty()) return false;
  std::string deletes;
  AppendQuietDelete(r.moved_key, &deletes);
  const int first = r.write_parts;  // cleanup parts: their replies are only counted
  r.waiting += static_cast<int>(cleanup.size());
  for (size_t i = 0; i < cleanup.size(); ++i) {
    worker_->backend(cleanup[i])
        .Forward(deletes, Expect::kUntilNoop, handle_, seq, first + static_cast<int>(i));
  }
  worker_->FlushBackends();
  return true;
}

void ProxySession::Complete(Request& r) {
  if (r.kind == Kind::kMerge && !r.failed) r.text = MergeValues(r);
  if (r.kind == Kind::kBroadcast && r.text.empty()) r.text.assign(reply::kOk);
  r.ready = true;
  if (&r == &queue_.front()) Drain();
}

std::string ProxySession::MergeValues(Request& r) const {
  // Each node answered its keys in order, hits only: walk the client's keys and take a
  // node's next VALUE when it is for that key.
  std::vector<size_t> cursor(r.parts.size(), 0);
  size_t total = reply::kEnd.size();
  for (const std::string& part : r.parts) total += part.size();
  std::string out;
  out.reserve(total);  // a large multi-get would otherwise be copied at each doubling
  for (size_t i = 0; i < r.keys.size(); ++i) {
    const size_t part = r.key_part[i];
    const std::string_view rest = std::string_view(r.parts[part]).substr(cursor[part]);
    const protocol::ValuePiece piece = protocol::NextValuePiece(rest);
    if (piece.kind == protocol::ValuePiece::kError)
      return std::string(rest.substr(0, piece.length));
    if (piece.kind != protocol::ValuePiece::kValue || piece.key != r.keys[i]) continue;
    out.append(rest.substr(0, piece.length));
    cursor[part] += piece.length;
  }
  // A node's error after the values it did send (out of memory mid-get) fails the whole get.
  for (size_t part = 0; part < r.parts.size(); ++part) {
    std::string_view rest = std::string_view(r.parts[part]).substr(cursor[part]);
    while (true) {
      const protocol::ValuePiece piece = protocol::NextValuePiece(rest);
      if (piece.kind == protocol::ValuePiece::kError) {
        return std::string(rest.substr(0, piece.length));
      }
      if (piece.kind != protocol::ValuePiece::kValue) break;
      rest.remove_prefix(piece.length);
    }
  }
  out.append(reply::kEnd);
  return out;
}

void ProxySession::AppendText(std::string text) {
  if (text.size() <= kCopyThreshold) {
    conn_->out().Append(text);
    return;
  }
  // A long reply (a merged multi-get) is handed over, not copied again.
  auto* owned = new std::string(std::move(text));
  conn_->out().AppendRef(*owned,
                         net::Pin{owned, [](void* p) { delete static_cast<std::string*>(p); }});
}

void ProxySession::Drain() {
  while (!queue_.empty() && queue_.front().ready) {
    Request& r = queue_.front();
    if (!r.swallow && !r.written) {
      AppendText(std::move(r.text));
      MarkDirty();
    }
    queue_.pop_front();
    ++head_seq_;
  }
  if (queue_.empty()) MarkDirty();  // a connection closing after its replies may close now
  if (resume_below_ > 0 && queue_.size() < resume_below_) {
    resume_below_ = 0;
    MarkDirty();
    if (resumer_) {
      auto resume = std::move(resumer_);
      resumer_ = nullptr;
      resume();
    }
  }
}

void ProxySession::MarkDirty() {
  if (dirty_) return;
  dirty_ = true;
  worker_->NoteSessionDirty(this);
}

void ProxySession::FlushOutput() {
  dirty_ = false;
  conn_->ReleaseOutput();
}

}  // namespace warmcache::proxy
