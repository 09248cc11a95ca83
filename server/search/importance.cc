#include "server/search/importance.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "server/search/random.h"

namespace caviar::search {
namespace {

constexpr int kMinTrials = 4;
constexpr int kMaxDepth = 64;

struct Leaf {
  std::vector<double> lo;
  std::vector<double> hi;
  double value;
};

// Fits one regression tree (CART, squared error) to the rows `rows` of
// (x, y) and returns its leaves, each with the box of the cube it covers.
class TreeBuilder {
 public:
  TreeBuilder(const std::vector<std::vector<double>>& x, const std::vector<double>& y,
              int min_leaf)
      : x_(x), y_(y), min_leaf_(min_leaf) {}

  std::vector<Leaf> Build(std::vector<int> rows) {
    const size_t d = x_.empty() ? 0 : x_[0].size();
    leaves_.clear();
    Grow(rows, std::vector<double>(d, 0.0), std::vector<double>(d, 1.0), 0);
    return std::move(leaves_);
  }

 private:
  void Grow(std::vector<int>& rows, std::vector<double> lo, std::vector<double> hi,
            int depth) {
    double mean = 0;
    for (int r : rows) mean += y_[r];
    mean /= static_cast<double>(rows.size());
    const int n = static_cast<int>(rows.size());
    int best_feature = -1;
    double best_threshold = 0, best_gain = 1e-12;
    if (n >= 2 * min_leaf_ && depth < kMaxDepth) {
      double total_sum = 0, total_sq = 0;
      for (int r : rows) {
        total_sum += y_[r];
        total_sq += y_[r] * y_[r];
      }
      const double parent_sse = total_sq - total_sum * total_sum / n;
      std::vector<int> order = rows;
      for (size_t f = 0; f < lo.size(); ++f) {
        std::sort(order.begin(), order.end(), [&](int a, int b) {
          return x_[a][f] < x_[b][f] || (x_[a][f] == x_[b][f] && a < b);
        });
        double left_sum = 0, left_sq = 0;
        for (int k = 0; k + 1 < n; ++k) {
          left_sum += y_[order[k]];
          left_sq += y_[order[k]] * y_[order[k]];
          const int left_n = k + 1, right_n = n - left_n;
          if (left_n < min_leaf_ || right_n < min_leaf_) continue;
          if (x_[order[k]][f] == x_[order[k + 1]][f]) continue;
          const double right_sum = total_sum - left_sum, right_sq = total_sq - left_sq;
          const double sse = (left_sq - left_sum * left_sum / left_n) +
                             (right_sq - right_sum * right_sum / right_n);
          const double gain = parent_sse - sse;
          if (gain > best_gain) {
            best_gain = gain;
            best_feature = static_cast<int>(f);
            best_threshold = 0.5 * (x_[order[k]][f] + x_[order[k + 1]][f]);
          }
        }
      }
    }
    if (best_feature < 0) {
      leaves_.push_back({std::move(lo), std::move(hi), mean});
      return;
    }
    std::vector<int> left, right;
    for (int r : rows) (x_[r][best_feature] < best_threshold ? left : right).push_back(r);
    std::vector<double> left_hi = hi, right_lo = lo;
    left_hi[best_feature] = best_threshold;
    right_lo[best_feature] = best_threshold;
    Grow(left, lo, std::move(left_hi), depth + 1);
    Grow(right, std::move(right_lo), hi, depth + 1);
  }

