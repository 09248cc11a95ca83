#include "client/yaml_scalars.h"

#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace caviar::client::yaml_scalars {
namespace {

bool AllDigits(std::string_view text) {
  if (text.empty()) return false;
  for (char c : text) {
    if (!std::isdigit(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

std::string_view StripSign(std::string_view text) {
  if (!text.empty() && (text[0] == '-' || text[0] == '+')) text.remove_prefix(1);
  return text;
}

}  // namespace

bool IsInt(std::string_view text) { return AllDigits(StripSign(text)); }

bool IsInfOrNan(std::string_view text) {
  std::string_view unsigned_text = StripSign(text);
  for (std::string_view inf : {".inf", ".Inf", ".INF"}) {
    if (unsigned_text == inf) return true;
  }
  for (std::string_view nan : {".nan", ".NaN", ".NAN"}) {
    if (text == nan) return true;
  }
  return false;
}

bool IsFloat(std::string_view text) {
  if (IsInfOrNan(text)) return true;
  text = StripSign(text);
  size_t exponent = text.find_first_of("eE");
  std::string_view mantissa = text.substr(0, exponent);
  if (exponent != std::string_view::npos) {
    if (!IsInt(text.substr(exponent + 1))) return false;
  }
  size_t dot = mantissa.find('.');
  if (dot == std::string_view::npos) return AllDigits(mantissa);
  std::string_view whole = mantissa.substr(0, dot);
  std::string_view fraction = mantissa.substr(dot + 1);
  if (whole.empty() && fraction.empty()) return false;
  return (whole.empty() || AllDigits(whole)) && (fraction.empty() || AllDigits(fraction));
}

bool IsBool(std::string_view text, bool* value) {
  if (text == "true" || text == "True" || text == "TRUE") {
    *value = true;
    return true;
  }
  if (text == "false" || text == "False" || text == "FALSE") {
    *value = false;
    return true;
  }
  return false;
}

bool IsNull(std::string_view text) {
  return text.empty() || text == "~" || text == "null" || text == "Null" ||
         text == "NULL";
}

std::string FormatDouble(double value) {
  if (std::isnan(value)) return ".nan";
  if (std::isinf(value)) return value > 0 ? ".inf" : "-.inf";
  char buffer[32];
  for (int precision = 1; precision <= 17; ++precision) {
    std::snprintf(buffer, sizeof(buffer), "%.*g", precision, value);
    if (std::strtod(buffer, nullptr) == value) break;
  }
  return buffer;
}

}  // namespace caviar::client::yaml_scalars
