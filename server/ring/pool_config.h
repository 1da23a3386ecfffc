// SPDX-License-Identifier: BSD-3-Clause
// A pool file: twemproxy's YAML (nutcracker.yml), so a nutcracker user can point warmcache at
// the same file. One top-level key per pool; warmcache serves one pool per process.
//
//   alpha:
//     listen: 127.0.0.1:22121
//     hash: md5
//     distribution: ketama
//     auto_eject_hosts: true
//     server_retry_timeout: 30000
//     server_failure_limit: 2
//     timeout: 400
//     servers:
//      - 127.0.0.1:11211:1
//      - 127.0.0.1:11212:1 node2
//
// Keys twemproxy knows but warmcache does not act on are either accepted with a warning
// (`warnings`) when ignoring them changes nothing a client sees, or refused with a one-line
// message naming the key. Unknown keys are refused, as twemproxy refuses them.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "server/common/status.h"
#include "server/ring/ring.h"

namespace warmcache::ring {

struct PoolConfig {
  std::string name;    // the pool's top-level key
  std::string listen;  // "host:port" or a unix socket path; empty if the file gives none
  KeyHash hash = KeyHash::kFnv1a64;  // twemproxy's defaults
  Distribution distribution = Distribution::kKetama;
  std::string hash_tag;  // two characters such as "{}", or empty: hash whole keys
  std::vector<Node> servers;
  bool auto_eject_hosts = false;
  int server_retry_timeout_ms = 30000;
  int server_failure_limit = 2;
  int timeout_ms = -1;  // -1: wait for ever, as twemproxy
  int server_connections = 1;
  bool preconnect = false;
  int backlog = 512;
  int client_connections = 0;  // 0: unlimited
  // warmcache's own key: each key is written to this many distinct nodes (the owner and the
  // next ones on the ring) and read from the first healthy one.
  int replicas = 1;
  std::vector<std::string> warnings;  // one line per ignored key
};

// Parses YAML text. `pool` selects a pool by name; empty takes the only one (an error if the
// file holds several). Errors are one line naming the file's problem.
Result<PoolConfig> ParsePoolConfig(std::string_view yaml_text, std::string_view pool = {});
// As ParsePoolConfig, reading `path`; errors start with the path. kIoError if unreadable.
Result<PoolConfig> LoadPoolConfig(const std::string& path, std::string_view pool = {});

// The pool's ring: its distribution, hash and hash_tag over its servers (`live` as Ring::Build).
Ring BuildRing(const PoolConfig& pool, const std::vector<bool>* live = nullptr);

}  // namespace warmcache::ring
