// SPDX-License-Identifier: BSD-3-Clause
// Issue #5, portable snapshot files, end to end: the `snapshot` command and scheduled files of a
// running warmcached (--snapshot-dir), `warmcachectl snapshot create|inspect|verify|restore`, and
// `warmcached --restore-from`.
//
// Every server runs with -m 8 and a --data-dir in a TempDir, and holds items in RAM and on disk:
// some items are stored, then big values (2x -m) push them out of RAM, then more items are
// stored that stay in RAM. The file format itself is tested by the unit tests
// (tests/unit/storage/snapshot/, tests/unit/tools/ctl/); here the pieces run as separate
// processes, as an operator runs them.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "tests/testutil/escape.h"
#include "tests/testutil/expect_calls.h"
#include "tests/testutil/oracle.h"
#include "tests/testutil/reply_text.h"
#include "tests/testutil/run_command.h"
#include "tests/testutil/server_process.h"
#include "tests/testutil/stats.h"
#include "tests/testutil/temp_dir.h"
#include "tests/testutil/test_client.h"

namespace warmcache::testutil {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using Clock = std::chrono::steady_clock;

constexpr int kRamMb = 8;                                // -m for every warmcached here
constexpr size_t kBigValueBytes = 256 * 1024;            // big values, incompressible ...
constexpr int kBigItems = 2 * kRamMb * 4;                // ... 2x -m of them: earlier items spill
constexpr milliseconds kSpillDeadline = seconds(30);     // spill queue drained (slow sanitizers)
constexpr milliseconds kReplyTimeout = seconds(30);      // a snapshot reply waits for the disk
constexpr milliseconds kCtlTimeout = seconds(60);        // one warmcachectl run
constexpr milliseconds kScheduleDeadline = seconds(30);  // 3 scheduled files at 1 s intervals
constexpr milliseconds kPollEvery = milliseconds(20);

// One item as stored, to compare with what a server serves later.
struct Item {
  std::string key;
  std::string data;
  uint32_t flags = 0;
  int ttl = 0;       // as stored: 0 never expires, else seconds from then
  uint64_t cas = 0;  // assigned by the server (0: not known)
};

// "VALUE <key> <flags> <len>[ <cas>]\r\n<data>\r\n", one item of a get/gets reply.
std::string Value(const Item& item, bool with_cas) {
  std::string line = "VALUE " + item.key + " " + std::to_string(item.flags) + " " +
                     std::to_string(item.data.size());
  if (with_cas) line += " " + std::to_string(item.cas);
  return line + "\r\n" + item.data + "\r\n";
}

// A variety of items under `prefix`: flags from 0 to 2^32-1, empty and binary values, TTL 0 and
// a long TTL.
std::vector<Item> VarietyOfItems(const std::string& prefix, uint32_t seed) {
  return {
      {prefix + "plain", "hello", 0, 0},
      {prefix + "maxflags", "x", 4294967295u, 0},
      {prefix + "empty", "", 17, 0},
      {prefix + "binary", AwkwardBytes(5000, seed), 42, 0},
      {prefix + "crlf", std::string("\r\n\0END\r\n", 8), 3, 0},
      {prefix + "longttl", "lives a day", 7, 86400},
      {prefix + "longttl0", "never expires", 8, 0},
  };
}

// name -> (size, mtime in ns) of every file under `dir`, recursively.
std::map<std::string, std::pair<uint64_t, int64_t>> ListDir(const std::string& dir) {
  std::map<std::string, std::pair<uint64_t, int64_t>> out;
  std::error_code ec;
  for (auto it = std::filesystem::recursive_directory_iterator(dir, ec);
       !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
    struct stat st {};
    if (stat(it->path().c_str(), &st) != 0) continue;
    out[it->path().string()] = {
        static_cast<uint64_t>(st.st_size),
        static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec};
  }
  return out;
}

std::string DescribeListing(const std::map<std::string, std::pair<uint64_t, int64_t>>& listing) {
  std::string out;
  for (const auto& [name, sm] : listing) {
    out += name + " " + std::to_string(sm.first) + " " + std::to_string(sm.second) + "\n";
  }
  return out;
}

// The snapshot files in `dir`, sorted by name.
std::vector<std::string> SnapshotFiles(const std::string& dir) {
  std::vector<std::string> files;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    if (entry.path().extension() == ".wcsnap") files.push_back(entry.path().string());
  }
  std::sort(files.begin(), files.end());
  return files;
}

void WriteFile(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  ASSERT_TRUE(out.good()) << "cannot write " << path;
}

int CountLines(const std::string& text) {
  return static_cast<int>(std::count(text.begin(), text.end(), '\n'));
}

