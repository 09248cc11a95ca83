// grid: the cross product of per-parameter values, each cell handed out once.
//
// Values per parameter: the given values of a discrete or categorical
// parameter; every integer of an integer range (or, when the parameter sets
// grid_points, that many points evenly spaced on its scale, rounded); k
// points evenly spaced on a double's scale, ends included (k = the
// parameter's grid_points, else option `points`; k = 1 is the middle).
// Cells are handed out in a fixed order (the last parameter varies fastest).
// A cell that any trial of the study already has, in any state, is never
// handed out again, so concurrent workers each get a different cell and a
// retried trial keeps its own. OUT_OF_RANGE once every cell is out. Regions
// (`caviar refine`) do not apply to a grid.
//
// Options: points (int, default 5): grid points of double parameters that
// do not set grid_points.
#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <memory>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "server/search/finite.h"
#include "server/search/options.h"
#include "server/search/sampler.h"
#include "server/search/samplers.h"

namespace caviar::search {
namespace {

constexpr int64_t kMaxValuesPerParameter = 1000000;
// A unit coordinate within this of a grid value is that value: stored
// parameters come back through ToUnit with rounding error.
constexpr double kUnitTolerance = 1e-7;

struct Axis {
  std::vector<double> unit;  // Grid values in unit coordinates, ascending.
  std::map<int64_t, int64_t> integer_index;  // Integer value -> index.
};

class GridSampler : public Sampler {
 public:
  GridSampler(const SearchSpace& space, std::vector<Axis> axes, int64_t cells)
      : space_(space),
        axes_(std::move(axes)),
        cells_(cells),
        taken_([this](absl::Span<const double> unit) { return CellOf(unit); }) {}

  // A grid is a fixed set of cells: it ignores regions (the scheduler
  // refuses to refine a grid study).
  bool SamplesRegions() const override { return true; }

  absl::StatusOr<Suggestion> Suggest(const SampleContext& context) override {
    taken_.Update(context.trials);
    if (taken_.generation() != generation_) {
      generation_ = taken_.generation();
      cursor_ = 0;
    }
    // Taken cells only accumulate, so the first free cell never moves back.
    while (cursor_ < cells_ && taken_.Contains(cursor_)) ++cursor_;
    if (cursor_ >= cells_) {
      return absl::OutOfRangeError(
          absl::StrCat("grid done: all ", cells_, " cells have been handed out"));
    }
    Suggestion s;
    s.unit.resize(axes_.size());
    int64_t rest = cursor_;
    for (int i = static_cast<int>(axes_.size()) - 1; i >= 0; --i) {
      const int64_t k = static_cast<int64_t>(axes_[i].unit.size());
      s.unit[i] = axes_[i].unit[rest % k];
      rest /= k;
    }
    return s;
  }

 private:
  std::optional<int64_t> CellOf(absl::Span<const double> unit) const {
    if (unit.size() != axes_.size()) return std::nullopt;
    int64_t cell = 0;
    for (size_t i = 0; i < axes_.size(); ++i) {
      const Axis& axis = axes_[i];
      const caviar::v1::ParameterSpec& p = space_.parameter(static_cast<int>(i));
      int64_t index;
      if (p.has_discrete() || p.has_categorical()) {
        index = space_.BinIndex(static_cast<int>(i), unit[i]);
      } else if (p.has_integer()) {
        auto it = axis.integer_index.find(
            space_.FromUnit(static_cast<int>(i), unit[i]).int_value());
        if (it == axis.integer_index.end()) return std::nullopt;
        index = it->second;
      } else {
        auto it = std::lower_bound(axis.unit.begin(), axis.unit.end(), unit[i]);
        index = it - axis.unit.begin();
        if (index > 0 && (index == static_cast<int64_t>(axis.unit.size()) ||
                          unit[i] - axis.unit[index - 1] < axis.unit[index] - unit[i])) {
          --index;
        }
        if (std::abs(axis.unit[index] - unit[i]) > kUnitTolerance) return std::nullopt;
      }
      cell = cell * static_cast<int64_t>(axis.unit.size()) + index;
    }
    return cell;
  }

