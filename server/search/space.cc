#include "server/search/space.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <set>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/parameter_value/parameter_value.h"

namespace caviar::search {
namespace {

using caviar::v1::ParameterSpec;
using caviar::v1::ParameterValue;
using caviar::v1::Scale;

double Clamp01(double u) {
  if (!(u >= 0.0)) return 0.0;  // Also maps NaN to 0.
  return u > 1.0 ? 1.0 : u;
}

// The continuous scaled interval [lo, hi] of a numeric parameter, and the
// maps in and out of it. For LOG1M the "scaled" coordinate is log10(1 - x),
// which decreases as x grows, so lo > hi there.
struct Scaled {
  double lo;
  double hi;
};

double Forward(Scale scale, double x) {
  switch (scale) {
    case caviar::v1::LOG:
      return std::log10(x);
    case caviar::v1::LOG1M:
      return std::log10(1.0 - x);
    default:
      return x;
  }
}

double Inverse(Scale scale, double r) {
  switch (scale) {
    case caviar::v1::LOG:
      return std::pow(10.0, r);
    case caviar::v1::LOG1M:
      return 1.0 - std::pow(10.0, r);
    default:
      return r;
  }
}

Scaled ScaledRange(const ParameterSpec& p) {
  if (p.has_integer()) {
    const double lo = static_cast<double>(p.integer().min()) - 0.5;
    const double hi = static_cast<double>(p.integer().max()) + 0.5;
    return {Forward(p.scale(), lo), Forward(p.scale(), hi)};
  }
  return {Forward(p.scale(), p.double_().min()),
          Forward(p.scale(), p.double_().max())};
}

std::string Field(const std::string& prefix, int i, const ParameterSpec& p) {
  if (p.name().empty()) return absl::StrCat(prefix, "[", i, "]");
  return absl::StrCat(prefix, "[", i, "] (", p.name(), ")");
}

absl::Status Invalid(const std::string& field, const std::string& why) {
  return absl::InvalidArgumentError(absl::StrCat(field, ": ", why));
}

bool ValidName(const std::string& name) {
  if (name.empty() || name.size() > 64) return false;
  if (!(std::isalpha(static_cast<unsigned char>(name[0])) || name[0] == '_'))
    return false;
  for (char c : name) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_')) return false;
  }
  return true;
}

absl::Status CheckScale(const std::string& field, const ParameterSpec& p,
                        double min, double max) {
  switch (p.scale()) {
    case caviar::v1::LOG:
      if (min <= 0)
        return Invalid(field, absl::StrCat("LOG scale needs min > 0, got ",
                                           absl::StrFormat("%g", min)));
      break;
    case caviar::v1::LOG1M:
      if (min <= 0 || max >= 1)
        return Invalid(field, absl::StrFormat(
                                  "LOG1M scale needs 0 < min < max < 1, got "
                                  "[%g, %g]",
                                  min, max));
      break;
    default:
      break;
  }
  return absl::OkStatus();
}

absl::Status ValidateParameter(const std::string& field, const ParameterSpec& p) {
  switch (p.domain_case()) {
    case ParameterSpec::kDouble: {
      const double min = p.double_().min(), max = p.double_().max();
      if (!std::isfinite(min) || !std::isfinite(max))
        return Invalid(field, "double min and max must be finite");
      if (min >= max)
        return Invalid(field, absl::StrFormat(
                                  "double needs min < max, got min %g >= max %g",
                                  min, max));
      // Sampling computes min + u (max - min): an infinite width would make
      // every draw an end of the range.
      if (!std::isfinite(max - min))
        return Invalid(field, absl::StrFormat("double range [%g, %g] is wider than a "
                                              "double can hold (max - min overflows)",
                                              min, max));
      return CheckScale(field, p, min, max);
    }
    case ParameterSpec::kInteger: {
      const int64_t min = p.integer().min(), max = p.integer().max();
      if (min > max)
        return Invalid(field, absl::StrCat("integer needs min <= max, got min ",
                                           min, " > max ", max));
      if (p.scale() == caviar::v1::LOG1M)
        return Invalid(field, "LOG1M scale is for doubles in (0, 1), not integers");
      if (std::abs(static_cast<double>(max) - static_cast<double>(min)) > 1e15)
        return Invalid(field, "integer range wider than 1e15");
      return CheckScale(field, p, static_cast<double>(min),
                        static_cast<double>(max));
    }
    case ParameterSpec::kDiscrete: {
      const auto& values = p.discrete().values();
      if (values.empty()) return Invalid(field, "discrete needs at least one value");
      std::set<double> seen;
      for (double v : values) {
        if (!std::isfinite(v)) return Invalid(field, "discrete values must be finite");
        if (!seen.insert(v).second)
          return Invalid(field, absl::StrFormat("discrete value %g appears twice", v));
      }
      if (p.scale() != caviar::v1::SCALE_UNSPECIFIED && p.scale() != caviar::v1::LINEAR)
        return Invalid(field, "scale applies to double and integer ranges only; "
                              "discrete values are equally likely");
      return absl::OkStatus();
    }
    case ParameterSpec::kCategorical: {
      const auto& values = p.categorical().values();
      if (values.empty()) return Invalid(field, "categorical needs at least one value");
      std::set<std::string> seen;
      for (const auto& v : values) {
        if (v.empty()) return Invalid(field, "categorical values must be non-empty");
        if (!seen.insert(v).second)
          return Invalid(field, absl::StrCat("categorical value \"", v, "\" appears twice"));
      }
      if (p.scale() != caviar::v1::SCALE_UNSPECIFIED && p.scale() != caviar::v1::LINEAR)
        return Invalid(field, "scale applies to double and integer ranges only");
      return absl::OkStatus();
    }
    case ParameterSpec::DOMAIN_NOT_SET:
      break;
  }
  return Invalid(field, "needs one of double, integer, discrete, categorical");
}

}  // namespace