// "restored N items into DIR (E expired, F outside the prefix, skipped)"
struct RestoreSummary {
  uint64_t restored = 0;
  uint64_t expired = 0;
  uint64_t filtered = 0;
};
std::optional<RestoreSummary> ParseRestoreSummary(const std::string& output) {
  static const std::regex kLine(
      R"(restored (\d+) items into .* \((\d+) expired, (\d+) outside the prefix, skipped\))");
  std::smatch m;
  if (!std::regex_search(output, m, kLine)) return std::nullopt;
  return RestoreSummary{std::stoull(m[1]), std::stoull(m[2]), std::stoull(m[3])};
}

class SnapshotFilesTest : public ::testing::Test {
 protected:
  // A clean exit: under ASan/TSan a leak or a race in the server makes its exit status non-zero.
  void TearDown() override {
    client_.reset();
    if (server_ && server_->IsRunning()) {
      EXPECT_EQ(0, server_->Stop()) << server_->StderrText();
    }
  }

  // The fixture owns the directories: a server still running at the end of a test is stopped
  // in TearDown, and its data dir must outlive it (a test's locals are gone by then).
  TempDir* NewDir(const std::string& prefix = "wc_snap_") {
    auto dir = TempDir::Create(prefix);
    EXPECT_TRUE(dir.ok()) << dir.status().ToString();
    if (!dir.ok()) return nullptr;
    dirs_.push_back(std::move(*dir));
    return dirs_.back().get();
  }

  // Starts warmcached -m 8 --data-dir `data_dir` `extra...` and connects to it.
  void Start(const std::string& data_dir, const std::vector<std::string>& extra = {}) {
    std::vector<std::string> args = EphemeralPortArgs();
    args.insert(args.end(), {"-m", std::to_string(kRamMb), "--data-dir", data_dir});
    args.insert(args.end(), extra.begin(), extra.end());
    auto started = ServerProcess::Start(WC_WARMCACHED_PATH, args);
    ASSERT_TRUE(started.ok()) << started.status().ToString();
    server_ = std::move(*started);
    auto client = TestClient::Connect(server_->port());
    ASSERT_TRUE(client.ok()) << client.status().ToString();
    client_ = std::move(*client);
    client_->set_timeout(kReplyTimeout);
  }
  // SIGTERM; the server must exit 0.
  void Stop() {
    client_.reset();
    ASSERT_TRUE(server_);
    EXPECT_EQ(0, server_->Stop()) << server_->StderrText();
  }

  std::string Call(const std::string& request, const std::string& terminator = "\r\n") {
    return CallOrFail(*client_, request, terminator);
  }
  std::string Get(const std::string& request) { return GetOrFail(*client_, request); }
  std::string Meta(const std::string& request) { return MetaOrFail(*client_, request); }
  // Stores with `ms ... c` and records the CAS the server assigned.
  void Store(Item& item) {
    const std::string reply = Call("ms " + item.key + " " + std::to_string(item.data.size()) +
                                   " c F" + std::to_string(item.flags) + " T" +
                                   std::to_string(item.ttl) + "\r\n" + item.data + "\r\n");
    EXPECT_EQ(0u, reply.rfind("HD c", 0)) << item.key << ": " << EscapeBytes(reply);
    item.cas = reply.rfind("HD c", 0) == 0 ? std::stoull(reply.substr(4)) : 0;
  }
  void StoreAll(std::vector<Item>& items) {
    for (Item& item : items) Store(item);
  }

  // Stores kBigItems incompressible values under `prefix` (2x -m), so that every item stored
  // before and not read since leaves RAM, then waits until the spill queue is empty. Returns the
  // big items (without CAS).
  std::vector<Item> SpillBig(const std::string& prefix, uint32_t seed) {
    std::vector<Item> big;
    std::string batch;
    for (int i = 0; i < kBigItems; ++i) {
      Item item{prefix + std::to_string(i), AwkwardBytes(kBigValueBytes, seed + i),
                static_cast<uint32_t>(1000 + i), 0};
      batch += "set " + item.key + " " + std::to_string(item.flags) + " 0 " +
               std::to_string(item.data.size()) + " noreply\r\n" + item.data + "\r\n";
      big.push_back(std::move(item));
      if (batch.size() >= (2 << 20)) {
        EXPECT_TRUE(client_->Send(batch).ok());
        batch.clear();
      }
    }
    EXPECT_TRUE(client_->Send(batch).ok());
    EXPECT_EQ("MN\r\n", Call("mn\r\n"));  // every set before it was processed
    auto drained = WaitForStats(
        *client_, [](const StatMap& s) { return StatInt(s, "warm_spill_queue") == 0; },
        kSpillDeadline, "warm_spill_queue");
    EXPECT_TRUE(drained.ok()) << drained.status().ToString();
    if (drained.ok()) {
      EXPECT_GT(StatInt(*drained, "warm_items").value_or(0), 0) << "nothing spilled to disk";
    }
    return big;
  }

