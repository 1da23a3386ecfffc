// SPDX-License-Identifier: BSD-3-Clause
#include "tests/testutil/server_process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <thread>

extern char** environ;

namespace warmcache::testutil {

namespace {

constexpr auto kPollInterval = std::chrono::milliseconds(2);
constexpr const char kPortPrefix[] = "TCP INET: ";

int DecodeWaitStatus(int raw) {
  if (WIFEXITED(raw)) return WEXITSTATUS(raw);
  if (WIFSIGNALED(raw)) return -WTERMSIG(raw);
  return ServerProcess::kStillRunning;
}

// Parses the first "TCP INET: <port>\n" line; 0 if none is complete yet.
uint16_t ParsePortFile(const std::string& text) {
  size_t pos = text.find(kPortPrefix);
  if (pos == std::string::npos) return 0;
  pos += sizeof(kPortPrefix) - 1;
  size_t end = text.find('\n', pos);
  if (end == std::string::npos) return 0;
  long port = std::strtol(text.substr(pos, end - pos).c_str(), nullptr, 10);
  return (port > 0 && port < 65536) ? static_cast<uint16_t>(port) : 0;
}

// Builds argv/envp before fork(): the child may only call async-signal-safe functions.
struct ExecPlan {
  std::vector<std::string> strings;
  std::vector<char*> argv;
  std::vector<char*> envp;
};

ExecPlan MakeExecPlan(const std::string& binary, const std::vector<std::string>& args,
                      const EnvVars& env) {
  ExecPlan plan;
  plan.strings.push_back(binary);
  plan.strings.insert(plan.strings.end(), args.begin(), args.end());
  size_t argc = plan.strings.size();
  for (char** e = environ; *e != nullptr; ++e) {
    std::string_view entry(*e);
    bool overridden = false;
    for (const auto& [name, value] : env) {
      if (entry.substr(0, name.size() + 1) == name + "=") overridden = true;
    }
    if (!overridden) plan.strings.emplace_back(entry);
  }
  for (const auto& [name, value] : env) plan.strings.push_back(name + "=" + value);
  for (size_t i = 0; i < plan.strings.size(); ++i) {
    (i < argc ? plan.argv : plan.envp).push_back(plan.strings[i].data());
  }
  plan.argv.push_back(nullptr);
  plan.envp.push_back(nullptr);
  return plan;
}

[[noreturn]] void ExecChild(const ExecPlan& plan, int out_fd, int err_fd, pid_t parent) {
  // Die with the test process, so a crashed test never leaves a server behind.
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (getppid() != parent) _exit(127);
  int null_fd = open("/dev/null", O_RDONLY);
  if (null_fd >= 0) dup2(null_fd, STDIN_FILENO);
  dup2(out_fd, STDOUT_FILENO);
  dup2(err_fd, STDERR_FILENO);
  execve(plan.argv[0], plan.argv.data(), plan.envp.data());
  static constexpr char kMsg[] = "testutil: execve failed\n";
  ssize_t ignored = write(STDERR_FILENO, kMsg, sizeof(kMsg) - 1);
  (void)ignored;
  _exit(127);
}

}  // namespace

Result<std::unique_ptr<ServerProcess>> ServerProcess::Start(const std::string& binary,
                                                            const std::vector<std::string>& args,
                                                            const EnvVars& env,
                                                            std::chrono::milliseconds deadline) {
  if (access(binary.c_str(), X_OK) != 0) {
    return Status::InvalidArgument("not executable: " + binary);
  }
  auto dir = TempDir::Create("wc_server_");
  if (!dir.ok()) return dir.status();
  std::string port_file = (*dir)->File("port");
  EnvVars full_env = env;
  full_env.emplace_back("MEMCACHED_PORT_FILENAME", port_file);
  ExecPlan plan = MakeExecPlan(binary, args, full_env);

  int out_fd = open((*dir)->File("stdout").c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  int err_fd = open((*dir)->File("stderr").c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (out_fd < 0 || err_fd < 0) {
    if (out_fd >= 0) close(out_fd);
    if (err_fd >= 0) close(err_fd);
    return Status::IoError("cannot create output files in " + (*dir)->path());
  }
  pid_t parent = getpid();
  pid_t pid = fork();
  if (pid == 0) ExecChild(plan, out_fd, err_fd, parent);
  close(out_fd);
  close(err_fd);
  if (pid < 0) return Status::IoError(std::string("fork: ") + std::strerror(errno));

  std::unique_ptr<ServerProcess> server(new ServerProcess(std::move(dir).value(), pid));
  auto until = std::chrono::steady_clock::now() + deadline;
  while (true) {
    server->port_ = ParsePortFile(ReadFileOrEmpty(port_file));
    if (server->port_ != 0) return server;
    if (!server->IsRunning()) {
      return Status::IoError(binary + " exited before writing its port (" +
                             DescribeExitStatus(server->exit_status_) +
                             "); stderr: " + server->StderrText());
    }
    if (std::chrono::steady_clock::now() >= until) {
      server->Kill9();
      return Status::IoError(binary + " wrote no port within " + std::to_string(deadline.count()) +
                             " ms; stderr: " + server->StderrText());
    }
    std::this_thread::sleep_for(kPollInterval);
  }
}

ServerProcess::~ServerProcess() { Stop(); }

bool ServerProcess::IsRunning() {
  if (exit_status_ != kStillRunning) return false;
  int raw = 0;
  pid_t r = waitpid(pid_, &raw, WNOHANG);
  if (r == pid_) {
    exit_status_ = DecodeWaitStatus(raw);
    return false;
  }
  if (r < 0 && errno == ECHILD) {
    exit_status_ = -SIGKILL;  // reaped elsewhere; should not happen
    return false;
  }
  return true;
}

bool ServerProcess::WaitExit(std::chrono::milliseconds timeout) {
  auto until = std::chrono::steady_clock::now() + timeout;
  while (IsRunning()) {
    if (std::chrono::steady_clock::now() >= until) return false;
    std::this_thread::sleep_for(kPollInterval);
  }
  return true;
}

int ServerProcess::Stop(std::chrono::milliseconds grace) {
  if (!IsRunning()) return exit_status_;
  kill(pid_, SIGTERM);
  if (WaitExit(grace)) return exit_status_;
  return Kill9();
}

int ServerProcess::Kill9() {
  if (!IsRunning()) return exit_status_;
  kill(pid_, SIGKILL);
  int raw = 0;
  while (waitpid(pid_, &raw, 0) < 0 && errno == EINTR) {
  }
  exit_status_ = DecodeWaitStatus(raw);
  return exit_status_;
}

std::string ServerProcess::StderrText() const { return ReadFileOrEmpty(dir_->File("stderr")); }
std::string ServerProcess::StdoutText() const { return ReadFileOrEmpty(dir_->File("stdout")); }

std::string DescribeExitStatus(int status) {
  if (status == ServerProcess::kStillRunning) return "still running";
  if (status >= 0) return "exit code " + std::to_string(status);
  return "killed by signal " + std::to_string(-status) + " (" + strsignal(-status) + ")";
}

}  // namespace warmcache::testutil
