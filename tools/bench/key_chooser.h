// SPDX-License-Identifier: BSD-3-Clause
// Random numbers and key-id distributions for the load generator.
#pragma once

#include <cstdint>
#include <memory>

namespace warmcache::tools::bench {

// splitmix64: tiny, fast and good enough to pick keys; not for anything secret.
class Rng {
 public:
  explicit Rng(uint64_t seed) : state_(seed) {}
  uint64_t Next() {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  // Uniform in [0, 1).
  double NextDouble() { return static_cast<double>(Next() >> 11) * 0x1.0p-53; }
  // Uniform in [0, n); n > 0. The modulo bias is below 2^-40 for any key count we use.
  uint64_t Below(uint64_t n) { return Next() % n; }

 private:
  uint64_t state_;
};

// A fixed bijection on [0, n) that spreads neighbours apart: i -> i * step mod n, with step near
// n / golden ratio and gcd(step, n) == 1. The identity when n >= 2^32 (the product could
// overflow). Thread safety: const and shareable.
class KeyScatter {
 public:
  explicit KeyScatter(uint64_t n);
  uint64_t operator()(uint64_t i) const { return n_ < (uint64_t{1} << 32) ? i * step_ % n_ : i; }

 private:
  uint64_t n_;
  uint64_t step_;
};

// Picks key ids in [0, key_count()).
// Thread safety: const and shareable; the caller passes its own Rng.
class KeyChooser {
 public:
  virtual ~KeyChooser() = default;
  virtual uint64_t Next(Rng& rng) const = 0;
  virtual uint64_t key_count() const = 0;
};

std::unique_ptr<KeyChooser> MakeUniformChooser(uint64_t key_count);

// Zipfian over ranks with exponent theta in (0, 1) (YCSB's generator, Gray et al. 1994).
// Rank 0 is the hottest; ranks are scattered over the key space by a fixed permutation so hot
// keys do not all sit in one server shard. Setup is O(key_count).
std::unique_ptr<KeyChooser> MakeZipfChooser(uint64_t key_count, double theta);

}  // namespace warmcache::tools::bench
