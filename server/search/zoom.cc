#include "server/search/zoom.h"

#include <algorithm>
#include <cmath>

namespace caviar::search {
namespace {

bool Finished(caviar::v1::TrialState state) {
  return state == caviar::v1::SUCCEEDED || state == caviar::v1::FAILED ||
         state == caviar::v1::STOPPED;
}

}  // namespace

std::vector<int> BestBasin(const Box& region, absl::Span<const TrialPoint* const> ranked,
                           int candidates) {
  const size_t d = region.lo.size();
  const size_t n = ranked.size();
  candidates = std::min<int>(candidates, static_cast<int>(n));
  if (candidates <= 0) return {};
  // Points in widths of the region, so every parameter weighs the same.
  std::vector<std::vector<double>> x(n, std::vector<double>(d));
  for (size_t k = 0; k < n; ++k) {
    for (size_t i = 0; i < d; ++i) {
      const double width = region.hi[i] - region.lo[i];
      x[k][i] = width > 0 ? ranked[k]->unit[i] / width : 0.0;
    }
  }
  // Only a clearly bad trial makes a hill: one in the worse half.
  const size_t first_bad = n / 2;
  auto linked = [&](int a, int b) {
    double ab = 0;
    for (size_t i = 0; i < d; ++i) ab += (x[a][i] - x[b][i]) * (x[a][i] - x[b][i]);
    const double r2 = ab / 16;  // (|a - b| / 4)^2
    const double worse = std::max(*ranked[a]->loss, *ranked[b]->loss);
    for (size_t c = std::max<size_t>(first_bad, candidates); c < n; ++c) {
      if (*ranked[c]->loss <= worse) continue;
      double cm = 0;
      for (size_t i = 0; i < d && cm <= r2; ++i) {
        const double m = x[c][i] - (x[a][i] + x[b][i]) / 2;
        cm += m * m;
      }
      if (cm <= r2) return false;
    }
    return true;
  };
  std::vector<int> basin = {0};
  std::vector<bool> taken(candidates, false);
  taken[0] = true;
  for (size_t m = 0; m < basin.size(); ++m) {
    for (int k = 0; k < candidates; ++k) {
      if (!taken[k] && linked(basin[m], k)) {
        taken[k] = true;
        basin.push_back(k);
      }
    }
  }
  return basin;
}

Box NextRegion(const SearchSpace& space, const Box& current,
               absl::Span<const TrialPoint> trials, const ZoomOptions& options) {
  const int d = space.size();
  std::vector<const TrialPoint*> ranked;
  for (const TrialPoint& t : trials) {
    if (Finished(t.state) && t.loss.has_value() && std::isfinite(*t.loss) &&
        static_cast<int>(t.unit.size()) == d && Inside(current, t.unit)) {
      ranked.push_back(&t);
    }
  }
  if (ranked.empty()) return current;  // Nothing to zoom on: sample it again.
  std::stable_sort(
      ranked.begin(), ranked.end(),
      [](const TrialPoint* a, const TrialPoint* b) { return *a->loss < *b->loss; });
  const size_t n = ranked.size();
  size_t top =
      static_cast<size_t>(std::ceil(options.top_fraction * static_cast<double>(n)));
  top = std::min({n, std::max<size_t>(top, 2), static_cast<size_t>(kMaxZoomCandidates)});

  Box next{std::vector<double>(d, 1.0), std::vector<double>(d, 0.0)};
  for (int k : BestBasin(current, ranked, static_cast<int>(top))) {
    for (int i = 0; i < d; ++i) {
      next.lo[i] = std::min(next.lo[i], ranked[k]->unit[i]);
      next.hi[i] = std::max(next.hi[i], ranked[k]->unit[i]);
    }
  }
  double volume_ratio = 1;
  int active = 0;
  for (int i = 0; i < d; ++i) {
    const double width = current.hi[i] - current.lo[i];
    next.lo[i] = std::max(next.lo[i] - options.margin * width, current.lo[i]);
    next.hi[i] = std::min(next.hi[i] + options.margin * width, current.hi[i]);
    if (width > 0) {
      volume_ratio *= (next.hi[i] - next.lo[i]) / width;
      ++active;
    }
  }
  // A basin as wide as the region (a flat or noisy loss, too few trials)
  // would sample the same region again: zoom anyway, about the best trial,
  // keeping the box's shape.
  if (active > 0 && volume_ratio > options.max_volume) {
    const double s = std::pow(options.max_volume / volume_ratio, 1.0 / active);
    const std::vector<double>& best = ranked[0]->unit;
    for (int i = 0; i < d; ++i) {
      next.lo[i] = best[i] - s * (best[i] - next.lo[i]);
      next.hi[i] = best[i] + s * (next.hi[i] - best[i]);
    }
  }
  for (int i = 0; i < d; ++i) {
    const int64_t bins = space.Cardinality(i);
    if (bins > 0) {  // Whole bins, so every value in the box stays reachable.
      const double b = static_cast<double>(bins);
      next.lo[i] = std::floor(std::max(next.lo[i], 0.0) * b) / b;
      next.hi[i] = std::min(1.0, std::floor(std::min(next.hi[i], 1.0) * b) / b + 1.0 / b);
    }
    next.lo[i] = std::max(next.lo[i], current.lo[i]);
    next.hi[i] = std::min(next.hi[i], current.hi[i]);
  }
  return next;
}

}  // namespace caviar::search
