// `--param NAME=VALUE` / `--set NAME=VALUE` for nudges and rollbacks: typed
// as the study declares a searched parameter (but not checked against its
// range: the coordinator does that, and --outside-range lifts it), and, for
// a built-in-trainer study, settings it does not search (integers as
// integers, numbers as numbers, anything else as text; the coordinator
// checks each against the setting's rule).
#ifndef CAVIAR_CLIENT_COMMANDS_PANDA_ARGS_H_
#define CAVIAR_CLIENT_COMMANDS_PANDA_ARGS_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "caviar/v1/service.pb.h"
#include "caviar/v1/study.pb.h"

namespace caviar::cli {

// INVALID_ARGUMENT "<flag> lr=x: ..." naming the argument.
absl::StatusOr<caviar::v1::ParameterSet> ParseSettings(
    const caviar::v1::StudySpec& spec, const std::vector<std::string>& args,
    const std::string& flag);

}  // namespace caviar::cli

#endif  // CAVIAR_CLIENT_COMMANDS_PANDA_ARGS_H_
