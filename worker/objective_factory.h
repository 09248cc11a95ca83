// ObjectiveFactory: the one place that maps a study spec's `run` to the
// Objective that executes its trials.
//
//   spec.command  -> CommandObjective (worker/command_objective.h)
//   spec.trainer  -> TrainerObjective (worker/trainer_objective.h), when this
//                    worker was built with it
//
// The factory owns its objectives and keeps each for as long as it lives (in
// caviar-worker: the worker's whole life), so what an objective keeps
// between trials is reused: the trainer loads and standardizes a study's
// dataset once, not once per trial.
//
// Status codes: INVALID_ARGUMENT when the spec names nothing to run;
// UNIMPLEMENTED when it names an objective this build cannot run.
// Thread-safety: a factory and its objectives serve one WorkerLoop (one
// trial at a time); calls to the factory itself are serialized inside.
#ifndef CAVIAR_WORKER_OBJECTIVE_FACTORY_H_
#define CAVIAR_WORKER_OBJECTIVE_FACTORY_H_

#include <functional>
#include <vector>

#include "absl/status/statusor.h"
#include "caviar/v1/study.pb.h"
#include "worker/objective.h"

namespace caviar::worker {

// How WorkerLoop obtains objectives. The returned objective is owned by the
// factory and valid while the factory lives (tests pass their own).
using ObjectiveFactory =
    std::function<absl::StatusOr<Objective*>(const caviar::v1::StudySpec&)>;

// The production factory: one objective of each kind, created on first use.
ObjectiveFactory MakeObjectiveFactory();

// The run kinds MakeObjectiveFactory's objectives can run (command, and
// trainer when this worker was built with it): what caviar-worker tells the
// coordinator (SuggestTrialRequest.run_kinds), so that it is never offered a
// trial it cannot run (an external study's, run by SDK clients).
std::vector<caviar::v1::RunKind> RunnableKinds();

}  // namespace caviar::worker

#endif  // CAVIAR_WORKER_OBJECTIVE_FACTORY_H_