absl::StatusOr<SearchSpace> SearchSpace::Create(
    const google::protobuf::RepeatedPtrField<ParameterSpec>& params,
    const std::string& field_prefix) {
  SearchSpace space;
  std::set<std::string> names;
  for (int i = 0; i < params.size(); ++i) {
    const ParameterSpec& p = params[i];
    const std::string field = Field(field_prefix, i, p);
    if (p.name().empty()) return Invalid(field, "name is empty");
    if (!ValidName(p.name()))
      return Invalid(field, "name must be letters, digits and _, starting with a "
                            "letter or _, at most 64 characters");
    if (!names.insert(p.name()).second)
      return Invalid(field, absl::StrCat("duplicate parameter name \"", p.name(), "\""));
    if (p.grid_points() < 0) return Invalid(field + ".grid_points", "must be >= 0");
    absl::Status s = ValidateParameter(field, p);
    if (!s.ok()) return s;
    space.params_.push_back(p);
    space.index_of_[p.name()] = i;
    space.category_bin_.emplace_back();
    if (p.has_discrete()) {
      auto* values = space.params_.back().mutable_discrete()->mutable_values();
      std::sort(values->begin(), values->end());
    }
    if (p.has_categorical()) {
      auto& bins = space.category_bin_.back();
      for (int k = 0; k < p.categorical().values_size(); ++k)
        bins[p.categorical().values(k)] = k;
    }
  }
  return space;
}

int SearchSpace::IndexOf(const std::string& name) const {
  auto it = index_of_.find(name);
  return it == index_of_.end() ? -1 : it->second;
}

int64_t SearchSpace::Cardinality(int i) const {
  const ParameterSpec& p = params_[i];
  switch (p.domain_case()) {
    case ParameterSpec::kInteger:
      return p.integer().max() - p.integer().min() + 1;
    case ParameterSpec::kDiscrete:
      return p.discrete().values_size();
    case ParameterSpec::kCategorical:
      return p.categorical().values_size();
    default:
      return 0;
  }
}

int64_t SearchSpace::TotalCardinality() const {
  int64_t total = 1;
  for (int i = 0; i < size(); ++i) {
    const int64_t c = Cardinality(i);
    if (c == 0) return 0;
    if (total > std::numeric_limits<int64_t>::max() / c) return 0;
    total *= c;
  }
  return total;
}

int64_t SearchSpace::BinIndex(int i, double u) const {
  const int64_t k = Cardinality(i);
  const int64_t index = static_cast<int64_t>(std::floor(Clamp01(u) * k));
  return std::min<int64_t>(index, k - 1);
}

double SearchSpace::BinCenter(int i, int64_t index) const {
  return (static_cast<double>(index) + 0.5) / static_cast<double>(Cardinality(i));
}

ParameterValue SearchSpace::FromUnit(int i, double u) const {
  const ParameterSpec& p = params_[i];
  u = Clamp01(u);
  ParameterValue v;
  switch (p.domain_case()) {
    case ParameterSpec::kDouble: {
      const Scaled s = ScaledRange(p);
      double x = Inverse(p.scale(), s.lo + u * (s.hi - s.lo));
      // Rounding in pow/log must not leave the declared range.
      x = std::min(std::max(x, p.double_().min()), p.double_().max());
      v.set_double_value(x);
      break;
    }
    case ParameterSpec::kInteger: {
      const Scaled s = ScaledRange(p);
      const double x = Inverse(p.scale(), s.lo + u * (s.hi - s.lo));
      int64_t n = static_cast<int64_t>(std::llround(x));
      n = std::min(std::max(n, p.integer().min()), p.integer().max());
      v.set_int_value(n);
      break;
    }
    case ParameterSpec::kDiscrete:
      v.set_double_value(p.discrete().values(BinIndex(i, u)));
      break;
    case ParameterSpec::kCategorical:
      v.set_string_value(p.categorical().values(BinIndex(i, u)));
      break;
    default:
      break;
  }
  return v;
}

