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
  spdlog::info("pool {}: letting {} back in: {}", pool_->config().name,
               pool_->config().servers[node_].Address(),
               work_.flush ? std::string("flush_all first (it missed one, or too many writes)")
                           : "deleting " + std::to_string(work_.keys.size()) +
                                 " keys written elsewhere meanwhile");
  std::string home;
  std::map<int, std::string> interims;
  if (work_.flush) home = "flush_all noreply\r\n";  // kUntilNoop frames meta and error lines only
  for (const MovedKey& moved : work_.keys) {
    if (!work_.flush) AppendQuietDelete(moved.key, &home);
    if (moved.interim >= 0 && moved.interim != node_) {
      AppendQuietDelete(moved.key, &interims[moved.interim]);
    }
  }
  ++round_;
  home_failed_ = false;
  waiting_ = 1 + static_cast<int>(interims.size());
  worker_->backend(node_).Forward(home, Expect::kUntilNoop, handle_, round_, 0);
  int part = 1;
  for (const auto& [interim, lines] : interims) {
    worker_->backend(interim).Forward(lines, Expect::kUntilNoop, handle_, round_, part++);
  }
  worker_->FlushBackends();
}

void RejoinTask::OnReply(uint64_t seq, int part, std::string_view reply) {
  (void)reply;  // quiet deletes answer only errors, which change nothing here
  (void)part;
  PartDone(seq, false);
}

void RejoinTask::OnPartFailed(uint64_t seq, int part, std::string_view error_line) {
  if (part == 0) {
    spdlog::warn("pool {}: {} failed while rejoining: {}", pool_->config().name,
                 pool_->config().servers[node_].Address(),
                 error_line.substr(0, error_line.size() - 2));
  }
  PartDone(seq, part == 0);
}

void RejoinTask::PartDone(uint64_t seq, bool home_failed) {
  if (seq != round_ || done_) return;
  home_failed_ = home_failed_ || home_failed;
  if (--waiting_ > 0) return;
  if (home_failed_) {
    pool_->AbortRejoin(node_, std::move(work_));
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