  std::string StatText(const std::string& name) {
    auto stats = ReadStats(*client_);
    EXPECT_TRUE(stats.ok()) << stats.status().ToString();
    if (!stats.ok()) return {};
    auto it = stats->find(name);
    return it == stats->end() ? std::string() : it->second;
  }

  // Sends `snapshot`; on "OK <path> <items>" returns {path, items}.
  std::optional<std::pair<std::string, uint64_t>> Snapshot() {
    const std::string reply = Call("snapshot\r\n");
    static const std::regex kOk(R"(OK (\S+) (\d+)\r\n)");
    std::smatch m;
    if (!std::regex_match(reply, m, kOk)) {
      ADD_FAILURE() << "snapshot: " << EscapeBytes(reply);
      return std::nullopt;
    }
    return std::make_pair(m[1].str(), static_cast<uint64_t>(std::stoull(m[2])));
  }

  // Runs `warmcachectl args...`.
  CommandResult Ctl(const std::vector<std::string>& args) {
    std::vector<std::string> argv = {WC_WARMCACHECTL_PATH};
    argv.insert(argv.end(), args.begin(), args.end());
    auto result = RunCommand(argv, kCtlTimeout);
    EXPECT_TRUE(result.ok()) << result.status().ToString();
    return result.ok() ? *result : CommandResult{-1000, ""};
  }
  // A failed warmcachectl run: exit 1 and exactly one line of output (its error on stderr).
  void ExpectFailsWithOneLine(const CommandResult& r, const std::string& what,
                              const std::string& needle = "") {
    EXPECT_EQ(1, r.exit_status) << what << ": " << r.output;
    EXPECT_EQ(1, CountLines(r.output)) << what << ": " << r.output;
    EXPECT_EQ(0u, r.output.rfind("warmcachectl: ", 0)) << what << ": " << r.output;
    if (!needle.empty()) {
      EXPECT_NE(std::string::npos, r.output.find(needle)) << what << ": " << r.output;
    }
  }
  std::optional<RestoreSummary> Restore(const std::string& file, const std::string& data_dir,
                                        const std::vector<std::string>& extra = {}) {
    std::vector<std::string> args = {"snapshot", "restore", file, "--data-dir", data_dir};
    args.insert(args.end(), extra.begin(), extra.end());
    const CommandResult r = Ctl(args);
    EXPECT_EQ(0, r.exit_status) << r.output;
    auto summary = ParseRestoreSummary(r.output);
    EXPECT_TRUE(summary.has_value()) << r.output;
    return summary;
  }
  void ExpectVerifies(const std::string& file, uint64_t records) {
    const CommandResult r = Ctl({"snapshot", "verify", file});
    EXPECT_EQ(0, r.exit_status) << r.output;
    EXPECT_EQ(0u, r.output.rfind("OK: " + std::to_string(records) + " records, ", 0)) << r.output;
  }
  void ExpectInspectShows(const std::string& file, uint64_t records) {
    const CommandResult r = Ctl({"snapshot", "inspect", file});
    EXPECT_EQ(0, r.exit_status) << r.output;
    EXPECT_TRUE(
        std::regex_search(r.output, std::regex("\nrecords: +" + std::to_string(records) + "\n")))
        << r.output;
    EXPECT_TRUE(std::regex_search(r.output, std::regex("\nchecksums: +ok\n"))) << r.output;
  }

  // Every item is served byte-exact with its flags (and its CAS, where known).
  void ExpectServed(const std::vector<Item>& items) {
    for (const Item& item : items) {
      const bool with_cas = item.cas != 0;
      // EXPECT_TRUE, not EXPECT_EQ: big random values are no use in a failure message.
      const std::string reply = Get((with_cas ? "gets " : "get ") + item.key + "\r\n");
      EXPECT_TRUE(Value(item, with_cas) + "END\r\n" == reply)
          << item.key << " came back different: " << EscapeBytes(reply.substr(0, 120));
    }
  }
  void ExpectMissing(const std::vector<Item>& items) {
    for (const Item& item : items)
      EXPECT_EQ("END\r\n", Get("get " + item.key + "\r\n")) << item.key;
  }

