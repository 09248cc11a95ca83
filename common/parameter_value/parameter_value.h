// FormatParameterValue: a trial's parameter value as a user would write it
// ("0.001", "64", "adam"): what a command's "{name}" placeholder and its
// CAVIAR_PARAM_<NAME> variable receive, and what logs show.
//
// Doubles take the shortest "%g" text that reads back as the same double;
// integers and strings print as they are; an unset value is "".
//
// ParameterValueJson: the same value as a plain JSON value (a number, an
// integer, a string; null when unset), the one JSON form of a parameter that
// the CLI's --format json and a command's CAVIAR_NUDGE_FILE share. A double
// that JSON cannot hold is the string "NaN", "Infinity" or "-Infinity", as in
// protobuf's JSON mapping.
//
// Depends only on the proto messages, Abseil and nlohmann-json, so the worker,
// the client and the coordinator can all use it. Thread-safety: pure
// functions.
#ifndef CAVIAR_COMMON_PARAMETER_VALUE_PARAMETER_VALUE_H_
#define CAVIAR_COMMON_PARAMETER_VALUE_PARAMETER_VALUE_H_

#include <nlohmann/json.hpp>
#include <string>

#include "caviar/v1/trial.pb.h"

namespace caviar {

std::string FormatParameterValue(const caviar::v1::ParameterValue& value);

nlohmann::json ParameterValueJson(const caviar::v1::ParameterValue& value);

}  // namespace caviar

#endif  // CAVIAR_COMMON_PARAMETER_VALUE_PARAMETER_VALUE_H_
