// Random numbers that are the same on every platform for a seed (the
// standard library's distributions are implementation-defined; its engines
// are not).
//
// Thread-safety: one Random per thread.
#ifndef CAVIAR_WORKER_TRAINER_RANDOM_H_
#define CAVIAR_WORKER_TRAINER_RANDOM_H_

#include <cmath>
#include <cstdint>
#include <random>
#include <utility>
#include <vector>

namespace caviar::trainer {

// The SplitMix64 generator: advances `state` and returns 64 random bits.
// Small and fast, for bulk bits seeded from a Random.
inline uint64_t SplitMix64(uint64_t& state) {
  uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

class Random {
 public:
  explicit Random(uint64_t seed) : engine_(seed) {}

  // Uniform in [0, 1) with 53 random bits.
  double Uniform() { return double(engine_() >> 11) * 0x1.0p-53; }

  // Uniform integer in [0, n), unbiased (rejection sampling).
  uint64_t Below(uint64_t n) {
    const uint64_t limit = UINT64_MAX - UINT64_MAX % n;
    uint64_t r;
    do r = engine_();
    while (r >= limit);
    return r % n;
  }

  // Standard normal (Box-Muller).
  double Normal() {
    const double u1 = 1.0 - Uniform();  // (0, 1]: log is finite.
    const double u2 = Uniform();
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * M_PI * u2);
  }

  // Fisher-Yates shuffle.
  template <typename T>
  void Shuffle(std::vector<T>& values) {
    for (size_t i = values.size(); i > 1; --i) {
      std::swap(values[i - 1], values[Below(i)]);
    }
  }

  std::mt19937_64& engine() { return engine_; }

 private:
  std::mt19937_64 engine_;
};

}  // namespace caviar::trainer

#endif  // CAVIAR_WORKER_TRAINER_RANDOM_H_
