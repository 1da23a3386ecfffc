// SPDX-License-Identifier: BSD-3-Clause
// Locating the servers that tests run: Debian's memcached (the oracle) and warmcached.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace warmcache::testutil {

// A binary plus the flags every run of it needs.
struct ServerCommand {
  std::string binary;
  std::vector<std::string> args;
};

// The oracle: $WC_ORACLE_MEMCACHED if set, else /usr/bin/memcached. Its args hold "-u root"
// when running as root (memcached refuses root otherwise). nullopt if not executable.
std::optional<ServerCommand> FindOracle();

// The flags every test server gets: an ephemeral loopback TCP port, no UDP, two threads.
std::vector<std::string> EphemeralPortArgs();

}  // namespace warmcache::testutil
