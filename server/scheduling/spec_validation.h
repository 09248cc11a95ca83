// Validation of a study spec before anything is written. Every error is
// INVALID_ARGUMENT and names the field and the reason, e.g.
//   "budget.max_trials: must be >= 1, got 0"
//   "parameters[1] (learning_rate): LOG scale needs min > 0, got 0"
//   "algorithm.name: unknown algorithm \"bayes\" (known: grid, random, ...)"
// Limits are checked first, so that nothing oversized is parsed further or
// echoed back in an error (README.md, "Limits", lists them all).
// Pure function; thread-safe.
#ifndef CAVIAR_SERVER_SCHEDULING_SPEC_VALIDATION_H_
#define CAVIAR_SERVER_SCHEDULING_SPEC_VALIDATION_H_

#include <cstddef>
#include <functional>

#include "absl/status/status.h"
#include "caviar/v1/study.pb.h"
#include "google/protobuf/repeated_field.h"

namespace caviar::scheduling {

// The serialized spec: a spec is copied into every SuggestTrial reply, and
// every stored study is loaded at start, so it stays far below the 4 MiB
// gRPC message default of workers and clients.
inline constexpr size_t kMaxSpecBytes = 1 << 20;
// Parameters per study: a suggestion and a stored trial cost O(parameters)
// (a trial's point, its parameter map, its row), and hyperparameter spaces
// of real models have tens of parameters; 1,000 leaves room for per-layer
// settings while keeping a trial's parameters near 100 KiB.
inline constexpr int kMaxParameters = 1000;
// Names: study name (letters, digits, '_', '-', '.'), objective metric,
// algorithm and pruner names, option keys, environment variable names.
// Parameter names have their own limit of 64 (search/space.h).
inline constexpr size_t kMaxNameBytes = 128;
// Any other string in the spec: description, command argv elements,
// environment values, working_dir, categories, dataset paths, options.
inline constexpr size_t kMaxStringBytes = 4096;

// Checks of an objective kind that the scheduler does not know itself (the
// built-in trainer's setting names); may be empty.
using ObjectiveValidator = std::function<absl::Status(const caviar::v1::StudySpec&)>;

absl::Status ValidateStudySpec(const caviar::v1::StudySpec& spec,
                               const ObjectiveValidator& objective_validator);

// A panda study (algorithm.name "panda"): one trial, no sampler, babysat by
// hand. Validation holds it to budget.max_trials 1, max_parallel_trials 0 or
// 1 and a pruner none or divergence; refine, enqueue and retest refuse it.
bool IsPandaStudy(const caviar::v1::StudySpec& spec);

// What a spec's trials need to run: its `run` oneof as a RunKind
// (RUN_KIND_UNSPECIFIED when unset, which validation refuses).
caviar::v1::RunKind RunKindOf(const caviar::v1::StudySpec& spec);

// SuggestTrialRequest.run_kinds: every element a known kind, else
// INVALID_ARGUMENT naming the element, e.g. "run_kinds[1]: unknown run kind 9".
absl::Status ValidateRunKinds(const google::protobuf::RepeatedField<int>& run_kinds);

// Whether a caller that can run `run_kinds` can run the spec's trials. Empty
// means command and trainer: caviar-worker, and workers older than the field,
// never get an external study's trials.
bool CanRun(const google::protobuf::RepeatedField<int>& run_kinds,
            const caviar::v1::StudySpec& spec);

}  // namespace caviar::scheduling

#endif  // CAVIAR_SERVER_SCHEDULING_SPEC_VALIDATION_H_
