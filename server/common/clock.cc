// SPDX-License-Identifier: BSD-3-Clause
#include "server/common/clock.h"

#include <time.h>

namespace warmcache {

int64_t SystemClock::NowSeconds() const {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME_COARSE, &ts);
  return ts.tv_sec;
}

int64_t SystemClock::MonotonicMicros() const {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1'000'000 + ts.tv_nsec / 1000;
}

SystemClock* SystemClock::Get() {
  static SystemClock clock;
  return &clock;
}

}  // namespace warmcache
