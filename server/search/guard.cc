#include "server/search/guard.h"

#include <optional>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "server/search/finite.h"
#include "server/search/random.h"
#include "server/search/region.h"

namespace caviar::search {
namespace {

constexpr int kRandomAttempts = 32;

class GuardedSampler : public Sampler {
 public:
  GuardedSampler(const SearchSpace& space, std::unique_ptr<Sampler> inner)
      : space_(space),
        total_(space.TotalCardinality()),
        inner_(std::move(inner)),
        taken_([this](absl::Span<const double> unit) -> std::optional<int64_t> {
          if (total_ == 0 || unit.size() != static_cast<size_t>(space_.size())) {
            return std::nullopt;
          }
          return ConfigurationKey(space_, unit);
        }) {}

  bool SamplesRegions() const override { return true; }
  // A finite space needs the history to never repeat a configuration.
  bool UsesHistory() const override { return total_ > 0 || inner_->UsesHistory(); }

  absl::StatusOr<Suggestion> Suggest(const SampleContext& context) override {
    if (total_ > 0) {
      taken_.Update(context.trials);
      if (taken_.size() >= total_) {
        return absl::OutOfRangeError(absl::StrCat("every one of the ", total_,
                                                  " configurations of the search space "
                                                  "has been tried"));
      }
    }
    absl::StatusOr<Suggestion> s = inner_->Suggest(context);
    if (!s.ok()) return s;
    const bool has_region = context.regions != nullptr && !context.regions->empty();
    Box box = FullBox(space_.size());
    if (s->new_region) {
      google::protobuf::RepeatedPtrField<caviar::v1::Region> with_new;
      if (has_region) with_new = *context.regions;
      *with_new.Add() = *s->new_region;
      box = LatestRegion(space_, &with_new);
    } else if (has_region) {
      box = LatestRegion(space_, context.regions);
      if (!inner_->SamplesRegions()) {
        MapIntoBox(box, absl::MakeSpan(s->unit));
        s->round = context.regions->rbegin()->round();
      }
    }
    if (total_ > 0) ReplaceIfTaken(context, box, *s);
    return s;
  }

 private:
  void ReplaceIfTaken(const SampleContext& context, const Box& box, Suggestion& s) {
    int64_t key = ConfigurationKey(space_, s.unit);
    if (!taken_.Contains(key)) return;
    Rng rng(MixSeed(context.seed, 0x6775617264ULL));
    std::vector<double> unit(space_.size());
    for (int attempt = 0; attempt < kRandomAttempts && taken_.Contains(key); ++attempt) {
      for (double& u : unit) u = UnitDouble(rng);
      MapIntoBox(box, absl::MakeSpan(unit));
      key = ConfigurationKey(space_, unit);
    }
    for (int attempt = 0; attempt < kRandomAttempts && taken_.Contains(key); ++attempt) {
      key = static_cast<int64_t>(UniformIndex(rng, static_cast<uint64_t>(total_)));
    }
    // Nearly everything is taken: a linear probe, at most size() steps.
    while (taken_.Contains(key)) key = (key + 1) % total_;
    s.unit = ConfigurationPoint(space_, key);
  }

  const SearchSpace space_;
  const int64_t total_;
  std::unique_ptr<Sampler> inner_;
  TakenKeys taken_;
};

}  // namespace

std::unique_ptr<Sampler> GuardSampler(const SearchSpace& space,
                                      std::unique_ptr<Sampler> inner) {
  return std::make_unique<GuardedSampler>(space, std::move(inner));
}

}  // namespace caviar::search
