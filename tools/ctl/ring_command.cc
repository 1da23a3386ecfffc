// SPDX-License-Identifier: BSD-3-Clause
#include "tools/ctl/ring_command.h"

#include <fmt/core.h>

#include <cstdio>
#include <string>
#include <vector>

#include "server/ring/pool_config.h"
#include "tools/ctl/ring_move.h"

namespace warmcache::ctl {

namespace {

constexpr const char* kRingHelp =
    "Usage: warmcachectl ring --pool FILE [--pool-name NAME] KEY...\n"
    "       warmcachectl ring move --pool OLD --pool-new NEW ...  (the warm hand-off after a\n"
    "       pool change; see 'warmcachectl ring move --help')\n"
    "Prints \"KEY host:port\" for each KEY: the server of the pool file FILE (twemproxy's\n"
    "nutcracker.yml format, see conf/nutcracker.yml.example) that owns the key, as warmcache\n"
    "and nutcracker place it (and libmemcached's weighted ketama, for pools with hash: md5).\n"
    "With `replicas`, the owner is the first of the key's replicas. --pool-name picks a pool\n"
    "when the file holds several. Warnings about ignored pool keys go to stderr.\n"
    "Exit status: 0 ok, 1 the pool file is unreadable or invalid, 64 usage.";

struct RingArgs {
  enum class Kind { kRun, kHelp, kError } kind = Kind::kRun;
  std::string error;  // kError: what was wrong
  std::string pool_file;
  std::string pool_name;
  std::vector<std::string> keys;
};

// Takes the value of `--name VALUE` or `--name=VALUE` at args[*i]; false if `arg` is not it.
bool TakeOption(const Args& args, size_t* i, const std::string& name, std::string* value,
                std::string* error) {
  const std::string& arg = args[*i];
  if (arg.rfind(name + "=", 0) == 0) {
    *value = arg.substr(name.size() + 1);
  } else if (arg == name) {
    if (*i + 1 >= args.size()) {
      *error = name + " needs a value";
      return true;
    }
    *value = args[++*i];
  } else {
    return false;
  }
  if (value->empty()) *error = name + " needs a value";
  return true;
}

RingArgs ParseRingArgs(const Args& args) {
  RingArgs out;
  out.kind = RingArgs::Kind::kError;
  bool options_done = false;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (options_done || arg.empty() || arg[0] != '-') {
      out.keys.push_back(arg);
    } else if (IsHelp(arg)) {
      out.kind = RingArgs::Kind::kHelp;
      return out;
    } else if (arg == "--") {
      options_done = true;
    } else if (!TakeOption(args, &i, "--pool", &out.pool_file, &out.error) &&
               !TakeOption(args, &i, "--pool-name", &out.pool_name, &out.error)) {
      out.error = fmt::format("unknown option '{}'", arg);
    }
    if (!out.error.empty()) return out;
  }
  if (out.pool_file.empty()) out.error = "missing --pool FILE";
  if (out.error.empty() && out.keys.empty()) out.error = "missing KEY";
  if (out.error.empty()) out.kind = RingArgs::Kind::kRun;
  return out;
}

}  // namespace

int RunRingCommand(const Args& args) {
  if (!args.empty() && args[0] == "move") return RunRingMove(Args(args.begin() + 1, args.end()));
  const RingArgs parsed = ParseRingArgs(args);
  if (parsed.kind == RingArgs::Kind::kHelp) {
    fmt::print("{}\n", kRingHelp);
    return kExitOk;
  }
  if (parsed.kind == RingArgs::Kind::kError) return UsageError("ring", parsed.error);
  Result<ring::PoolConfig> pool = ring::LoadPoolConfig(parsed.pool_file, parsed.pool_name);
  if (!pool.ok()) return Fail(pool.status().message());
  for (const std::string& warning : pool->warnings) {
    fmt::print(stderr, "warmcachectl: warning: pool '{}': {}\n", pool->name, warning);
  }
  const ring::Ring ring = ring::BuildRing(*pool);
  for (const std::string& key : parsed.keys) {
    // Every server of a parsed pool is live here, and a pool has at least one.
    fmt::print("{} {}\n", key, pool->servers[ring.Owner(key)].Address());
  }
  return kExitOk;
}

}  // namespace warmcache::ctl
