// SPDX-License-Identifier: BSD-3-Clause
// Folder-only: the `servers:` list of a pool file (pool_servers.cc), split from the YAML walk.
#pragma once

#include <string_view>
#include <vector>

#include "server/common/status.h"
#include "server/ring/ring.h"

namespace warmcache::ring {

// Parses one `servers:` entry, "host:port:weight [name]", as twemproxy's conf_add_server reads
// it. kInvalidArgument says what is wrong with `text`, without naming the pool.
Result<Node> ParseServer(std::string_view text);

// twemproxy refuses two servers with one name (its name is our HashIdentity); warmcache also
// refuses one address listed twice, which would make two "nodes" share one backend.
Status CheckDistinctServers(const std::vector<Node>& servers);

}  // namespace warmcache::ring