absl::StatusOr<double> SearchSpace::ToUnit(int i, const ParameterValue& v) const {
  const ParameterSpec& p = params_[i];
  const std::string field = absl::StrCat("parameter ", p.name());
  switch (p.domain_case()) {
    case ParameterSpec::kDouble: {
      double x;
      if (v.has_double_value()) x = v.double_value();
      else if (v.has_int_value()) x = static_cast<double>(v.int_value());
      else return Invalid(field, "expects a number");
      if (!(x >= p.double_().min() && x <= p.double_().max()))
        return Invalid(field, absl::StrFormat("%g is outside [%g, %g]", x,
                                              p.double_().min(), p.double_().max()));
      const Scaled s = ScaledRange(p);
      return Clamp01((Forward(p.scale(), x) - s.lo) / (s.hi - s.lo));
    }
    case ParameterSpec::kInteger: {
      int64_t n;
      if (v.has_int_value()) {
        n = v.int_value();
      } else if (v.has_double_value() && v.double_value() == std::floor(v.double_value())) {
        n = static_cast<int64_t>(v.double_value());
      } else {
        return Invalid(field, "expects an integer");
      }
      if (n < p.integer().min() || n > p.integer().max())
        return Invalid(field, absl::StrCat(n, " is outside [", p.integer().min(), ", ",
                                           p.integer().max(), "]"));
      const Scaled s = ScaledRange(p);
      return Clamp01((Forward(p.scale(), static_cast<double>(n)) - s.lo) / (s.hi - s.lo));
    }
    case ParameterSpec::kDiscrete: {
      double x;
      if (v.has_double_value()) x = v.double_value();
      else if (v.has_int_value()) x = static_cast<double>(v.int_value());
      else return Invalid(field, "expects a number");
      const auto& values = p.discrete().values();  // Sorted by Create.
      auto it = std::lower_bound(values.begin(), values.end(), x);
      if (it != values.end() && *it == x) return BinCenter(i, it - values.begin());
      return Invalid(field, absl::StrFormat("%g is not one of the discrete values", x));
    }
    case ParameterSpec::kCategorical: {
      if (!v.has_string_value()) return Invalid(field, "expects a category name");
      auto it = category_bin_[i].find(v.string_value());
      if (it != category_bin_[i].end()) return BinCenter(i, it->second);
      return Invalid(field, absl::StrCat("\"", EchoForError(v.string_value()),
                                         "\" is not one of the categories"));
    }
    default:
      return Invalid(field, "has no domain");
  }
}

ParameterMap SearchSpace::FromUnitPoint(absl::Span<const double> unit) const {
  ParameterMap out;
  for (int i = 0; i < size(); ++i) out[params_[i].name()] = FromUnit(i, unit[i]);
  return out;
}

absl::StatusOr<std::vector<double>> SearchSpace::ToUnitPoint(
    const ParameterMap& params) const {
  for (const auto& [name, value] : params) {
    if (IndexOf(name) < 0)
      return absl::InvalidArgumentError(
          absl::StrCat("unknown parameter \"", EchoForError(name), "\""));
  }
  std::vector<double> unit(size());
  for (int i = 0; i < size(); ++i) {
    auto it = params.find(params_[i].name());
    if (it == params.end())
      return absl::InvalidArgumentError(
          absl::StrCat("parameter ", params_[i].name(), ": missing"));
    absl::StatusOr<double> u = ToUnit(i, it->second);
    if (!u.ok()) return u.status();
    unit[i] = *u;
  }
  return unit;
}

absl::StatusOr<ParameterValue> SearchSpace::ParseValue(int i,
                                                       const std::string& text) const {
  const ParameterSpec& p = params_[i];
  ParameterValue v;
  if (p.has_categorical()) {
    v.set_string_value(text);
  } else if (p.has_integer()) {
    int64_t n;
    double d;
    if (absl::SimpleAtoi(text, &n)) {
      v.set_int_value(n);
    } else if (absl::SimpleAtod(text, &d) && d == std::floor(d) && std::abs(d) < 9e15) {
      v.set_int_value(static_cast<int64_t>(d));
    } else {
      return Invalid(absl::StrCat("parameter ", p.name()),
                     absl::StrCat("\"", text, "\" is not an integer"));
    }
  } else {
    double d;
    if (!absl::SimpleAtod(text, &d))
      return Invalid(absl::StrCat("parameter ", p.name()),
                     absl::StrCat("\"", text, "\" is not a number"));
    v.set_double_value(d);
  }
  absl::StatusOr<double> check = ToUnit(i, v);
  if (!check.ok()) return check.status();
  return v;
}

std::string EchoForError(const std::string& text) {
  constexpr size_t kEcho = 64;
  if (text.size() <= kEcho) return text;
  return absl::StrCat(text.substr(0, kEcho), "... (", text.size(), " bytes)");
}

std::string FormatValue(const ParameterValue& v) { return FormatParameterValue(v); }

}  // namespace caviar::search
