#include "server/search/finite.h"

namespace caviar::search {

int64_t ConfigurationKey(const SearchSpace& space, absl::Span<const double> unit) {
  int64_t key = 0;
  for (int i = 0; i < space.size(); ++i) {
    key = key * space.Cardinality(i) + space.BinIndex(i, unit[i]);
  }
  return key;
}

std::vector<double> ConfigurationPoint(const SearchSpace& space, int64_t key) {
  std::vector<double> unit(space.size());
  for (int i = space.size() - 1; i >= 0; --i) {
    const int64_t k = space.Cardinality(i);
    unit[i] = space.BinCenter(i, key % k);
    key /= k;
  }
  return unit;
}

void TakenKeys::Update(absl::Span<const TrialPoint> trials) {
  bool extends = trials.size() >= ids_.size();
  for (size_t k = 0; extends && k < ids_.size(); ++k) extends = trials[k].id == ids_[k];
  if (extends && !ids_.empty()) extends = trials[ids_.size() - 1].unit == last_unit_;
  if (!extends) {
    ids_.clear();
    keys_.clear();
    ++generation_;
  }
  for (size_t k = ids_.size(); k < trials.size(); ++k) {
    ids_.push_back(trials[k].id);
    if (std::optional<int64_t> key = key_(trials[k].unit)) keys_.insert(*key);
  }
  if (!trials.empty()) last_unit_ = trials.back().unit;
}

}  // namespace caviar::search
