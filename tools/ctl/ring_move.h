// SPDX-License-Identifier: BSD-3-Clause
// `warmcachectl ring move`: the warm hand-off after a pool change (issue #6, docs/handoff.md).
// Each node of the old pool cuts a snapshot file (the `snapshot` command); every live item the
// old ring gives that node and the new ring gives another node is stored on its new owner with
// a meta set in add mode, so it never overwrites a value written through the new ring since.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "tools/ctl/ctl_args.h"

namespace warmcache::ctl {

// args: what follows "ring move". Returns the process exit code.
int RunRingMove(const Args& args);

// The pieces below are exposed for the unit tests.

// The T token that gives an item expiring at `exptime` (absolute unix seconds; 0: never) the
// same expiry when stored at `now`: 0 for never, the seconds left while they are at most 30
// days (memcached reads larger values as a unix time), else `exptime` itself. -1: already
// expired (memcached treats an item as gone from its exptime second on).
int64_t RemainingTtl(uint32_t exptime, int64_t now);

// The replies to a pipelined batch of quiet meta commands, each tagged `O<index>`: a success
// (HD) sends nothing, anything else ("NS", "EX", "NF") echoes the opaque.
struct QuietReplies {
  std::vector<std::string> codes;   // per request: "" (the hidden success) or the reply's code
  std::vector<std::string> errors;  // lines naming no request (CLIENT_ERROR, SERVER_ERROR, ...)
};
QuietReplies MatchQuietReplies(const std::vector<std::string>& lines, size_t requests);

}  // namespace warmcache::ctl