  // Items in RAM and on disk in a server started with --snapshot-dir: `disk` items pushed out
  // of RAM by the big ones, `ram` items stored after them. All of them, in the order stored.
  std::vector<Item> FillRamAndDisk(const std::string& prefix, uint32_t seed) {
    std::vector<Item> disk = VarietyOfItems(prefix + "disk:", seed);
    StoreAll(disk);
    std::vector<Item> all = disk;
    for (Item& item : SpillBig(prefix + "big:", seed + 100)) all.push_back(std::move(item));
    std::vector<Item> ram = VarietyOfItems(prefix + "ram:", seed + 1);
    StoreAll(ram);
    all.insert(all.end(), ram.begin(), ram.end());
    return all;
  }

  std::vector<std::unique_ptr<TempDir>> dirs_;  // declared first: destroyed after the server
  std::unique_ptr<ServerProcess> server_;
  std::unique_ptr<TestClient> client_;
};

// ---------------------------------------------------------------------------------------------

TEST_F(SnapshotFilesTest, ServerSnapshotRoundTrip) {
  auto data = NewDir();
  auto snaps = NewDir();
  auto target = NewDir();
  ASSERT_TRUE(data && snaps && target);
  Start(data->path(), {"--snapshot-dir", snaps->path()});
  std::vector<Item> items = FillRamAndDisk("rt:", 1);
  // A key that is not text (meta's base64 keys): "bin\0key".
  static constexpr char kBinaryKeySet[] = "ms YmluAGtleQ== 5 b F9 T0\r\nb\0key\r\n";
  const std::string binary_key_set(kBinaryKeySet, sizeof(kBinaryKeySet) - 1);
  ASSERT_EQ("HD\r\n", Call(binary_key_set));
  const auto snap = Snapshot();
  ASSERT_TRUE(snap.has_value());
  const auto [file, records] = *snap;
  EXPECT_EQ(items.size() + 1, records) << "items in the file";
  EXPECT_EQ(0u, file.rfind(snaps->path() + "/warmcache-", 0)) << file;
  EXPECT_TRUE(file.ends_with(".wcsnap")) << file;
  uint64_t max_cas = 0;
  for (const Item& item : items) max_cas = std::max(max_cas, item.cas);
  Stop();

  ExpectVerifies(file, records);
  const std::string restored_dir = target->File("data");  // does not exist yet
  const auto summary = Restore(file, restored_dir);
  ASSERT_TRUE(summary.has_value());
  EXPECT_EQ(records, summary->restored);
  EXPECT_EQ(0u, summary->expired);
  EXPECT_EQ(0u, summary->filtered);

  Start(restored_dir);
  EXPECT_EQ("clean", StatText("warm_start"));
  ExpectServed(items);
  EXPECT_EQ(std::string("VA 5 f9\r\nb\0key\r\n", 16), Meta("mg YmluAGtleQ== b v f\r\n"));
  for (const Item& item : items) {
    if (item.key.find("big:") != std::string::npos) continue;
    const std::string ttl = Meta("mg " + item.key + " t\r\n");
    if (item.ttl == 0) {
      EXPECT_EQ("HD t-1\r\n", ttl) << item.key;
    } else {
      // Absolute expiry kept: the TTL left is the original minus the time since the store.
      ASSERT_EQ(0u, ttl.rfind("HD t", 0)) << item.key << ": " << ttl;
      const int left = std::stoi(ttl.substr(4));
      EXPECT_LE(left, item.ttl) << item.key;
      EXPECT_GE(left, item.ttl - 60) << item.key;
    }
  }
  // CAS values continue above the restored ones.
  Item fresh{"rt:fresh", "new", 1, 0};
  Store(fresh);
  EXPECT_GT(fresh.cas, max_cas);
  // A CAS a client got from the source server still works.
  const Item& plain = items.front();
  EXPECT_EQ("STORED\r\n",
            Call("cas " + plain.key + " 5 0 3 " + std::to_string(plain.cas) + "\r\nnew\r\n"));
}

TEST_F(SnapshotFilesTest, SnapshotWithoutSnapshotDir) {
  auto data = NewDir();
  ASSERT_TRUE(data);
  Start(data->path());
  Item item{"nodir:a", "a", 0, 0};
  Store(item);
  const std::string reply = Call("snapshot\r\n");
  EXPECT_EQ(0u, reply.rfind("SERVER_ERROR ", 0)) << reply;
  EXPECT_TRUE(reply.find("--snapshot-dir") != std::string::npos) << reply;
  EXPECT_EQ("ERROR\r\n", Call("snapshot x\r\n"));
  ExpectServed({item});  // still serving, on the same connection
  Stop();

  auto snaps = NewDir();
  ASSERT_TRUE(snaps);
  Start(data->path(), {"--persistence=off", "--snapshot-dir", snaps->path()});
  const std::string off = Call("snapshot\r\n");
  EXPECT_EQ(0u, off.rfind("SERVER_ERROR ", 0)) << off;
  EXPECT_TRUE(SnapshotFiles(snaps->path()).empty());
  EXPECT_EQ("VERSION 1.6.18\r\n", Call("version\r\n"));
}