  const std::vector<std::vector<double>>& x_;
  const std::vector<double>& y_;
  const int min_leaf_;
  std::vector<Leaf> leaves_;
};

// Fractions of the tree's variance explained by each parameter's main
// effect; empty if the tree is constant.
std::vector<double> MainEffectFractions(const std::vector<Leaf>& leaves, size_t d) {
  std::vector<double> volume(leaves.size());
  double mean = 0;
  for (size_t l = 0; l < leaves.size(); ++l) {
    volume[l] = 1;
    for (size_t i = 0; i < d; ++i) volume[l] *= leaves[l].hi[i] - leaves[l].lo[i];
    mean += volume[l] * leaves[l].value;
  }
  double total = 0;
  for (size_t l = 0; l < leaves.size(); ++l) {
    total += volume[l] * (leaves[l].value - mean) * (leaves[l].value - mean);
  }
  if (!(total > 1e-300)) return {};
  std::vector<double> fractions(d, 0.0);
  for (size_t i = 0; i < d; ++i) {
    std::vector<double> cuts;
    for (const Leaf& leaf : leaves) {
      cuts.push_back(leaf.lo[i]);
      cuts.push_back(leaf.hi[i]);
    }
    std::sort(cuts.begin(), cuts.end());
    cuts.erase(std::unique(cuts.begin(), cuts.end()), cuts.end());
    double variance = 0;
    for (size_t c = 0; c + 1 < cuts.size(); ++c) {
      const double mid = 0.5 * (cuts[c] + cuts[c + 1]);
      // Integral of f over the other parameters at x_i = mid: each leaf
      // whose slab holds mid contributes value x its volume in the others.
      double marginal = 0;
      for (size_t l = 0; l < leaves.size(); ++l) {
        const double width = leaves[l].hi[i] - leaves[l].lo[i];
        if (leaves[l].lo[i] <= mid && mid < leaves[l].hi[i] && width > 0) {
          marginal += leaves[l].value * volume[l] / width;
        }
      }
      variance += (cuts[c + 1] - cuts[c]) * (marginal - mean) * (marginal - mean);
    }
    fractions[i] = std::min(1.0, variance / total);
  }
  return fractions;
}

}  // namespace

absl::StatusOr<std::vector<ParameterImportance>> ComputeImportance(
    const SearchSpace& space, absl::Span<const TrialPoint> trials,
    const ImportanceOptions& options) {
  const size_t d = static_cast<size_t>(space.size());
  std::vector<std::vector<double>> x;
  std::vector<double> y;
  for (const TrialPoint& t : trials) {
    if (t.unit.size() != d || !t.loss.has_value() || !std::isfinite(*t.loss)) continue;
    x.push_back(t.unit);
    y.push_back(*t.loss);
  }
  if (static_cast<int>(y.size()) < kMinTrials) {
    return absl::FailedPreconditionError(absl::StrCat(
        "importance needs at least ", kMinTrials,
        " finished trials with an objective value, the study has ", y.size()));
  }
  Rng rng(MixSeed(options.seed, 0x696d70ULL));
  if (options.max_trials > 0 && static_cast<int>(y.size()) > options.max_trials) {
    std::vector<int> keep(y.size());
    std::iota(keep.begin(), keep.end(), 0);
    Shuffle(keep, rng);
    keep.resize(options.max_trials);
    std::sort(keep.begin(), keep.end());
    std::vector<std::vector<double>> sx;
    std::vector<double> sy;
    for (int k : keep) {
      sx.push_back(std::move(x[k]));
      sy.push_back(y[k]);
    }
    x = std::move(sx);
    y = std::move(sy);
  }
  const int n = static_cast<int>(y.size());
  TreeBuilder builder(x, y, std::max(1, options.min_samples_leaf));
  std::vector<double> sum(d, 0.0), sum_sq(d, 0.0);
  int used = 0;
  for (int t = 0; t < std::max(1, options.trees); ++t) {
    std::vector<int> rows(n);
    for (int& r : rows) r = static_cast<int>(UniformIndex(rng, static_cast<uint64_t>(n)));
    std::vector<double> fractions =
        MainEffectFractions(builder.Build(std::move(rows)), d);
    if (fractions.empty()) continue;
    ++used;
    for (size_t i = 0; i < d; ++i) {
      sum[i] += fractions[i];
      sum_sq[i] += fractions[i] * fractions[i];
    }
  }
  std::vector<ParameterImportance> result(d);
  for (size_t i = 0; i < d; ++i) {
    result[i].name = space.parameter(static_cast<int>(i)).name();
    if (used == 0) continue;  // The loss never varies: nothing to explain.
    const double mean = sum[i] / used;
    result[i].importance = mean;
    result[i].stddev = std::sqrt(std::max(0.0, sum_sq[i] / used - mean * mean));
  }
  std::stable_sort(result.begin(), result.end(),
                   [](const ParameterImportance& a, const ParameterImportance& b) {
                     return a.importance > b.importance;
                   });
  return result;
}

}  // namespace caviar::search
