#include "server/search/pbt.h"

#include <algorithm>
#include <cmath>
#include <utility>

#include "absl/strings/str_cat.h"
#include "server/search/options.h"
#include "server/search/random.h"
#include "server/search/samplers.h"

namespace caviar::search {
namespace {

using caviar::v1::ParameterSpec;
using caviar::v1::ParameterValue;

constexpr double kDown = 0.8;
constexpr double kUp = 1.2;

// `value` times `factor` on the parameter's scale, clamped into its range.
ParameterValue Perturbed(const ParameterSpec& p, const ParameterValue& value,
                         double factor) {
  ParameterValue out = value;
  switch (p.domain_case()) {
    case ParameterSpec::kDouble: {
      const double x =
          value.has_int_value() ? double(value.int_value()) : value.double_value();
      double y = p.scale() == caviar::v1::LOG1M ? 1 - (1 - x) * factor : x * factor;
      y = std::min(std::max(y, p.double_().min()), p.double_().max());
      out.set_double_value(y);
      break;
    }
    case ParameterSpec::kInteger: {
      const int64_t n = value.int_value();
      int64_t m = static_cast<int64_t>(std::llround(double(n) * factor));
      if (m == n) m = factor > 1 ? n + 1 : n - 1;  // At least one step.
      m = std::min(std::max(m, p.integer().min()), p.integer().max());
      out.set_int_value(m);
      break;
    }
    case ParameterSpec::kDiscrete: {
      const auto& values = p.discrete().values();
      const auto it = std::lower_bound(
          values.begin(), values.end(),
          value.has_int_value() ? double(value.int_value()) : value.double_value());
      int index = static_cast<int>(it - values.begin());
      index = std::min(std::max(index + (factor > 1 ? 1 : -1), 0), values.size() - 1);
      out.set_double_value(values[index]);
      break;
    }
    default:  // Categorical: only resampling changes it.
      break;
  }
  return out;
}

}  // namespace

absl::StatusOr<PbtOptions> ParsePbtOptions(const google::protobuf::Struct& options) {
  const Options o(options, "algorithm.options");
  absl::Status known = o.CheckKnownKeys({"quantile", "resample_probability"});
  if (!known.ok()) return known;
  PbtOptions out;
  absl::StatusOr<double> quantile = o.Double("quantile", 0.25, 1e-9, 0.5);
  if (!quantile.ok()) return quantile.status();
  absl::StatusOr<double> resample = o.Double("resample_probability", 0.25, 0, 1);
  if (!resample.ok()) return resample.status();
  out.quantile = *quantile;
  out.resample_probability = *resample;
  return out;
}

absl::StatusOr<std::unique_ptr<Sampler>> NewPbtSampler(
    const SearchSpace& space, const google::protobuf::Struct& options) {
  absl::StatusOr<PbtOptions> parsed = ParsePbtOptions(options);
  if (!parsed.ok()) return parsed.status();
  return NewRandomSampler(space, google::protobuf::Struct());
}

std::optional<int64_t> PbtPickParent(const PbtOptions& options, int64_t self,
                                     absl::Span<const PbtStanding> standings,
                                     uint64_t seed) {
  std::vector<PbtStanding> ranked(standings.begin(), standings.end());
  // Best first; ties by id so that the order is the same on every run.
  std::sort(ranked.begin(), ranked.end(), [](const PbtStanding& a, const PbtStanding& b) {
    return a.loss != b.loss ? a.loss < b.loss : a.trial_id < b.trial_id;
  });
  const size_t n = ranked.size();
  if (n < 2) return std::nullopt;
  const size_t k =
      std::max<size_t>(1, static_cast<size_t>(std::floor(double(n) * options.quantile)));
  bool bottom = false;
  for (size_t i = n - k; i < n; ++i) bottom = bottom || ranked[i].trial_id == self;
  if (!bottom) return std::nullopt;
  Rng rng(seed);
  const int64_t parent = ranked[UniformIndex(rng, k)].trial_id;
  if (parent == self) return std::nullopt;  // k <= n / 2: cannot happen.
  return parent;
}

absl::StatusOr<PbtExplored> PbtExplore(const SearchSpace& space,
                                       const ParameterMap& parent,
                                       double resample_probability, uint64_t seed) {
  // Checks every value against the space first.
  absl::StatusOr<std::vector<double>> unit = space.ToUnitPoint(parent);
  if (!unit.ok()) return unit.status();
  Rng rng(seed);
  PbtExplored out;
  for (int i = 0; i < space.size(); ++i) {
    const ParameterSpec& p = space.parameter(i);
    // Both draws every time, so that one parameter's choice does not shift
    // the next one's stream.
    const bool resample = UnitDouble(rng) < resample_probability;
    const double draw = UnitDouble(rng);
    const double factor = UnitDouble(rng) < 0.5 ? kDown : kUp;
    if (resample) {
      out.parameters[p.name()] = space.FromUnit(i, draw);
      out.resampled.push_back(p.name());
    } else {
      out.parameters[p.name()] = Perturbed(p, parent.at(p.name()), factor);
    }
  }
  return out;
}

}  // namespace caviar::search