TEST_F(SnapshotFilesTest, ScheduledFilesKeepTheNewestN) {
  auto data = NewDir();
  auto snaps = NewDir();
  ASSERT_TRUE(data && snaps);
  Start(data->path(),
        {"--snapshot-dir", snaps->path(), "--snapshot-file-interval", "1", "--snapshot-keep", "2"});
  const std::vector<Item> items = FillRamAndDisk("sched:", 3);
  // Each scheduled file is logged: "warm tier: snapshot file <path>: <n> items".
  static const std::regex kLogged(R"(snapshot file (\S+): (\d+) items)");
  const auto logged = [&] {
    std::vector<std::string> paths;
    const std::string log = server_->StderrText();
    for (auto it = std::sregex_iterator(log.begin(), log.end(), kLogged);
         it != std::sregex_iterator(); ++it) {
      paths.push_back((*it)[1].str());
    }
    return paths;
  };
  const auto until = Clock::now() + kScheduleDeadline;
  while (logged().size() < 3 && Clock::now() < until) std::this_thread::sleep_for(kPollEvery);
  Stop();  // no file is written or pruned any more
  const std::vector<std::string> written = logged();
  ASSERT_GE(written.size(), 3u) << server_->StderrText();
  // Only the newest 2 remain; their names sort in the order they were written.
  const std::vector<std::string> newest(written.end() - 2, written.end());
  EXPECT_EQ(newest, SnapshotFiles(snaps->path())) << server_->StderrText();
  std::vector<std::string> sorted = written;
  std::sort(sorted.begin(), sorted.end());
  EXPECT_EQ(written, sorted) << "names do not sort by time";
  // The last one holds everything.
  ExpectVerifies(written.back(), items.size());
}

// Files cut within one second share a time stamp (the later ones get a "-N" suffix); the newest
// must still be the one kept, and the file an OK reply names must exist.
TEST_F(SnapshotFilesTest, FilesOfTheSameSecondKeepTheNewest) {
  auto data = NewDir();
  auto snaps = NewDir();
  ASSERT_TRUE(data && snaps);
  Start(data->path(),
        {"--snapshot-dir", snaps->path(), "--snapshot-keep", "1", "--snapshot-file-interval", "0"});
  Item item{"same:a", "a", 0, 0};
  Store(item);
  for (int i = 0; i < 5; ++i) {
    const auto snap = Snapshot();
    ASSERT_TRUE(snap.has_value());
    EXPECT_TRUE(std::filesystem::exists(snap->first))
        << "snapshot #" << i << " replied OK " << snap->first << " but the file is gone";
    EXPECT_EQ(std::vector<std::string>{snap->first}, SnapshotFiles(snaps->path()))
        << "snapshot #" << i;
  }
}

TEST_F(SnapshotFilesTest, CtlCreateFromServerWithOut) {
  auto data = NewDir();
  auto snaps = NewDir();
  auto out = NewDir();
  ASSERT_TRUE(data && snaps && out);
  Start(data->path(), {"--snapshot-dir", snaps->path()});
  const std::vector<Item> items = FillRamAndDisk("srv:", 5);
  const std::string address = "127.0.0.1:" + std::to_string(server_->port());
  const std::string file = out->File("copy.wcsnap");
  const CommandResult r = Ctl({"snapshot", "create", "--server", address, "--out", file});
  EXPECT_EQ(0, r.exit_status) << r.output;
  EXPECT_EQ(file + ": " + std::to_string(items.size()) + " items\n", r.output);
  ExpectVerifies(file, items.size());
  ExpectInspectShows(file, items.size());
  // Without --out: the server's own file is named.
  const CommandResult here = Ctl({"snapshot", "create", "--server", address});
  EXPECT_EQ(0, here.exit_status) << here.output;
  EXPECT_NE(std::string::npos, here.output.find(snaps->path() + "/warmcache-")) << here.output;
  // A server without --snapshot-dir: exit 1, its SERVER_ERROR in one line.
  Stop();
  Start(data->path());
  const CommandResult refused =
      Ctl({"snapshot", "create", "--server", "127.0.0.1:" + std::to_string(server_->port()),
           "--out", out->File("none.wcsnap")});
  ExpectFailsWithOneLine(refused, "no --snapshot-dir", "SERVER_ERROR");
  EXPECT_FALSE(std::filesystem::exists(out->File("none.wcsnap")));
}

