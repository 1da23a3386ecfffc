// SPDX-License-Identifier: BSD-3-Clause
// warmcache-bench: closed-loop memcached text-protocol load generator. See --help.
// Exit status: 0 all replies verified, 1 errors or incomplete load, 2 bad usage or no server.
#include <fmt/format.h>

#include <cstdio>

#include "tools/bench/bench_options.h"
#include "tools/bench/bench_runner.h"
#include "tools/bench/report.h"
#include "tools/bench/restart_modes.h"

namespace bench = warmcache::tools::bench;

namespace {

bool WriteJson(const std::string& path, const std::string& line) {
  if (path.empty()) {
    fmt::print("{}\n", line);
    return true;
  }
  std::FILE* file = std::fopen(path.c_str(), "a");
  if (file == nullptr) return false;
  fmt::print(file, "{}\n", line);
  return std::fclose(file) == 0;
}

}  // namespace

int main(int argc, char** argv) {
  warmcache::Result<bench::BenchOptions> options = bench::ParseOptions(argc, argv);
  if (!options.ok()) {
    fmt::print(stderr, "warmcache-bench: {}\n\n{}", options.status().message(), bench::UsageText());
    return 2;
  }
  if (options->help) {
    fmt::print("{}", bench::UsageText());
    return 0;
  }
  if (bench::IsRestartMode(options->mode)) return bench::RunRestartMode(*options);
  warmcache::Result<bench::RunResult> run = bench::RunBench(*options);
  if (!run.ok()) {
    fmt::print(stderr, "warmcache-bench: {}\n", run.status().ToString());
    return 2;
  }
  const bench::Summary summary = bench::Summarize(*options, *run);
  fmt::print("{}", bench::FormatText(*options, *run, summary));
  if (!WriteJson(options->json_path, bench::FormatJson(*options, *run, summary))) {
    fmt::print(stderr, "warmcache-bench: cannot write {}\n", options->json_path);
    return 2;
  }
  std::fflush(stdout);
  return summary.ok() ? 0 : 1;
}
