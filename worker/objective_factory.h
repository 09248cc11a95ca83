// MakeObjective: the one place that maps a study spec's `run` to the
// Objective that executes its trials.
//
//   spec.command  -> CommandObjective (worker/command_objective.h)
//   spec.trainer  -> TrainerObjective (worker/trainer_objective.h), when this
//                    worker was built with it
//
// Status codes: INVALID_ARGUMENT when the spec names nothing to run;
// UNIMPLEMENTED when it names an objective this build cannot run.
// Thread-safe.
#ifndef CAVIAR_WORKER_OBJECTIVE_FACTORY_H_
#define CAVIAR_WORKER_OBJECTIVE_FACTORY_H_

#include <functional>
#include <memory>

#include "absl/status/statusor.h"
#include "caviar/v1/study.pb.h"
#include "worker/objective.h"

namespace caviar::worker {

absl::StatusOr<std::unique_ptr<Objective>> MakeObjective(
    const caviar::v1::StudySpec& spec);

// How WorkerLoop obtains objectives (MakeObjective in production; tests pass
// their own).
using ObjectiveFactory = std::function<absl::StatusOr<std::unique_ptr<Objective>>(
    const caviar::v1::StudySpec&)>;

}  // namespace caviar::worker

#endif  // CAVIAR_WORKER_OBJECTIVE_FACTORY_H_
