#include "common/parameter_value/parameter_value_json.h"

#include <cmath>

namespace caviar {

nlohmann::json ParameterValueJson(const caviar::v1::ParameterValue& value) {
  switch (value.value_case()) {
    case caviar::v1::ParameterValue::kDoubleValue: {
      const double number = value.double_value();
      if (std::isnan(number)) return "NaN";
      if (std::isinf(number)) return number > 0 ? "Infinity" : "-Infinity";
      return number;
    }
    case caviar::v1::ParameterValue::kIntValue:
      return value.int_value();
    case caviar::v1::ParameterValue::kStringValue:
      return value.string_value();
    default:
      return nullptr;
  }
}

}  // namespace caviar
