// SPDX-License-Identifier: BSD-3-Clause
#include "server/proxy/rejoin_task.h"

#include <spdlog/spdlog.h>

#include <map>

#include "server/protocol/base64.h"
#include "server/proxy/proxy_worker.h"

namespace warmcache::proxy {

void AppendQuietDelete(std::string_view key, std::string* out) {
  bool text = !key.empty();
  for (unsigned char c : key) text = text && c > ' ' && c < 0x7f;
  out->append("md ");
  if (text) {
    out->append(key);
    out->append(" q\r\n");
    return;
  }
  protocol::Base64Encode(key, out);
  out->append(" b q\r\n");
}

RejoinTask::RejoinTask(ProxyWorker* worker, std::shared_ptr<PoolState> pool, int node,
                       RejoinWork work)
    : worker_(worker),
      pool_(std::move(pool)),
      node_(node),
      work_(std::move(work)),
      handle_(std::make_shared<ReplySink*>(this)) {}

RejoinTask::~RejoinTask() { *handle_ = nullptr; }

void RejoinTask::Start() { SendRound(); }

void RejoinTask::SendRound() {
  spdlog::info("pool {}: letting {} back in: {}{}", pool_->config().name,
               pool_->config().servers[node_].Address(),
               work_.flush_home ? std::string("flush_all (it missed one, or too many writes)")
                                : "deleting " + std::to_string(work_.keys.size()) +
                                      " keys written elsewhere meanwhile",
               work_.flush_interims.empty()
                   ? ""
                   : ", flushing " + std::to_string(work_.flush_interims.size()) + " stand-ins");
  parts_.clear();
  auto part_of = [this](int node, bool flush) -> Part& {
    for (Part& p : parts_) {
      if (p.node == node) return p;
    }
    parts_.push_back(Part{node, flush, {}});
    return parts_.back();
  };
  part_of(node_, work_.flush_home);
  for (int interim : work_.flush_interims) {
    if (interim != node_) part_of(interim, true);
  }
  for (size_t i = 0; i < work_.keys.size(); ++i) {
    const MovedKey& moved = work_.keys[i];
    if (!work_.flush_home) part_of(node_, false).keys.push_back(i);
    if (moved.interim >= 0 && moved.interim != node_) {
      Part& p = part_of(moved.interim, false);
      if (!p.flush) p.keys.push_back(i);
    }
  }
  ++round_;
  failed_ = false;
  waiting_ = static_cast<int>(parts_.size());
  std::string request;
  for (size_t i = 0; i < parts_.size(); ++i) {
    const Part& p = parts_[i];
    request.clear();
    // A plain flush_all, whose OK is checked: `noreply` would hide a node's refusal (-F).
    if (p.flush) {
      worker_->backend(p.node).Forward("flush_all\r\n", Expect::kLine, handle_, round_,
                                       static_cast<int>(i));
      continue;
    }
    for (size_t k : p.keys) AppendQuietDelete(work_.keys[k].key, &request);
    worker_->backend(p.node).Forward(request, Expect::kUntilNoop, handle_, round_,
                                     static_cast<int>(i));
  }
  worker_->FlushBackends();
}

void RejoinTask::OnReply(uint64_t seq, int part, std::string_view reply) {
  if (seq != round_ || done_) return;
  const Part& p = parts_[static_cast<size_t>(part)];
  // Quiet deletes answer nothing but errors; NF is not one of them.
  const bool ok = p.flush ? reply == "OK\r\n" : reply.find("ERROR") == std::string_view::npos;
  if (!ok) {
    spdlog::warn("pool {}: rejoin of {}: {} answered {}", pool_->config().name,
                 pool_->config().servers[node_].Address(),
                 pool_->config().servers[p.node].Address(), reply.substr(0, 80));
  }
  PartDone(seq, part, ok);
}

void RejoinTask::OnPartFailed(uint64_t seq, int part, std::string_view error_line) {
  if (seq != round_ || done_) return;
  spdlog::warn("pool {}: rejoin of {}: {} failed: {}", pool_->config().name,
               pool_->config().servers[node_].Address(),
               pool_->config().servers[parts_[static_cast<size_t>(part)].node].Address(),
               error_line.substr(0, error_line.size() - 2));
  PartDone(seq, part, false);
}

bool RejoinTask::HandOverToStandIn(const Part& part) {
  if (part.node == node_) return false;
  if (part.flush) return pool_->NoteMissedFlush(part.node);
  for (size_t k : part.keys) {
    if (!pool_->NoteMovedWrite(part.node, work_.keys[k].key, -1)) return false;
  }
  return true;
}

void RejoinTask::PartDone(uint64_t seq, int part, bool ok) {
  if (seq != round_ || done_) return;
  if (!ok && !HandOverToStandIn(parts_[static_cast<size_t>(part)])) failed_ = true;
  if (--waiting_ > 0) return;
  if (failed_) {
    pool_->AbortRejoin(node_);
    done_ = true;
    return;
  }
  RejoinWork more;
  if (pool_->FinishRejoin(node_, &more)) {
    done_ = true;
    return;
  }
  work_ = std::move(more);
  SendRound();
}

}  // namespace warmcache::proxy
