// ParameterValueJson: a trial's parameter value as a plain JSON value (a
// number, an integer, a string; null when unset), the one JSON form of a
// parameter that the CLI's --format json and a command's CAVIAR_NUDGE_FILE
// share. A double that JSON cannot hold is the string "NaN", "Infinity" or
// "-Infinity", as in protobuf's JSON mapping.
//
// Apart from parameter_value.h so that its users do not compile
// nlohmann-json. Thread-safety: a pure function.
#ifndef CAVIAR_COMMON_PARAMETER_VALUE_PARAMETER_VALUE_JSON_H_
#define CAVIAR_COMMON_PARAMETER_VALUE_PARAMETER_VALUE_JSON_H_

#include <nlohmann/json.hpp>

#include "caviar/v1/trial.pb.h"

namespace caviar {

nlohmann::json ParameterValueJson(const caviar::v1::ParameterValue& value);

}  // namespace caviar

#endif  // CAVIAR_COMMON_PARAMETER_VALUE_PARAMETER_VALUE_JSON_H_
