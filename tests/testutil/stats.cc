// SPDX-License-Identifier: BSD-3-Clause
#include "tests/testutil/stats.h"

#include <charconv>
#include <thread>

#include "tests/testutil/escape.h"

namespace warmcache::testutil {

Result<StatMap> ParseStats(std::string_view reply) {
  StatMap stats;
  size_t pos = 0;
  while (pos < reply.size()) {
    const size_t eol = reply.find("\r\n", pos);
    if (eol == std::string_view::npos) break;
    const std::string_view line = reply.substr(pos, eol - pos);
    pos = eol + 2;
    if (line == "END") {
      if (pos != reply.size()) break;
      return stats;
    }
    const size_t space = line.find(' ', 5);
    if (line.substr(0, 5) != "STAT " || space == std::string_view::npos) {
      return Status::InvalidArgument("not a stats line: " + EscapeBytes(line));
    }
    stats.emplace(std::string(line.substr(5, space - 5)), std::string(line.substr(space + 1)));
  }
  return Status::InvalidArgument("stats reply does not end with END: " + EscapeBytes(reply));
}

Result<StatMap> ReadStats(TestClient& client, std::string_view group) {
  const std::string request =
      group.empty() ? std::string("stats\r\n") : "stats " + std::string(group) + "\r\n";
  auto reply = client.Call(request, "END\r\n");
  if (!reply.ok()) return reply.status();
  return ParseStats(*reply);
}

std::optional<int64_t> StatInt(const StatMap& stats, std::string_view name) {
  const auto it = stats.find(name);
  if (it == stats.end()) return std::nullopt;
  int64_t value = 0;
  const std::string& text = it->second;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

Result<StatMap> WaitForStats(TestClient& client, const std::function<bool(const StatMap&)>& done,
                             std::chrono::milliseconds deadline, std::string_view what) {
  const auto until = std::chrono::steady_clock::now() + deadline;
  while (true) {
    auto stats = ReadStats(client);
    if (!stats.ok()) return stats.status();
    if (done(*stats)) return stats;
    if (std::chrono::steady_clock::now() >= until) {
      std::string last = "absent";
      if (const auto it = stats->find(what); it != stats->end()) last = it->second;
      return Status::IoError("stats condition not met in " + std::to_string(deadline.count()) +
                             " ms" + (what.empty() ? "" : "; " + std::string(what) + " = " + last));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));  // between polls
  }
}

}  // namespace warmcache::testutil
