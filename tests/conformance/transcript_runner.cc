// SPDX-License-Identifier: BSD-3-Clause
#include "tests/conformance/transcript_runner.h"

#include <charconv>
#include <ctime>
#include <map>
#include <memory>
#include <regex>
#include <string>

#include "tests/testutil/escape.h"
#include "tests/testutil/test_client.h"

namespace warmcache::conformance {

namespace {

using testutil::EscapeBytes;
using testutil::TestClient;
using StatsMap = std::map<std::string, std::string>;

constexpr char kMainConnection[] = "main";

std::string Quote(std::string_view bytes) { return "\"" + EscapeBytes(bytes) + "\""; }

class Runner {
 public:
  Runner(const Transcript& t, uint16_t port, const RunOptions& options)
      : t_(t), port_(port), options_(options) {}

  Status Run() {
    if (t_.uses_stats_delta) WC_RETURN_IF_ERROR(Snapshot(&baseline_));
    for (size_t i = 0; i < t_.steps.size(); ++i) {
      const Step& step = t_.steps[i];
      Status s = RunStep(step, i);
      if (!s.ok()) {
        return Status(s.code(),
                      t_.name + ".txt line " + std::to_string(step.line) + ": " + s.message());
      }
    }
    return CheckQuiet();
  }

 private:
  Status RunStep(const Step& step, size_t index) {
    switch (step.kind) {
      case StepKind::kUseConnection:
        current_ = step.text;
        return Status::Ok();
      case StepKind::kCloseConnection:
        conns_.erase(current_);
        return Status::Ok();
      case StepKind::kStatsDelta:
        return CheckStatsDelta(step, index);
      default:
        break;
    }
    auto client = Current();
    if (!client.ok()) return client.status();
    if (step.kind == StepKind::kExpectClosed)
      return (*client)->WaitClosedByPeer(options_.reply_timeout);
    if (step.kind == StepKind::kExpectQuiet) return ExpectQuiet(**client);
    if (step.kind == StepKind::kExpectLineRegex) return ExpectLineRegex(**client, step);
    if (step.kind == StepKind::kExpectLinesRegex) return ExpectLinesRegex(**client, step);
    auto bytes = StepBytes(step, MakeContext());
    if (!bytes.ok()) return bytes.status();
    if (step.kind == StepKind::kSend) return (*client)->Send(*bytes);
    return ExpectBytes(**client, *bytes);
  }

  Result<TestClient*> Current() {
    auto it = conns_.find(current_);
    if (it != conns_.end()) return it->second.get();
    auto client = TestClient::Connect(port_, options_.reply_timeout);
    if (!client.ok()) return client.status();
    TestClient* raw = client->get();
    conns_[current_] = std::move(client).value();
    return raw;
  }

  // Reads line by line (so a short reply does not wait for bytes that never come) until
  // `expected` has been matched or a difference shows.
  static Status ExpectBytes(TestClient& client, const std::string& expected) {
    std::string got;
    while (got.size() < expected.size()) {
      bool has_newline = expected.find('\n', got.size()) != std::string::npos;
      auto chunk =
          has_newline ? client.ReadUntil("\n") : client.ReadBytes(expected.size() - got.size());
      if (!chunk.ok()) {
        return Status::IoError("reply incomplete\n  expected: " + Quote(expected) +
                               "\n  actual:   " + Quote(got) +
                               "\n  then:     " + chunk.status().message());
      }
      got += *chunk;
      if (expected.compare(0, got.size(), got) != 0) return Mismatch(client, Quote(expected), got);
    }
    return Status::Ok();
  }

  Status ExpectQuiet(TestClient& client) {
    std::string extra = client.ReadAvailable(options_.quiet_step);
    if (!extra.empty() || client.peer_closed()) {
      return Status(StatusCode::kCorruption, "expected no reply yet, got " + Quote(extra) +
                                                 (client.peer_closed() ? " and a close" : ""));
    }
    return Status::Ok();
  }

  static Status Mismatch(TestClient& client, const std::string& expected, const std::string& got) {
    std::string more = client.ReadAvailable(std::chrono::milliseconds(20));
    return Status(StatusCode::kCorruption,
                  "reply differs\n  expected: " + expected + "\n  actual:   " + Quote(got) +
                      (more.empty() ? "" : "\n  then:     " + Quote(more)));
  }

  Context MakeContext() const { return Context{std::time(nullptr), &captures_}; }

