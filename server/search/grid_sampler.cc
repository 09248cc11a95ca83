// grid: the cross product of per-parameter values, each cell handed out once.
//
// Values per parameter: the given values of a discrete or categorical
// parameter; every integer of an integer range (or, when the parameter sets
// grid_points, that many points evenly spaced on its scale, rounded); k
// points evenly spaced on a double's scale, ends included (k = the
// parameter's grid_points, else option `points`; k = 1 is the middle).
// Cells are handed out in one of two orders (option `order`):
//  - lexicographic: the last parameter varies fastest;
//  - shuffled: a pseudo-random permutation of the cells fixed by the study
//    seed (Vizier's SHUFFLED_GRID), so that a grid cut short by
//    budget.max_trials still spreads over every parameter's values.
// The default is shuffled when budget.max_trials is below the number of
// cells (a lexicographic prefix would explore one corner: 8 trials of a
// 4 x 4 grid would try 2 learning rates), lexicographic otherwise; it is
// decided per suggestion from the current budget, and either way no cell
// is handed out twice. The permutation is computed, not stored, so a grid
// of 2^62 cells costs O(1) memory.
// A cell that any trial of the study already has, in any state, is never
// handed out again, so concurrent workers each get a different cell and a
// retried trial keeps its own. OUT_OF_RANGE once every cell is out. Regions
// (`caviar refine`) do not apply to a grid.
//
// Options: points (int, default 5): grid points of double parameters that
// do not set grid_points; order (lexicographic | shuffled, default above).
#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "common/splitmix64.h"
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

enum class Order { kByBudget, kLexicographic, kShuffled };

// A bijection of [0, n) fixed by a seed: a balanced Feistel network over the
// smallest even number of bits that holds n - 1, walked until it lands
// inside [0, n) (at most 4 steps expected: the domain is < 4n).
class CellPermutation {
 public:
  CellPermutation(int64_t n, uint64_t seed) : n_(static_cast<uint64_t>(n)) {
    int bits = 1;
    while (bits < 64 && (uint64_t{1} << bits) < n_) ++bits;
    half_bits_ = (bits + 1) / 2;
    mask_ = half_bits_ >= 32 ? 0xffffffffULL : (uint64_t{1} << half_bits_) - 1;
    uint64_t state = seed ^ 0x67726964ULL;  // "grid"
    for (uint64_t& key : keys_) key = SplitMix64(state);
  }

  int64_t At(int64_t position) const {
    uint64_t x = static_cast<uint64_t>(position);
    do {
      x = Feistel(x);
    } while (x >= n_);
    return static_cast<int64_t>(x);
  }

 private:
  uint64_t Feistel(uint64_t x) const {
    uint64_t left = (x >> half_bits_) & mask_, right = x & mask_;
    for (uint64_t key : keys_) {
      uint64_t state = key ^ right;
      const uint64_t next = left ^ (SplitMix64(state) & mask_);
      left = right;
      right = next;
    }
    return (left << half_bits_) | right;
  }

  uint64_t n_;
  int half_bits_;
  uint64_t mask_;
  uint64_t keys_[4];
};

struct Axis {
  std::vector<double> unit;  // Grid values in unit coordinates, ascending.
  std::map<int64_t, int64_t> integer_index;  // Integer value -> index.
};

class GridSampler : public Sampler {
 public:
  GridSampler(const SearchSpace& space, std::vector<Axis> axes, int64_t cells,
              Order order)
      : space_(space),
        axes_(std::move(axes)),
        cells_(cells),
        order_(order),
        taken_([this](absl::Span<const double> unit) { return CellOf(unit); }) {}

  // A grid is a fixed set of cells: it ignores regions (the scheduler
  // refuses to refine a grid study).
  bool SamplesRegions() const override { return true; }

