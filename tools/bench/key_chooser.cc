// SPDX-License-Identifier: BSD-3-Clause
#include "tools/bench/key_chooser.h"

#include <cmath>
#include <numeric>

namespace warmcache::tools::bench {

namespace {

class UniformChooser final : public KeyChooser {
 public:
  explicit UniformChooser(uint64_t key_count) : key_count_(key_count) {}
  uint64_t Next(Rng& rng) const override { return rng.Below(key_count_); }
  uint64_t key_count() const override { return key_count_; }

 private:
  uint64_t key_count_;
};

double Zeta(uint64_t n, double theta) {
  double sum = 0;
  for (uint64_t i = 1; i <= n; ++i) sum += 1.0 / std::pow(static_cast<double>(i), theta);
  return sum;
}

class ZipfChooser final : public KeyChooser {
 public:
  ZipfChooser(uint64_t key_count, double theta)
      : key_count_(key_count),
        alpha_(1.0 / (1.0 - theta)),
        zeta_n_(Zeta(key_count, theta)),
        half_pow_theta_(std::pow(0.5, theta)) {
    const double zeta2 = Zeta(2, theta);
    const auto n = static_cast<double>(key_count);
    eta_ = (1.0 - std::pow(2.0 / n, 1.0 - theta)) / (1.0 - zeta2 / zeta_n_);
  }

  uint64_t Next(Rng& rng) const override { return scatter_(NextRank(rng)); }
  uint64_t key_count() const override { return key_count_; }

 private:
  uint64_t NextRank(Rng& rng) const {
    const double u = rng.NextDouble();
    const double uz = u * zeta_n_;
    if (uz < 1.0) return 0;
    if (uz < 1.0 + half_pow_theta_) return key_count_ > 1 ? 1 : 0;
    const auto n = static_cast<double>(key_count_);
    const auto rank = static_cast<uint64_t>(n * std::pow(eta_ * u - eta_ + 1.0, alpha_));
    return rank < key_count_ ? rank : key_count_ - 1;
  }

  uint64_t key_count_;
  double alpha_;
  double zeta_n_;
  double half_pow_theta_;
  double eta_ = 0;
  KeyScatter scatter_{key_count_};
};

}  // namespace

// Both factors of i * step are below 2^32 whenever scattering is on, so it cannot overflow.
KeyScatter::KeyScatter(uint64_t n)
    : n_(n), step_(static_cast<uint64_t>(static_cast<double>(n) * 0.6180339887) | 1) {
  while (n_ > 1 && std::gcd(step_, n_) != 1) step_ += 2;
}

std::unique_ptr<KeyChooser> MakeUniformChooser(uint64_t key_count) {
  return std::make_unique<UniformChooser>(key_count);
}

std::unique_ptr<KeyChooser> MakeZipfChooser(uint64_t key_count, double theta) {
  return std::make_unique<ZipfChooser>(key_count, theta);
}

}  // namespace warmcache::tools::bench
