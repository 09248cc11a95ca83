// How a plain (unquoted) YAML scalar reads: the YAML 1.2 core schema, shared
// by the spec reader (to type scalars) and writer (to quote strings that
// would otherwise read back as something else). Internal to client/.
#ifndef CAVIAR_CLIENT_YAML_SCALARS_H_
#define CAVIAR_CLIENT_YAML_SCALARS_H_

#include <string>
#include <string_view>

namespace caviar::client::yaml_scalars {

// [-+]?[0-9]+
bool IsInt(std::string_view text);
// Decimal floats ([-+]?(.5|1|1.|1.5)([eE][-+]?[0-9]+)?) and .inf/.nan forms.
bool IsFloat(std::string_view text);
bool IsInfOrNan(std::string_view text);
// true/false in the three spellings YAML accepts.
bool IsBool(std::string_view text, bool* value);
bool IsNull(std::string_view text);

// Shortest text that reads back as exactly `value` ("0.0001", "64", ".inf").
std::string FormatDouble(double value);

}  // namespace caviar::client::yaml_scalars

#endif  // CAVIAR_CLIENT_YAML_SCALARS_H_
