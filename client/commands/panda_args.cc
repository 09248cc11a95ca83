#include "client/commands/panda_args.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace caviar::cli {
namespace {

using caviar::v1::ParameterSpec;
using caviar::v1::ParameterValue;

ParameterValue Untyped(const std::string& text) {
  ParameterValue value;
  int64_t n;
  double x;
  if (absl::SimpleAtoi(text, &n)) {
    value.set_int_value(n);
  } else if (absl::SimpleAtod(text, &x)) {
    value.set_double_value(x);
  } else {
    value.set_string_value(text);
  }
  return value;
}

const ParameterSpec* Find(const caviar::v1::StudySpec& spec, const std::string& name) {
  for (const ParameterSpec& p : spec.parameters()) {
    if (p.name() == name) return &p;
  }
  return nullptr;
}

}  // namespace

absl::StatusOr<caviar::v1::ParameterSet> ParseSettings(
    const caviar::v1::StudySpec& spec, const std::vector<std::string>& args,
    const std::string& flag) {
  caviar::v1::ParameterSet set;
  for (const std::string& arg : args) {
    const size_t eq = arg.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == arg.size())
      return absl::InvalidArgumentError(
          absl::StrCat(flag, " ", arg, ": expected NAME=VALUE"));
    const std::string name = arg.substr(0, eq);
    const std::string text = arg.substr(eq + 1);
    const ParameterSpec* parameter = Find(spec, name);
    if (parameter == nullptr && !spec.has_trainer())
      return absl::InvalidArgumentError(
          absl::StrCat(flag, " ", arg, ": the study has no parameter \"", name, "\""));
    ParameterValue value = Untyped(text);
    if (parameter != nullptr) {
      switch (parameter->domain_case()) {
        case ParameterSpec::kDouble:
        case ParameterSpec::kDiscrete: {
          double x;
          if (!absl::SimpleAtod(text, &x))
            return absl::InvalidArgumentError(
                absl::StrCat(flag, " ", arg, ": \"", text, "\" is not a number"));
          value.set_double_value(x);
          break;
        }
        case ParameterSpec::kInteger:
          if (!value.has_int_value())
            return absl::InvalidArgumentError(
                absl::StrCat(flag, " ", arg, ": \"", text, "\" is not an integer"));
          break;
        case ParameterSpec::kCategorical:
          value.set_string_value(text);
          break;
        default:
          break;
      }
    }
    (*set.mutable_parameters())[name] = value;
  }
  return set;
}

}  // namespace caviar::cli
