// Regions of the unit cube (coarse-to-fine rounds, `caviar refine`): boxes
// [lo, hi] per parameter, recorded in the study as caviar.v1.Region.
#ifndef CAVIAR_SERVER_SEARCH_REGION_H_
#define CAVIAR_SERVER_SEARCH_REGION_H_

#include <vector>

#include "absl/types/span.h"
#include "caviar/v1/study.pb.h"
#include "google/protobuf/repeated_ptr_field.h"
#include "server/search/space.h"

namespace caviar::search {

struct Box {
  std::vector<double> lo;
  std::vector<double> hi;
};

Box FullBox(int dims);

// The latest of `regions` (nullptr or empty: the whole cube); a parameter it
// does not name keeps its bounds from the region before (or [0, 1]).
// Bounds are clamped to [0, 1] and put in order.
Box LatestRegion(const SearchSpace& space,
                 const google::protobuf::RepeatedPtrField<caviar::v1::Region>* regions);

// Whether `unit` lies in `box` (with 1e-9 of slack for rounding).
bool Inside(const Box& box, absl::Span<const double> unit);

// Maps a point of the unit cube into the box, coordinate by coordinate.
void MapIntoBox(const Box& box, absl::Span<double> unit);

caviar::v1::Region ToRegion(const SearchSpace& space, const Box& box, int round,
                            const std::string& origin);

}  // namespace caviar::search

#endif  // CAVIAR_SERVER_SEARCH_REGION_H_