TEST_F(SnapshotFilesTest, CtlCreateFromDataDir) {
  auto data = NewDir();
  auto out = NewDir();
  ASSERT_TRUE(data && out);
  Start(data->path());
  const std::vector<Item> items = FillRamAndDisk("dd:", 7);
  Stop();
  const std::string file = out->File("dd.wcsnap");
  const CommandResult r = Ctl({"snapshot", "create", "--data-dir", data->path(), "--out", file});
  EXPECT_EQ(0, r.exit_status) << r.output;
  EXPECT_EQ(0u, r.output.rfind(file + ": " + std::to_string(items.size()) + " items", 0))
      << r.output;
  ExpectVerifies(file, items.size());
  ExpectInspectShows(file, items.size());
  // Reading the directory left it as it was: still a clean warm start with every item.
  Start(data->path());
  EXPECT_EQ("clean", StatText("warm_start"));
  ExpectServed(items);
}

TEST_F(SnapshotFilesTest, CtlCreateFromDataDirInUse) {
  auto data = NewDir();
  auto out = NewDir();
  ASSERT_TRUE(data && out);
  Start(data->path());
  std::vector<Item> items = VarietyOfItems("use:", 9);
  StoreAll(items);
  const std::string file = out->File("busy.wcsnap");
  ExpectFailsWithOneLine(Ctl({"snapshot", "create", "--data-dir", data->path(), "--out", file}),
                         "a data dir in use", data->path());
  EXPECT_FALSE(std::filesystem::exists(file));
  EXPECT_TRUE(server_->IsRunning());
  ExpectServed(items);
}

TEST_F(SnapshotFilesTest, CtlCreateFromKilledDataDir) {
  auto data = NewDir();
  auto out = NewDir();
  ASSERT_TRUE(data && out);
  Start(data->path());
  FillRamAndDisk("kill:", 11);
  client_.reset();
  server_->Kill9();
  const std::string file = out->File("killed.wcsnap");
  ExpectFailsWithOneLine(Ctl({"snapshot", "create", "--data-dir", data->path(), "--out", file}),
                         "a dir killed with kill -9", "not shut down cleanly");
  EXPECT_FALSE(std::filesystem::exists(file));
}

TEST_F(SnapshotFilesTest, RestoreSkipsExpiredAndFilters) {
  auto data = NewDir();
  auto snaps = NewDir();
  auto target = NewDir();
  ASSERT_TRUE(data && snaps && target);
  Start(data->path(), {"--snapshot-dir", snaps->path()});
  std::vector<Item> live = FillRamAndDisk("live:", 13);
  std::vector<Item> other = {{"other:a", "a", 1, 0}, {"other:b", "b", 2, 0}};
  StoreAll(other);
  std::vector<Item> short_lived = {
      {"short:a", "a", 1, 2}, {"short:b", "b", 2, 2}, {"short:c", std::string(3000, 'c'), 3, 2}};
  StoreAll(short_lived);
  const int64_t stored_by = std::time(nullptr);
  const auto snap = Snapshot();
  ASSERT_TRUE(snap.has_value());
  const uint64_t total = live.size() + other.size() + short_lived.size();
  // If this fails, the 2 s TTL ran out before the file was cut (a very slow machine).
  ASSERT_EQ(total, snap->second) << "items in the file";
  Stop();
  // Poll the clock until the 2 s items have surely expired (exptime <= now).
  const auto until = Clock::now() + seconds(10);
  while (std::time(nullptr) < stored_by + 2 && Clock::now() < until) {
    std::this_thread::sleep_for(kPollEvery);
  }
  ASSERT_GE(std::time(nullptr), stored_by + 2);
  {
    const CommandResult r = Ctl({"snapshot", "inspect", snap->first});
    EXPECT_EQ(0, r.exit_status) << r.output;
    EXPECT_TRUE(std::regex_search(r.output, std::regex("\n  already expired +3\n"))) << r.output;
  }

  const std::string all_dir = target->File("all");
  const auto summary = Restore(snap->first, all_dir);
  ASSERT_TRUE(summary.has_value());
  EXPECT_EQ(total - short_lived.size(), summary->restored);
  EXPECT_EQ(short_lived.size(), summary->expired);
  EXPECT_EQ(0u, summary->filtered);
  Start(all_dir);
  ExpectServed(live);
  ExpectServed(other);
  ExpectMissing(short_lived);
  Stop();

  const std::string prefix_dir = target->File("prefix");
  const auto filtered = Restore(snap->first, prefix_dir, {"--prefix", "live:ram:"});
  ASSERT_TRUE(filtered.has_value());
  std::vector<Item> matching;
  std::vector<Item> not_matching = other;
  for (const Item& item : live) {
    (item.key.rfind("live:ram:", 0) == 0 ? matching : not_matching).push_back(item);
  }
  EXPECT_EQ(matching.size(), filtered->restored);
  EXPECT_EQ(0u, filtered->expired);
  EXPECT_EQ(total - matching.size(), filtered->filtered);
  Start(prefix_dir);
  ExpectServed(matching);
  ExpectMissing(not_matching);
  ExpectMissing(short_lived);
}

