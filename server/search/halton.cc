#include "server/search/halton.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "server/search/random.h"
#include "server/search/sampler.h"

namespace caviar::search {
namespace {

std::vector<int> FirstPrimes(int n) {
  std::vector<int> primes;
  for (int candidate = 2; static_cast<int>(primes.size()) < n; ++candidate) {
    bool prime = true;
    for (int p : primes) {
      if (p * p > candidate) break;
      if (candidate % p == 0) {
        prime = false;
        break;
      }
    }
    if (prime) primes.push_back(candidate);
  }
  return primes;
}

}  // namespace

ScrambledHalton::ScrambledHalton(int dims, uint64_t seed) : bases_(FirstPrimes(dims)) {
  permutations_.resize(dims);
  for (int j = 0; j < dims; ++j) {
    const int base = bases_[j];
    // Digits needed for double precision: base^-digits < 2^-53.
    const int digits = static_cast<int>(std::ceil(53.0 / std::log2(base)));
    Rng rng(MixSeed(seed, static_cast<uint64_t>(j)));
    permutations_[j].resize(digits);
    for (auto& perm : permutations_[j]) {
      perm.resize(base);
      std::iota(perm.begin(), perm.end(), 0);
      Shuffle(perm, rng);
    }
  }
}

void ScrambledHalton::Point(uint64_t index, absl::Span<double> out) const {
  for (int j = 0; j < dims(); ++j) {
    const uint64_t base = static_cast<uint64_t>(bases_[j]);
    const double inv_base = 1.0 / static_cast<double>(base);
    double scale = inv_base;
    double value = 0.0;
    uint64_t n = index;
    for (const auto& perm : permutations_[j]) {
      value += perm[n % base] * scale;
      n /= base;
      scale *= inv_base;
    }
    out[j] = std::min(value, std::nextafter(1.0, 0.0));
  }
}

}  // namespace caviar::search
