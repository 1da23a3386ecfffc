// SPDX-License-Identifier: BSD-3-Clause
// ServerProcess: runs a memcached-compatible server binary (warmcached or the memcached
// oracle) as a child process on an ephemeral loopback port.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "server/common/status.h"
#include "tests/testutil/temp_dir.h"

namespace warmcache::testutil {

// Extra environment variables for the child, on top of the parent's environment.
using EnvVars = std::vector<std::pair<std::string, std::string>>;

// One running child server. The caller passes the flags; memcached's convention is used to
// learn the port: pass `-p -1` and the server writes "TCP INET: <port>\n" into the file named
// by $MEMCACHED_PORT_FILENAME, which Start() points at a fresh temp file.
// The child's stdout and stderr go to temp files (StdoutText(), StderrText()); stdin is
// /dev/null; the child gets SIGKILL if the test process dies, so no server outlives a test.
// Thread safety: none; use from one thread.
class ServerProcess {
 public:
  // Exit status from Stop()/Kill9(): >= 0 is an exit code, < 0 is minus the signal number.
  static constexpr int kStillRunning = 1 << 16;

  // Forks and execs `binary args...`, then polls (every few ms, for at most `deadline`) until
  // the port file holds a port. Fails fast with kIoError if the child exits first (the
  // message includes its stderr), or if the deadline passes (the child is then killed).
  static Result<std::unique_ptr<ServerProcess>> Start(
      const std::string& binary, const std::vector<std::string>& args, const EnvVars& env = {},
      std::chrono::milliseconds deadline = std::chrono::seconds(10));

  // For programs that take a fixed port and write no port file (nutcracker, or warmcached
  // restarted with `-p PORT`): forks and execs, then polls until the child itself listens on
  // TCP `port` (Linux: /proc). Fails as Start() does; a child that cannot bind because another
  // process holds the port normally exits, which fails at once.
  static Result<std::unique_ptr<ServerProcess>> StartOnPort(
      const std::string& binary, const std::vector<std::string>& args, uint16_t port,
      const EnvVars& env = {}, std::chrono::milliseconds deadline = std::chrono::seconds(10));

  ~ServerProcess();  // Stop() if still running
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;

  uint16_t port() const { return port_; }
  pid_t pid() const { return pid_; }

  // SIGTERM, then wait up to `grace` for exit, then SIGKILL. Returns the exit status (see
  // above). Calling it again returns the same status.
  int Stop(std::chrono::milliseconds grace = std::chrono::seconds(10));
  // SIGKILL and reap. Returns the exit status (normally -SIGKILL).
  int Kill9();
  // Non-blocking: true while the child has not exited (reaps it if it has).
  bool IsRunning();

  // Everything the child wrote so far to stderr / stdout.
  std::string StderrText() const;
  std::string StdoutText() const;

 private:
  ServerProcess(std::unique_ptr<TempDir> dir, pid_t pid) : dir_(std::move(dir)), pid_(pid) {}
  // Forks and execs with stdout/stderr into files of `dir`.
  static Result<std::unique_ptr<ServerProcess>> Spawn(const std::string& binary,
                                                      const std::vector<std::string>& args,
                                                      const EnvVars& env,
                                                      std::unique_ptr<TempDir> dir);
  // Polls `ready` until it returns true; fails if the child exits first or `deadline` passes
  // (then kills it). `what` says what was awaited, for the message.
  Status WaitReady(const std::string& binary, const std::string& what,
                   std::chrono::milliseconds deadline, const std::function<bool()>& ready);
  // Waits up to `timeout` for the child to exit; true if it did (status stored).
  bool WaitExit(std::chrono::milliseconds timeout);

  std::unique_ptr<TempDir> dir_;  // port file and output files
  pid_t pid_;
  uint16_t port_ = 0;
  int exit_status_ = kStillRunning;
};

// A loopback TCP port that was free a moment ago (bound to port 0 on 127.0.0.1, then closed),
// for programs that cannot be told to pick one themselves. Another process may take it first,
// so callers retry on "address in use".
Result<uint16_t> PickFreePort();

// Describes "exit code 0", "killed by signal 9", or "still running".
std::string DescribeExitStatus(int status);

}  // namespace warmcache::testutil
