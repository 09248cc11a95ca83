#include "client/commands/parameter_args.h"

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"

namespace caviar::cli {
namespace {

struct Assignment {
  int index;
  std::string value;
};

absl::StatusOr<Assignment> Split(const search::SearchSpace& space,
                                 const std::string& arg) {
  const size_t eq = arg.find('=');
  if (eq == std::string::npos || eq == 0)
    return absl::InvalidArgumentError(
        absl::StrCat("--param ", arg, ": expected NAME=VALUE"));
  const std::string name = arg.substr(0, eq);
  const int index = space.IndexOf(name);
  if (index < 0)
    return absl::InvalidArgumentError(
        absl::StrCat("--param ", arg, ": the study has no parameter \"", name, "\""));
  return Assignment{index, arg.substr(eq + 1)};
}

absl::StatusOr<caviar::v1::ParameterValue> Parse(const search::SearchSpace& space,
                                                 const std::string& arg, int index,
                                                 const std::string& text) {
  auto value = space.ParseValue(index, text);
  if (!value.ok())
    return absl::InvalidArgumentError(
        absl::StrCat("--param ", arg, ": ", value.status().message()));
  return *value;
}

}  // namespace

absl::StatusOr<caviar::v1::ParameterSet> ParseAssignments(
    const search::SearchSpace& space, const std::vector<std::string>& args) {
  caviar::v1::ParameterSet set;
  for (const std::string& arg : args) {
    CAVIAR_ASSIGN_OR_RETURN(Assignment a, Split(space, arg));
    CAVIAR_ASSIGN_OR_RETURN((*set.mutable_parameters())[space.parameter(a.index).name()],
                            Parse(space, arg, a.index, a.value));
  }
  return set;
}

absl::Status ParseRanges(
    const search::SearchSpace& space, const std::vector<std::string>& args,
    google::protobuf::Map<std::string, caviar::v1::ValueRange>* ranges) {
  for (const std::string& arg : args) {
    CAVIAR_ASSIGN_OR_RETURN(Assignment a, Split(space, arg));
    const size_t colon = a.value.find(':');
    if (colon == std::string::npos)
      return absl::InvalidArgumentError(
          absl::StrCat("--param ", arg, ": expected NAME=LO:HI"));
    caviar::v1::ValueRange& range = (*ranges)[space.parameter(a.index).name()];
    CAVIAR_ASSIGN_OR_RETURN(*range.mutable_lo(),
                            Parse(space, arg, a.index, a.value.substr(0, colon)));
    CAVIAR_ASSIGN_OR_RETURN(*range.mutable_hi(),
                            Parse(space, arg, a.index, a.value.substr(colon + 1)));
  }
  return absl::OkStatus();
}

}  // namespace caviar::cli
