// SPDX-License-Identifier: BSD-3-Clause
#include "server/app/options.h"

#include <getopt.h>

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "server/app/suboptions.h"

namespace warmcache::app {

namespace {

constexpr size_t kMinItemSize = 1024;
constexpr size_t kMaxItemSize = size_t{1} << 30;

Status Usage(const std::string& message) { return Status::InvalidArgument(message); }

constexpr uint64_t kMinDiskLimit = 16ull << 20;

bool ParseLong(const char* text, long min, long max, long* out) {
  if (text == nullptr || *text == '\0') return false;
  errno = 0;
  char* end = nullptr;
  const long value = std::strtol(text, &end, 10);
  if (errno != 0 || *end != '\0' || value < min || value > max) return false;
  *out = value;
  return true;
}

Status IntOption(const char* name, const char* text, long min, long max, int* out) {
  long value = 0;
  if (!ParseLong(text, min, max, &value)) {
    return Usage(std::string("invalid value for ") + name + ": \"" + (text ? text : "") + "\"");
  }
  *out = static_cast<int>(value);
  return Status::Ok();
}

// A number of bytes with an optional k, m, g or t suffix (powers of 1024), as -I takes
// (memcached's -I stops at m).
Status SizeOption(const char* name, const char* text, bool allow_gt, uint64_t* out) {
  std::string digits(text);
  uint64_t unit = 1;
  if (!digits.empty()) {
    switch (digits.back()) {
      case 'k':
      case 'K':
        unit = 1ull << 10;
        break;
      case 'm':
      case 'M':
        unit = 1ull << 20;
        break;
      case 'g':
      case 'G':
        unit = allow_gt ? 1ull << 30 : 1;
        break;
      case 't':
      case 'T':
        unit = allow_gt ? 1ull << 40 : 1;
        break;
      default:
        break;
    }
    if (unit != 1) digits.pop_back();
  }
  long value = 0;
  if (!ParseLong(digits.c_str(), 0, LONG_MAX / static_cast<long>(unit), &value)) {
    return Usage(std::string("invalid value for ") + name + ": \"" + text + "\"");
  }
  *out = static_cast<uint64_t>(value) * unit;
  return Status::Ok();
}

Status ItemSizeOption(const char* text, size_t* out) {
  uint64_t bytes = 0;
  WC_RETURN_IF_ERROR(SizeOption("-I", text, /*allow_gt=*/false, &bytes));
  *out = static_cast<size_t>(bytes);
  return Status::Ok();
}

// The warm tier's own options (long only).
enum WarmOption : int {
  kDataDir = 1001,
  kDiskLimit,
  kPersistence,
  kWarmIoThreads,
  kCompressMin,
  kCompressLevel,
  kSnapshotInterval,
  kDurability,
  kDamagedData,
  kSnapshotDir,
  kSnapshotKeep,
  kSnapshotFileInterval,
  kRestoreFrom,
  kProxy,
  kPool,
  kPoolName,
};

// --name=a|b: true for `yes`, false for `no`, a usage error for anything else.
Status ChoiceOption(const char* name, const char* value, const char* yes, const char* no,
                    bool* out) {
  if (std::strcmp(value, yes) != 0 && std::strcmp(value, no) != 0) {
    return Usage(std::string(name) + " takes " + yes + " or " + no + ", not \"" + value + "\"");
  }
  *out = std::strcmp(value, yes) == 0;
  return Status::Ok();
}

Status ApplyWarmOption(int opt, const char* value, Settings* s) {
  switch (opt) {
    case kDataDir:
      if (*value == '\0') return Usage("--data-dir needs a directory");
      s->data_dir = value;
      return Status::Ok();
    case kDiskLimit:
      return SizeOption("--disk-limit", value, /*allow_gt=*/true, &s->disk_limit);
    case kPersistence:
      return ChoiceOption("--persistence", value, "on", "off", &s->persistence);
    case kSnapshotInterval:
      return IntOption("--snapshot-interval", value, 0, 86400 * 7, &s->snapshot_interval);
    case kDurability:
      return ChoiceOption("--durability", value, "write-through", "snapshot", &s->write_through);
    case kDamagedData:
      return ChoiceOption("--damaged-data", value, "discard", "fail", &s->discard_damaged);
    case kSnapshotDir:
      if (*value == '\0') return Usage("--snapshot-dir needs a directory");
      s->snapshot_dir = value;
      return Status::Ok();
    case kSnapshotKeep:
      return IntOption("--snapshot-keep", value, 1, 100000, &s->snapshot_keep);
    case kSnapshotFileInterval:
      return IntOption("--snapshot-file-interval", value, 0, 86400 * 365,
                       &s->snapshot_file_interval);
    case kRestoreFrom:
      if (*value == '\0') return Usage("--restore-from needs a snapshot file");
      s->restore_from = value;
      return Status::Ok();
    case kProxy:
      s->proxy = true;
      return Status::Ok();
    case kPool:
      if (*value == '\0') return Usage("--pool needs a pool file");
      // Absolute, so a reload (SIGHUP) after -d changed the directory reads the same file.
      s->pool_file = std::filesystem::absolute(value).lexically_normal().string();
      return Status::Ok();
    case kPoolName:
      s->pool_name = value;
      return Status::Ok();
    case kWarmIoThreads:
      return IntOption("--warm-io-threads", value, 1, 64, &s->warm_io_threads);
    case kCompressMin: {
      uint64_t bytes = 0;
      WC_RETURN_IF_ERROR(SizeOption("--compress-min", value, /*allow_gt=*/false, &bytes));
      s->compress_min = static_cast<size_t>(bytes);
      return Status::Ok();
    }
    case kCompressLevel:
      return IntOption("--compress-level", value, 1, 19, &s->compress_level);
    default:
      return Usage("unknown option; see warmcached -h");
  }
}

const option kLongOptions[] = {
    {"unix-mask", required_argument, nullptr, 'a'},
    {"enable-shutdown", no_argument, nullptr, 'A'},
    {"enable-ssl", no_argument, nullptr, 'Z'},
    {"port", required_argument, nullptr, 'p'},
    {"unix-socket", required_argument, nullptr, 's'},
    {"udp-port", required_argument, nullptr, 'U'},
    {"memory-limit", required_argument, nullptr, 'm'},
    {"disable-evictions", no_argument, nullptr, 'M'},
    {"conn-limit", required_argument, nullptr, 'c'},
    {"lock-memory", no_argument, nullptr, 'k'},
    {"help", no_argument, nullptr, 'h'},
    {"license", no_argument, nullptr, 'i'},
    {"version", no_argument, nullptr, 'V'},
    {"enable-coredumps", no_argument, nullptr, 'r'},
    {"verbose", optional_argument, nullptr, 'v'},
    {"daemon", no_argument, nullptr, 'd'},
    {"listen", required_argument, nullptr, 'l'},
    {"user", required_argument, nullptr, 'u'},
    {"pidfile", required_argument, nullptr, 'P'},
    {"slab-growth-factor", required_argument, nullptr, 'f'},
    {"slab-min-size", required_argument, nullptr, 'n'},
    {"threads", required_argument, nullptr, 't'},
    {"enable-largepages", no_argument, nullptr, 'L'},
    {"max-reqs-per-event", required_argument, nullptr, 'R'},
    {"disable-cas", no_argument, nullptr, 'C'},
    {"listen-backlog", required_argument, nullptr, 'b'},
    {"protocol", required_argument, nullptr, 'B'},
    {"max-item-size", required_argument, nullptr, 'I'},
    {"enable-sasl", no_argument, nullptr, 'S'},
    {"disable-flush-all", no_argument, nullptr, 'F'},
    {"disable-dumping", no_argument, nullptr, 'X'},
    {"disable-watch", no_argument, nullptr, 'W'},
    {"auth-file", required_argument, nullptr, 'Y'},
    {"memory-file", required_argument, nullptr, 'e'},
    {"extended", required_argument, nullptr, 'o'},
    {"napi-ids", required_argument, nullptr, 'N'},
    {"config", required_argument, nullptr, 1000},
    {"data-dir", required_argument, nullptr, kDataDir},
    {"disk-limit", required_argument, nullptr, kDiskLimit},
    {"persistence", required_argument, nullptr, kPersistence},
    {"warm-io-threads", required_argument, nullptr, kWarmIoThreads},
    {"compress-min", required_argument, nullptr, kCompressMin},
    {"compress-level", required_argument, nullptr, kCompressLevel},
    {"snapshot-interval", required_argument, nullptr, kSnapshotInterval},
    {"durability", required_argument, nullptr, kDurability},
    {"damaged-data", required_argument, nullptr, kDamagedData},
    {"snapshot-dir", required_argument, nullptr, kSnapshotDir},
    {"snapshot-keep", required_argument, nullptr, kSnapshotKeep},
    {"snapshot-file-interval", required_argument, nullptr, kSnapshotFileInterval},
    {"restore-from", required_argument, nullptr, kRestoreFrom},
    {"proxy", no_argument, nullptr, kProxy},
    {"pool", required_argument, nullptr, kPool},
    {"pool-name", required_argument, nullptr, kPoolName},
    {nullptr, 0, nullptr, 0},
};

constexpr const char* kShortOptions = "a:AZp:s:U:m:Mc:khiVrvdl:u:P:f:n:t:D:LR:Cb:B:I:SFXWY:e:o:N:";

// One option; `value` is optarg (may be null).
Status ApplyOption(int opt, const char* value, ParsedOptions* parsed) {
  Settings& s = parsed->settings;
  switch (opt) {
    case 'a': {
      errno = 0;
      char* end = nullptr;
      const long mask = std::strtol(value, &end, 8);
      if (errno != 0 || *end != '\0' || mask < 0 || mask > 0777) {
        return Usage(std::string("invalid unix socket mask: \"") + value + "\"");
      }
      s.unix_mask = static_cast<int>(mask);
      return Status::Ok();
    }
    case 'A':
      s.shutdown_enabled = true;
      return Status::Ok();
    case 'Z':
      return Usage("TLS (-Z) is not supported by this warmcached build");
    case 'p':
      s.listen_given = true;
      return IntOption("-p", value, -1, 65535, &s.port);
    case 's':
      s.listen_given = true;
      s.unix_socket = value;
      return Status::Ok();
    case 'U':
      WC_RETURN_IF_ERROR(IntOption("-U", value, -1, 65535, &s.udp_port));
      if (s.udp_port != 0) s.ignored.push_back("-U: the UDP protocol is not served; TCP only");
      return Status::Ok();
    case 'm': {
      long mb = 0;
      if (!ParseLong(value, 0, 1L << 30, &mb)) {
        return Usage(std::string("invalid value for -m: \"") + value + "\"");
      }
      s.memory_limit = static_cast<size_t>(mb) << 20;
      return Status::Ok();
    }
    case 'M':
      s.evictions = false;
      return Status::Ok();
    case 'c':
      WC_RETURN_IF_ERROR(IntOption("-c", value, INT_MIN, INT_MAX, &s.max_connections));
      if (s.max_connections <= 0) return Usage("Maximum connections must be greater than 0");
      return Status::Ok();
    case 'k':
      s.lock_memory = true;
      return Status::Ok();
    case 'h':
      parsed->action = ParseAction::kPrintHelp;
      return Status::Ok();
    case 'i':
      parsed->action = ParseAction::kPrintLicense;
      return Status::Ok();
    case 'V':
      parsed->action = ParseAction::kPrintVersion;
      return Status::Ok();
    case 'r':
      s.coredumps = true;
      return Status::Ok();
    case 'v':
      // -vv is two -v; --verbose=N sets the level.
      if (value != nullptr) return IntOption("--verbose", value, 0, 3, &s.verbose);
      s.verbose++;
      return Status::Ok();
    case 'd':
      s.daemonize = true;
      return Status::Ok();
    case 'l':
      s.listen_given = true;
      s.listen.push_back(value);
      return Status::Ok();
    case 'u':
      s.user = value;
      return Status::Ok();
    case 'P':
      s.pid_file = value;
      return Status::Ok();
    case 'f': {
      char* end = nullptr;
      s.growth_factor = std::strtod(value, &end);
      if (*end != '\0' || !(s.growth_factor > 1.0)) return Usage("Factor must be greater than 1");
      return Status::Ok();
    }
    case 'n': {
      int n = 0;
      WC_RETURN_IF_ERROR(IntOption("-n", value, INT_MIN, INT_MAX, &n));
      if (n <= 0) return Usage("Chunk size must be greater than 0");
      s.chunk_size = static_cast<size_t>(n);
      return Status::Ok();
    }
    case 't':
      WC_RETURN_IF_ERROR(IntOption("-t", value, INT_MIN, INT_MAX, &s.threads));
      if (s.threads <= 0) return Usage("Number of threads must be greater than 0");
      return Status::Ok();
    case 'D':
      if (value == nullptr || std::strlen(value) != 1) {
        return Usage("No delimiter specified (-D takes one character)");
      }
      s.prefix_delimiter = value[0];
      s.detail_enabled = true;
      return Status::Ok();
    case 'L':
      s.ignored.push_back("-L: large pages are left to the kernel's transparent huge pages");
      return Status::Ok();
    case 'R':
      WC_RETURN_IF_ERROR(IntOption("-R", value, INT_MIN, INT_MAX, &s.reqs_per_event));
      if (s.reqs_per_event <= 0)
        return Usage("Number of requests per event must be greater than 0");
      return Status::Ok();
    case 'C':
      s.use_cas = false;
      return Status::Ok();
    case 'b':
      return IntOption("-b", value, 1, INT_MAX, &s.backlog);
    case 'B': {
      const std::string proto = value;
      if (proto != "auto" && proto != "binary" && proto != "ascii") {
        return Usage("Invalid value for binding protocol: " + proto +
                     " -- should be one of auto, binary, or ascii");
      }
      s.protocol = proto;
      return Status::Ok();
    }
    case 'I':
      return ItemSizeOption(value, &s.item_size_max);
    case 'S':
      return Usage("SASL (-S) is not supported by this warmcached build");
    case 'F':
      s.flush_enabled = false;
      return Status::Ok();
    case 'X':
      s.dump_enabled = false;
      return Status::Ok();
    case 'W':
      s.watch_enabled = false;
      return Status::Ok();
    case 'Y':
      return Usage("ascii authentication (-Y) is not supported by this warmcached build");
    case 'e':
      s.ignored.push_back("-e: warm restarts need no memory file; warmcache persists to disk");
      return Status::Ok();
    case 'N':
      s.ignored.push_back("-N: NAPI-id thread selection is not used");
      return Status::Ok();
    case 'o':
      return ApplySuboptions(value, &s);
    case 1000:
      return Status::Ok();  // --config: read before the command line
    default:
      return ApplyWarmOption(opt, value, &s);
  }
}

Status Validate(const Settings& s) {
  if (s.item_size_max < kMinItemSize) return Usage("Item max size cannot be less than 1024 bytes.");
  if (s.item_size_max > s.memory_limit / 2) {
    return Usage("Cannot set item size limit higher than 1/2 of memory max.");
  }
  if (s.item_size_max > kMaxItemSize) return Usage("Cannot set item size limit higher than 1 GB.");
  if (s.persistence && s.disk_limit < kMinDiskLimit) {
    return Usage("--disk-limit must be at least 16M (RocksDB needs room for its memtables)");
  }
  if (s.proxy != !s.pool_file.empty()) {
    return Usage(s.proxy ? "--proxy needs --pool FILE (a nutcracker.yml pool file)"
                         : "--pool is for proxy mode: add --proxy");
  }
  if (s.port == 0 && s.unix_socket.empty()) {
    return Usage("nothing to listen on: -p 0 turns TCP off and no -s socket was given");
  }
  return Status::Ok();
}

// Finds --config FILE / --config=FILE without disturbing getopt's scan.
std::string FindConfigFile(const std::vector<std::string>& args) {
  for (size_t i = 1; i < args.size(); ++i) {
    if (args[i] == "--config" && i + 1 < args.size()) return args[i + 1];
    if (args[i].rfind("--config=", 0) == 0) return args[i].substr(9);
  }
  return "";
}

}  // namespace

Result<std::vector<std::string>> ReadConfigFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Status::IoError("cannot read config file " + path + ": " + std::strerror(errno));
  std::vector<std::string> args;
  std::string line;
  while (std::getline(in, line)) {
    const size_t hash = line.find('#');
    if (hash != std::string::npos) line.resize(hash);
    std::istringstream words(line);
    std::string word;
    std::vector<std::string> tokens;
    while (words >> word) tokens.push_back(word);
    if (tokens.empty()) continue;
    // Debian's init script reads "logfile PATH" itself; we honour it directly.
    if (tokens[0] == "logfile" && tokens.size() == 2) {
      args.push_back("--logfile-internal=" + tokens[1]);
      continue;
    }
    args.insert(args.end(), tokens.begin(), tokens.end());
  }
  return args;
}

