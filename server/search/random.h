// Portable random draws for samplers: the standard library's distributions
// are implementation-defined, and a study must draw the same points whatever
// library the coordinator was built with. std::mt19937_64 itself is fully
// specified.
#ifndef CAVIAR_SERVER_SEARCH_RANDOM_H_
#define CAVIAR_SERVER_SEARCH_RANDOM_H_

#include <cmath>
#include <cstdint>
#include <random>
#include <utility>

namespace caviar::search {

using Rng = std::mt19937_64;

// Uniform in [0, 1) with 53 random bits.
inline double UnitDouble(Rng& rng) {
  return static_cast<double>(rng() >> 11) * (1.0 / 9007199254740992.0);
}

// Uniform in {0, ..., n - 1}, n >= 1 (the modulo bias is below 2^-40 for
// n < 2^24, far below anything a search can notice).
inline uint64_t UniformIndex(Rng& rng, uint64_t n) { return rng() % n; }

// Standard normal (Box-Muller).
inline double StandardNormal(Rng& rng) {
  const double u1 = 1.0 - UnitDouble(rng);  // (0, 1]
  const double u2 = UnitDouble(rng);
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
}

template <typename T>
void Shuffle(T& items, Rng& rng) {
  for (size_t i = items.size(); i > 1; --i) {
    std::swap(items[i - 1], items[UniformIndex(rng, i)]);
  }
}

}  // namespace caviar::search

#endif  // CAVIAR_SERVER_SEARCH_RANDOM_H_
