// SplitMix64 (Steele, Lea and Flood): a tiny, fast generator whose output is
// a strong 64-bit mix of its state. Used to derive seeds (search's MixSeed)
// and for bulk random bits seeded from a slower generator (the trainer's
// dropout masks).
//
// Thread-safety: a pure function of `state`, which the caller owns.
#ifndef CAVIAR_COMMON_SPLITMIX64_H_
#define CAVIAR_COMMON_SPLITMIX64_H_

#include <cstdint>

namespace caviar {

// Advances `state` and returns 64 random bits.
inline uint64_t SplitMix64(uint64_t& state) {
  uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

}  // namespace caviar

#endif  // CAVIAR_COMMON_SPLITMIX64_H_