TEST_F(SnapshotFilesTest, BadFilesChangeNothing) {
  auto data = NewDir();
  auto snaps = NewDir();
  auto files = NewDir();
  auto target = NewDir();
  auto empty = NewDir();
  ASSERT_TRUE(data && snaps && files && target && empty);
  // Two good files: A with the a: items, B with the b: items instead.
  Start(data->path(), {"--snapshot-dir", snaps->path(), "--snapshot-keep", "10"});
  std::vector<Item> a_items = FillRamAndDisk("a:", 15);
  const auto a = Snapshot();
  ASSERT_TRUE(a.has_value());
  const std::string file_a = files->File("a.wcsnap");
  std::filesystem::copy_file(a->first, file_a);
  ASSERT_EQ("OK\r\n", Call("flush_all\r\n"));
  std::vector<Item> b_items = VarietyOfItems("b:", 16);
  StoreAll(b_items);
  const auto b = Snapshot();
  ASSERT_TRUE(b.has_value());
  EXPECT_EQ(b_items.size(), b->second);
  const std::string file_b = files->File("b.wcsnap");
  std::filesystem::copy_file(b->first, file_b);
  Stop();

  // The target holds A, restored and then served once (so it is a server's data dir).
  ASSERT_TRUE(Restore(file_a, target->path()).has_value());
  Start(target->path());
  ExpectServed(a_items);
  Stop();

  const std::string good = ReadFileOrEmpty(file_a);
  ASSERT_GT(good.size(), 1000u);
  std::vector<std::pair<std::string, std::string>> bad = {
      {"truncated-half", good.substr(0, good.size() / 2)},
      {"truncated-1", good.substr(0, good.size() - 1)},
      {"header-only", good.substr(0, 70)},
      {"flipped-middle", good},
      {"hostname", ReadFileOrEmpty("/etc/hostname") + "not a snapshot\n"},
      {"random", AwkwardBytes(64 * 1024, 77)},
      {"empty", ""},
      {"appended", good + "x"},
  };
  bad[3].second[good.size() / 2] ^= 0x20;
  const auto before = ListDir(target->path());
  ASSERT_FALSE(before.empty());
  for (const auto& [name, bytes] : bad) {
    const std::string path = files->File(name + ".wcsnap");
    WriteFile(path, bytes);
    ExpectFailsWithOneLine(Ctl({"snapshot", "verify", path}), "verify " + name, path);
    for (const bool force : {false, true}) {
      std::vector<std::string> args = {"snapshot", "restore", path, "--data-dir", target->path()};
      if (force) args.push_back("--force");
      ExpectFailsWithOneLine(Ctl(args), "restore " + name + (force ? " --force" : ""), path);
      const auto after = ListDir(target->path());
      EXPECT_TRUE(before == after) << name << (force ? " --force" : "") << " changed the target:\n"
                                   << DescribeListing(before) << "---\n"
                                   << DescribeListing(after);
    }
    ExpectFailsWithOneLine(
        Ctl({"snapshot", "restore", path, "--data-dir", empty->path(), "--force"}),
        "restore " + name + " into an empty dir", path);
    EXPECT_TRUE(ListDir(empty->path()).empty()) << name << " wrote into the empty dir";
  }
  ExpectFailsWithOneLine(
      Ctl({"snapshot", "restore", files->File("missing.wcsnap"), "--data-dir", target->path()}),
      "a missing file");

  // The target still serves A; a restore into it while it is in use fails, even with --force.
  Start(target->path());
  EXPECT_EQ("clean", StatText("warm_start"));
  ExpectServed(a_items);
  for (const bool force : {false, true}) {
    std::vector<std::string> args = {"snapshot", "restore", file_b, "--data-dir", target->path()};
    if (force) args.push_back("--force");
    ExpectFailsWithOneLine(Ctl(args), force ? "a dir in use, --force" : "a dir in use",
                           target->path());
  }
  ExpectServed(a_items);
  ExpectMissing(b_items);
  Stop();

  // Stopped: without --force B is refused, with --force it replaces A.
  ExpectFailsWithOneLine(Ctl({"snapshot", "restore", file_b, "--data-dir", target->path()}),
                         "a dir holding a cache", "--force");
  Start(target->path());
  ExpectServed(a_items);
  Stop();
  const auto replaced = Restore(file_b, target->path(), {"--force"});
  ASSERT_TRUE(replaced.has_value());
  EXPECT_EQ(b_items.size(), replaced->restored);
  Start(target->path());
  EXPECT_EQ("clean", StatText("warm_start"));
  ExpectServed(b_items);
  ExpectMissing(a_items);
}

