// SPDX-License-Identifier: BSD-3-Clause
#include "tests/testutil/run_command.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <sstream>
#include <thread>

#include "tests/testutil/temp_dir.h"

namespace warmcache::testutil {

namespace {
int Decode(int raw) {
  if (WIFEXITED(raw)) return WEXITSTATUS(raw);
  return WIFSIGNALED(raw) ? -WTERMSIG(raw) : -1;
}
}  // namespace

bool HaveProgram(const std::string& name) {
  if (name.find('/') != std::string::npos) return access(name.c_str(), X_OK) == 0;
  const char* path = std::getenv("PATH");
  std::istringstream dirs(path != nullptr ? path : "/usr/bin:/bin");
  std::string dir;
  while (std::getline(dirs, dir, ':')) {
    if (!dir.empty() && access((dir + "/" + name).c_str(), X_OK) == 0) return true;
  }
  return false;
}

Result<CommandResult> RunCommand(const std::vector<std::string>& argv,
                                 std::chrono::milliseconds timeout) {
  if (argv.empty()) return Status::InvalidArgument("empty argv");
  auto dir = TempDir::Create("wc_cmd_");
  if (!dir.ok()) return dir.status();
  std::string out_path = (*dir)->File("output");
  int out_fd = open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (out_fd < 0) return Status::IoError("cannot create " + out_path);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = fork();
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    int null_fd = open("/dev/null", O_RDONLY);
    if (null_fd >= 0) dup2(null_fd, STDIN_FILENO);
    dup2(out_fd, STDOUT_FILENO);
    dup2(out_fd, STDERR_FILENO);
    execvp(args[0], args.data());
    _exit(127);
  }
  close(out_fd);
  if (pid < 0) return Status::IoError(std::string("fork: ") + std::strerror(errno));
  auto until = std::chrono::steady_clock::now() + timeout;
  int raw = 0;
  while (true) {
    pid_t r = waitpid(pid, &raw, WNOHANG);
    if (r == pid) break;
    if (std::chrono::steady_clock::now() >= until) {
      kill(pid, SIGKILL);
      while (waitpid(pid, &raw, 0) < 0 && errno == EINTR) {
      }
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return CommandResult{Decode(raw), ReadFileOrEmpty(out_path)};
}

}  // namespace warmcache::testutil