  Status ExpectLineRegex(TestClient& client, const Step& step) {
    auto pattern = ExpandVariables(step.text, MakeContext());
    if (!pattern.ok()) return pattern.status();
    auto line = client.ReadUntil("\n");
    if (!line.ok()) {
      return Status::IoError("expected a line matching /" + *pattern +
                             "/\n  then:     " + line.status().message());
    }
    std::smatch match;
    if (!MatchesLine(*line, std::regex(*pattern), &match)) {
      return Mismatch(client, "/" + *pattern + "/\\r\\n", *line);
    }
    captures_.assign(match.begin(), match.end());
    return Status::Ok();
  }

  Status ExpectLinesRegex(TestClient& client, const Step& step) {
    auto pattern = ExpandVariables(step.text, MakeContext());
    if (!pattern.ok()) return pattern.status();
    std::regex re(*pattern);
    std::smatch match;
    while (true) {
      auto line = client.PeekUntil("\n");
      if (!line.ok() || !MatchesLine(*line, re, &match)) return Status::Ok();
      auto consumed = client.ReadUntil("\n");
      if (!consumed.ok()) return consumed.status();
    }
  }

  // `match` refers into `line`'s copy held in `matched_line_`.
  bool MatchesLine(const std::string& line, const std::regex& re, std::smatch* match) {
    if (line.size() < 2 || line.compare(line.size() - 2, 2, "\r\n") != 0) return false;
    matched_line_ = line.substr(0, line.size() - 2);
    return std::regex_match(matched_line_, *match, re);
  }

  // A run of "+" steps shares one fresh snapshot; the run's last step makes it the baseline.
  Status CheckStatsDelta(const Step& step, size_t index) {
    bool first = index == 0 || t_.steps[index - 1].kind != StepKind::kStatsDelta;
    bool last = index + 1 == t_.steps.size() || t_.steps[index + 1].kind != StepKind::kStatsDelta;
    if (first) WC_RETURN_IF_ERROR(Snapshot(&latest_));
    int64_t before = 0;
    int64_t after = 0;
    if (!StatValue(baseline_, step.text, &before) || !StatValue(latest_, step.text, &after)) {
      return Status::InvalidArgument("stat " + step.text + " is missing or not an integer");
    }
    if (last) baseline_ = latest_;
    if (after - before != step.delta) {
      return Status(StatusCode::kCorruption,
                    "stat " + step.text + " changed by " + std::to_string(after - before) + " (" +
                        std::to_string(before) + " -> " + std::to_string(after) + "), expected " +
                        std::to_string(step.delta));
    }
    return Status::Ok();
  }

  static bool StatValue(const StatsMap& stats, const std::string& name, int64_t* out) {
    auto it = stats.find(name);
    if (it == stats.end()) return false;
    const std::string& v = it->second;
    auto [ptr, ec] = std::from_chars(v.data(), v.data() + v.size(), *out);
    return ec == std::errc() && ptr == v.data() + v.size();
  }

  // "stats" on a private connection, so the transcript's own connections are untouched.
  Status Snapshot(StatsMap* out) {
    if (!stats_conn_) {
      auto client = TestClient::Connect(port_, options_.reply_timeout);
      if (!client.ok()) return client.status();
      stats_conn_ = std::move(client).value();
    }
    WC_RETURN_IF_ERROR(stats_conn_->Send("stats\r\n"));
    out->clear();
    while (true) {
      auto line = stats_conn_->ReadLine();
      if (!line.ok()) return Status::IoError("reading stats: " + line.status().message());
      if (*line == "END") return Status::Ok();
      if (line->rfind("STAT ", 0) != 0) return Status::IoError("odd stats line " + Quote(*line));
      size_t space = line->find(' ', 5);
      if (space == std::string::npos) return Status::IoError("odd stats line " + Quote(*line));
      (*out)[line->substr(5, space - 5)] = line->substr(space + 1);
    }
  }

  Status CheckQuiet() {
    for (auto& [name, client] : conns_) {
      if (client->peer_closed()) continue;
      std::string extra = client->ReadAvailable(options_.quiet_period);
      if (!extra.empty()) {
        return Status(StatusCode::kCorruption, t_.name + ".txt end: connection '" + name +
                                                   "' received unexpected bytes " + Quote(extra));
      }
    }
    return Status::Ok();
  }

  const Transcript& t_;
  uint16_t port_;
  RunOptions options_;
  std::string current_ = kMainConnection;
  std::map<std::string, std::unique_ptr<TestClient>> conns_;
  std::unique_ptr<TestClient> stats_conn_;
  StatsMap baseline_;
  StatsMap latest_;
  std::string matched_line_;
  std::vector<std::string> captures_;  // of the last "<~" line
};

}  // namespace

Status RunTranscript(const Transcript& transcript, uint16_t port, const RunOptions& options) {
  return Runner(transcript, port, options).Run();
}

}  // namespace warmcache::conformance
