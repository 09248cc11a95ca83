#include "server/search/options.h"

#include <algorithm>
#include <cmath>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace caviar::search {

absl::Status Options::CheckKnownKeys(const std::vector<std::string>& known) const {
  for (const auto& [key, value] : options_.fields()) {
    if (std::find(known.begin(), known.end(), key) == known.end()) {
      return absl::InvalidArgumentError(absl::StrCat(
          Field(key), ": unknown option",
          known.empty() ? " (this one takes none)"
                        : absl::StrCat(" (known: ", absl::StrJoin(known, ", "), ")")));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<double> Options::Double(const std::string& key, double default_value,
                                       double min, double max) const {
  auto it = options_.fields().find(key);
  if (it == options_.fields().end()) return default_value;
  if (!it->second.has_number_value())
    return absl::InvalidArgumentError(absl::StrCat(Field(key), ": must be a number"));
  const double v = it->second.number_value();
  if (!(v >= min && v <= max))
    return absl::InvalidArgumentError(
        absl::StrCat(Field(key), ": must be in [", min, ", ", max, "], got ", v));
  return v;
}

absl::StatusOr<int64_t> Options::Int(const std::string& key, int64_t default_value,
                                     int64_t min, int64_t max) const {
  auto it = options_.fields().find(key);
  if (it == options_.fields().end()) return default_value;
  const double v = it->second.number_value();
  if (!it->second.has_number_value() || v != std::floor(v))
    return absl::InvalidArgumentError(absl::StrCat(Field(key), ": must be an integer"));
  if (v < static_cast<double>(min) || v > static_cast<double>(max))
    return absl::InvalidArgumentError(
        absl::StrCat(Field(key), ": must be in [", min, ", ", max, "], got ", v));
  return static_cast<int64_t>(v);
}

absl::StatusOr<std::string> Options::String(
    const std::string& key, const std::string& default_value,
    const std::vector<std::string>& allowed) const {
  auto it = options_.fields().find(key);
  if (it == options_.fields().end()) return default_value;
  if (!it->second.has_string_value())
    return absl::InvalidArgumentError(absl::StrCat(Field(key), ": must be a string"));
  const std::string& v = it->second.string_value();
  if (!allowed.empty() && std::find(allowed.begin(), allowed.end(), v) == allowed.end())
    return absl::InvalidArgumentError(absl::StrCat(
        Field(key), ": must be one of ", absl::StrJoin(allowed, ", "), ", got \"", v, "\""));
  return v;
}

absl::StatusOr<bool> Options::Bool(const std::string& key, bool default_value) const {
  auto it = options_.fields().find(key);
  if (it == options_.fields().end()) return default_value;
  if (!it->second.has_bool_value())
    return absl::InvalidArgumentError(absl::StrCat(Field(key), ": must be true or false"));
  return it->second.bool_value();
}

}  // namespace caviar::search
