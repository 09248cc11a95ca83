// TrainerObjective: the worker's built-in objective. Trains the study's
// batch-normalized MLP (worker/trainer) on the study's dataset with the
// trial's hyperparameters.
//
// Settings: spec.trainer.settings gives fixed values; a trial parameter with
// the name of a TrainerSettings field (learning_rate, beta1, layers,
// hidden_units, batch_size, optimizer, activation, batch_norm, ...)
// overrides that field for the trial. Unset settings take the trainer's
// defaults (adam, lr 1e-3, 2 x 256 ReLU units with batch norm, batch 128,
// seed = the trial's seed, 1 thread).
//
// Each epoch is reported (step = epoch) with train_loss, train_accuracy,
// dev_loss, dev_accuracy (when the dev set is not empty), learning_rate and
// seconds (of that epoch). The trainer polls reporter->StopRequested()
// between mini-batches. Nudges (a reply's nudges, and the lease's initial
// ones, e.g. a rollback's settings) change the settings
// common/trainer_settings/nudge_rules.h calls changeable from the next epoch
// on (Trainer::Change), and each one applied is acknowledged (the next
// report says so); the changed settings are in the checkpoints. The final measurement is the last
// epoch's plus test_loss and test_accuracy (when there is a test set).
//
// Checkpoints: after every spec.checkpoint.every_steps epochs (default 1;
// 0 = none) the trainer's exact state (Trainer::SaveState: weights, running
// averages, optimizer moments, schedule, epoch, random streams, shuffle
// order; a learning-rate nudge of that epoch included) goes to
// reporter->SaveCheckpoint. A trial given a checkpoint
// (reporter->resume()) restores it and trains the remaining epochs: its
// weights and metrics are bit-identical to a run that was never
// interrupted (except the wall-time ones: seconds, elapsed_seconds). A
// checkpoint that does not restore fails the trial as CRASHED.
//
// Outcome: DIVERGED for a NaN/inf loss; INFEASIBLE when the dataset cannot
// be read (the reason names the file and the problem) or the settings are
// invalid; stopped when the coordinator or the worker said stop.
//
// The dataset is loaded once per process and reused by the following trials
// while the study's dataset spec stays the same.
//
// Thread-safety: Run may be called from one thread at a time per object.
#ifndef CAVIAR_WORKER_TRAINER_OBJECTIVE_H_
#define CAVIAR_WORKER_TRAINER_OBJECTIVE_H_

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "caviar/v1/study.pb.h"
#include "caviar/v1/trial.pb.h"
#include "common/trainer_settings/trainer_settings.h"
#include "worker/objective.h"
#include "worker/trainer/data.h"
#include "worker/trainer/trainer.h"

namespace caviar::worker {

// The study-level rules (spec validation, a trial's effective settings) live
// in common/trainer_settings/, which the coordinator links without the
// trainer; named here too for the worker's code and tests.
using trainer_settings::EffectiveSettings;
using trainer_settings::ValidateTrainerSpec;

// The trainer library's configuration for those settings (default_seed when
// the settings have none). INVALID_ARGUMENT naming the setting.
absl::StatusOr<trainer::TrainerConfig> ConfigFromSettings(
    const caviar::v1::TrainerSettings& settings, uint64_t default_seed);

// Train, dev and test sets as the dataset spec describes them.
struct LoadedData {
  trainer::Dataset train;
  trainer::Dataset dev;
  trainer::Dataset test;  // Empty when the spec names no test files.
};
absl::StatusOr<LoadedData> LoadDataset(const caviar::v1::Dataset& dataset);

class TrainerObjective : public Objective {
 public:
  TrialOutcome Run(const caviar::v1::StudySpec& spec, const caviar::v1::Trial& trial,
                   ProgressReporter* reporter) override;

  // Number of times a dataset was read from disk (for tests of the reuse).
  int dataset_loads() const;

 private:
  absl::StatusOr<std::shared_ptr<const LoadedData>> Data(const caviar::v1::Dataset& spec);

  mutable absl::Mutex mu_;
  std::string cached_key_ ABSL_GUARDED_BY(mu_);
  std::shared_ptr<const LoadedData> cached_ ABSL_GUARDED_BY(mu_);
  int loads_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace caviar::worker

#endif  // CAVIAR_WORKER_TRAINER_OBJECTIVE_H_
