// SPDX-License-Identifier: BSD-3-Clause
#include "tests/testutil/oracle.h"

#include <unistd.h>

#include <cstdlib>

namespace warmcache::testutil {

std::optional<ServerCommand> FindOracle() {
  const char* env = std::getenv("WC_ORACLE_MEMCACHED");
  ServerCommand cmd;
  cmd.binary = (env != nullptr && env[0] != '\0') ? env : "/usr/bin/memcached";
  if (access(cmd.binary.c_str(), X_OK) != 0) return std::nullopt;
  if (geteuid() == 0) cmd.args = {"-u", "root"};
  return cmd;
}

std::vector<std::string> EphemeralPortArgs() {
  return {"-p", "-1", "-U", "0", "-l", "127.0.0.1", "-t", "2"};
}

}  // namespace warmcache::testutil