Result<ParsedOptions> ParseOptions(const std::vector<std::string>& args) {
  ParsedOptions parsed;
  std::vector<std::string> all{args.empty() ? std::string("warmcached") : args[0]};
  const std::string config = FindConfigFile(args);
  if (!config.empty()) {
    Result<std::vector<std::string>> from_file = ReadConfigFile(config);
    if (!from_file.ok()) return from_file.status();
    for (std::string& a : *from_file) {
      if (a.rfind("--logfile-internal=", 0) == 0) {
        parsed.settings.log_file = a.substr(19);
      } else {
        all.push_back(std::move(a));
      }
    }
    parsed.settings.config_file = config;
  }
  all.insert(all.end(), args.begin() + (args.empty() ? 0 : 1), args.end());

  std::vector<char*> argv;
  for (std::string& a : all) argv.push_back(a.data());
  argv.push_back(nullptr);
  optind = 0;  // glibc: rescan from scratch (the parser may run more than once per process)
  opterr = 0;
  while (true) {
    const int opt = getopt_long(static_cast<int>(all.size()), argv.data(), kShortOptions,
                                kLongOptions, nullptr);
    if (opt == -1) break;
    if (opt == '?' || opt == ':') {
      const std::string bad =
          optopt ? std::string("-") + static_cast<char>(optopt) : std::string(argv[optind - 1]);
      return Usage(opt == ':' || (optopt && std::strchr(kShortOptions, optopt))
                       ? "option " + bad + " requires an argument"
                       : "invalid option " + bad + "; see warmcached -h");
    }
    WC_RETURN_IF_ERROR(ApplyOption(opt, optarg, &parsed));
  }
  if (optind < static_cast<int>(all.size())) {
    return Usage(std::string("unexpected argument \"") + argv[optind] + "\"");
  }
  if (parsed.action == ParseAction::kRun) WC_RETURN_IF_ERROR(Validate(parsed.settings));
  return parsed;
}

}  // namespace warmcache::app
