#include "common/trainer_settings/trainer_settings.h"

#include <cmath>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/status_macros.h"
#include "common/trainer_settings/setting_rules.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/reflection.h"

namespace caviar::trainer_settings {
namespace {

using caviar::v1::ParameterSpec;
using caviar::v1::ParameterValue;
using caviar::v1::TrainerSettings;
using google::protobuf::FieldDescriptor;

std::string KnownSettings() {
  std::vector<std::string> names;
  for (const SettingRule& rule : SettingRules()) names.push_back(rule.field);
  return absl::StrJoin(names, ", ");
}

absl::Status Invalid(const std::string& where, const std::string& reason) {
  return InvalidSetting(where, reason);
}

bool IsInteger(const FieldDescriptor* field) {
  return field->cpp_type() == FieldDescriptor::CPPTYPE_INT32 ||
         field->cpp_type() == FieldDescriptor::CPPTYPE_UINT64 ||
         field->cpp_type() == FieldDescriptor::CPPTYPE_INT64;
}

// The table's check, with the field's type deciding whether a whole number
// is required.
absl::Status CheckNumber(const std::string& where, const SettingRule& rule,
                         const FieldDescriptor* field, double value) {
  return trainer_settings::CheckNumber(where, rule, value, IsInteger(field));
}

absl::Status CheckBoolName(const std::string& where, const std::string& value) {
  if (value == "true" || value == "false") return absl::OkStatus();
  return Invalid(
      where,
      absl::StrCat("a boolean setting takes \"true\" or \"false\", got \"", value, "\""));
}

// A searched parameter's domain against the setting it overrides.
absl::Status CheckParameter(const std::string& where, const ParameterSpec& parameter) {
  const FieldDescriptor* field =
      TrainerSettings::descriptor()->FindFieldByName(parameter.name());
  const SettingRule* rule = RuleFor(parameter.name());
  if (field == nullptr || rule == nullptr) {
    return Invalid(where,
                   absl::StrCat("not a trainer setting (known: ", KnownSettings(), ")"));
  }
  const bool is_bool = field->cpp_type() == FieldDescriptor::CPPTYPE_BOOL;
  const bool is_string = field->cpp_type() == FieldDescriptor::CPPTYPE_STRING;
  switch (parameter.domain_case()) {
    case ParameterSpec::kCategorical:
      if (!is_string && !is_bool) {
        return Invalid(where,
                       "a numeric setting needs a double, integer or discrete domain");
      }
      for (const std::string& value : parameter.categorical().values()) {
        CAVIAR_RETURN_IF_ERROR(is_bool ? CheckBoolName(where, value)
                                       : CheckName(where, *rule, value));
      }
      return absl::OkStatus();
    case ParameterSpec::kDouble:
      if (is_string || is_bool || IsInteger(field)) {
        return Invalid(
            where, absl::StrCat(is_string ? "a string" : "an integer",
                                " setting cannot take a double range; use ",
                                is_string ? "a categorical" : "an integer or discrete",
                                " domain"));
      }
      CAVIAR_RETURN_IF_ERROR(CheckNumber(where, *rule, field, parameter.double_().min()));
      return CheckNumber(where, *rule, field, parameter.double_().max());
    case ParameterSpec::kInteger:
      if (is_string) return Invalid(where, "a string setting needs a categorical domain");
      CAVIAR_RETURN_IF_ERROR(
          CheckNumber(where, *rule, field, double(parameter.integer().min())));
      return CheckNumber(where, *rule, field, double(parameter.integer().max()));
    case ParameterSpec::kDiscrete:
      if (is_string) return Invalid(where, "a string setting needs a categorical domain");
      for (double value : parameter.discrete().values()) {
        CAVIAR_RETURN_IF_ERROR(CheckNumber(where, *rule, field, value));
      }
      return absl::OkStatus();
    case ParameterSpec::DOMAIN_NOT_SET:
      return Invalid(where, "has no domain");
  }
  return absl::OkStatus();
}

// Every fixed setting that is present.
absl::Status CheckSettings(const std::string& prefix, const TrainerSettings& settings) {
  const auto* reflection = settings.GetReflection();
  std::vector<const FieldDescriptor*> fields;
  reflection->ListFields(settings, &fields);
  for (const FieldDescriptor* field : fields) {
    const std::string where = absl::StrCat(prefix, field->name());
    const SettingRule* rule = RuleFor(field->name());
    if (rule == nullptr) continue;  // A setting this worker does not know yet.
    switch (field->cpp_type()) {
      case FieldDescriptor::CPPTYPE_DOUBLE:
        CAVIAR_RETURN_IF_ERROR(
            CheckNumber(where, *rule, field, reflection->GetDouble(settings, field)));
        break;
      case FieldDescriptor::CPPTYPE_INT32:
        CAVIAR_RETURN_IF_ERROR(
            CheckNumber(where, *rule, field, reflection->GetInt32(settings, field)));
        break;
      case FieldDescriptor::CPPTYPE_UINT64:
        CAVIAR_RETURN_IF_ERROR(CheckNumber(
            where, *rule, field, double(reflection->GetUInt64(settings, field))));
        break;
      case FieldDescriptor::CPPTYPE_STRING:
        CAVIAR_RETURN_IF_ERROR(
            CheckName(where, *rule, reflection->GetString(settings, field)));
        break;
      default:
        break;
    }
  }
  return CheckStepDecay(absl::StrCat(prefix, "lr_decay"),
                        settings.has_lr_schedule() && settings.lr_schedule() == "step",
                        settings.lr_decay());
}

// Sets one settings field from a trial's parameter value.
absl::Status ApplyParameter(const std::string& name, const ParameterValue& value,
                            TrainerSettings* settings) {
  const std::string where = absl::StrCat("parameter ", name);
  const FieldDescriptor* field = TrainerSettings::descriptor()->FindFieldByName(name);
  if (field == nullptr || RuleFor(name) == nullptr) {
    return Invalid(where, "not a trainer setting");
  }
  const auto* reflection = settings->GetReflection();
  const bool numeric = value.value_case() == ParameterValue::kDoubleValue ||
                       value.value_case() == ParameterValue::kIntValue;
  const double number = value.value_case() == ParameterValue::kIntValue
                            ? double(value.int_value())
                            : value.double_value();
  auto need_integer = [&]() -> absl::Status {
    if (!numeric || number != std::floor(number)) {
      return Invalid(where, "needs an integer value");
    }
    return absl::OkStatus();
  };
  switch (field->cpp_type()) {
    case FieldDescriptor::CPPTYPE_DOUBLE:
      if (!numeric) return Invalid(where, "needs a number");
      reflection->SetDouble(settings, field, number);
      return absl::OkStatus();
    case FieldDescriptor::CPPTYPE_INT32:
      CAVIAR_RETURN_IF_ERROR(need_integer());
      reflection->SetInt32(settings, field, int32_t(number));
      return absl::OkStatus();
    case FieldDescriptor::CPPTYPE_UINT64:
      CAVIAR_RETURN_IF_ERROR(need_integer());
      reflection->SetUInt64(settings, field,
                            value.value_case() == ParameterValue::kIntValue
                                ? uint64_t(value.int_value())
                                : uint64_t(number));
      return absl::OkStatus();
    case FieldDescriptor::CPPTYPE_STRING:
      if (value.value_case() != ParameterValue::kStringValue) {
        return Invalid(where, "needs a string value");
      }
      reflection->SetString(settings, field, value.string_value());
      return absl::OkStatus();
    case FieldDescriptor::CPPTYPE_BOOL:
      if (value.value_case() == ParameterValue::kStringValue &&
          (value.string_value() == "true" || value.string_value() == "false")) {
        reflection->SetBool(settings, field, value.string_value() == "true");
        return absl::OkStatus();
      }
      if (numeric && (number == 0 || number == 1)) {
        reflection->SetBool(settings, field, number == 1);
        return absl::OkStatus();
      }
      return Invalid(where, "needs true/false or 0/1");
    default:
      return Invalid(where, "has an unsupported type");
  }
}

}  // namespace

absl::Status CheckDatasetSpec(const caviar::v1::Dataset& dataset) {
  switch (dataset.source_case()) {
    case caviar::v1::Dataset::kIdx:
      if (dataset.idx().train_images().empty() || dataset.idx().train_labels().empty()) {
        return Invalid("trainer.dataset.idx", "needs train_images and train_labels");
      }
      if (dataset.idx().test_images().empty() != dataset.idx().test_labels().empty()) {
        return Invalid("trainer.dataset.idx", "test_images and test_labels go together");
      }
      break;
    case caviar::v1::Dataset::kCsv:
      if (dataset.csv().train_path().empty()) {
        return Invalid("trainer.dataset.csv.train_path", "must be set");
      }
      if (dataset.csv().label_column().empty()) {
        return Invalid("trainer.dataset.csv.label_column",
                       "must be set (a name or an index)");
      }
      if (dataset.csv().num_classes() < 0 || dataset.csv().num_classes() == 1) {
        return Invalid("trainer.dataset.csv.num_classes",
                       absl::StrCat("must be 0 (from the labels) or >= 2, got ",
                                    dataset.csv().num_classes()));
      }
      break;
    case caviar::v1::Dataset::SOURCE_NOT_SET:
      return Invalid("trainer.dataset", "needs a source: idx or csv");
  }
  if (dataset.dev_size() < 0) {
    return Invalid("trainer.dataset.dev_size",
                   absl::StrCat("must be >= 0, got ", dataset.dev_size()));
  }
  if (dataset.train_limit() < 0) {
    return Invalid("trainer.dataset.train_limit",
                   absl::StrCat("must be >= 0, got ", dataset.train_limit()));
  }
  if (dataset.test_limit() < 0) {
    return Invalid("trainer.dataset.test_limit",
                   absl::StrCat("must be >= 0, got ", dataset.test_limit()));
  }
  return absl::OkStatus();
}

namespace {

// Augmentation moves pixels, so it needs images: an IDX dataset.
absl::Status CheckAugmentationHasImages(const caviar::v1::StudySpec& spec) {
  if (spec.trainer().dataset().has_idx()) return absl::OkStatus();
  const TrainerSettings& settings = spec.trainer().settings();
  if (settings.augment_flip()) {
    return Invalid("trainer.settings.augment_flip", "needs images: an IDX dataset");
  }
  if (settings.augment_shift() > 0) {
    return Invalid("trainer.settings.augment_shift", "needs images: an IDX dataset");
  }
  for (int i = 0; i < spec.parameters_size(); ++i) {
    const std::string& name = spec.parameters(i).name();
    if (name == "augment_flip" || name == "augment_shift") {
      return Invalid(absl::StrCat("parameters[", i, "] (", name, ")"),
                     "needs images: an IDX dataset");
    }
  }
  return absl::OkStatus();
}

}  // namespace

const std::vector<std::string>& ReportedMetrics() {
  static const auto* metrics = new std::vector<std::string>{
      "train_loss", "train_accuracy", "dev_loss",      "dev_accuracy",
      "test_loss",  "test_accuracy",  "learning_rate", "seconds"};
  return *metrics;
}

absl::Status ValidateTrainerSpec(const caviar::v1::StudySpec& spec) {
  if (!spec.has_trainer()) return absl::OkStatus();
  const caviar::v1::TrainerObjective& trainer = spec.trainer();
  if (trainer.epochs() < 1) {
    return Invalid("trainer.epochs",
                   absl::StrCat("must be >= 1, got ", trainer.epochs()));
  }
  CAVIAR_RETURN_IF_ERROR(CheckDatasetSpec(trainer.dataset()));
  CAVIAR_RETURN_IF_ERROR(CheckSettings("trainer.settings.", trainer.settings()));
  for (int i = 0; i < spec.parameters_size(); ++i) {
    const ParameterSpec& parameter = spec.parameters(i);
    CAVIAR_RETURN_IF_ERROR(CheckParameter(
        absl::StrCat("parameters[", i, "] (", parameter.name(), ")"), parameter));
  }
  CAVIAR_RETURN_IF_ERROR(CheckAugmentationHasImages(spec));
  const std::string& metric = spec.objective().metric();
  bool known = false;
  for (const std::string& name : ReportedMetrics()) known = known || metric == name;
  if (!known) {
    return Invalid(
        "objective.metric",
        absl::StrCat("the trainer reports no metric \"", metric,
                     "\" (it reports: ", absl::StrJoin(ReportedMetrics(), ", "), ")"));
  }
  return absl::OkStatus();
}

absl::StatusOr<TrainerSettings> EffectiveSettings(const TrainerSettings& fixed,
                                                  const ParameterMap& parameters) {
  TrainerSettings settings = fixed;
  for (const auto& [name, value] : parameters) {
    CAVIAR_RETURN_IF_ERROR(ApplyParameter(name, value, &settings));
  }
  CAVIAR_RETURN_IF_ERROR(CheckSettings("", settings));
  return settings;
}

}  // namespace caviar::trainer_settings
