// Sampler: proposes the next trial's point in the unit cube [0, 1]^d.
//
// Samplers never see parameter values or scales: SearchSpace maps unit points
// to values. A sampler keeps no state of its own that matters across calls:
// everything it needs is in the SampleContext (the study's history), so a
// restarted coordinator resumes every search where it was. Given the same
// context (same seed, same history) a sampler returns the same point.
//
// Adding a sampler: one new file implementing Sampler, plus one line in
// registry.cc. The conformance test runs over every registered sampler.
//
// Thread-safety: the scheduler calls a study's sampler under the study's
// lock; samplers need no locking of their own.
#ifndef CAVIAR_SERVER_SEARCH_SAMPLER_H_
#define CAVIAR_SERVER_SEARCH_SAMPLER_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "caviar/v1/study.pb.h"
#include "caviar/v1/trial.pb.h"
#include "google/protobuf/struct.pb.h"
#include "server/search/space.h"

namespace caviar::search {

// What a sampler sees of one trial of the study.
struct TrialPoint {
  int64_t id = 0;
  std::vector<double> unit;  // The trial's point, SearchSpace::ToUnitPoint.
  caviar::v1::TrialState state = caviar::v1::PENDING;
  // Objective oriented for minimization (negated when the goal is
  // MAXIMIZE); set only for finished trials with an objective value.
  std::optional<double> loss;
  int round = 0;
};

struct SampleContext {
  const SearchSpace* space = nullptr;
  const caviar::v1::StudySpec* spec = nullptr;
  // Every trial of the study so far, in id order (running ones included).
  absl::Span<const TrialPoint> trials;
  // Regions recorded so far (coarse-to-fine), oldest first.
  // (Never null when called by the scheduler.)
  const google::protobuf::RepeatedPtrField<caviar::v1::Region>* regions = nullptr;
  // Seed for this suggestion: a mix of the study seed and trial_index.
  uint64_t seed = 0;
  // Number of trials the study had before this one.
  int64_t trial_index = 0;
};

struct Suggestion {
  std::vector<double> unit;  // size() == space->size(), each in [0, 1].
  int round = 0;
  // A new region the sampler starts with this suggestion, recorded by the
  // scheduler in the study (shown by `caviar regions`).
  std::optional<caviar::v1::Region> new_region;
};

class Sampler {
 public:
  virtual ~Sampler() = default;
  // OUT_OF_RANGE when the sampler has nothing left to propose (a finished
  // grid, an exhausted finite space): the study ends once running trials end.
  // UNAVAILABLE when it must wait for running trials before proposing more.
  virtual absl::StatusOr<Suggestion> Suggest(const SampleContext& context) = 0;
  // True if the sampler itself keeps its points inside the latest region of
  // context.regions (coarse_to_fine). Otherwise, once a user has refined the
  // study, the scheduler maps the sampler's cube into that region.
  virtual bool SamplesRegions() const { return false; }
  // False if Suggest never reads context.trials (only the seed, the trial
  // index and the regions): the coordinator then keeps no point of finished
  // trials in memory for it, and gives it an empty context.trials.
  virtual bool UsesHistory() const { return true; }
};

// Builds a sampler for a study; INVALID_ARGUMENT naming
// "algorithm.options.<key>" for a bad or unknown option.
using SamplerFactory = std::function<absl::StatusOr<std::unique_ptr<Sampler>>(
    const SearchSpace& space, const google::protobuf::Struct& options)>;

// INVALID_ARGUMENT "algorithm.name: unknown algorithm ..." for unknown names.
// The sampler comes wrapped (guard.h): its point is mapped into the latest
// region when it does not sample regions itself, so the wrapped sampler
// reports SamplesRegions() true; and in a finite (all-discrete) space it
// never proposes a configuration any trial of the study already has,
// returning OUT_OF_RANGE once all are taken.
//
// Built-in algorithms and their options (each file's header says more):
//   random          none
//   quasi_random    none
//   grid            points (5), order (shuffled when max_trials < cells,
//                   else lexicographic)
//   coarse_to_fine  rounds (8: the most rounds; exactly 6 with
//                   trials_per_round), trials_per_round (unset: round sizes
//                   from budget.max_trials and the dimension, round_plan.h),
//                   trials_per_dimension (0.75), first_round_share (1.5),
//                   top_fraction (0.1), margin (0.25), max_volume (0.3)
//   tpe             n_startup (10), n_ei_candidates (24), gamma (0.25),
//                   prior_weight (3), liar ("worst"), multivariate (true),
//                   bandwidth (0.1), category_share (0.5),
//                   liar_bandwidth (0.25), univariate_weight (0.5),
//                   category_model (true)
//   pbt             quantile (0.25), resample_probability (0.25); pbt.h
absl::StatusOr<std::unique_ptr<Sampler>> CreateSampler(
    const caviar::v1::Algorithm& algorithm, const SearchSpace& space);

// What a user should know about a valid spec before it runs, one sentence
// each; empty if nothing. Today: a grid with more cells than
// budget.max_trials (which cells run, and in which order).
std::vector<std::string> SearchWarnings(const caviar::v1::StudySpec& spec,
                                        const SearchSpace& space);

// Names of every registered sampler, sorted.
std::vector<std::string> SamplerNames();

// A 64-bit mix of the study seed and the trial index (SplitMix64).
uint64_t MixSeed(uint64_t seed, uint64_t index);

}  // namespace caviar::search

#endif  // CAVIAR_SERVER_SEARCH_SAMPLER_H_