TEST_F(SnapshotFilesTest, RestoreFromFlag) {
  auto data = NewDir();
  auto snaps = NewDir();
  auto target = NewDir();
  ASSERT_TRUE(data && snaps && target);
  Start(data->path(), {"--snapshot-dir", snaps->path()});
  std::vector<Item> items = FillRamAndDisk("flag:", 17);
  const auto snap = Snapshot();
  ASSERT_TRUE(snap.has_value());
  Stop();

  const std::string dir = target->File("data");
  const std::vector<std::string> flags = {"--restore-from", snap->first};
  Start(dir, flags);
  EXPECT_EQ("clean", StatText("warm_start"));
  ExpectServed(items);
  // Change one item, delete another, then restart with the same flags: the changes stay.
  Item& changed = items.front();
  changed.data = "changed after the restore";
  changed.flags = 99;
  Store(changed);
  const Item deleted = items.back();
  items.pop_back();
  EXPECT_EQ("DELETED\r\n", Call("delete " + deleted.key + "\r\n"));
  Stop();
  Start(dir, flags);
  EXPECT_NE(std::string::npos, server_->StderrText().find("--restore-from ignored"))
      << server_->StderrText();
  EXPECT_EQ("clean", StatText("warm_start"));
  ExpectServed(items);
  ExpectMissing({deleted});
}

// A delayed flush_all pending when the file was cut still happens after a restore: the file
// carries the flush state, and a flushed item must never come back.
TEST_F(SnapshotFilesTest, PendingFlushAllSurvivesARestore) {
  auto data = NewDir();
  auto snaps = NewDir();
  auto target = NewDir();
  ASSERT_TRUE(data && snaps && target);
  Start(data->path(), {"--snapshot-dir", snaps->path()});
  const std::vector<Item> items = FillRamAndDisk("pf:", 19);
  const auto flushed_at = Clock::now();
  ASSERT_EQ("OK\r\n", Call("flush_all 6\r\n"));
  const auto snap = Snapshot();
  ASSERT_TRUE(snap.has_value());
  EXPECT_EQ(items.size(), snap->second);
  Stop();
  const auto summary = Restore(snap->first, target->path());
  ASSERT_TRUE(summary.has_value());
  Start(target->path());
  // memcached's delayed flush starts at the first clock tick at or after now + delay - 1 s.
  if (Clock::now() - flushed_at < seconds(4)) ExpectServed({items.front()});
  const auto until = Clock::now() + seconds(15);
  while (Get("get " + items.front().key + "\r\n") != "END\r\n" && Clock::now() < until) {
    std::this_thread::sleep_for(kPollEvery);
  }
  ExpectMissing(items);
}

// A bad file given to --restore-from: the server refuses to start, with one error line naming
// the file, and writes nothing into the data directory.
TEST_F(SnapshotFilesTest, RestoreFromABadFileRefusesToStart) {
  auto files = NewDir();
  auto target = NewDir();
  ASSERT_TRUE(files && target);
  const std::string file = files->File("foreign.wcsnap");
  WriteFile(file, AwkwardBytes(4096, 5));
  std::vector<std::string> args = EphemeralPortArgs();
  args.insert(args.end(),
              {"-m", std::to_string(kRamMb), "--data-dir", target->path(), "--restore-from", file});
  auto started = ServerProcess::Start(WC_WARMCACHED_PATH, args);
  ASSERT_FALSE(started.ok()) << "warmcached started from a foreign file";
  // ServerProcess::Start quotes the child's stderr after "stderr: ".
  const std::string& message = started.status().message();
  const size_t at = message.find("stderr: ");
  ASSERT_NE(std::string::npos, at) << message;
  // One error line naming the file; other lines may only be warnings (as root, one says
  // memcached would insist on -u).
  std::vector<std::string> errors;
  std::istringstream lines(message.substr(at + 8));
  for (std::string line; std::getline(lines, line);) {
    if (line.find(" warning ") == std::string::npos) errors.push_back(line);
  }
  ASSERT_EQ(1u, errors.size()) << message;
  EXPECT_NE(std::string::npos, errors[0].find(file)) << errors[0];
  EXPECT_TRUE(ListDir(target->path()).empty()) << DescribeListing(ListDir(target->path()));
}

}  // namespace
}  // namespace warmcache::testutil
