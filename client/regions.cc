#include "client/regions.h"

#include <algorithm>

namespace caviar::client {
namespace {

// How far below a finite parameter's upper unit edge its last value lies:
// the edge itself is the end of the last bin, which maps past it.
constexpr double kBinEdge = 1e-9;

void SetExtent(const search::SearchSpace& space, const std::vector<double>& lo,
               const std::vector<double>& hi, RegionValues* region) {
  for (int i = 0; i < space.size(); ++i) {
    const double top =
        space.Cardinality(i) > 0 ? std::max(lo[i], hi[i] - kBinEdge) : hi[i];
    region->lo.push_back(space.FromUnit(i, lo[i]));
    region->hi.push_back(space.FromUnit(i, top));
  }
}

}  // namespace

std::vector<RegionValues> RegionsInValues(const caviar::v1::Study& study,
                                          const search::SearchSpace& space) {
  std::vector<RegionValues> regions;
  std::vector<double> lo(space.size(), 0.0), hi(space.size(), 1.0);
  const bool recorded_round_zero =
      std::any_of(study.regions().begin(), study.regions().end(),
                  [](const caviar::v1::Region& r) { return r.round() == 0; });
  if (!recorded_round_zero) {
    RegionValues& whole = regions.emplace_back();
    whole.origin = "whole space";
    SetExtent(space, lo, hi, &whole);
  }
  for (const caviar::v1::Region& recorded : study.regions()) {
    RegionValues& region = regions.emplace_back();
    region.round = recorded.round();
    region.origin = recorded.origin();
    region.create_time = recorded.create_time();
    for (int i = 0; i < space.size(); ++i) {
      const std::string& name = space.parameter(i).name();
      if (auto it = recorded.lo().find(name); it != recorded.lo().end())
        lo[i] = it->second;
      if (auto it = recorded.hi().find(name); it != recorded.hi().end())
        hi[i] = it->second;
    }
    SetExtent(space, lo, hi, &region);
  }
  return regions;
}

}  // namespace caviar::client
