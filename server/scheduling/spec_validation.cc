#include "server/scheduling/spec_validation.h"

#include <algorithm>
#include <cctype>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/placeholders.h"
#include "common/status_macros.h"
#include "google/protobuf/struct.pb.h"
#include "server/scheduling/pbt.h"
#include "server/search/pruner.h"
#include "server/search/sampler.h"
#include "server/search/space.h"

namespace caviar::scheduling {
namespace {

absl::Status Invalid(const std::string& field, const std::string& why) {
  return absl::InvalidArgumentError(absl::StrCat(field, ": ", why));
}

absl::Status CheckLength(const std::string& field, const std::string& text,
                         size_t limit) {
  if (text.size() <= limit) return absl::OkStatus();
  return Invalid(field, absl::StrCat(text.size(), " bytes, over the limit of ", limit));
}

// Names of studies and metrics: they appear in file-like places (CLI
// arguments, metric lines "name=value" split at blanks).
absl::Status ValidateName(const std::string& field, const std::string& name,
                          const std::string& extra_chars) {
  if (name.empty()) return Invalid(field, "is empty");
  CAVIAR_RETURN_IF_ERROR(CheckLength(field, name, kMaxNameBytes));
  for (char c : name) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' ||
          c == '.' || extra_chars.find(c) != std::string::npos)) {
      return Invalid(field, absl::StrCat("\"", name,
                                         "\" may hold only letters, digits, '_', '-', "
                                         "'.'",
                                         extra_chars.empty() ? "" : " and '/'"));
    }
  }
  return absl::OkStatus();
}

absl::Status CheckStringsIn(const google::protobuf::Message& message,
                            const std::string& path);

// A google.protobuf.Value or Struct of algorithm/pruner options: keys are
// names, string values are strings.
absl::Status CheckOptionValue(const google::protobuf::Value& value,
                              const std::string& path) {
  switch (value.kind_case()) {
    case google::protobuf::Value::kStringValue:
      return CheckLength(path, value.string_value(), kMaxStringBytes);
    case google::protobuf::Value::kStructValue:
      for (const auto& [key, inner] : value.struct_value().fields()) {
        if (key.size() > kMaxNameBytes)
          return Invalid(path, absl::StrCat("key of ", key.size(),
                                            " bytes, over the limit of ", kMaxNameBytes));
        CAVIAR_RETURN_IF_ERROR(CheckOptionValue(inner, absl::StrCat(path, ".", key)));
      }
      return absl::OkStatus();
    case google::protobuf::Value::kListValue:
      for (int i = 0; i < value.list_value().values_size(); ++i) {
        CAVIAR_RETURN_IF_ERROR(CheckOptionValue(value.list_value().values(i),
                                                absl::StrCat(path, "[", i, "]")));
      }
      return absl::OkStatus();
    default:
      return absl::OkStatus();
  }
}

