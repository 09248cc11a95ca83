// Population-based training (algorithm `pbt`), its search side: the
// options, the initial population (random points), which trial a trial in
// the population's bottom quantile copies (exploit), and how the copied
// settings change (explore). The Coordinator (server/scheduling/pbt.cc)
// decides when and commits; the RPC edge copies the checkpoint.
//
// The population is the trials that train at once (the budget's
// max_parallel_trials; max_trials in all: a trial that ends makes room for
// a fresh random one). A trial is ranked among the live trials that reached
// its step, by their objective at that step.
//
// Options (algorithm.options):
//   quantile              share of the ranked trials that counts as the
//                         bottom (which copy) and the top (which are
//                         copied), in (0, 0.5]; default 0.25.
//   resample_probability  chance that a parameter is drawn afresh from the
//                         search space instead of perturbed, in [0, 1];
//                         default 0.25.
//
// Explore, per parameter of the space: with resample_probability a fresh
// uniform draw on the parameter's scale; otherwise the parent's value
// times 0.8 or 1.2 (even odds) on its own scale: LINEAR and LOG doubles
// multiply the value, LOG1M ones multiply 1 - value (a beta2 of 0.99 goes
// to 0.988 or 0.992), integers multiply and round, moving at least one
// step; discrete values move one value down or up; a categorical one keeps
// its value (only resampling changes it). Every value is clamped into its
// range.
//
// Thread-safety: pure functions.
#ifndef CAVIAR_SERVER_SEARCH_PBT_H_
#define CAVIAR_SERVER_SEARCH_PBT_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "caviar/v1/study.pb.h"
#include "google/protobuf/struct.pb.h"
#include "server/search/sampler.h"
#include "server/search/space.h"

namespace caviar::search {

inline constexpr char kPbtAlgorithm[] = "pbt";

struct PbtOptions {
  double quantile = 0.25;
  double resample_probability = 0.25;
};

// INVALID_ARGUMENT naming "algorithm.options.<key>".
absl::StatusOr<PbtOptions> ParsePbtOptions(const google::protobuf::Struct& options);

// The initial population: random points (as `random`).
absl::StatusOr<std::unique_ptr<Sampler>> NewPbtSampler(
    const SearchSpace& space, const google::protobuf::Struct& options);

// A trial of the population as ranked: its latest objective value oriented
// for minimization, at its latest step.
struct PbtStanding {
  int64_t trial_id = 0;
  double loss = 0;
  int64_t step = 0;
};

// The trial `self` copies, or nullopt: with n >= 2 ranked trials, k =
// max(1, floor(n * quantile)); if `self` is among the k worst, one of the k
// best (never itself), chosen with `seed`. `self` must be in `standings`.
std::optional<int64_t> PbtPickParent(const PbtOptions& options, int64_t self,
                                     absl::Span<const PbtStanding> standings,
                                     uint64_t seed);

struct PbtExplored {
  ParameterMap parameters;             // Every parameter of the space.
  std::vector<std::string> resampled;  // Drawn afresh, in space order.
};

// The parent's settings explored (see the file comment). INVALID_ARGUMENT
// naming the parameter if `parent` lacks one of the space or has it out of
// range.
absl::StatusOr<PbtExplored> PbtExplore(const SearchSpace& space,
                                       const ParameterMap& parent,
                                       double resample_probability, uint64_t seed);

}  // namespace caviar::search

#endif  // CAVIAR_SERVER_SEARCH_PBT_H_
