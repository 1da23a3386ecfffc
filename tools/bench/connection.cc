// SPDX-License-Identifier: BSD-3-Clause
#include "tools/bench/connection.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <span>

namespace warmcache::tools::bench {

namespace {
constexpr size_t kReadChunk = 64 * 1024;
std::atomic<bool> mismatch_reported{false};  // the first wrong value is printed, the rest counted

Status Errno(std::string_view what) {
  return Status::IoError(fmt::format("{}: {}", what, std::strerror(errno)));
}
}  // namespace

Result<std::unique_ptr<Connection>> Connection::Open(const sockaddr_in& address,
                                                     const ConnectionContext& context) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return Errno("socket");
  std::unique_ptr<Connection> conn(new Connection(fd, context));
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof(address)) != 0) {
    return Errno("connect");
  }
  const int one = 1;
  if (::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) != 0) {
    return Errno("TCP_NODELAY");
  }
  if (::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK) != 0) return Errno("O_NONBLOCK");
  return conn;
}

Connection::Connection(int fd, const ConnectionContext& context)
    : fd_(fd), context_(context), in_(kReadChunk) {}

Connection::~Connection() { ::close(fd_); }

Status Connection::Fill(int64_t now_ns) {
  while (pending_.size() < static_cast<size_t>(context_.depth) &&
         context_.source->Next(now_ns, &request_)) {
    if (request_.is_get) {
      context_.codec->AppendGet(request_.key_ids, &out_);
    } else {
      context_.codec->AppendSet(request_.key_ids.front(), &out_);
    }
    pending_.push_back({request_.is_get, static_cast<uint32_t>(request_.key_ids.size()), NowNs()});
    pending_keys_.insert(pending_keys_.end(), request_.key_ids.begin(), request_.key_ids.end());
    if (context_.stats->first_issue_ns == 0) context_.stats->first_issue_ns = now_ns;
  }
  return Flush();
}

Status Connection::Flush() {
  while (out_pos_ < out_.size()) {
    const ssize_t n = ::send(fd_, out_.data() + out_pos_, out_.size() - out_pos_, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return Status::Ok();
      return Errno("send");
    }
    out_pos_ += static_cast<size_t>(n);
  }
  out_.clear();
  out_pos_ = 0;
  return Status::Ok();
}

Status Connection::OnWritable() { return Flush(); }

Status Connection::OnReadable(int64_t now_ns) {
  // Move the unparsed tail (usually nothing or part of one reply) to the front, and grow
  // when a reply is larger than the buffer.
  if (in_start_ > 0) {
    std::memmove(in_.data(), in_.data() + in_start_, in_end_ - in_start_);
    in_end_ -= in_start_;
    in_start_ = 0;
  }
  if (in_.size() - in_end_ < kReadChunk / 4 || need_total_ > in_.size()) {
    in_.resize(std::max(in_.size() * 2, need_total_ + kReadChunk));
  }
  const ssize_t n = ::recv(fd_, in_.data() + in_end_, in_.size() - in_end_, 0);
  if (n == 0) return Status::IoError("server closed the connection");
  if (n < 0) {
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return Status::Ok();
    return Errno("recv");
  }
  in_end_ += static_cast<size_t>(n);
  // Stamp replies when their bytes arrive, not when epoll returned: the loop may have spent a
  // while on other connections of the same batch in between.
  now_ns = std::max(now_ns, NowNs());
  WC_RETURN_IF_ERROR(CompleteReplies(now_ns));
  return Fill(now_ns);
}

Status Connection::CompleteReplies(int64_t now_ns) {
  while (!pending_.empty() && in_end_ - in_start_ >= need_total_) {
    const std::string_view input(in_.data() + in_start_, in_end_ - in_start_);
    const Pending& pending = pending_.front();
    const ExpectedReply expected =
        pending.is_get ? ExpectedReply::kRetrieval : ExpectedReply::kStorage;
    const ParseStatus status = ParseReply(input, expected, &reply_);
    if (status == ParseStatus::kNeedMore) {
      need_total_ = reply_.need_total;
      return Status::Ok();
    }
    if (status == ParseStatus::kMalformed) {
      ++context_.stats->malformed;
      return Status::Corruption(fmt::format("malformed reply: {}", reply_.message));
    }
    Complete(pending, now_ns);
    pending_keys_.erase(pending_keys_.begin(), pending_keys_.begin() + pending.key_count);
    pending_.pop_front();
    in_start_ += reply_.consumed;
    need_total_ = 0;
  }
  if (pending_.empty() && in_end_ > in_start_) {
    ++context_.stats->malformed;
    return Status::Corruption("bytes from the server with no request in flight");
  }
  return Status::Ok();
}

void Connection::Complete(const Pending& pending, int64_t now_ns) {
  RunStats& stats = *context_.stats;
  const bool in_window = context_.schedule->InWindow(now_ns);
  stats.last_completion_ns = std::max(stats.last_completion_ns, now_ns);
  if (pending.is_get) {
    CountGet(pending, in_window);
  } else if (reply_.kind != ReplyKind::kStored) {
    ++stats.error_replies;
  } else if (in_window) {
    ++stats.sets;
  }
  if (!in_window) return;
  ++stats.requests;
  stats.latency_ns.Record(static_cast<uint64_t>(now_ns - pending.sent_ns));
}

void Connection::CountGet(const Pending& pending, bool in_window) {
  RunStats& stats = *context_.stats;
  if (reply_.kind != ReplyKind::kEnd) {
    ++stats.error_replies;
    return;
  }
  // The deque is not contiguous; copy the (few) ids into a span-able buffer.
  request_.key_ids.assign(pending_keys_.begin(), pending_keys_.begin() + pending.key_count);
  const RequestCodec::GetCheck check = context_.codec->CheckGet(request_.key_ids, reply_);
  stats.bad_values += check.mismatched + (check.unexpected ? 1 : 0);
  if (!check.ok() && !mismatch_reported.exchange(true)) {
    fmt::print(stderr, "warmcache-bench: WRONG VALUE: {}\n",
               check.mismatched > 0
                   ? fmt::format("key {} has bytes or flags other than the ones written",
                                 context_.codec->Key(check.first_mismatched_id))
                   : std::string("a key that was not asked, or out of order"));
  }
  if (!in_window) return;
  ++stats.gets;
  stats.get_keys += pending.key_count;
  stats.hits += check.hits;
  stats.misses += check.misses;
}

}  // namespace warmcache::tools::bench
