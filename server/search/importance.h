// Parameter importance: how much of the objective's variance each parameter
// explains, from a study's finished trials (`caviar importance NAME`).
//
// Method: functional ANOVA on a random forest (Hutter, Hoos & Leyton-Brown,
// "An Efficient Approach for Assessing Hyperparameter Importance", ICML
// 2014). A forest of regression trees is fitted to the finished trials'
// losses over their unit-cube points (scales applied, so a LOG parameter is
// split by decades; discrete and categorical parameters are split between
// their bins in declared order). Each tree is a piecewise-constant function
// f on [0, 1]^d; for it we compute exactly, with the uniform measure on the
// cube:
//   total variance      V   = integral of (f - mean f)^2,
//   main effect of p    f_p(x_p) = integral of f over the other parameters,
//   its variance        V_p = integral of (f_p - mean f)^2,
// and the tree's importance of p is V_p / V. A parameter's importance is
// the mean over trees (those with V > 0), with its standard deviation over
// trees. Importances lie in [0, 1] and sum to at most 1: the rest is
// interactions between parameters.
//
// Deterministic: the forest's bootstrap samples come from a fixed seed, so
// the same trials give the same answer. Studies with more than
// `max_trials` finished trials are subsampled (deterministically) to keep
// the cost bounded: about 0.1 s of CPU at 1,000 trials of 6 parameters,
// 0.3 s at the 2,000 cap (bench/search/search_speed); call it outside the
// study's lock, on a copy of the trials.
//
// Thread-safe (pure function).
#ifndef CAVIAR_SERVER_SEARCH_IMPORTANCE_H_
#define CAVIAR_SERVER_SEARCH_IMPORTANCE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "server/search/sampler.h"
#include "server/search/space.h"

namespace caviar::search {

struct ParameterImportance {
  std::string name;
  double importance = 0;  // Fraction of the variance of the loss, in [0, 1].
  double stddev = 0;      // Across the forest's trees.
};

struct ImportanceOptions {
  int trees = 32;
  int min_samples_leaf = 1;
  int max_trials = 2000;
  uint64_t seed = 0;
};

// Parameters by decreasing importance. Uses trials with a finite loss, any
// state (STOPPED trials carry their last measurement). FAILED_PRECONDITION
// when fewer than 4 such trials.
absl::StatusOr<std::vector<ParameterImportance>> ComputeImportance(
    const SearchSpace& space, absl::Span<const TrialPoint> trials,
    const ImportanceOptions& options = {});

}  // namespace caviar::search

#endif  // CAVIAR_SERVER_SEARCH_IMPORTANCE_H_
