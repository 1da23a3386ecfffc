// SPDX-License-Identifier: BSD-3-Clause
#include "server/app/options.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>

namespace warmcache::app {
namespace {

Result<ParsedOptions> Parse(std::vector<std::string> args) {
  args.insert(args.begin(), "warmcached");
  return ParseOptions(args);
}

std::string ErrorOf(std::vector<std::string> args) {
  auto r = Parse(std::move(args));
  EXPECT_FALSE(r.ok());
  return r.ok() ? "" : r.status().message();
}

TEST(OptionsTest, DefaultsAreMemcachedDefaults) {
  auto r = Parse({});
  ASSERT_TRUE(r.ok());
  const Settings& s = r->settings;
  EXPECT_EQ(11211, s.port);
  EXPECT_EQ(64u << 20, s.memory_limit);
  EXPECT_EQ(1024, s.max_connections);
  EXPECT_EQ(4, s.threads);
  EXPECT_EQ(20, s.reqs_per_event);
  EXPECT_EQ(1u << 20, s.item_size_max);
  EXPECT_TRUE(s.use_cas);
  EXPECT_TRUE(s.evictions);
}

TEST(OptionsTest, MemcachedCommandLine) {
  auto r =
      Parse({"-p",   "12345",       "-m",  "128", "-c",     "10", "-t", "2",  "-l", "127.0.0.1,::1",
             "-l",   "10.0.0.1:99", "-vv", "-C",  "-M",     "-F", "-A", "-I", "2m", "-R",
             "5",    "-b",          "64",  "-u",  "nobody", "-U", "0",  "-D", "#",  "-B",
             "ascii"});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const Settings& s = r->settings;
  EXPECT_EQ(12345, s.port);
  EXPECT_EQ(128u << 20, s.memory_limit);
  EXPECT_EQ(10, s.max_connections);
  EXPECT_EQ(2, s.threads);
  EXPECT_EQ((std::vector<std::string>{"127.0.0.1,::1", "10.0.0.1:99"}), s.listen);
  EXPECT_EQ(2, s.verbose);
  EXPECT_FALSE(s.use_cas);
  EXPECT_FALSE(s.evictions);
  EXPECT_FALSE(s.flush_enabled);
  EXPECT_TRUE(s.shutdown_enabled);
  EXPECT_EQ(2u << 20, s.item_size_max);
  EXPECT_EQ(5, s.reqs_per_event);
  EXPECT_EQ(64, s.backlog);
  EXPECT_EQ('#', s.prefix_delimiter);
  EXPECT_TRUE(s.detail_enabled);
  EXPECT_EQ("ascii", s.protocol);
}

TEST(OptionsTest, LongOptionsAndExtendedOptions) {
  auto r = Parse({"--port=1", "--memory-limit=8", "--threads", "3", "-o",
                  "idle_timeout=30,hashpower=20,no_maxconns_fast,slab_chunk_max=256", "-o",
                  "modern,lru_crawler,ext_item_size=512,slab_automove=1"});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const Settings& s = r->settings;
  EXPECT_EQ(1, s.port);
  EXPECT_EQ(8u << 20, s.memory_limit);
  EXPECT_EQ(3, s.threads);
  EXPECT_EQ(30, s.idle_timeout);
  EXPECT_EQ(20, s.hashpower);
  EXPECT_FALSE(s.maxconns_fast);
  EXPECT_EQ(3u, s.ignored.size());  // modern, ext_item_size, slab_automove
}

TEST(OptionsTest, BadOptionsAreOneClearLine) {
  EXPECT_EQ("Item max size cannot be less than 1024 bytes.", ErrorOf({"-I", "512"}));
  EXPECT_EQ("Cannot set item size limit higher than 1/2 of memory max.", ErrorOf({"-m", "1"}));
  EXPECT_EQ("Illegal suboption \"foo\"", ErrorOf({"-o", "foo"}));
  EXPECT_EQ("Initial hashtable multiplier of 4 is too low", ErrorOf({"-o", "hashpower=4"}));
  EXPECT_EQ("Number of threads must be greater than 0", ErrorOf({"-t", "0"}));
  EXPECT_EQ("Maximum connections must be greater than 0", ErrorOf({"-c", "0"}));
  EXPECT_EQ("Factor must be greater than 1", ErrorOf({"-f", "0.5"}));
  EXPECT_EQ("Invalid value for binding protocol: foo -- should be one of auto, binary, or ascii",
            ErrorOf({"-B", "foo"}));
  EXPECT_NE(std::string::npos, ErrorOf({"-p", "abc"}).find("-p"));
  EXPECT_NE(std::string::npos, ErrorOf({"-x"}).find("invalid option"));
  EXPECT_NE(std::string::npos, ErrorOf({"-p"}).find("requires an argument"));
  EXPECT_NE(std::string::npos, ErrorOf({"-Z"}).find("TLS"));
  EXPECT_NE(std::string::npos, ErrorOf({"-S"}).find("SASL"));
  EXPECT_NE(std::string::npos, ErrorOf({"stray"}).find("unexpected argument"));
}

TEST(OptionsTest, ProxyModeNeedsAPoolFile) {
  EXPECT_EQ(ErrorOf({"--proxy"}), "--proxy needs --pool FILE (a nutcracker.yml pool file)");
  EXPECT_EQ(ErrorOf({"--pool", "x.yml"}), "--pool is for proxy mode: add --proxy");
  auto r = Parse({"--proxy", "--pool", "conf/../pool.yml", "--pool-name", "alpha"});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r->settings.proxy);
  // Made absolute, so a reload after -d (which changes directory) reads the same file.
  EXPECT_EQ(r->settings.pool_file.front(), '/');
  EXPECT_EQ(r->settings.pool_file.substr(r->settings.pool_file.size() - 9), "/pool.yml");
  EXPECT_EQ(r->settings.pool_name, "alpha");
  EXPECT_FALSE(r->settings.listen_given);  // the pool's `listen` applies
  EXPECT_TRUE(Parse({"--proxy", "--pool", "p.yml", "-p", "1"})->settings.listen_given);
  EXPECT_TRUE(Parse({"--proxy", "--pool", "p.yml", "-l", "127.0.0.1"})->settings.listen_given);
}

TEST(OptionsTest, HelpAndVersion) {
  EXPECT_EQ(ParseAction::kPrintHelp, Parse({"-h"})->action);
  EXPECT_EQ(ParseAction::kPrintVersion, Parse({"-V"})->action);
}

TEST(OptionsTest, DebianConfigFileThenCommandLine) {
  const std::string path = ::testing::TempDir() + "/warmcached_test.conf";
  std::ofstream(path) << "# memcached.conf\n-d\nlogfile /tmp/x.log\n-m 128\n\n-p 11311\n"
                         "-u memcache\n-l 127.0.0.1  # loopback\n-c 2048\n";
  auto r = Parse({"--config", path, "-p", "9999"});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const Settings& s = r->settings;
  EXPECT_TRUE(s.daemonize);
  EXPECT_EQ("/tmp/x.log", s.log_file);
  EXPECT_EQ(128u << 20, s.memory_limit);
  EXPECT_EQ(9999, s.port);  // the command line wins
  EXPECT_EQ("memcache", s.user);
  EXPECT_EQ(std::vector<std::string>{"127.0.0.1"}, s.listen);
  EXPECT_EQ(2048, s.max_connections);
  std::remove(path.c_str());
  EXPECT_NE(std::string::npos, ErrorOf({"--config", "/nonexistent.conf"}).find("cannot read"));
}

}  // namespace
}  // namespace warmcache::app
