// Which built-in-trainer settings a nudge may change while a trial trains
// (the coordinator refuses the others before anything is stored; the
// trainer applies the rest with trainer::Trainer::Change), and why the
// others cannot.
//
// Changeable: learning_rate, lr_schedule, lr_decay, lr_step_epochs, beta1,
// beta2, epsilon, l2, dropout, bn_momentum, batch_size.
// Fixed while training: layers, hidden_units, activation, batch_norm (the
// network's shape), optimizer (the layout of its state), init and seed
// (already used), threads (the worker's), augment_flip, augment_shift (the
// input standardization was fitted for them).
//
// Status codes: INVALID_ARGUMENT "parameters[<name>]: <reason>", e.g.
//   "parameters[layers]: cannot change while a trial trains (it fixes the
//    network's shape)"
//   "parameters[dropout]: must be in [0, 1), got 1.5"
// Thread-safety: pure functions.
#ifndef CAVIAR_COMMON_TRAINER_SETTINGS_NUDGE_RULES_H_
#define CAVIAR_COMMON_TRAINER_SETTINGS_NUDGE_RULES_H_

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/trainer_settings/trainer_settings.h"

namespace caviar::trainer_settings {

// nullptr when `field` may change while a trial trains (or is not a
// setting); otherwise why it cannot.
const char* WhyFixedWhileTraining(absl::string_view field);

// Checks nudged settings: each a known setting, changeable, with a value of
// its type inside its rule. OK changes nothing anywhere.
absl::Status CheckNudgedSettings(const ParameterMap& parameters);

// The nudged settings as a TrainerSettings with only those fields present
// (for the trainer), checked as above.
absl::StatusOr<caviar::v1::TrainerSettings> NudgedSettings(
    const ParameterMap& parameters);

}  // namespace caviar::trainer_settings

#endif  // CAVIAR_COMMON_TRAINER_SETTINGS_NUDGE_RULES_H_
