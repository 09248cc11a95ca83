#include "server/search/region.h"

#include <algorithm>
#include <utility>

namespace caviar::search {

Box FullBox(int dims) {
  return Box{std::vector<double>(dims, 0.0), std::vector<double>(dims, 1.0)};
}

Box LatestRegion(const SearchSpace& space,
                 const google::protobuf::RepeatedPtrField<caviar::v1::Region>* regions) {
  Box box = FullBox(space.size());
  if (regions == nullptr) return box;
  for (const caviar::v1::Region& region : *regions) {
    for (int i = 0; i < space.size(); ++i) {
      const std::string& name = space.parameter(i).name();
      auto lo = region.lo().find(name);
      auto hi = region.hi().find(name);
      if (lo == region.lo().end() || hi == region.hi().end()) continue;
      double l = std::clamp(lo->second, 0.0, 1.0), h = std::clamp(hi->second, 0.0, 1.0);
      if (l > h) std::swap(l, h);
      box.lo[i] = l;
      box.hi[i] = h;
    }
  }
  return box;
}

bool Inside(const Box& box, absl::Span<const double> unit) {
  constexpr double kSlack = 1e-9;
  for (size_t i = 0; i < box.lo.size(); ++i) {
    if (unit[i] < box.lo[i] - kSlack || unit[i] > box.hi[i] + kSlack) return false;
  }
  return true;
}

void MapIntoBox(const Box& box, absl::Span<double> unit) {
  for (size_t i = 0; i < box.lo.size(); ++i) {
    unit[i] = box.lo[i] + unit[i] * (box.hi[i] - box.lo[i]);
  }
}

caviar::v1::Region ToRegion(const SearchSpace& space, const Box& box, int round,
                            const std::string& origin) {
  caviar::v1::Region region;
  region.set_round(round);
  region.set_origin(origin);
  for (int i = 0; i < space.size(); ++i) {
    (*region.mutable_lo())[space.parameter(i).name()] = box.lo[i];
    (*region.mutable_hi())[space.parameter(i).name()] = box.hi[i];
  }
  return region;
}

}  // namespace caviar::search
