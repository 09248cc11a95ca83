#include "common/parameter_value/parameter_value.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace caviar {

std::string FormatParameterValue(const caviar::v1::ParameterValue& value) {
  switch (value.value_case()) {
    case caviar::v1::ParameterValue::kDoubleValue: {
      // Shortest text that reads back as the same double.
      for (int precision = 6; precision < 17; ++precision) {
        std::string text = absl::StrFormat("%.*g", precision, value.double_value());
        double back;
        if (absl::SimpleAtod(text, &back) && back == value.double_value()) return text;
      }
      return absl::StrFormat("%.17g", value.double_value());
    }
    case caviar::v1::ParameterValue::kIntValue:
      return absl::StrCat(value.int_value());
    case caviar::v1::ParameterValue::kStringValue:
      return value.string_value();
    default:
      return "";
  }
}

}  // namespace caviar
