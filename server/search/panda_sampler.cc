// panda: one trial, babysat by hand (`caviar nudge`, `caviar rollback`,
// `caviar pause`), no search. Its only option, `start`, gives the trial's
// starting value of any parameter by name; a parameter left out starts at
// the middle of its range on its scale (unit 0.5: the geometric middle of a
// LOG range, the middle category or discrete value). The search space is
// then only the range a nudge may move a parameter in (--outside-range
// aside). Every suggestion is that same point: a panda study has exactly one
// trial (budget.max_trials: 1, checked by the scheduler's spec validation),
// and a trial that failed for good is replaced by a fresh one from the
// start.
#include <cmath>
#include <memory>

#include "absl/strings/str_cat.h"
#include "server/search/options.h"
#include "server/search/panda_start.h"
#include "server/search/sampler.h"
#include "server/search/samplers.h"

namespace caviar::search {
namespace {

constexpr char kStart[] = "start";

struct PandaPoint {
  std::vector<double> unit;
  ParameterMap values;
};

class PandaSampler : public Sampler {
 public:
  explicit PandaSampler(std::vector<double> start) : start_(std::move(start)) {}
  absl::StatusOr<Suggestion> Suggest(const SampleContext& context) override {
    (void)context;
    Suggestion s;
    s.unit = start_;
    return s;
  }
  bool UsesHistory() const override { return false; }

 private:
  const std::vector<double> start_;
};

// The value of a `start` entry as parameter i takes it.
absl::StatusOr<caviar::v1::ParameterValue> StartValue(
    const SearchSpace& space, int i, const google::protobuf::Value& value,
    const std::string& field) {
  caviar::v1::ParameterValue out;
  const caviar::v1::ParameterSpec& p = space.parameter(i);
  if (value.has_string_value()) {
    out.set_string_value(value.string_value());
  } else if (value.has_number_value()) {
    const double x = value.number_value();
    if (p.has_integer()) {
      if (x != std::floor(x) || std::fabs(x) > 9.0e15)
        return absl::InvalidArgumentError(
            absl::StrCat(field, ": parameter ", p.name(), " takes an integer, got ", x));
      out.set_int_value(static_cast<int64_t>(x));
    } else {
      out.set_double_value(x);
    }
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": give a number or a category name"));
  }
  return out;
}

absl::StatusOr<PandaPoint> PandaStartPoint(const SearchSpace& space,
                                           const google::protobuf::Struct& options) {
  const std::string prefix = "algorithm.options";
  absl::Status known = Options(options, prefix).CheckKnownKeys({kStart});
  if (!known.ok()) return known;
  PandaPoint point;
  point.unit.assign(space.size(), 0.5);
  ParameterMap given;
  auto it = options.fields().find(kStart);
  if (it != options.fields().end()) {
    const std::string field = absl::StrCat(prefix, ".", kStart);
    if (!it->second.has_struct_value())
      return absl::InvalidArgumentError(absl::StrCat(
          field,
          ": must map parameter names to starting values, e.g. {learning_rate: 0.01}"));
    for (const auto& [name, value] : it->second.struct_value().fields()) {
      const std::string entry = absl::StrCat(field, ".", name);
      const int i = space.IndexOf(name);
      if (i < 0)
        return absl::InvalidArgumentError(absl::StrCat(
            entry,
            ": not a parameter of the study (a setting that is not searched goes "
            "in the objective's settings)"));
      absl::StatusOr<caviar::v1::ParameterValue> parameter =
          StartValue(space, i, value, entry);
      if (!parameter.ok()) return parameter.status();
      absl::StatusOr<double> unit = space.ToUnit(i, *parameter);
      if (!unit.ok())
        return absl::InvalidArgumentError(
            absl::StrCat(entry, ": ", unit.status().message()));
      point.unit[i] = *unit;
      given[name] = *parameter;
    }
  }
  point.values = space.FromUnitPoint(point.unit);
  for (const auto& [name, value] : given) point.values[name] = value;
  return point;
}

}  // namespace

absl::StatusOr<ParameterMap> PandaStart(const SearchSpace& space,
                                        const google::protobuf::Struct& options) {
  absl::StatusOr<PandaPoint> point = PandaStartPoint(space, options);
  if (!point.ok()) return point.status();
  return std::move(point->values);
}

absl::StatusOr<std::unique_ptr<Sampler>> NewPandaSampler(
    const SearchSpace& space, const google::protobuf::Struct& options) {
  absl::StatusOr<PandaPoint> point = PandaStartPoint(space, options);
  if (!point.ok()) return point.status();
  return std::make_unique<PandaSampler>(std::move(point->unit));
}

}  // namespace caviar::search
