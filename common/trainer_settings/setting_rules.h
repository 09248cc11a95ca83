// The trainer's setting rules: THE table of what values each trainer setting
// accepts, shared by the coordinator (study validation, through
// common/trainer_settings/trainer_settings.h) and the trainer itself
// (trainer::ValidateConfig and its name parsers), so the two cannot drift.
//
// Header-only and free of protobuf, Eigen and gRPC on purpose: the trainer
// library uses it without linking anything more.
//
// Errors are INVALID_ARGUMENT "<where>: <reason>", e.g.
//   "trainer.settings.beta1: must be in [0, 1), got 1"
//   "optimizer: unknown value \"sgd\" (known: gd, momentum, rmsprop, adam)"
//
// Thread-safety: everything here is immutable after first use.
#ifndef CAVIAR_COMMON_TRAINER_SETTINGS_SETTING_RULES_H_
#define CAVIAR_COMMON_TRAINER_SETTINGS_SETTING_RULES_H_

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"

namespace caviar::trainer_settings {

inline constexpr double kInf = std::numeric_limits<double>::infinity();

// What values a setting accepts: numbers in [lo, hi] (an open end excludes
// the bound), or one of `names` for string settings. For a string setting,
// the trainer maps each name to its enum by position in `names`.
struct SettingRule {
  const char* field;  // The TrainerSettings field (study.proto).
  double lo = 0;
  double hi = kInf;
  bool lo_open = false;
  bool hi_open = false;
  std::vector<std::string> names = {};
};

inline const std::vector<SettingRule>& SettingRules() {
  static const auto* rules = new std::vector<SettingRule>{
      {"learning_rate", 0, kInf, true, true},
      // Plain (mini-batch) gradient descent is "gd", as study.proto documents.
      {"optimizer", 0, 0, false, false, {"gd", "momentum", "rmsprop", "adam"}},
      {"beta1", 0, 1, false, true},
      {"beta2", 0, 1, false, true},
      {"epsilon", 0, kInf, true, true},
      {"layers", 0, 64},
      {"hidden_units", 1, 65536},
      {"batch_size", 1, 1 << 20},
      {"lr_decay", 0, kInf, false, true},
      {"lr_schedule", 0, 0, false, false, {"inverse", "exponential", "step"}},
      {"lr_step_epochs", 1, 1e9},
      {"activation", 0, 0, false, false, {"relu", "tanh", "sigmoid"}},
      {"batch_norm", 0, 1},
      {"bn_momentum", 0, 1, false, true},
      {"l2", 0, kInf, false, true},
      {"dropout", 0, 1, false, true},
      {"augment_flip", 0, 1},
      {"augment_shift", 0, 16},
      {"init", 0, 0, false, false, {"he", "xavier"}},
      {"seed", 0, 1.8e19},
      {"threads", 1, 1024},
  };
  return *rules;
}

// nullptr when `field` is not a trainer setting.
inline const SettingRule* RuleFor(absl::string_view field) {
  for (const SettingRule& rule : SettingRules()) {
    if (field == rule.field) return &rule;
  }
  return nullptr;
}

inline absl::Status InvalidSetting(absl::string_view where, absl::string_view reason) {
  return absl::InvalidArgumentError(absl::StrCat(where, ": ", reason));
}

// A number against `rule`; `integer` also requires a whole number.
inline absl::Status CheckNumber(absl::string_view where, const SettingRule& rule,
                                double value, bool integer = false) {
  if (!std::isfinite(value)) {
    return InvalidSetting(where, absl::StrCat("must be finite, got ", value));
  }
  if (integer && value != std::floor(value)) {
    return InvalidSetting(where, absl::StrCat("must be an integer, got ", value));
  }
  const bool low = rule.lo_open ? value <= rule.lo : value < rule.lo;
  const bool high = rule.hi_open ? value >= rule.hi : value > rule.hi;
  if (low || high) {
    return InvalidSetting(
        where, absl::StrCat("must be in ", rule.lo_open ? "(" : "[", rule.lo, ", ",
                            rule.hi, rule.hi_open ? ")" : "]", ", got ", value));
  }
  return absl::OkStatus();
}

// The position of `value` among the names of `field`'s rule; -1 if it is not
// one of them (or `field` has no names).
inline int NameIndex(absl::string_view field, absl::string_view value) {
  const SettingRule* rule = RuleFor(field);
  if (rule == nullptr) return -1;
  for (size_t i = 0; i < rule->names.size(); ++i) {
    if (value == rule->names[i]) return static_cast<int>(i);
  }
  return -1;
}

inline absl::Status CheckName(absl::string_view where, const SettingRule& rule,
                              absl::string_view value) {
  for (const std::string& name : rule.names) {
    if (value == name) return absl::OkStatus();
  }
  return InvalidSetting(where, absl::StrCat("unknown value \"", value, "\" (known: ",
                                            absl::StrJoin(rule.names, ", "), ")"));
}

// The one rule that ties two settings: the step schedule multiplies the
// learning rate by lr_decay every lr_step_epochs, so it must shrink it.
inline absl::Status CheckStepDecay(absl::string_view where, bool step_schedule,
                                   double lr_decay) {
  if (step_schedule && lr_decay >= 1) {
    return InvalidSetting(
        where, absl::StrCat("must be below 1 for the step schedule, got ", lr_decay));
  }
  return absl::OkStatus();
}

}  // namespace caviar::trainer_settings

#endif  // CAVIAR_COMMON_TRAINER_SETTINGS_SETTING_RULES_H_
