// SPDX-License-Identifier: BSD-3-Clause
#include "tools/bench/bench_options.h"

#include <fmt/format.h>

#include <charconv>
#include <functional>
#include <limits>
#include <string_view>
#include <utility>
#include <vector>

namespace warmcache::tools::bench {

namespace {

template <typename T>
Status ParseNumberIn(std::string_view text, T low, T high, T* out) {
  T value{};
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || ptr != text.data() + text.size() || value < low || value > high) {
    return Status::InvalidArgument(
        fmt::format("'{}' is not a number in [{}, {}]", text, low, high));
  }
  *out = value;
  return Status::Ok();
}

using Setter = std::function<Status(std::string_view, BenchOptions*)>;

template <typename T>
Setter Number(T BenchOptions::*field, T low, T high) {
  return [=](std::string_view text, BenchOptions* o) {
    return ParseNumberIn(text, low, high, &(o->*field));
  };
}

Setter Text(std::string BenchOptions::*field) {
  return [=](std::string_view text, BenchOptions* o) {
    o->*field = std::string(text);
    return Status::Ok();
  };
}

Status SetMode(std::string_view text, BenchOptions* o) {
  if (text == "load")
    o->mode = Mode::kLoad;
  else if (text == "mixed")
    o->mode = Mode::kMixed;
  else if (text == "multiget")
    o->mode = Mode::kMultiget;
  else if (text == "verify")
    o->mode = Mode::kVerify;
  else if (text == "ready")
    o->mode = Mode::kReady;
  else if (text == "write")
    o->mode = Mode::kWrite;
  else if (text == "check")
    o->mode = Mode::kCheck;
  else
    return Status::InvalidArgument(fmt::format("unknown mode '{}'", text));
  return Status::Ok();
}

Status SetDistribution(std::string_view text, BenchOptions* o) {
  if (text == "uniform")
    o->distribution = Distribution::kUniform;
  else if (text == "zipf")
    o->distribution = Distribution::kZipf;
  else
    return Status::InvalidArgument(fmt::format("unknown distribution '{}'", text));
  return Status::Ok();
}

Status SetValueKind(std::string_view text, BenchOptions* o) {
  if (text == "fill")
    o->value_kind = ValueKind::kFill;
  else if (text == "json")
    o->value_kind = ValueKind::kJson;
  else
    return Status::InvalidArgument(fmt::format("unknown value kind '{}'", text));
  return Status::Ok();
}

Status SetOrder(std::string_view text, BenchOptions* o) {
  if (text == "sequential")
    o->order = KeyOrder::kSequential;
  else if (text == "scattered")
    o->order = KeyOrder::kScattered;
  else
    return Status::InvalidArgument(fmt::format("unknown key order '{}'", text));
  return Status::Ok();
}

// "90:10" (get:set) or a plain get percentage "90".
Status SetRatio(std::string_view text, BenchOptions* o) {
  const size_t colon = text.find(':');
  if (colon == std::string_view::npos) return ParseNumberIn(text, 0, 100, &o->get_percent);
  int gets = 0;
  int sets = 0;
  WC_RETURN_IF_ERROR(ParseNumberIn(text.substr(0, colon), 0, 1000000, &gets));
  WC_RETURN_IF_ERROR(ParseNumberIn(text.substr(colon + 1), 0, 1000000, &sets));
  if (gets + sets == 0) return Status::InvalidArgument("ratio 0:0");
  o->get_percent = static_cast<int>((100LL * gets + (gets + sets) / 2) / (gets + sets));
  return Status::Ok();
}

struct Flag {
  std::string_view name;
  std::string_view help;
  Setter set;
};

const std::vector<Flag>& Flags() {
  constexpr double kDay = 86400;
  static const std::vector<Flag> kFlags = {
      {"host", "server IPv4 address [127.0.0.1]", Text(&BenchOptions::host)},
      {"port", "server TCP port [11211]", Number<uint16_t>(&BenchOptions::port, 1, 65535)},
      {"mode", "load | mixed | multiget | verify | ready | write | check [mixed]", SetMode},
      {"connections", "TCP connections [50]", Number(&BenchOptions::connections, 1, 10000)},
      {"threads", "client threads, one epoll loop each [1]",
       Number(&BenchOptions::threads, 1, 256)},
      {"depth", "requests in flight per connection [1]", Number(&BenchOptions::depth, 1, 1024)},
      {"load-depth", "requests in flight per connection in load and verify modes [32]",
       Number(&BenchOptions::load_depth, 1, 1024)},
      {"keys", "key space size [100000]", Number<uint64_t>(&BenchOptions::keys, 1, 1ULL << 32)},
      {"value-size", "value bytes [100]", Number<uint32_t>(&BenchOptions::value_size, 0, 1u << 30)},
      {"value-kind", "fill (key, then one letter) | json (~3x compressible) [fill]", SetValueKind},
      {"ratio", "get:set mix, e.g. 90:10, or a get percentage [90:10]", SetRatio},
      {"distribution", "uniform | zipf [uniform]", SetDistribution},
      {"zipf-theta", "zipf exponent in (0,1) [0.99]",
       Number(&BenchOptions::zipf_theta, 0.01, 0.999)},
      {"multiget", "keys per get in multiget and verify modes [16]",
       Number(&BenchOptions::multiget_keys, 1, 1000)},
      {"order", "verify mode key order: sequential | scattered [scattered]", SetOrder},
      {"duration", "measured seconds [10]", Number(&BenchOptions::duration_s, 0.1, kDay)},
      {"warmup", "unmeasured seconds first [2]", Number(&BenchOptions::warmup_s, 0.0, kDay)},
      {"max-time", "load and verify time limit, seconds [120]",
       Number(&BenchOptions::max_time_s, 0.1, kDay)},
      {"drain", "seconds to wait for replies at the end [5]",
       Number(&BenchOptions::drain_s, 0.0, 600.0)},
      {"max-requests", "stop after this many requests, 0 = no limit [0]",
       Number<uint64_t>(&BenchOptions::max_requests, 0, std::numeric_limits<uint64_t>::max())},
      {"key-prefix", "key prefix [wcb:]", Text(&BenchOptions::key_prefix)},
      {"seed", "random seed [1]", Number<uint64_t>(&BenchOptions::seed, 0, UINT64_MAX)},
      {"label", "name copied into the JSON line", Text(&BenchOptions::label)},
      {"json", "append the JSON line to this file instead of stdout",
       Text(&BenchOptions::json_path)},
      {"log", "write mode: save sent/acknowledged versions here; check mode: read them",
       Text(&BenchOptions::log_path)},
      {"poll-ms", "ready mode: milliseconds between connection attempts [5]",
       Number(&BenchOptions::poll_ms, 1, 10000)},
  };
  return kFlags;
}

const Flag* FindFlag(std::string_view name) {
  for (const Flag& flag : Flags()) {
    if (flag.name == name) return &flag;
  }
  return nullptr;
}

}  // namespace

