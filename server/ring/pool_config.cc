// SPDX-License-Identifier: BSD-3-Clause
// The pool file: twemproxy 0.5.0's nutcracker.yml (src/nc_conf.c, defaults in nc_conf.h) read
// with yaml-cpp. Values are checked the way twemproxy checks them (numbers are plain digits,
// booleans exactly "true"/"false", a key given twice is an error); docs/ring.md lists which
// keys warmcache acts on, which it accepts with a warning and which it refuses.
#include "server/ring/pool_config.h"

#include <yaml-cpp/yaml.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>
#include <string>

#include "server/ring/pool_config_internal.h"

namespace warmcache::ring {

namespace {

Status KeyError(std::string_view key, std::string_view why) {
  return Status::InvalidArgument(std::string(key) + ": " + std::string(why));
}

// A non-negative int written as digits, as twemproxy's conf_set_num accepts.
Status ParseNumber(std::string_view key, const std::string& text, int* out) {
  if (text.empty() || text.size() > 9 ||
      text.find_first_not_of("0123456789") != std::string::npos) {
    return KeyError(key, "'" + text + "' is not a number (digits only)");
  }
  *out = std::stoi(text);
  return Status::Ok();
}

Status ParseBool(std::string_view key, const std::string& text, bool* out) {
  if (text != "true" && text != "false") {
    return KeyError(key, "'" + text + "' is not \"true\" or \"false\"");
  }
  *out = text == "true";
  return Status::Ok();
}

Status ParseListen(const std::string& text, PoolConfig* pool) {
  pool->listen = text;
  if (!text.empty() && text[0] == '/') return Status::Ok();  // "/path/socket [permissions]"
  const size_t colon = text.rfind(':');
  int port = 0;
  if (colon == std::string::npos || colon == 0 ||
      !ParseNumber("listen", text.substr(colon + 1), &port).ok() || port < 1 || port > 65535) {
    return KeyError("listen", "'" + text + "' is not \"host:port\" or \"/path/to/socket\"");
  }
  return Status::Ok();
}

using Setter = Status (*)(const std::string& text, PoolConfig* pool);
struct KeyRule {
  std::string_view key;
  Setter set;
};

// One entry per scalar key twemproxy 0.5.0 knows (`servers` is the list, handled apart; 0.5.0
// added `tcpkeepalive`), plus warmcache's `replicas`. Keys that change nothing a client sees are
// accepted and named in `warnings`; keys that would change behaviour warmcache lacks are refused.
constexpr KeyRule kRules[] = {
    {"listen", ParseListen},
    {"hash",
     [](const std::string& text, PoolConfig* pool) -> Status {
       Result<KeyHash> hash = ParseKeyHash(text);
       if (!hash.ok()) return KeyError("hash", hash.status().message());
       pool->hash = *hash;
       return Status::Ok();
     }},
    {"hash_tag",
     [](const std::string& text, PoolConfig* pool) -> Status {
       if (text.size() != 2) return KeyError("hash_tag", "must be two characters, such as \"{}\"");
       pool->hash_tag = text;
       return Status::Ok();
     }},
    {"distribution",
     [](const std::string& text, PoolConfig* pool) -> Status {
       Result<Distribution> d = ParseDistribution(text);
       if (!d.ok()) return KeyError("distribution", d.status().message());
       pool->distribution = *d;
       return Status::Ok();
     }},
    {"timeout", [](const std::string& text,
                   PoolConfig* pool) { return ParseNumber("timeout", text, &pool->timeout_ms); }},
    {"auto_eject_hosts",
     [](const std::string& text, PoolConfig* pool) {
       return ParseBool("auto_eject_hosts", text, &pool->auto_eject_hosts);
     }},
    {"server_retry_timeout",
     [](const std::string& text, PoolConfig* pool) {
       return ParseNumber("server_retry_timeout", text, &pool->server_retry_timeout_ms);
     }},
    {"server_failure_limit",
     [](const std::string& text, PoolConfig* pool) {
       return ParseNumber("server_failure_limit", text, &pool->server_failure_limit);
     }},
    {"server_connections",
     [](const std::string& text, PoolConfig* pool) -> Status {
       WC_RETURN_IF_ERROR(ParseNumber("server_connections", text, &pool->server_connections));
       if (pool->server_connections == 0) return KeyError("server_connections", "cannot be 0");
       if (pool->server_connections > 1) {
         pool->warnings.push_back("server_connections: " + text +
                                  " ignored; warmcache manages its server connections itself");
       }
       return Status::Ok();
     }},
    {"replicas",
     [](const std::string& text, PoolConfig* pool) -> Status {
       WC_RETURN_IF_ERROR(ParseNumber("replicas", text, &pool->replicas));
       if (pool->replicas == 0) return KeyError("replicas", "must be at least 1");
       // The proxy keeps a request's replica nodes inline (ProxyWorker::kMaxReplicas).
       if (pool->replicas > 8) return KeyError("replicas", "must be at most 8");
       return Status::Ok();
     }},
    {"redis",
     [](const std::string& text, PoolConfig*) -> Status {
       bool redis = false;
       WC_RETURN_IF_ERROR(ParseBool("redis", text, &redis));
       if (redis) return KeyError("redis", "true is not supported: warmcache pools are memcached");
       return Status::Ok();
     }},
    {"backlog",
     [](const std::string& text, PoolConfig* pool) -> Status {
       WC_RETURN_IF_ERROR(ParseNumber("backlog", text, &pool->backlog));
       pool->warnings.push_back("backlog: ignored; warmcached's own backlog setting (-b) applies");
       return Status::Ok();
     }},
    {"preconnect",
     [](const std::string& text, PoolConfig* pool) -> Status {
       WC_RETURN_IF_ERROR(ParseBool("preconnect", text, &pool->preconnect));
       if (pool->preconnect) {
         pool->warnings.push_back("preconnect: ignored; servers are connected on first use");
       }
       return Status::Ok();
     }},
    {"client_connections",
     [](const std::string& text, PoolConfig* pool) -> Status {
       int ignored = 0;
       WC_RETURN_IF_ERROR(ParseNumber("client_connections", text, &ignored));
       // twemproxy 0.5.0 overwrites it with its default, no limit (conf_validate_pool).
       pool->warnings.push_back("client_connections: ignored, as twemproxy 0.5.0 ignores it");
       return Status::Ok();
     }},
    {"redis_auth",
     [](const std::string&, PoolConfig*) -> Status {
       return KeyError("redis_auth", "is only valid for a redis pool (nutcracker refuses it too)");
     }},
    {"tcpkeepalive",
     [](const std::string& text, PoolConfig* pool) -> Status {
       bool keepalive = false;
       WC_RETURN_IF_ERROR(ParseBool("tcpkeepalive", text, &keepalive));
       if (keepalive) {
         pool->warnings.push_back("tcpkeepalive: ignored; it changes nothing a client sees");
       }
       return Status::Ok();
     }},
    {"redis_db",
     [](const std::string& text, PoolConfig* pool) -> Status {
       int db = 0;
       WC_RETURN_IF_ERROR(ParseNumber("redis_db", text, &db));
       pool->warnings.push_back("redis_db: ignored; it applies to redis pools only");
       return Status::Ok();
     }},
};

const KeyRule* FindRule(std::string_view key) {
  for (const KeyRule& rule : kRules) {
    if (rule.key == key) return &rule;
  }
  return nullptr;
}

Status ParseServers(const YAML::Node& value, PoolConfig* pool) {
  if (!value.IsSequence()) return KeyError("servers", "must be a list of \"host:port:weight\"");
  for (const YAML::Node& item : value) {
    if (!item.IsScalar()) return KeyError("servers", "each entry must be one line of text");
    Result<Node> node = ParseServer(item.Scalar());
    if (!node.ok()) return KeyError("servers", node.status().message());
    pool->servers.push_back(std::move(node).value());
  }
  return Status::Ok();
}

// nutcracker's parser refuses flow collections ("[a, b]", "{k: v}"); refusing them here keeps
// a file warmcache accepts one nutcracker accepts too.
Status CheckBlockStyle(const YAML::Node& node, std::string_view what) {
  if ((node.IsMap() || node.IsSequence()) && node.Style() == YAML::EmitterStyle::Flow) {
    return Status::InvalidArgument(std::string(what) +
                                   ": flow style ([...] or {...}) is not allowed; nutcracker "
                                   "refuses it, use one entry per line");
  }
  return Status::Ok();
}

Status ParsePoolBody(const YAML::Node& body, PoolConfig* pool) {
  if (!body.IsMap()) return Status::InvalidArgument("must be a mapping of keys to values");
  WC_RETURN_IF_ERROR(CheckBlockStyle(body, "pool"));
  std::set<std::string> seen;
  for (const auto& entry : body) {
    if (!entry.first.IsScalar()) return Status::InvalidArgument("a key is not plain text");
    const std::string key = entry.first.Scalar();
    if (!seen.insert(key).second) return KeyError(key, "is given twice");
    const YAML::Node& value = entry.second;
    if (value.IsNull()) return KeyError(key, "has no value");
    WC_RETURN_IF_ERROR(CheckBlockStyle(value, key));
    const KeyRule* rule = FindRule(key);
    if (key == "servers") {
      WC_RETURN_IF_ERROR(ParseServers(value, pool));
    } else if (rule == nullptr) {
      return KeyError(key, "unknown key (not a twemproxy 0.5.0 pool key, nor `replicas`)");
    } else if (!value.IsScalar()) {
      return KeyError(key, "must be a single value");
    } else {
      WC_RETURN_IF_ERROR(rule->set(value.Scalar(), pool));
    }
  }
  if (pool->servers.empty()) return KeyError("servers", "the pool has no servers");
  if (pool->replicas > static_cast<int>(pool->servers.size())) {
    return KeyError("replicas",
                    "is more than the pool's " + std::to_string(pool->servers.size()) + " servers");
  }
  return CheckDistinctServers(pool->servers);
}

// Picks the pool named `wanted`, or the only one. Returns a null node with *error set.
YAML::Node SelectPool(const YAML::Node& root, std::string_view wanted, std::string* name,
                      Status* error) {
  std::string names;
  std::set<std::string> seen;
  YAML::Node chosen;
  bool found = false;
  for (const auto& entry : root) {
    const std::string pool = entry.first.IsScalar() ? entry.first.Scalar() : "";
    if (pool.empty()) *error = Status::InvalidArgument("a pool name is not plain text");
    if (!seen.insert(pool).second) {
      *error = Status::InvalidArgument("pool '" + pool + "' is defined twice");
    }
    if (!error->ok()) return YAML::Node();
    names += (names.empty() ? "" : ", ") + pool;
    if (wanted.empty() || pool == wanted) {
      chosen = entry.second;
      *name = pool;
      found = true;
    }
  }
  if (wanted.empty() && root.size() > 1) {
    *error = Status::InvalidArgument("the file defines " + std::to_string(root.size()) +
                                     " pools (" + names + "); name the one to use");
  } else if (!found) {
    *error = Status::InvalidArgument("no pool named '" + std::string(wanted) +
                                     "' (the file has: " + names + ")");
  }
  return chosen;
}

Result<YAML::Node> LoadOneDocument(std::string_view yaml_text) {
  try {
    std::vector<YAML::Node> docs = YAML::LoadAll(std::string(yaml_text));
    if (docs.size() != 1 || docs[0].IsNull()) {
      return Status::InvalidArgument("a pool file holds exactly one YAML document; found " +
                                     std::to_string(docs.size()));
    }
    return docs[0];
  } catch (const YAML::Exception& e) {
    return Status::InvalidArgument("YAML error at line " + std::to_string(e.mark.line + 1) +
                                   ", column " + std::to_string(e.mark.column + 1) + ": " + e.msg);
  }
}

}  // namespace

Result<PoolConfig> ParsePoolConfig(std::string_view yaml_text, std::string_view pool) {
  Result<YAML::Node> root = LoadOneDocument(yaml_text);
  if (!root.ok()) return root.status();
  if (!root->IsMap() || root->size() == 0) {
    return Status::InvalidArgument("the file must map pool names to pools (\"alpha:\" ...)");
  }
  WC_RETURN_IF_ERROR(CheckBlockStyle(*root, "the file"));
  PoolConfig config;
  Status error;
  const YAML::Node body = SelectPool(*root, pool, &config.name, &error);
  if (!error.ok()) return error;
  Status parsed = ParsePoolBody(body, &config);
  if (!parsed.ok()) {
    return Status::InvalidArgument("pool '" + config.name + "': " + parsed.message());
  }
  return config;
}

Result<PoolConfig> LoadPoolConfig(const std::string& path, std::string_view pool) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  if (in) text << in.rdbuf();
  if (!in || in.bad()) {
    return Status::IoError(path + ": cannot read: " + std::strerror(errno));
  }
  Result<PoolConfig> config = ParsePoolConfig(text.str(), pool);
  if (!config.ok()) return Status::InvalidArgument(path + ": " + config.status().message());
  return config;
}

Ring BuildRing(const PoolConfig& pool, const std::vector<bool>* live) {
  return Ring::Build(pool.distribution, pool.hash, pool.servers, live, pool.hash_tag);
}

}  // namespace warmcache::ring
