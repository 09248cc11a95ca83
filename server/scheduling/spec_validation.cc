#include "server/scheduling/spec_validation.h"

#include <cctype>
#include <set>
#include <string>

#include "absl/strings/str_cat.h"
#include "common/placeholders.h"
#include "common/status_macros.h"
#include "server/search/pruner.h"
#include "server/search/sampler.h"
#include "server/search/space.h"

namespace caviar::scheduling {
namespace {

absl::Status Invalid(const std::string& field, const std::string& why) {
  return absl::InvalidArgumentError(absl::StrCat(field, ": ", why));
}

absl::Status ValidateStudyName(const std::string& name) {
  if (name.empty()) return Invalid("name", "is empty");
  if (name.size() > 128) return Invalid("name", "is longer than 128 characters");
  for (char c : name) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' ||
          c == '.')) {
      return Invalid("name", absl::StrCat("\"", name,
                                          "\" may hold only letters, digits, '_', '-' "
                                          "and '.'"));
    }
  }
  return absl::OkStatus();
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

}  // namespace

absl::Status ValidateStudySpec(const caviar::v1::StudySpec& spec,
                               const ObjectiveValidator& objective_validator) {
  CAVIAR_RETURN_IF_ERROR(ValidateStudyName(spec.name()));
  if (spec.objective().metric().empty())
    return Invalid("objective.metric", "is empty (name the metric to optimize)");
  if (spec.objective().goal() == caviar::v1::GOAL_UNSPECIFIED)
    return Invalid("objective.goal", "must be MAXIMIZE or MINIMIZE");
  if (spec.parameters().empty())
    return Invalid("parameters", "at least one parameter is needed");
  CAVIAR_ASSIGN_OR_RETURN(search::SearchSpace space,
                          search::SearchSpace::Create(spec.parameters()));
  CAVIAR_RETURN_IF_ERROR(search::CreateSampler(spec.algorithm(), space).status());
  CAVIAR_RETURN_IF_ERROR(search::CreatePruner(spec.pruner()).status());

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
  if (policy.lease_seconds() < 0 || policy.lease_seconds() > 7 * 24 * 3600)
    return Invalid("trial_policy.lease_seconds",
                   absl::StrCat("must be in [0, 604800] (0 = coordinator default), got ",
                                policy.lease_seconds()));
  if (policy.max_retries() < 0 || policy.max_retries() > 100)
    return Invalid("trial_policy.max_retries",
                   absl::StrCat("must be in [0, 100], got ", policy.max_retries()));

  std::set<std::string> names;
  for (const auto& p : spec.parameters()) names.insert(p.name());
  switch (spec.run_case()) {
    case caviar::v1::StudySpec::kCommand:
      if (spec.command().argv().empty())
        return Invalid("command.argv", "is empty (give the program and its arguments)");
      if (spec.command().argv(0).empty()) return Invalid("command.argv[0]", "is empty");
      if (spec.command().grace_seconds() < 0)
        return Invalid("command.grace_seconds", "must be >= 0");
      CAVIAR_RETURN_IF_ERROR(ValidatePlaceholders(spec.command(), names));
      break;
    case caviar::v1::StudySpec::kTrainer:
      break;
    case caviar::v1::StudySpec::RUN_NOT_SET:
      return Invalid("command", "a study needs an objective: command or trainer");
  }
  if (objective_validator) CAVIAR_RETURN_IF_ERROR(objective_validator(spec));
  return absl::OkStatus();
}

}  // namespace caviar::scheduling
