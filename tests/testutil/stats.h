// SPDX-License-Identifier: BSD-3-Clause
// Reading `stats` replies in tests: parsing, integer fields, polling with a deadline.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "server/common/status.h"
#include "tests/testutil/test_client.h"

namespace warmcache::testutil {

// name -> value, as the server wrote them.
using StatMap = std::map<std::string, std::string, std::less<>>;

// Parses a whole reply of "STAT <name> <value>\r\n" lines ending in "END\r\n". The value is
// the rest of the line (it may hold spaces). kInvalidArgument for any other line, a missing
// END, or bytes after it.
Result<StatMap> ParseStats(std::string_view reply);

// Sends "stats\r\n" (or "stats <group>\r\n") and parses the reply.
Result<StatMap> ReadStats(TestClient& client, std::string_view group = "");

// The value of `name` as a signed 64-bit integer; nullopt if absent or not an integer.
std::optional<int64_t> StatInt(const StatMap& stats, std::string_view name);

// Polls ReadStats(client) every few ms until `done(stats)` holds, and returns those stats.
// kIoError if the deadline passes first (the message names the last value of `what`, a stat
// worth quoting) or if the connection fails.
Result<StatMap> WaitForStats(TestClient& client, const std::function<bool(const StatMap&)>& done,
                             std::chrono::milliseconds deadline, std::string_view what = "");

}  // namespace warmcache::testutil
