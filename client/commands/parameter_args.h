// Parsing of `--param NAME=VALUE` and `--param NAME=LO:HI` arguments against
// a study's search space, so values are typed as the spec declares them
// (integers as integers, categories as names) and errors name the argument.
#ifndef CAVIAR_CLIENT_COMMANDS_PARAMETER_ARGS_H_
#define CAVIAR_CLIENT_COMMANDS_PARAMETER_ARGS_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "caviar/v1/service.pb.h"
#include "server/search/space.h"

namespace caviar::cli {

// "lr=0.01" -> {"lr": 0.01}. INVALID_ARGUMENT "--param lr=x: ..." otherwise.
absl::StatusOr<caviar::v1::ParameterSet> ParseAssignments(
    const search::SearchSpace& space, const std::vector<std::string>& args);

// "lr=1e-3:1e-2" -> ranges["lr"] = [1e-3, 1e-2].
absl::Status ParseRanges(
    const search::SearchSpace& space, const std::vector<std::string>& args,
    google::protobuf::Map<std::string, caviar::v1::ValueRange>* ranges);

}  // namespace caviar::cli

#endif  // CAVIAR_CLIENT_COMMANDS_PARAMETER_ARGS_H_