  const SearchSpace space_;
  const std::vector<Axis> axes_;
  const int64_t cells_;
  TakenKeys taken_;
  int64_t generation_ = -1;
  int64_t cursor_ = 0;
};

std::vector<double> EvenlySpaced(int64_t k) {
  if (k == 1) return {0.5};
  std::vector<double> unit(k);
  for (int64_t j = 0; j < k; ++j)
    unit[j] = static_cast<double>(j) / static_cast<double>(k - 1);
  return unit;
}

absl::StatusOr<Axis> MakeAxis(const SearchSpace& space, int i, int64_t default_points) {
  const caviar::v1::ParameterSpec& p = space.parameter(i);
  const std::string field = absl::StrCat("parameters[", i, "] (", p.name(), ")");
  Axis axis;
  if (p.has_discrete() || p.has_categorical()) {
    for (int64_t k = 0; k < space.Cardinality(i); ++k)
      axis.unit.push_back(space.BinCenter(i, k));
  } else if (p.has_integer()) {
    const int64_t all = space.Cardinality(i);
    if (p.grid_points() == 0 && all > kMaxValuesPerParameter) {
      return absl::InvalidArgumentError(absl::StrCat(
          field, ": integer range has ", all, " values, too many for a grid (at most ",
          kMaxValuesPerParameter, "); set grid_points"));
    }
    std::vector<double> candidates;
    if (p.grid_points() > 0 && p.grid_points() < all) {
      candidates = EvenlySpaced(p.grid_points());
    } else {
      for (int64_t k = 0; k < all; ++k) {
        caviar::v1::ParameterValue v;
        v.set_int_value(p.integer().min() + k);
        CAVIAR_ASSIGN_OR_RETURN(double u, space.ToUnit(i, v));
        candidates.push_back(u);
      }
    }
    for (double u : candidates) {
      const int64_t n = space.FromUnit(i, u).int_value();
      if (axis.integer_index.count(n)) continue;  // Rounding merged two points.
      caviar::v1::ParameterValue v;
      v.set_int_value(n);
      CAVIAR_ASSIGN_OR_RETURN(double exact, space.ToUnit(i, v));
      axis.integer_index[n] = 0;
      axis.unit.push_back(exact);
    }
    std::sort(axis.unit.begin(), axis.unit.end());
    for (size_t k = 0; k < axis.unit.size(); ++k) {
      axis.integer_index[space.FromUnit(i, axis.unit[k]).int_value()] =
          static_cast<int64_t>(k);
    }
  } else {
    const int64_t k = p.grid_points() > 0 ? p.grid_points() : default_points;
    if (k > kMaxValuesPerParameter) {
      return absl::InvalidArgumentError(absl::StrCat(
          field, ".grid_points: at most ", kMaxValuesPerParameter, ", got ", k));
    }
    axis.unit = EvenlySpaced(k);
  }
  return axis;
}

}  // namespace

absl::StatusOr<std::unique_ptr<Sampler>> NewGridSampler(
    const SearchSpace& space, const google::protobuf::Struct& options) {
  Options o(options, "algorithm.options");
  CAVIAR_RETURN_IF_ERROR(o.CheckKnownKeys({"points"}));
  CAVIAR_ASSIGN_OR_RETURN(int64_t points, o.Int("points", 5, 1, kMaxValuesPerParameter));
  std::vector<Axis> axes;
  int64_t cells = 1;
  for (int i = 0; i < space.size(); ++i) {
    CAVIAR_ASSIGN_OR_RETURN(Axis axis, MakeAxis(space, i, points));
    const int64_t k = static_cast<int64_t>(axis.unit.size());
    if (cells > std::numeric_limits<int64_t>::max() / k) {
      return absl::InvalidArgumentError(
          "parameters: the grid has more than 2^63 cells; use fewer grid points");
    }
    cells *= k;
    axes.push_back(std::move(axis));
  }
  return std::make_unique<GridSampler>(space, std::move(axes), cells);
}

}  // namespace caviar::search
