// SPDX-License-Identifier: BSD-3-Clause
#include "server/common/thread_stats.h"

namespace warmcache {

namespace {
uint64_t Minus(uint64_t a, uint64_t b) { return a > b ? a - b : 0; }
}  // namespace

void StatsSnapshot::Add(const ThreadStats& t) {
#define WC_ADD(name) name += t.name.Get();
  WC_THREAD_COUNTERS(WC_ADD)
  for (int c = 0; c < kStatClasses; ++c) {
    Class& mine = classes[c];
    const ClassStats& theirs = t.classes[c];
#define WC_ADD_CLASS(name) mine.name += theirs.name.Get();
    WC_CLASS_COUNTERS(WC_ADD_CLASS)
#undef WC_ADD_CLASS
  }
#undef WC_ADD
}

void StatsSnapshot::Subtract(const StatsSnapshot& b) {
#define WC_SUB(name) name = Minus(name, b.name);
  WC_THREAD_COUNTERS(WC_SUB)
  for (int c = 0; c < kStatClasses; ++c) {
#define WC_SUB_CLASS(name) classes[c].name = Minus(classes[c].name, b.classes[c].name);
    WC_CLASS_COUNTERS(WC_SUB_CLASS)
#undef WC_SUB_CLASS
  }
#undef WC_SUB
}

}  // namespace warmcache