// Every string field of `message`, at any depth, is at most kMaxStringBytes;
// the error names it by its path ("command.argv[3]", "command.env[HOME]").
// Walking the descriptor covers fields added later without a new rule.
absl::Status CheckStringsIn(const google::protobuf::Message& message,
                            const std::string& path) {
  using google::protobuf::FieldDescriptor;
  if (message.GetDescriptor() == google::protobuf::Struct::descriptor()) {
    google::protobuf::Value value;
    *value.mutable_struct_value() = static_cast<const google::protobuf::Struct&>(message);
    return CheckOptionValue(value, path);
  }
  const google::protobuf::Reflection* reflection = message.GetReflection();
  std::vector<const FieldDescriptor*> fields;
  reflection->ListFields(message, &fields);
  for (const FieldDescriptor* field : fields) {
    const std::string field_path =
        path.empty() ? field->name() : absl::StrCat(path, ".", field->name());
    if (field->is_map()) {
      const FieldDescriptor* key = field->message_type()->map_key();
      const FieldDescriptor* value = field->message_type()->map_value();
      for (int i = 0; i < reflection->FieldSize(message, field); ++i) {
        const auto& entry = reflection->GetRepeatedMessage(message, field, i);
        const auto* entry_reflection = entry.GetReflection();
        const std::string name = key->cpp_type() == FieldDescriptor::CPPTYPE_STRING
                                     ? entry_reflection->GetString(entry, key)
                                     : absl::StrCat(i);
        if (name.size() > kMaxNameBytes)
          return Invalid(field_path,
                         absl::StrCat("key of ", name.size(),
                                      " bytes, over the limit of ", kMaxNameBytes));
        const std::string entry_path = absl::StrCat(field_path, "[", name, "]");
        if (value->cpp_type() == FieldDescriptor::CPPTYPE_STRING) {
          CAVIAR_RETURN_IF_ERROR(CheckLength(
              entry_path, entry_reflection->GetString(entry, value), kMaxStringBytes));
        } else if (value->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
          CAVIAR_RETURN_IF_ERROR(
              CheckStringsIn(entry_reflection->GetMessage(entry, value), entry_path));
        }
      }
    } else if (field->is_repeated()) {
      for (int i = 0; i < reflection->FieldSize(message, field); ++i) {
        const std::string element_path = absl::StrCat(field_path, "[", i, "]");
        if (field->cpp_type() == FieldDescriptor::CPPTYPE_STRING) {
          CAVIAR_RETURN_IF_ERROR(
              CheckLength(element_path, reflection->GetRepeatedString(message, field, i),
                          kMaxStringBytes));
        } else if (field->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
          CAVIAR_RETURN_IF_ERROR(CheckStringsIn(
              reflection->GetRepeatedMessage(message, field, i), element_path));
        }
      }
    } else if (field->cpp_type() == FieldDescriptor::CPPTYPE_STRING) {
      CAVIAR_RETURN_IF_ERROR(CheckLength(
          field_path, reflection->GetString(message, field), kMaxStringBytes));
    } else if (field->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
      CAVIAR_RETURN_IF_ERROR(
          CheckStringsIn(reflection->GetMessage(message, field), field_path));
    }
  }
  return absl::OkStatus();
}

// Sizes first: nothing oversized is parsed further or echoed in an error.
absl::Status ValidateLimits(const caviar::v1::StudySpec& spec) {
  const size_t bytes = spec.ByteSizeLong();
  if (bytes > kMaxSpecBytes)
    return Invalid("spec", absl::StrCat("serialized size ", bytes,
                                        " bytes exceeds the limit of ", kMaxSpecBytes));
  if (spec.parameters_size() > kMaxParameters)
    return Invalid("parameters",
                   absl::StrCat(spec.parameters_size(), " parameters, over the limit of ",
                                kMaxParameters));
  CAVIAR_RETURN_IF_ERROR(CheckLength("name", spec.name(), kMaxNameBytes));
  CAVIAR_RETURN_IF_ERROR(
      CheckLength("objective.metric", spec.objective().metric(), kMaxNameBytes));
  CAVIAR_RETURN_IF_ERROR(
      CheckLength("algorithm.name", spec.algorithm().name(), kMaxNameBytes));
  CAVIAR_RETURN_IF_ERROR(CheckLength("pruner.name", spec.pruner().name(), kMaxNameBytes));
  for (const auto& [name, value] : spec.command().env()) {
    CAVIAR_RETURN_IF_ERROR(CheckLength("command.env", name, kMaxNameBytes));
    const bool valid = !name.empty() &&
                       !std::isdigit(static_cast<unsigned char>(name[0])) &&
                       std::all_of(name.begin(), name.end(), [](char c) {
                         return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
                       });
    if (!valid)
      return Invalid("command.env",
                     absl::StrCat("name \"", name,
                                  "\" must be letters, digits and _, not starting with "
                                  "a digit"));
  }
  return CheckStringsIn(spec, "");
}

absl::Status ValidatePlaceholders(const caviar::v1::CommandObjective& command,
                                  const std::set<std::string>& names) {
  const PlaceholderLookup known =
      [&](const std::string& name) -> std::optional<std::string> {
    if (!names.count(name)) return std::nullopt;
    return "";
  };
  for (int i = 0; i < command.argv_size(); ++i) {
    absl::Status valid = ExpandPlaceholders(command.argv(i), known, "study").status();
    if (!valid.ok())
      return Invalid(absl::StrCat("command.argv[", i, "]"), std::string(valid.message()));
  }
  return absl::OkStatus();
}

