// Scrambled Halton sequence: a low-discrepancy sequence in [0, 1)^d.
//
// Coordinate j of point n is the radical inverse of n in the j-th prime base,
// with the digit at each position passed through a random permutation of
// {0, ..., base - 1} drawn from the seed (one per dimension and digit
// position; "random digit permutation" scrambling). Scrambling breaks the
// correlations of plain Halton between high dimensions and makes the
// sequence a different one per seed, while keeping its low discrepancy. All
// digit positions down to double precision are permuted, so the trailing
// zero digits of small n do not pile points near 0.
//
// Immutable after construction; safe to share.
#ifndef CAVIAR_SERVER_SEARCH_HALTON_H_
#define CAVIAR_SERVER_SEARCH_HALTON_H_

#include <cstdint>
#include <vector>

#include "absl/types/span.h"

namespace caviar::search {

class ScrambledHalton {
 public:
  ScrambledHalton(int dims, uint64_t seed);
  // Writes point `index` (dims() coordinates, each in [0, 1)) to `out`.
  void Point(uint64_t index, absl::Span<double> out) const;
  int dims() const { return static_cast<int>(bases_.size()); }

 private:
  std::vector<int> bases_;
  // permutations_[j][k] is the permutation of digit position k of dimension
  // j, flattened: entry d at [d].
  std::vector<std::vector<std::vector<int>>> permutations_;
};

}  // namespace caviar::search

#endif  // CAVIAR_SERVER_SEARCH_HALTON_H_
