// SPDX-License-Identifier: BSD-3-Clause
#include "tests/testutil/server_process.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <set>
#include <sstream>
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

// True if process `pid` holds a TCP socket listening on `port` (IPv4 or IPv6, any address):
// the port's LISTEN sockets from /proc/net/tcp{,6}, matched by inode against the process's fds.
// Unlike a test connection, this cannot mistake another process on the port for the child.
bool ListensOn(pid_t pid, uint16_t port) {
  std::set<std::string> inodes;
  for (const char* table : {"/proc/net/tcp", "/proc/net/tcp6"}) {
    std::istringstream lines(ReadFileOrEmpty(table));
    std::string line;
    std::getline(lines, line);  // the column titles
    while (std::getline(lines, line)) {
      // sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode
      std::istringstream fields(line);
      std::string sl, local, remote, state, queues, timer, retransmits, uid, timeout, inode;
      fields >> sl >> local >> remote >> state >> queues >> timer >> retransmits >> uid >>
          timeout >> inode;
      const size_t colon = local.rfind(':');
      if (state != "0A" || colon == std::string::npos) continue;  // 0A: LISTEN
      if (std::strtoul(local.c_str() + colon + 1, nullptr, 16) == port) inodes.insert(inode);
    }
  }
  if (inodes.empty()) return false;
  std::error_code ec;
  const std::string fd_dir = "/proc/" + std::to_string(pid) + "/fd";
  for (const auto& fd : std::filesystem::directory_iterator(fd_dir, ec)) {
    const std::string target = std::filesystem::read_symlink(fd.path(), ec).string();
    if (target.rfind("socket:[", 0) == 0 && inodes.count(target.substr(8, target.size() - 9)) > 0) {
      return true;
    }
  }
  return false;
}

}  // namespace

Result<std::unique_ptr<ServerProcess>> ServerProcess::Spawn(const std::string& binary,
                                                            const std::vector<std::string>& args,
                                                            const EnvVars& env,
                                                            std::unique_ptr<TempDir> dir) {
  if (access(binary.c_str(), X_OK) != 0) {
    return Status::InvalidArgument("not executable: " + binary);
  }
  ExecPlan plan = MakeExecPlan(binary, args, env);
  int out_fd = open(dir->File("stdout").c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  int err_fd = open(dir->File("stderr").c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (out_fd < 0 || err_fd < 0) {
    if (out_fd >= 0) close(out_fd);
    if (err_fd >= 0) close(err_fd);
    return Status::IoError("cannot create output files in " + dir->path());
  }
  pid_t parent = getpid();
  pid_t pid = fork();
  if (pid == 0) ExecChild(plan, out_fd, err_fd, parent);
  close(out_fd);
  close(err_fd);
  if (pid < 0) return Status::IoError(std::string("fork: ") + std::strerror(errno));
  return std::unique_ptr<ServerProcess>(new ServerProcess(std::move(dir), pid));
}

Status ServerProcess::WaitReady(const std::string& binary, const std::string& what,
                                std::chrono::milliseconds deadline,
                                const std::function<bool()>& ready) {
  auto until = std::chrono::steady_clock::now() + deadline;
  while (true) {
    if (ready() && IsRunning()) return Status::Ok();
    if (!IsRunning()) {
      return Status::IoError(binary + " exited before " + what + " (" +
                             DescribeExitStatus(exit_status_) + "); stderr: " + StderrText());
    }
    if (std::chrono::steady_clock::now() >= until) {
      Kill9();
      return Status::IoError(binary + ": no " + what + " within " +
                             std::to_string(deadline.count()) + " ms; stderr: " + StderrText());
    }
    std::this_thread::sleep_for(kPollInterval);
  }
}

Result<std::unique_ptr<ServerProcess>> ServerProcess::Start(const std::string& binary,
                                                            const std::vector<std::string>& args,
                                                            const EnvVars& env,
                                                            std::chrono::milliseconds deadline) {
  auto dir = TempDir::Create("wc_server_");
  if (!dir.ok()) return dir.status();
  std::string port_file = (*dir)->File("port");
  EnvVars full_env = env;
  full_env.emplace_back("MEMCACHED_PORT_FILENAME", port_file);
  auto server = Spawn(binary, args, full_env, std::move(dir).value());
  if (!server.ok()) return server.status();
  ServerProcess* s = server->get();
  Status ready = s->WaitReady(binary, "writing its port", deadline, [&] {
    s->port_ = ParsePortFile(ReadFileOrEmpty(port_file));
    return s->port_ != 0;
  });
  if (!ready.ok()) return ready;
  return server;
}

Result<std::unique_ptr<ServerProcess>> ServerProcess::StartOnPort(
    const std::string& binary, const std::vector<std::string>& args, uint16_t port,
    const EnvVars& env, std::chrono::milliseconds deadline) {
  auto dir = TempDir::Create("wc_server_");
  if (!dir.ok()) return dir.status();
  auto server = Spawn(binary, args, env, std::move(dir).value());
  if (!server.ok()) return server.status();
  ServerProcess* s = server->get();
  s->port_ = port;
  Status ready = s->WaitReady(binary, "accepting on port " + std::to_string(port), deadline,
                              [s, port] { return ListensOn(s->pid_, port); });
  if (!ready.ok()) return ready;
  return server;
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

Result<uint16_t> PickFreePort() {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return Status::IoError(std::string("socket: ") + std::strerror(errno));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  const bool ok = bind(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) == 0 &&
                  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0;
  const int error = errno;
  close(fd);
  if (!ok) return Status::IoError(std::string("bind 127.0.0.1:0: ") + std::strerror(error));
  return static_cast<uint16_t>(ntohs(addr.sin_port));
}

std::string DescribeExitStatus(int status) {
  if (status == ServerProcess::kStillRunning) return "still running";
  if (status >= 0) return "exit code " + std::to_string(status);
  return "killed by signal " + std::to_string(-status) + " (" + strsignal(-status) + ")";
}

}  // namespace warmcache::testutil
