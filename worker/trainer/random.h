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
