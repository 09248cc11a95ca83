// random: every coordinate uniform in [0, 1]; the scales make it uniform per
// decade (LOG) or per decade of 1 - x (LOG1M). The course notes' default:
// random, not grid, because it tries as many values of each parameter as
// there are trials.
#include <memory>

#include "server/search/options.h"
#include "server/search/random.h"
#include "server/search/sampler.h"
#include "server/search/samplers.h"

namespace caviar::search {
namespace {

class RandomSampler : public Sampler {
 public:
  absl::StatusOr<Suggestion> Suggest(const SampleContext& context) override {
    Rng rng(context.seed);
    Suggestion s;
    s.unit.resize(context.space->size());
    for (double& u : s.unit) u = UnitDouble(rng);
    return s;
  }
  bool UsesHistory() const override { return false; }
};

}  // namespace

absl::StatusOr<std::unique_ptr<Sampler>> NewRandomSampler(
    const SearchSpace& space, const google::protobuf::Struct& options) {
  (void)space;
  absl::Status s = Options(options, "algorithm.options").CheckKnownKeys({});
  if (!s.ok()) return s;
  return std::make_unique<RandomSampler>();
}

}  // namespace caviar::search
