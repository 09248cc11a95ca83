// Zoom: where coarse_to_fine looks next. Given the current region and the
// study's history, returns the next round's region: the box around the best
// trial's basin among the best trials of the region, widened by a margin and
// shrunk about the best trial if it would not zoom in enough.
//
// Pure function of its inputs; thread-compatible. No status: a history with
// nothing to zoom on gives back the current region.
#ifndef CAVIAR_SERVER_SEARCH_ZOOM_H_
#define CAVIAR_SERVER_SEARCH_ZOOM_H_

#include <vector>

#include "absl/types/span.h"
#include "server/search/region.h"
#include "server/search/sampler.h"
#include "server/search/space.h"

namespace caviar::search {

struct ZoomOptions {
  // The best top_fraction of the finished trials inside the current region
  // are the candidates (at least 2; at most kMaxZoomCandidates).
  double top_fraction = 0.1;
  // Each side of the basin's bounding box moves out by margin times the
  // current region's width.
  double margin = 0.25;
  // The next region's volume is at most max_volume times the current one's
  // (measured over the parameters whose width is not zero).
  double max_volume = 0.25;
};

// Bounds the cost of the basin search (pairs of candidates times trials).
inline constexpr int kMaxZoomCandidates = 32;

// The candidates linked to the best one by chains of pairs with no hill
// between them: a pair (a, b) is cut when a trial of `ranked` that is worse
// than both, in the worse half and not a candidate lies within |a - b| / 4
// of their midpoint (distances in widths of the region). This
// keeps the best trial's basin and drops the other optima's; a parameter
// that hardly matters has no hills, so it does not split the candidates.
// `ranked`: the region's finished trials, best first; the candidates are
// its first `candidates`. Returns indices into `ranked` (the best one
// first; empty when there are no candidates). Cost: candidates^2 * size.
std::vector<int> BestBasin(const Box& region, absl::Span<const TrialPoint* const> ranked,
                           int candidates);

// The next round's region, inside `current`, with whole bins for discrete
// parameters (every value in it stays reachable). `current` itself when no
// finished trial with a finite loss lies in it.
Box NextRegion(const SearchSpace& space, const Box& current,
               absl::Span<const TrialPoint> trials, const ZoomOptions& options);

}  // namespace caviar::search

#endif  // CAVIAR_SERVER_SEARCH_ZOOM_H_