// A panda study (algorithm panda): one trial, babysat by hand. Settings that
// only make sense for many trials are refused.
absl::Status ValidatePanda(const caviar::v1::StudySpec& spec) {
  const caviar::v1::Budget& budget = spec.budget();
  if (budget.max_trials() != 1)
    return Invalid("budget.max_trials",
                   absl::StrCat("must be 1 for a panda study (one trial, babysat by "
                                "hand), got ",
                                budget.max_trials()));
  if (budget.max_parallel_trials() > 1)
    return Invalid("budget.max_parallel_trials",
                   absl::StrCat("must be 0 or 1 for a panda study (it has one trial), got ",
                                budget.max_parallel_trials()));
  const std::string& pruner = spec.pruner().name();
  if (!pruner.empty() && pruner != "none" && pruner != "divergence")
    return Invalid("pruner.name",
                   absl::StrCat("a panda study's one trial has no others to be compared "
                                "with: use none or divergence, got \"",
                                pruner, "\""));
  return absl::OkStatus();
}

}  // namespace

absl::Status ValidateStudySpec(const caviar::v1::StudySpec& spec,
                               const ObjectiveValidator& objective_validator) {
  CAVIAR_RETURN_IF_ERROR(ValidateLimits(spec));
  CAVIAR_RETURN_IF_ERROR(ValidateName("name", spec.name(), ""));
  if (spec.objective().metric().empty())
    return Invalid("objective.metric", "is empty (name the metric to optimize)");
  CAVIAR_RETURN_IF_ERROR(
      ValidateName("objective.metric", spec.objective().metric(), "/"));
  if (spec.objective().goal() == caviar::v1::GOAL_UNSPECIFIED)
    return Invalid("objective.goal", "must be MAXIMIZE or MINIMIZE");
  if (spec.parameters().empty())
    return Invalid("parameters", "at least one parameter is needed");
  CAVIAR_ASSIGN_OR_RETURN(search::SearchSpace space,
                          search::SearchSpace::Create(spec.parameters()));
  CAVIAR_RETURN_IF_ERROR(search::CreateSampler(spec.algorithm(), space).status());
  CAVIAR_RETURN_IF_ERROR(search::CreatePruner(spec.pruner(), spec.objective()).status());
  if (IsPandaStudy(spec)) CAVIAR_RETURN_IF_ERROR(ValidatePanda(spec));

  const caviar::v1::Budget& budget = spec.budget();
  if (budget.max_trials() < 1)
    return Invalid("budget.max_trials",
                   absl::StrCat("must be >= 1, got ", budget.max_trials()));
  if (budget.max_parallel_trials() < 0)
    return Invalid(
        "budget.max_parallel_trials",
        absl::StrCat("must be >= 0 (0 = unlimited), got ", budget.max_parallel_trials()));
  if (budget.max_failed_trials() < 0)
    return Invalid("budget.max_failed_trials",
                   absl::StrCat("must be >= 0, got ", budget.max_failed_trials()));
  const caviar::v1::TrialPolicy& policy = spec.trial_policy();
  if (policy.has_lease_seconds() &&
      (policy.lease_seconds() < 1 || policy.lease_seconds() > 7 * 24 * 3600))
    return Invalid("trial_policy.lease_seconds",
                   absl::StrCat("must be in [1, 604800] (leave it out for the "
                                "coordinator's default), got ",
                                policy.lease_seconds()));
  if (policy.has_max_retries() &&
      (policy.max_retries() < 0 || policy.max_retries() > 100))
    return Invalid("trial_policy.max_retries",
                   absl::StrCat("must be in [0, 100], got ", policy.max_retries()));
  const caviar::v1::CheckpointPolicy& checkpoint = spec.checkpoint();
  if (checkpoint.has_every_steps() &&
      (checkpoint.every_steps() < 0 || checkpoint.every_steps() > 1000000))
    return Invalid("checkpoint.every_steps",
                   absl::StrCat("must be in [0, 1000000] (0 = no checkpoints), got ",
                                checkpoint.every_steps()));
  if (checkpoint.has_keep_latest() &&
      (checkpoint.keep_latest() < 1 || checkpoint.keep_latest() > 100))
    return Invalid("checkpoint.keep_latest",
                   absl::StrCat("must be in [1, 100] (a resume needs the latest), got ",
                                checkpoint.keep_latest()));
  if (checkpoint.has_keep_best() &&
      (checkpoint.keep_best() < 0 || checkpoint.keep_best() > 100))
    return Invalid("checkpoint.keep_best",
                   absl::StrCat("must be in [0, 100], got ", checkpoint.keep_best()));

  std::set<std::string> names;
  for (const auto& p : spec.parameters()) names.insert(p.name());
  switch (spec.run_case()) {
    case caviar::v1::StudySpec::kCommand:
      if (spec.command().argv().empty())
        return Invalid("command.argv", "is empty (give the program and its arguments)");
      if (spec.command().argv(0).empty()) return Invalid("command.argv[0]", "is empty");
      if (spec.command().has_grace_seconds() &&
          (spec.command().grace_seconds() < 0 || spec.command().grace_seconds() > 3600))
        return Invalid(
            "command.grace_seconds",
            absl::StrCat("must be in [0, 3600], got ", spec.command().grace_seconds()));
      CAVIAR_RETURN_IF_ERROR(ValidatePlaceholders(spec.command(), names));
      break;
    case caviar::v1::StudySpec::kTrainer:
    case caviar::v1::StudySpec::kExternal:
      break;
    case caviar::v1::StudySpec::RUN_NOT_SET:
      return Invalid("command",
                     "a study needs an objective: command, trainer, or external (trials "
                     "run by SDK clients)");
  }
  CAVIAR_RETURN_IF_ERROR(ValidatePbtSpec(spec, space));
  if (objective_validator) CAVIAR_RETURN_IF_ERROR(objective_validator(spec));
  return absl::OkStatus();
}

