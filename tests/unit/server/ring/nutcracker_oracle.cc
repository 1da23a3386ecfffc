// SPDX-License-Identifier: BSD-3-Clause
#include "tests/unit/server/ring/nutcracker_oracle.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>
#include <unordered_map>

namespace warmcache::ring {

namespace {

using Clock = std::chrono::steady_clock;
constexpr auto kDeadline = std::chrono::seconds(10);
constexpr size_t kKeysPerGet = 100;

Status Errno(const std::string& what) {
  return Status::IoError(what + ": " + std::strerror(errno));
}

Result<int> ListenLoopback(uint16_t* port) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  if (fd < 0 || bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      listen(fd, 64) != 0 || getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    if (fd >= 0) close(fd);
    return Errno("backend listener");
  }
  *port = ntohs(addr.sin_port);
  return fd;
}

// A port nobody listens on right now, for nutcracker's stats listener (the default, 22222,
// may be taken by another test or a real nutcracker).
uint16_t FreePort() {
  uint16_t port = 0;
  Result<int> fd = ListenLoopback(&port);
  if (fd.ok()) close(*fd);
  return port;
}

int ConnectUnix(const std::string& path) {
  const int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path.c_str(), sizeof(addr.sun_path) - 1);
  if (fd >= 0 && connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0) return fd;
  if (fd >= 0) close(fd);
  return -1;
}

bool WriteAll(int fd, const std::string& data) {
  for (size_t done = 0; done < data.size();) {
    const ssize_t n = write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    done += static_cast<size_t>(n);
  }
  return true;
}

bool EndsWith(const std::string& s, std::string_view tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

}  // namespace

Result<std::unique_ptr<NutcrackerOracle>> NutcrackerOracle::Create(int backends) {
  std::unique_ptr<NutcrackerOracle> oracle(new NutcrackerOracle());
  auto dir = testutil::TempDir::Create("wc_nutcracker_");
  if (!dir.ok()) return dir.status();
  oracle->dir_ = std::move(dir).value();
  for (int i = 0; i < backends; ++i) {
    Backend backend;
    Result<int> fd = ListenLoopback(&backend.port);
    if (!fd.ok()) return fd.status();
    backend.listen_fd = *fd;
    oracle->backends_.push_back(std::move(backend));
  }
  return oracle;
}

NutcrackerOracle::~NutcrackerOracle() {
  if (pid_ > 0) {
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }
  for (Backend& b : backends_) {
    close(b.listen_fd);
    for (int fd : b.conns) {
      if (fd >= 0) close(fd);
    }
  }
}

std::string NutcrackerOracle::ListenPath(const std::string& name) const {
  return dir_->File(name + ".sock");
}

std::string NutcrackerOracle::Log() const {
  return testutil::ReadFileOrEmpty(dir_->File("nutcracker.log"));
}

