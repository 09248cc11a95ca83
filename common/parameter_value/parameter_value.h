// FormatParameterValue: a trial's parameter value as a user would write it
// ("0.001", "64", "adam"): what a command's "{name}" placeholder and its
// CAVIAR_PARAM_<NAME> variable receive, and what logs show.
//
// Doubles take the shortest "%g" text that reads back as the same double;
// integers and strings print as they are; an unset value is "".
//
// Depends only on the proto messages and Abseil, so the worker, the client
// and the coordinator can all use it (the JSON form, which needs
// nlohmann-json, is in parameter_value_json.h). Thread-safety: a pure
// function.
#ifndef CAVIAR_COMMON_PARAMETER_VALUE_PARAMETER_VALUE_H_
#define CAVIAR_COMMON_PARAMETER_VALUE_PARAMETER_VALUE_H_

#include <nlohmann/json.hpp>
#include <string>

#include "caviar/v1/trial.pb.h"

namespace caviar {

std::string FormatParameterValue(const caviar::v1::ParameterValue& value);

}  // namespace caviar

#endif  // CAVIAR_COMMON_PARAMETER_VALUE_PARAMETER_VALUE_H_
