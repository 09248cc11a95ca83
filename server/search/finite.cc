#include "server/search/finite.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "server/search/random.h"

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

namespace {

class FiniteSpaceGuard : public Sampler {
 public:
  FiniteSpaceGuard(const SearchSpace& space, std::unique_ptr<Sampler> inner)
      : space_(space),
        total_(space.TotalCardinality()),
        inner_(std::move(inner)),
        taken_([this](absl::Span<const double> unit) -> std::optional<int64_t> {
          if (unit.size() != static_cast<size_t>(space_.size())) return std::nullopt;
          return ConfigurationKey(space_, unit);
        }) {}

  absl::StatusOr<Suggestion> Suggest(const SampleContext& context) override {
    taken_.Update(context.trials);
    if (taken_.size() >= total_) {
      return absl::OutOfRangeError(
          absl::StrCat("every one of the ", total_,
                       " configurations of the search space has been tried"));
    }
    absl::StatusOr<Suggestion> s = inner_->Suggest(context);
    if (!s.ok()) return s;
    const int64_t proposed = ConfigurationKey(space_, s->unit);
    if (!taken_.Contains(proposed)) return s;
    // A few random draws find a free configuration quickly unless nearly
    // all are taken; then a linear probe (at most size() steps) does.
    Rng rng(MixSeed(context.seed, 0x6775617264ULL));
    int64_t key = proposed;
    for (int attempt = 0; attempt < 32 && taken_.Contains(key); ++attempt) {
      key = static_cast<int64_t>(UniformIndex(rng, static_cast<uint64_t>(total_)));
    }
    while (taken_.Contains(key)) key = (key + 1) % total_;
    s->unit = ConfigurationPoint(space_, key);
    return s;
  }

 private:
  const SearchSpace space_;
  const int64_t total_;
  std::unique_ptr<Sampler> inner_;
  TakenKeys taken_;
};

}  // namespace

std::unique_ptr<Sampler> GuardFiniteSpace(const SearchSpace& space,
                                          std::unique_ptr<Sampler> inner) {
  return std::make_unique<FiniteSpaceGuard>(space, std::move(inner));
}

}  // namespace caviar::search
