// SPDX-License-Identifier: BSD-3-Clause
#include "tools/bench/bench_runner.h"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <sys/resource.h>

#include <algorithm>
#include <memory>
#include <thread>
#include <vector>

#include "tools/bench/key_chooser.h"
#include "tools/bench/request_codec.h"
#include "tools/bench/request_source.h"
#include "tools/bench/worker.h"

namespace warmcache::tools::bench {

namespace {

constexpr double kNsPerS = 1e9;

Schedule MakeSchedule(const BenchOptions& options, int64_t now) {
  const bool one_pass = IsOnePass(options.mode);
  const auto ns = [](double seconds) { return static_cast<int64_t>(seconds * kNsPerS); };
  Schedule s;
  s.start_ns = now;
  s.measure_start_ns = now + (one_pass ? 0 : ns(options.warmup_s));
  s.measure_end_ns = s.measure_start_ns + ns(one_pass ? options.max_time_s : options.duration_s);
  s.hard_end_ns = s.measure_end_ns + ns(options.drain_s);
  return s;
}

std::unique_ptr<KeyChooser> MakeChooser(const BenchOptions& options) {
  if (options.distribution == Distribution::kZipf) {
    return MakeZipfChooser(options.keys, options.zipf_theta);
  }
  return MakeUniformChooser(options.keys);
}

double CpuSeconds() {
  rusage usage{};
  ::getrusage(RUSAGE_SELF, &usage);
  const auto seconds = [](const timeval& tv) { return tv.tv_sec + tv.tv_usec / 1e6; };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

}  // namespace

Result<RunResult> RunBench(const BenchOptions& options) {
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(options.port);
  if (::inet_pton(AF_INET, options.host.c_str(), &address.sin_addr) != 1) {
    return Status::InvalidArgument(fmt::format("--host '{}' is not an IPv4 address", options.host));
  }
  const RequestCodec codec(options.key_prefix, options.value_size, options.value_kind);
  const std::unique_ptr<KeyChooser> chooser = MakeChooser(options);
  SharedCounters shared;
  RunResult result;
  const WorkerContext context{&options, &codec, chooser.get(), &result.schedule, &shared};
  const int threads = std::min(options.threads, options.connections);
  std::vector<std::unique_ptr<Worker>> workers;
  for (int i = 0; i < threads; ++i) {
    workers.push_back(std::make_unique<Worker>(context, options.seed * 7919 + i));
    const int share = options.connections / threads + (i < options.connections % threads);
    WC_RETURN_IF_ERROR(workers.back()->Open(address, share));
  }
  // The clock starts once every connection is up, so connecting is never measured.
  const double cpu_start = CpuSeconds();
  result.schedule = MakeSchedule(options, NowNs());
  std::vector<std::thread> running;
  for (auto& worker : workers) running.emplace_back([w = worker.get()] { w->Run(); });
  for (auto& thread : running) thread.join();
  result.wall_s = static_cast<double>(NowNs() - result.schedule.start_ns) / kNsPerS;
  result.client_cpu_s = CpuSeconds() - cpu_start;
  for (const auto& worker : workers) result.stats.Merge(worker->stats());
  return result;
}

}  // namespace warmcache::tools::bench
