// SPDX-License-Identifier: BSD-3-Clause
// RunCommand: runs a helper program (a client tool, a script) to completion with a deadline.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "server/common/status.h"

namespace warmcache::testutil {

struct CommandResult {
  int exit_status = 0;  // as ServerProcess: >= 0 exit code, < 0 minus the signal number
  std::string output;   // stdout and stderr, interleaved
};

// Runs argv[0] (a path, or a name looked up in $PATH) with stdin from /dev/null. Past
// `timeout` the program is killed (exit_status -SIGKILL). kIoError if it cannot be started.
Result<CommandResult> RunCommand(const std::vector<std::string>& argv,
                                 std::chrono::milliseconds timeout);

// True if `name` is an executable path, or found as one in $PATH.
bool HaveProgram(const std::string& name);

}  // namespace warmcache::testutil
