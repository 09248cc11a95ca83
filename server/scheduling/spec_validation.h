// Validation of a study spec before anything is written. Every error is
// INVALID_ARGUMENT and names the field and the reason, e.g.
//   "budget.max_trials: must be >= 1, got 0"
//   "parameters[1] (learning_rate): LOG scale needs min > 0, got 0"
//   "algorithm.name: unknown algorithm \"bayes\" (known: grid, random, ...)"
// Pure function; thread-safe.
#ifndef CAVIAR_SERVER_SCHEDULING_SPEC_VALIDATION_H_
#define CAVIAR_SERVER_SCHEDULING_SPEC_VALIDATION_H_

#include <functional>

#include "absl/status/status.h"
#include "caviar/v1/study.pb.h"

namespace caviar::scheduling {

// Checks of an objective kind that the scheduler does not know itself (the
// built-in trainer's setting names); may be empty.
using ObjectiveValidator = std::function<absl::Status(const caviar::v1::StudySpec&)>;

absl::Status ValidateStudySpec(const caviar::v1::StudySpec& spec,
                               const ObjectiveValidator& objective_validator);

}  // namespace caviar::scheduling

#endif  // CAVIAR_SERVER_SCHEDULING_SPEC_VALIDATION_H_