Status NutcrackerOracle::Start(const std::string& pools_yaml,
                               const std::vector<std::string>& pools) {
  const std::string conf = dir_->File("nutcracker.yml");
  std::ofstream(conf) << pools_yaml;
  const std::vector<std::string> argv = {"nutcracker",
                                         "-c",
                                         conf,
                                         "-o",
                                         dir_->File("nutcracker.log"),
                                         "-s",
                                         std::to_string(FreePort()),
                                         "-a",
                                         "127.0.0.1",
                                         "-p",
                                         dir_->File("nutcracker.pid")};
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_ = fork();
  if (pid_ < 0) return Errno("fork");
  if (pid_ == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);  // never outlive the test
    execvp(args[0], args.data());
    _exit(127);
  }
  const auto deadline = Clock::now() + kDeadline;
  for (const std::string& pool : pools) {
    int fd = -1;
    while ((fd = ConnectUnix(ListenPath(pool))) < 0) {
      if (waitpid(pid_, nullptr, WNOHANG) == pid_ || Clock::now() > deadline) {
        pid_ = -1;
        return Status::IoError("nutcracker did not start: " + Log());
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    close(fd);
  }
  return Status::Ok();
}

Result<std::vector<int>> NutcrackerOracle::Route(const std::string& pool,
                                                 const std::vector<std::string>& keys) {
  const int client = ConnectUnix(ListenPath(pool));
  if (client < 0) return Errno("connect to pool " + pool);
  std::vector<int> owners(keys.size(), -1);
  key_index_.clear();
  for (size_t i = 0; i < keys.size(); ++i) key_index_[keys[i]] = i;
  Status status;
  for (size_t begin = 0; begin < keys.size() && status.ok(); begin += kKeysPerGet) {
    status = RouteBatch(client, keys, begin, std::min(keys.size(), begin + kKeysPerGet), &owners);
  }
  close(client);
  if (!status.ok()) return status;
  return owners;
}

Status NutcrackerOracle::RouteBatch(int client_fd, const std::vector<std::string>& keys,
                                    size_t begin, size_t end, std::vector<int>* owners) {
  std::string request = "get";
  for (size_t i = begin; i < end; ++i) request += " " + keys[i];
  if (!WriteAll(client_fd, request + "\r\n")) return Errno("write to nutcracker");
  std::string reply;
  const auto deadline = Clock::now() + kDeadline;
  while (!EndsWith(reply, "END\r\n")) {
    std::vector<pollfd> fds = {{client_fd, POLLIN, 0}};
    std::vector<std::pair<int, size_t>> who = {{-1, 0}};  // (backend, conn) per pollfd
    for (size_t b = 0; b < backends_.size(); ++b) {
      fds.push_back({backends_[b].listen_fd, POLLIN, 0});
      who.emplace_back(static_cast<int>(b), SIZE_MAX);
      for (size_t c = 0; c < backends_[b].conns.size(); ++c) {
        if (backends_[b].conns[c] < 0) continue;
        fds.push_back({backends_[b].conns[c], POLLIN, 0});
        who.emplace_back(static_cast<int>(b), c);
      }
    }
    if (Clock::now() > deadline) return Status::IoError("no reply from nutcracker: " + Log());
    if (poll(fds.data(), fds.size(), 100) < 0 && errno != EINTR) return Errno("poll");
    for (size_t i = 0; i < fds.size(); ++i) {
      if (fds[i].revents == 0) continue;
      const auto [backend, conn] = who[i];
      if (backend < 0) {
        char buf[4096];
        const ssize_t n = read(client_fd, buf, sizeof(buf));
        if (n <= 0) return Status::IoError("nutcracker closed the client connection: " + Log());
        reply.append(buf, static_cast<size_t>(n));
      } else if (conn == SIZE_MAX) {
        const int fd = accept4(fds[i].fd, nullptr, nullptr, SOCK_CLOEXEC);
        if (fd >= 0) {
          backends_[backend].conns.push_back(fd);
          backends_[backend].inputs.emplace_back();
        }
      } else {
        ServeBackend(backend, conn, owners);
      }
    }
  }
  return Status::Ok();
}

// Reads what nutcracker sent one backend connection and answers each complete get with END.
void NutcrackerOracle::ServeBackend(int backend, size_t conn, std::vector<int>* owners) {
  Backend& b = backends_[backend];
  char buf[65536];
  const ssize_t n = read(b.conns[conn], buf, sizeof(buf));
  if (n <= 0) {  // nutcracker closed it
    close(b.conns[conn]);
    b.conns[conn] = -1;
    return;
  }
  std::string& input = b.inputs[conn];
  input.append(buf, static_cast<size_t>(n));
  for (size_t eol; (eol = input.find("\r\n")) != std::string::npos; input.erase(0, eol + 2)) {
    std::istringstream words(input.substr(0, eol));
    std::string word;
    words >> word;  // "get" (nutcracker turns a client's get into gets to the backends)
    while (words >> word) {
      if (auto it = key_index_.find(word); it != key_index_.end()) {
        (*owners)[it->second] = backend;
      }
    }
    WriteAll(b.conns[conn], "END\r\n");
  }
}

}  // namespace warmcache::ring
