// Finite (all-discrete) search spaces, and the configurations a study holds.
//
// A configuration of a finite space is identified by a key: the mixed-radix
// number of its parameters' bin indices (first parameter most significant).
// Two unit points with the same key are the same configuration.
//
// TakenKeys keeps the set of keys of a study's trials up to date across
// Suggest calls at the cost of the new trials only; it starts over whenever
// the trials it is given are not an extension of those it has seen.
//
// Not thread-safe; owned by one sampler, called under the study's lock.
#ifndef CAVIAR_SERVER_SEARCH_FINITE_H_
#define CAVIAR_SERVER_SEARCH_FINITE_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <unordered_set>
#include <vector>

#include "absl/types/span.h"
#include "server/search/sampler.h"
#include "server/search/space.h"

namespace caviar::search {

// Key of `unit` in a finite space (space.TotalCardinality() > 0).
int64_t ConfigurationKey(const SearchSpace& space, absl::Span<const double> unit);
// The unit point (bin centres) of a key; inverse of ConfigurationKey.
std::vector<double> ConfigurationPoint(const SearchSpace& space, int64_t key);

class TakenKeys {
 public:
  // Maps a trial's unit point to its key, or nullopt if it has none (e.g. a
  // point that is not a grid cell).
  using KeyFunction = std::function<std::optional<int64_t>(absl::Span<const double>)>;

  explicit TakenKeys(KeyFunction key) : key_(std::move(key)) {}

  // Takes in the trials not seen yet (trials are in id order and a trial's
  // point never changes, so only the tail is new).
  void Update(absl::Span<const TrialPoint> trials);
  bool Contains(int64_t key) const { return keys_.count(key) > 0; }
  // Number of distinct keys.
  int64_t size() const { return static_cast<int64_t>(keys_.size()); }
  // Increments whenever the set starts over; lets callers reset cursors.
  int64_t generation() const { return generation_; }

 private:
  KeyFunction key_;
  std::vector<int64_t> ids_;
  std::vector<double> last_unit_;
  std::unordered_set<int64_t> keys_;
  int64_t generation_ = 0;
};

}  // namespace caviar::search

#endif  // CAVIAR_SERVER_SEARCH_FINITE_H_