bool IsPandaStudy(const caviar::v1::StudySpec& spec) {
  return spec.algorithm().name() == "panda";
}

caviar::v1::RunKind RunKindOf(const caviar::v1::StudySpec& spec) {
  switch (spec.run_case()) {
    case caviar::v1::StudySpec::kCommand:
      return caviar::v1::RUN_KIND_COMMAND;
    case caviar::v1::StudySpec::kTrainer:
      return caviar::v1::RUN_KIND_TRAINER;
    case caviar::v1::StudySpec::kExternal:
      return caviar::v1::RUN_KIND_EXTERNAL;
    case caviar::v1::StudySpec::RUN_NOT_SET:
      break;
  }
  return caviar::v1::RUN_KIND_UNSPECIFIED;
}

absl::Status ValidateRunKinds(const google::protobuf::RepeatedField<int>& run_kinds) {
  for (int i = 0; i < run_kinds.size(); ++i) {
    if (run_kinds[i] == caviar::v1::RUN_KIND_UNSPECIFIED ||
        !caviar::v1::RunKind_IsValid(run_kinds[i]))
      return Invalid(absl::StrCat("run_kinds[", i, "]"),
                     absl::StrCat("unknown run kind ", run_kinds[i],
                                  " (known: RUN_KIND_COMMAND, RUN_KIND_TRAINER, "
                                  "RUN_KIND_EXTERNAL)"));
  }
  return absl::OkStatus();
}

bool CanRun(const google::protobuf::RepeatedField<int>& run_kinds,
            const caviar::v1::StudySpec& spec) {
  const caviar::v1::RunKind kind = RunKindOf(spec);
  if (run_kinds.empty())
    return kind == caviar::v1::RUN_KIND_COMMAND || kind == caviar::v1::RUN_KIND_TRAINER;
  for (int can : run_kinds)
    if (can == kind) return true;
  return false;
}

}  // namespace caviar::scheduling
