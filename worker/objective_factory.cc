#include "worker/objective_factory.h"

#include "absl/status/status.h"
#include "worker/command_objective.h"
// CAVIAR_HAVE_TRAINER_OBJECTIVE is defined by worker/CMakeLists.txt when the
// target caviar_trainer_objective exists.
#ifdef CAVIAR_HAVE_TRAINER_OBJECTIVE
#include "worker/trainer_objective.h"
#endif

namespace caviar::worker {

absl::StatusOr<std::unique_ptr<Objective>> MakeObjective(
    const caviar::v1::StudySpec& spec) {
  switch (spec.run_case()) {
    case caviar::v1::StudySpec::kCommand:
      return std::make_unique<CommandObjective>();
    case caviar::v1::StudySpec::kTrainer:
#ifdef CAVIAR_HAVE_TRAINER_OBJECTIVE
      // ---- trainer helper: the one line that builds the trainer objective.
      return std::make_unique<TrainerObjective>();
#else
      return absl::UnimplementedError(
          "this caviar-worker was built without the trainer objective (spec.trainer)");
#endif
    case caviar::v1::StudySpec::RUN_NOT_SET:
      break;
  }
  return absl::InvalidArgumentError(
      "the study spec has nothing to run: set command or trainer");
}

}  // namespace caviar::worker