  absl::StatusOr<Suggestion> Suggest(const SampleContext& context) override {
    taken_.Update(context.trials);
    const uint64_t seed = context.spec != nullptr ? context.spec->seed() : 0;
    const int max_trials =
        context.spec != nullptr ? context.spec->budget().max_trials() : 0;
    const bool shuffled =
        order_ == Order::kShuffled ||
        (order_ == Order::kByBudget && max_trials > 0 && max_trials < cells_);
    if (taken_.generation() != generation_ || shuffled != permutation_.has_value() ||
        (permutation_.has_value() && seed != seed_)) {
      generation_ = taken_.generation();
      cursor_ = 0;
      seed_ = seed;
      permutation_.reset();
      if (shuffled) permutation_.emplace(cells_, seed);
    }
    // The cursor walks positions in the order; taken cells only accumulate,
    // so the first free position never moves back.
    while (cursor_ < cells_ && taken_.Contains(CellAt(cursor_))) ++cursor_;
    if (cursor_ >= cells_) {
      return absl::OutOfRangeError(
          absl::StrCat("grid done: all ", cells_, " cells have been handed out"));
    }
    Suggestion s;
    s.unit.resize(axes_.size());
    int64_t rest = CellAt(cursor_);
    for (int i = static_cast<int>(axes_.size()) - 1; i >= 0; --i) {
      const int64_t k = static_cast<int64_t>(axes_[i].unit.size());
      s.unit[i] = axes_[i].unit[rest % k];
      rest /= k;
    }
    return s;
  }

 private:
  int64_t CellAt(int64_t position) const {
    return permutation_.has_value() ? permutation_->At(position) : position;
  }

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
  const Order order_;
  TakenKeys taken_;
  int64_t generation_ = -1;
  int64_t cursor_ = 0;
  uint64_t seed_ = 0;
  std::optional<CellPermutation> permutation_;  // Set in shuffled order.
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

struct Grid {
  std::vector<Axis> axes;
  int64_t cells = 1;
  Order order = Order::kByBudget;
};

absl::StatusOr<Grid> MakeGrid(const SearchSpace& space,
                              const google::protobuf::Struct& options) {
  Options o(options, "algorithm.options");
  CAVIAR_RETURN_IF_ERROR(o.CheckKnownKeys({"order", "points"}));
  CAVIAR_ASSIGN_OR_RETURN(int64_t points, o.Int("points", 5, 1, kMaxValuesPerParameter));
  CAVIAR_ASSIGN_OR_RETURN(std::string order,
                          o.String("order", "", {"lexicographic", "shuffled"}));
  Grid grid;
  if (order == "lexicographic") grid.order = Order::kLexicographic;
  if (order == "shuffled") grid.order = Order::kShuffled;
  for (int i = 0; i < space.size(); ++i) {
    CAVIAR_ASSIGN_OR_RETURN(Axis axis, MakeAxis(space, i, points));
    const int64_t k = static_cast<int64_t>(axis.unit.size());
    // Below 2^62, so that the permutation's domain (< 4 cells) fits 64 bits.
    if (grid.cells > (int64_t{1} << 62) / k) {
      return absl::InvalidArgumentError(
          "parameters: the grid has more than 2^62 cells; use fewer grid points");
    }
    grid.cells *= k;
    grid.axes.push_back(std::move(axis));
  }
  return grid;
}

}  // namespace

absl::StatusOr<std::unique_ptr<Sampler>> NewGridSampler(
    const SearchSpace& space, const google::protobuf::Struct& options) {
  CAVIAR_ASSIGN_OR_RETURN(Grid grid, MakeGrid(space, options));
  return std::make_unique<GridSampler>(space, std::move(grid.axes), grid.cells,
                                       grid.order);
}

std::vector<std::string> SearchWarnings(const caviar::v1::StudySpec& spec,
                                        const SearchSpace& space) {
  if (spec.algorithm().name() != "grid") return {};
  absl::StatusOr<Grid> grid = MakeGrid(space, spec.algorithm().options());
  const int64_t max_trials = spec.budget().max_trials();
  if (!grid.ok() || max_trials <= 0 || max_trials >= grid->cells) return {};
  const char* order = grid->order == Order::kLexicographic
                          ? "in lexicographic order (only the first cells: one corner "
                            "of the grid)"
                          : "in shuffled order";
  return {absl::StrCat("the grid has ", grid->cells, " cells and budget.max_trials is ",
                       max_trials, ": ", max_trials, " of them run, ", order)};
}

}  // namespace caviar::search
