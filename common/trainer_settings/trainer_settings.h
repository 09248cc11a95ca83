// The built-in trainer's study rules, on the proto messages alone: what a
// spec's `trainer` objective may say, and a trial's effective settings. The
// coordinator checks specs with it at CreateStudy; the worker applies the
// same rules to each trial. Bounds and names come from the one table in
// common/trainer_settings/setting_rules.h, which the trainer enforces too.
//
// Depends only on the proto messages and Abseil (no trainer, no gRPC).
//
// Status codes: INVALID_ARGUMENT naming the field and the reason:
//   "parameters[2] (optimiser): not a trainer setting (known: learning_rate, ...)"
//   "parameters[0] (layers): an integer setting needs an integer or discrete domain"
//   "trainer.settings.activation: unknown value \"gelu\" (known: relu, tanh, sigmoid)"
//   "trainer.settings.lr_decay: must be below 1 for the step schedule, got 2"
//   "trainer.epochs: must be >= 1, got 0"
// Thread-safety: pure functions.
#ifndef CAVIAR_COMMON_TRAINER_SETTINGS_TRAINER_SETTINGS_H_
#define CAVIAR_COMMON_TRAINER_SETTINGS_TRAINER_SETTINGS_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "caviar/v1/study.pb.h"
#include "caviar/v1/trial.pb.h"
#include "google/protobuf/map.h"

namespace caviar::trainer_settings {

using ParameterMap = google::protobuf::Map<std::string, caviar::v1::ParameterValue>;

// Checks a spec's trainer objective; OK for specs that do not use the
// trainer. Dataset files are not opened here: the worker reads them.
absl::Status ValidateTrainerSpec(const caviar::v1::StudySpec& spec);

// The dataset part of it (the worker checks it again before loading).
absl::Status CheckDatasetSpec(const caviar::v1::Dataset& dataset);

// The trial's effective settings: the spec's fixed settings with the trial's
// parameters applied, checked. INVALID_ARGUMENT naming a parameter that is
// not a setting, has a value of the wrong type or out of bounds.
absl::StatusOr<caviar::v1::TrainerSettings> EffectiveSettings(
    const caviar::v1::TrainerSettings& fixed, const ParameterMap& parameters);

// The metrics the trainer reports (an objective must name one of them).
const std::vector<std::string>& ReportedMetrics();

}  // namespace caviar::trainer_settings

#endif  // CAVIAR_COMMON_TRAINER_SETTINGS_TRAINER_SETTINGS_H_
