// SPDX-License-Identifier: BSD-3-Clause
// warmcached: parse options, set up the process the way memcached does, run the server.
#include <grp.h>
#include <malloc.h>
#include <pwd.h>
#include <signal.h>
#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "server/app/options.h"
#include "server/app/proxy_server.h"
#include "server/app/server.h"
#include "warmcache_version.h"

namespace {

using warmcache::Status;
using warmcache::app::Settings;

constexpr int kExitSoftware = 70;  // EX_SOFTWARE: could not start

void SetUpLogging(const Settings& s) {
  std::shared_ptr<spdlog::logger> logger;
  if (!s.log_file.empty()) {
    logger = spdlog::basic_logger_mt("warmcached", s.log_file);
  } else {
    logger = spdlog::stderr_logger_mt("warmcached");
  }
  logger->set_pattern("%Y-%m-%d %H:%M:%S.%e %l %v");
  logger->set_level(s.verbose == 0   ? spdlog::level::info
                    : s.verbose == 1 ? spdlog::level::debug
                                     : spdlog::level::trace);
  logger->flush_on(spdlog::level::info);
  spdlog::set_default_logger(logger);
}

// Like memcached: make room for -c connections, raising the soft limit toward the hard one.
void RaiseFileLimit(int max_connections) {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return;
  const rlim_t wanted = static_cast<rlim_t>(max_connections) + 64;
  if (limit.rlim_cur >= wanted) return;
  rlimit raised = limit;
  raised.rlim_cur = std::min(wanted, limit.rlim_max);
  if (wanted > limit.rlim_max && geteuid() == 0) raised.rlim_cur = raised.rlim_max = wanted;
  if (setrlimit(RLIMIT_NOFILE, &raised) != 0 || raised.rlim_cur < wanted) {
    spdlog::warn("open file limit {} is below -c {}: some connections may be refused",
                 raised.rlim_cur, max_connections);
  }
}

Status DropPrivileges(const Settings& s) {
  if (geteuid() != 0) return Status::Ok();  // -u only matters for root, as in memcached
  if (s.user.empty()) {
    spdlog::warn("running as root; memcached would insist on -u <user>");
    return Status::Ok();
  }
  const passwd* pw = getpwnam(s.user.c_str());
  if (pw == nullptr)
    return Status::InvalidArgument("can't find the user " + s.user + " to switch to");
  if (pw->pw_uid == 0) return Status::Ok();
  if (setgroups(0, nullptr) != 0 || setgid(pw->pw_gid) != 0 || setuid(pw->pw_uid) != 0) {
    return Status::InvalidArgument("failed to assume identity of user " + s.user);
  }
  return Status::Ok();
}

void PrepareProcess(const Settings& s) {
  signal(SIGPIPE, SIG_IGN);  // a closed client must not kill the server mid-write
  if (s.coredumps) {
    rlimit core{RLIM_INFINITY, RLIM_INFINITY};
    if (setrlimit(RLIMIT_CORE, &core) != 0) spdlog::warn("-r: could not raise the core limit");
  }
  if (s.lock_memory && mlockall(MCL_CURRENT | MCL_FUTURE) != 0) {
    spdlog::warn("-k: mlockall() failed: {}; proceeding without", std::strerror(errno));
  }
  RaiseFileLimit(s.max_connections);
}

std::string Megabytes(size_t bytes) { return std::to_string(bytes >> 20) + " MB"; }

}  // namespace

int main(int argc, char** argv) {
  // One malloc arena: items are allocated on loop threads (stores) and warm-tier I/O threads
  // (promotions) and freed anywhere, and per-thread arenas each kept their own free lists.
  // Measured with -m 64 over 1M x 1000 B and 8 s of zipf reads: max RSS 218 MiB with glibc's
  // default arenas, 154 MiB with 2, 117 MiB with 1, at the same throughput (glibc's tcache
  // still serves small allocations without the arena lock).
  mallopt(M_ARENA_MAX, 1);
  std::vector<std::string> args(argv, argv + argc);
  auto parsed = warmcache::app::ParseOptions(args);
  if (!parsed.ok()) {
    std::fprintf(stderr, "warmcached: %s\n", parsed.status().message().c_str());
    return warmcache::app::kExitUsage;
  }
  const Settings& settings = parsed->settings;
  switch (parsed->action) {
    case warmcache::app::ParseAction::kPrintHelp:
      std::fputs(warmcache::app::HelpText().c_str(), stdout);
      return 0;
    case warmcache::app::ParseAction::kPrintVersion:
      std::printf("warmcached %s (memcached 1.6.18 compatible)\n", WARMCACHE_VERSION);
      return 0;
    case warmcache::app::ParseAction::kPrintLicense:
      std::puts("warmcache is distributed under the BSD 3-clause licence.");
      return 0;
    case warmcache::app::ParseAction::kRun:
      break;
  }

  if (settings.daemonize && daemon(/*nochdir=*/0, /*noclose=*/settings.verbose > 0) != 0) {
    std::fprintf(stderr, "warmcached: failed to daemonize: %s\n", std::strerror(errno));
    return kExitSoftware;
  }
  SetUpLogging(settings);
  PrepareProcess(settings);
  if (Status s = DropPrivileges(settings); !s.ok()) {
    spdlog::error("{}", s.message());
    return kExitSoftware;
  }
  for (const std::string& note : settings.ignored) spdlog::warn("{}", note);

  if (settings.proxy) {
    warmcache::app::ProxyServer proxy(settings);
    if (Status s = proxy.Start(); !s.ok()) {
      spdlog::error("cannot start: {}", s.message());
      return kExitSoftware;
    }
    if (!settings.pid_file.empty()) std::ofstream(settings.pid_file) << getpid() << "\n";
    std::string listeners;
    for (const std::string& name : proxy.ListenerNames()) listeners += " " + name;
    spdlog::info("warmcached {} proxy for pool {} ({} servers) listening on{}; {} threads",
                 WARMCACHE_VERSION, proxy.pool_config().name, proxy.pool_config().servers.size(),
                 listeners, settings.threads);
    proxy.Run();
    if (!settings.pid_file.empty()) unlink(settings.pid_file.c_str());
    return 0;
  }
  warmcache::app::Server server(settings);
  if (Status s = server.Start(); !s.ok()) {
    spdlog::error("cannot start: {}", s.message());
    return kExitSoftware;
  }
  if (!settings.pid_file.empty()) std::ofstream(settings.pid_file) << getpid() << "\n";
  std::string listeners;
  for (const std::string& name : server.ListenerNames()) listeners += " " + name;
  spdlog::info(
      "warmcached {} (memcached 1.6.18 protocol) listening on{}; {} threads, -m {}, "
      "max item {} bytes, max {} connections",
      WARMCACHE_VERSION, listeners, settings.threads, Megabytes(settings.memory_limit),
      settings.item_size_max, settings.max_connections);
  server.Run();
  if (!settings.pid_file.empty()) unlink(settings.pid_file.c_str());
  return 0;
}
