#include "common/trainer_settings/nudge_rules.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/status_macros.h"
#include "common/trainer_settings/setting_rules.h"

namespace caviar::trainer_settings {
namespace {

struct FixedSetting {
  const char* field;
  const char* why;
};

constexpr FixedSetting kFixed[] = {
    {"layers", "it fixes the network's shape"},
    {"hidden_units", "it fixes the network's shape"},
    {"activation", "the weights were trained for it"},
    {"batch_norm", "it fixes the network's shape"},
    {"optimizer", "the optimizer's state (its moments) has its layout"},
    {"init", "the weights were initialized already"},
    {"seed", "the random streams are under way (a checkpoint holds them)"},
    {"threads", "the worker's thread team is set when the trial starts"},
    {"augment_flip", "the input standardization was fitted for it"},
    {"augment_shift", "the input standardization was fitted for it"},
};

}  // namespace

const char* WhyFixedWhileTraining(absl::string_view field) {
  for (const FixedSetting& fixed : kFixed) {
    if (field == fixed.field) return fixed.why;
  }
  return nullptr;
}

absl::StatusOr<caviar::v1::TrainerSettings> NudgedSettings(
    const ParameterMap& parameters) {
  caviar::v1::TrainerSettings settings;
  for (const auto& [name, value] : parameters) {
    const std::string where = absl::StrCat("parameters[", name, "]");
    if (RuleFor(name) == nullptr) {
      std::vector<std::string> known;
      for (const SettingRule& rule : SettingRules()) {
        if (WhyFixedWhileTraining(rule.field) == nullptr) known.push_back(rule.field);
      }
      return InvalidSetting(where, absl::StrCat("not a trainer setting (changeable: ",
                                                absl::StrJoin(known, ", "), ")"));
    }
    if (const char* why = WhyFixedWhileTraining(name)) {
      return InvalidSetting(
          where, absl::StrCat("cannot change while a trial trains (", why, ")"));
    }
    ParameterMap one;
    one[name] = value;
    absl::StatusOr<caviar::v1::TrainerSettings> checked =
        EffectiveSettings(caviar::v1::TrainerSettings(), one);
    if (!checked.ok()) {
      // "parameter lr: needs a number" / "learning_rate: must be in ..."
      std::string reason(checked.status().message());
      const size_t colon = reason.find(": ");
      if (colon != std::string::npos) reason = reason.substr(colon + 2);
      return InvalidSetting(where, reason);
    }
    settings.MergeFrom(*checked);
  }
  return settings;
}

absl::Status CheckNudgedSettings(const ParameterMap& parameters) {
  return NudgedSettings(parameters).status();
}

}  // namespace caviar::trainer_settings
