// SPDX-License-Identifier: BSD-3-Clause
// Time source for expiry, flush_all and stats. Injected so tests can move time.
#pragma once

#include <atomic>
#include <cstdint>

namespace warmcache {

// Thread safety: every method may be called from any thread.
class Clock {
 public:
  virtual ~Clock() = default;
  // Unix time in whole seconds: memcached's unit for TTLs and flush delays.
  virtual int64_t NowSeconds() const = 0;
  // Monotonic microseconds, for latency and idle measurements.
  virtual int64_t MonotonicMicros() const = 0;
};

class SystemClock final : public Clock {
 public:
  int64_t NowSeconds() const override;
  int64_t MonotonicMicros() const override;
  static SystemClock* Get();
};

// A clock that moves only when told to. Used by tests (and by the `debugtime`-style hooks).
class FakeClock final : public Clock {
 public:
  explicit FakeClock(int64_t start_seconds = 1'700'000'000) : seconds_(start_seconds) {}
  int64_t NowSeconds() const override { return seconds_.load(std::memory_order_relaxed); }
  int64_t MonotonicMicros() const override { return NowSeconds() * 1'000'000; }
  void Advance(int64_t seconds) { seconds_.fetch_add(seconds, std::memory_order_relaxed); }
  void Set(int64_t seconds) { seconds_.store(seconds, std::memory_order_relaxed); }

 private:
  std::atomic<int64_t> seconds_;
};

}  // namespace warmcache
