#include "worker/objective_factory.h"

#include <memory>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "worker/command_objective.h"
// CAVIAR_HAVE_TRAINER_OBJECTIVE is defined by worker/CMakeLists.txt when the
// target caviar_trainer_objective exists.
#ifdef CAVIAR_HAVE_TRAINER_OBJECTIVE
#include "worker/trainer_objective.h"
#endif

namespace caviar::worker {
namespace {

// The objectives of one factory, each built the first time a spec needs it.
class Objectives {
 public:
  absl::StatusOr<Objective*> For(const caviar::v1::StudySpec& spec) {
    absl::MutexLock lock(&mu_);
    switch (spec.run_case()) {
      case caviar::v1::StudySpec::kCommand:
        if (command_ == nullptr) command_ = std::make_unique<CommandObjective>();
        return command_.get();
      case caviar::v1::StudySpec::kTrainer:
#ifdef CAVIAR_HAVE_TRAINER_OBJECTIVE
        if (trainer_ == nullptr) trainer_ = std::make_unique<TrainerObjective>();
        return trainer_.get();
#else
        return absl::UnimplementedError(
            "this caviar-worker was built without the trainer objective (spec.trainer)");
#endif
      case caviar::v1::StudySpec::kExternal:
        // The coordinator never leases these to caviar-worker (it sends no
        // run_kinds); a trial that got here anyway is not ours to run.
        return absl::FailedPreconditionError(
            "an external study's trials are run by SDK clients, not caviar-worker");
      case caviar::v1::StudySpec::RUN_NOT_SET:
        break;
    }
    return absl::InvalidArgumentError(
        "the study spec has nothing to run: set command or trainer");
  }

 private:
  absl::Mutex mu_;
  std::unique_ptr<Objective> command_ ABSL_GUARDED_BY(mu_);
  std::unique_ptr<Objective> trainer_ ABSL_GUARDED_BY(mu_);
};

}  // namespace

std::vector<caviar::v1::RunKind> RunnableKinds() {
#ifdef CAVIAR_HAVE_TRAINER_OBJECTIVE
  return {caviar::v1::RUN_KIND_COMMAND, caviar::v1::RUN_KIND_TRAINER};
#else
  return {caviar::v1::RUN_KIND_COMMAND};
#endif
}

ObjectiveFactory MakeObjectiveFactory() {
  auto objectives = std::make_shared<Objectives>();
  return
      [objectives](const caviar::v1::StudySpec& spec) { return objectives->For(spec); };
}

}  // namespace caviar::worker