Result<BenchOptions> ParseOptions(int argc, char** argv) {
  BenchOptions options;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == "-h" || arg == "--help") {
      options.help = true;
      continue;
    }
    if (!arg.starts_with("--")) return Status::InvalidArgument(fmt::format("unexpected '{}'", arg));
    arg.remove_prefix(2);
    const size_t eq = arg.find('=');
    const Flag* flag = FindFlag(arg.substr(0, eq));
    if (flag == nullptr) return Status::InvalidArgument(fmt::format("unknown option --{}", arg));
    std::string_view value;
    if (eq != std::string_view::npos) {
      value = arg.substr(eq + 1);
    } else if (i + 1 < argc) {
      value = argv[++i];
    } else {
      return Status::InvalidArgument(fmt::format("--{} needs a value", arg));
    }
    Status status = flag->set(value, &options);
    if (!status.ok()) {
      return Status::InvalidArgument(fmt::format("--{}: {}", flag->name, status.message()));
    }
  }
  return options;
}

std::string UsageText() {
  std::string text =
      "usage: warmcache-bench [--option value]...\n"
      "memcached text-protocol load generator: closed loop, epoll, replies verified.\n\n";
  for (const Flag& flag : Flags()) {
    text += fmt::format("  --{:<14} {}\n", flag.name, flag.help);
  }
  return text;
}

const char* ModeName(Mode mode) {
  switch (mode) {
    case Mode::kLoad:
      return "load";
    case Mode::kMixed:
      return "mixed";
    case Mode::kMultiget:
      return "multiget";
    case Mode::kVerify:
      return "verify";
    case Mode::kReady:
      return "ready";
    case Mode::kWrite:
      return "write";
    case Mode::kCheck:
      return "check";
  }
  return "?";
}

const char* DistributionName(Distribution distribution) {
  return distribution == Distribution::kZipf ? "zipf" : "uniform";
}

const char* KeyOrderName(KeyOrder order) {
  return order == KeyOrder::kSequential ? "sequential" : "scattered";
}

}  // namespace warmcache::tools::bench
