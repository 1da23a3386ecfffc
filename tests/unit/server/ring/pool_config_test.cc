// SPDX-License-Identifier: BSD-3-Clause
// The pool file parser: a full file, twemproxy's defaults, and every refusal as one line.
#include "server/ring/pool_config.h"

#include <gtest/gtest.h>

#include <fstream>
#include <string>

namespace warmcache::ring {
namespace {

constexpr const char* kFullFile = R"(# every key twemproxy 0.5.0 knows
alpha:
  listen: 127.0.0.1:22121
  hash: md5
  hash_tag: "{}"
  distribution: ketama
  timeout: 400
  backlog: 1024
  preconnect: true
  redis: false
  server_connections: 1
  auto_eject_hosts: true
  server_retry_timeout: 2000
  server_failure_limit: 3
  client_connections: 100
  replicas: 2
  servers:
   - 10.0.0.1:11211:1
   - 10.0.0.2:11212:3 cache-b
   - cache-c.example.net:11211:2
)";

TEST(PoolConfigTest, ParsesEveryKey) {
  Result<PoolConfig> pool = ParsePoolConfig(kFullFile);
  ASSERT_TRUE(pool.ok()) << pool.status().ToString();
  EXPECT_EQ("alpha", pool->name);
  EXPECT_EQ("127.0.0.1:22121", pool->listen);
  EXPECT_EQ(KeyHash::kMd5, pool->hash);
  EXPECT_EQ("{}", pool->hash_tag);
  EXPECT_EQ(Distribution::kKetama, pool->distribution);
  EXPECT_EQ(400, pool->timeout_ms);
  EXPECT_EQ(1024, pool->backlog);
  EXPECT_TRUE(pool->preconnect);
  EXPECT_TRUE(pool->auto_eject_hosts);
  EXPECT_EQ(2000, pool->server_retry_timeout_ms);
  EXPECT_EQ(3, pool->server_failure_limit);
  EXPECT_EQ(2, pool->replicas);
  ASSERT_EQ(3u, pool->servers.size());
  EXPECT_EQ("10.0.0.1", pool->servers[0].host);
  EXPECT_EQ(11211, pool->servers[0].port);
  EXPECT_EQ(1u, pool->servers[0].weight);
  EXPECT_EQ("", pool->servers[0].name);
  EXPECT_EQ("cache-b", pool->servers[1].HashIdentity());
  EXPECT_EQ("10.0.0.2:11212", pool->servers[1].Address());
  EXPECT_EQ(3u, pool->servers[1].weight);
  EXPECT_EQ("cache-c.example.net", pool->servers[2].HashIdentity());
  // backlog, preconnect and client_connections change nothing a client sees.
  ASSERT_EQ(3u, pool->warnings.size());
  EXPECT_EQ(0u, pool->warnings[0].find("backlog: ignored"));
  EXPECT_EQ(0u, pool->warnings[1].find("preconnect: ignored"));
  EXPECT_EQ(0u, pool->warnings[2].find("client_connections: ignored"));
}

TEST(PoolConfigTest, DefaultsAreTwemproxys) {
  Result<PoolConfig> pool = ParsePoolConfig("p:\n  servers:\n    - 127.0.0.1:11211:1\n");
  ASSERT_TRUE(pool.ok()) << pool.status().ToString();
  EXPECT_EQ("", pool->listen);  // twemproxy requires it; warmcache has its own -l/-p
  EXPECT_EQ(KeyHash::kFnv1a64, pool->hash);
  EXPECT_EQ("", pool->hash_tag);
  EXPECT_EQ(Distribution::kKetama, pool->distribution);
  EXPECT_EQ(-1, pool->timeout_ms);
  EXPECT_EQ(512, pool->backlog);
  EXPECT_FALSE(pool->preconnect);
  EXPECT_FALSE(pool->auto_eject_hosts);
  EXPECT_EQ(30000, pool->server_retry_timeout_ms);
  EXPECT_EQ(2, pool->server_failure_limit);
  EXPECT_EQ(1, pool->server_connections);
  EXPECT_EQ(1, pool->replicas);
  EXPECT_TRUE(pool->warnings.empty());
}

TEST(PoolConfigTest, PicksAPoolByName) {
  const std::string two =
      "a:\n  servers:\n    - h1:11211:1\nb:\n  hash: crc32a\n  servers:\n    - h2:11211:1\n";
  Result<PoolConfig> b = ParsePoolConfig(two, "b");
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  EXPECT_EQ("b", b->name);
  EXPECT_EQ(KeyHash::kCrc32a, b->hash);
  EXPECT_EQ("h2", b->servers[0].host);
  EXPECT_EQ("the file defines 2 pools (a, b); name the one to use",
            ParsePoolConfig(two).status().message());
  EXPECT_EQ("no pool named 'c' (the file has: a, b)", ParsePoolConfig(two, "c").status().message());
}

TEST(PoolConfigTest, KeysThatChangeNothingForClientsAreWarnedAbout) {
  Result<PoolConfig> pool = ParsePoolConfig(
      "p:\n  redis_db: 2\n  tcpkeepalive: true\n  server_connections: 4\n  servers:\n"
      "    - h:11211:1\n");
  ASSERT_TRUE(pool.ok()) << pool.status().ToString();
  ASSERT_EQ(3u, pool->warnings.size());
  EXPECT_EQ("redis_db: ignored; it applies to redis pools only", pool->warnings[0]);
  EXPECT_EQ("tcpkeepalive: ignored; it changes nothing a client sees", pool->warnings[1]);
  EXPECT_EQ(0u, pool->warnings[2].find("server_connections: 4 ignored"));
}

struct Refusal {
  const char* body;     // the pool's lines after "p:\n"
  const char* message;  // expected message after "pool 'p': "
};

// One refusal per rule. Bodies are indented by two spaces; `servers` uses four.
const Refusal kRefusals[] = {
    {"  bogus: 1\n  servers:\n    - h:11211:1\n",
     "bogus: unknown key (not a twemproxy 0.5.0 pool key, nor `replicas`)"},
    {"  redis: true\n  servers:\n    - h:11211:1\n",
     "redis: true is not supported: warmcache pools are memcached"},
    {"  redis_auth: secret\n  servers:\n    - h:11211:1\n",
     "redis_auth: is only valid for a redis pool (nutcracker refuses it too)"},
    {"  tcpkeepalive: yes\n  servers:\n    - h:11211:1\n",
     "tcpkeepalive: 'yes' is not \"true\" or \"false\""},
    {"  redis: yes\n  servers:\n    - h:11211:1\n", "redis: 'yes' is not \"true\" or \"false\""},
    {"  distribution: random\n  servers:\n    - h:11211:1\n",
     "distribution: distribution 'random' is not supported: a cache must find a key where it "
     "stored it (use ketama or modula)"},
    {"  distribution: vnode\n  servers:\n    - h:11211:1\n",
     "distribution: unknown distribution 'vnode' (one of: ketama, modula)"},
    {"  hash: sha1\n  servers:\n    - h:11211:1\n",
     "hash: unknown hash 'sha1' (one of: one_at_a_time, md5, crc16, crc32, crc32a, fnv1_64, "
     "fnv1a_64, fnv1_32, fnv1a_32, hsieh, murmur, jenkins)"},
    {"  hash_tag: \"{\"\n  servers:\n    - h:11211:1\n",
     "hash_tag: must be two characters, such as \"{}\""},
    {"  timeout: -1\n  servers:\n    - h:11211:1\n", "timeout: '-1' is not a number (digits only)"},
    {"  timeout: 1\n  timeout: 2\n  servers:\n    - h:11211:1\n", "timeout: is given twice"},
    {"  listen: 127.0.0.1\n  servers:\n    - h:11211:1\n",
     "listen: '127.0.0.1' is not \"host:port\" or \"/path/to/socket\""},
    {"  server_connections: 0\n  servers:\n    - h:11211:1\n", "server_connections: cannot be 0"},
    {"  replicas: 0\n  servers:\n    - h:11211:1\n", "replicas: must be at least 1"},
    {"  replicas: 9\n  servers:\n    - h:11211:1\n", "replicas: must be at most 8"},
    {"  replicas: 3\n  servers:\n    - h:11211:1\n    - g:11211:1\n",
     "replicas: is more than the pool's 2 servers"},
    {"  listen: 127.0.0.1:22121\n", "servers: the pool has no servers"},
    {"  servers:\n", "servers: has no value"},
    {"  servers: h:11211:1\n", "servers: must be a list of \"host:port:weight\""},
    {"  servers:\n    - h:11211:0\n",
     "servers: server 'h:11211:0' has an invalid weight (1-65535)"},
    {"  servers:\n    - h:11211:-1\n",
     "servers: server 'h:11211:-1' has an invalid weight (1-65535)"},
    {"  servers:\n    - h:11211:70000\n",
     "servers: server 'h:11211:70000' has an invalid weight (1-65535)"},
    {"  servers:\n    - h:0:1\n",
     "servers: server 'h:0:1' has an invalid port (1-65535, no leading zeros)"},
    {"  servers:\n    - h:65536:1\n",
     "servers: server 'h:65536:1' has an invalid port (1-65535, no leading zeros)"},
    {"  servers:\n    - h:011211:1\n",
     "servers: server 'h:011211:1' has an invalid port (1-65535, no leading zeros)"},
    {"  servers:\n    - h:11211\n", "servers: server 'h:11211' is not \"host:port:weight [name]\""},
    {"  servers:\n    - \"::1:11211:1\"\n",
     "servers: server '::1:11211:1' has an IPv6 address; warmcache pools take IPv4 addresses or "
     "names"},
    {"  servers:\n    - /tmp/mc.sock:1\n",
     "servers: server '/tmp/mc.sock:1' is a unix socket; warmcache pools take host:port servers "
     "only"},
    {"  servers:\n    - h:11211:1  two spaces\n",
     "servers: server 'h:11211:1  two spaces' has a name with spaces, or more than one space "
     "before it"},
    {"  servers:\n    - h:11211:1\n    - h:11211:2\n",
     "two servers share the name 'h' (twemproxy refuses this too)"},
    {"  servers:\n    - h:11211:1 x\n    - g:11212:1 x\n",
     "two servers share the name 'x' (twemproxy refuses this too)"},
    {"  servers:\n    - h:11211:1 x\n    - h:11211:1 y\n", "server h:11211 is listed twice"},
    {"  servers:\n    - [h:11211:1]\n", "servers: each entry must be one line of text"},
    {"  servers: [h:11211:1]\n",
     "servers: flow style ([...] or {...}) is not allowed; nutcracker refuses it, use one "
     "entry per line"},
};

TEST(PoolConfigTest, RefusalsAreOneLineNamingTheProblem) {
  for (const Refusal& r : kRefusals) {
    Result<PoolConfig> pool = ParsePoolConfig(std::string("p:\n") + r.body);
    ASSERT_FALSE(pool.ok()) << r.body;
    EXPECT_EQ(StatusCode::kInvalidArgument, pool.status().code());
    EXPECT_EQ(std::string("pool 'p': ") + r.message, pool.status().message()) << r.body;
    EXPECT_EQ(std::string::npos, pool.status().message().find('\n'));
  }
}

TEST(PoolConfigTest, ALongNameIsRefusedBecauseTwemproxyMishashesIt) {
  const std::string name(81, 'n');
  Result<PoolConfig> pool = ParsePoolConfig("p:\n  servers:\n    - h:11211:1 " + name + "\n");
  ASSERT_FALSE(pool.ok());
  EXPECT_NE(std::string::npos, pool.status().message().find("longer than 80 characters"));
  EXPECT_TRUE(ParsePoolConfig("p:\n  servers:\n    - h:11211:1 " + name.substr(1) + "\n").ok());
}

TEST(PoolConfigTest, FileLevelProblems) {
  EXPECT_EQ("a pool file holds exactly one YAML document; found 0",
            ParsePoolConfig("").status().message());
  EXPECT_EQ("a pool file holds exactly one YAML document; found 2",
            ParsePoolConfig("a:\n  servers:\n    - h:1:1\n---\nb: 1\n").status().message());
  EXPECT_EQ("the file must map pool names to pools (\"alpha:\" ...)",
            ParsePoolConfig("- a\n- b\n").status().message());
  EXPECT_EQ("pool 'p': must be a mapping of keys to values",
            ParsePoolConfig("p: 1\n").status().message());
  const std::string syntax = ParsePoolConfig("p:\n  servers:\n   - a\n  - b\n").status().message();
  EXPECT_EQ(0u, syntax.find("YAML error at line 4, column ")) << syntax;
  EXPECT_EQ("pool 'p' is defined twice",
            ParsePoolConfig("p:\n  timeout: 1\np:\n  timeout: 2\n").status().message());
}

TEST(PoolConfigTest, LoadNamesTheFile) {
  Result<PoolConfig> missing = LoadPoolConfig("/nonexistent/pool.yml");
  EXPECT_EQ(StatusCode::kIoError, missing.status().code());
  EXPECT_EQ("/nonexistent/pool.yml: cannot read: No such file or directory",
            missing.status().message());
  const std::string path = ::testing::TempDir() + "/pool_config_test.yml";
  std::ofstream(path) << "p:\n  servers:\n    - h:0:1\n";
  EXPECT_EQ(path +
                ": pool 'p': servers: server 'h:0:1' has an invalid port (1-65535, no "
                "leading zeros)",
            LoadPoolConfig(path).status().message());
  std::ofstream(path) << kFullFile;
  EXPECT_TRUE(LoadPoolConfig(path, "alpha").ok());
}

TEST(PoolConfigTest, BuildRingUsesThePoolsHashAndTag) {
  Result<PoolConfig> pool = ParsePoolConfig(kFullFile);
  ASSERT_TRUE(pool.ok());
  const Ring ring = BuildRing(*pool);
  EXPECT_EQ(KeyHash::kMd5, ring.key_hash());
  EXPECT_EQ(ring.Owner("7"), ring.Owner("session:{7}"));
}

}  // namespace
}  // namespace warmcache::ring
