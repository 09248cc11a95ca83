// quasi_random: point trial_index of a scrambled Halton sequence (see
// halton.h) whose scrambling comes from the study seed. Covers the cube more
// evenly than independent random points at the same number of trials, and
// like random tries as many values of each parameter as there are trials.
// Enqueued trials take indices too, so the sequence is never restarted.
//
// Options: none.
#include <memory>

#include "common/status_macros.h"
#include "server/search/halton.h"
#include "server/search/options.h"
#include "server/search/sampler.h"
#include "server/search/samplers.h"

namespace caviar::search {
namespace {

class QuasiRandomSampler : public Sampler {
 public:
  absl::StatusOr<Suggestion> Suggest(const SampleContext& context) override {
    const uint64_t seed = context.spec != nullptr ? context.spec->seed() : 0;
    const int dims = context.space->size();
    if (!halton_ || halton_seed_ != seed || halton_->dims() != dims) {
      halton_ = std::make_unique<ScrambledHalton>(dims, seed);
      halton_seed_ = seed;
    }
    Suggestion s;
    s.unit.resize(dims);
    halton_->Point(static_cast<uint64_t>(context.trial_index), absl::MakeSpan(s.unit));
    return s;
  }
  bool UsesHistory() const override { return false; }

 private:
  // A cache: rebuilt whenever the seed differs.
  std::unique_ptr<ScrambledHalton> halton_;
  uint64_t halton_seed_ = 0;
};

}  // namespace

absl::StatusOr<std::unique_ptr<Sampler>> NewQuasiRandomSampler(
    const SearchSpace& space, const google::protobuf::Struct& options) {
  (void)space;
  CAVIAR_RETURN_IF_ERROR(Options(options, "algorithm.options").CheckKnownKeys({}));
  return std::make_unique<QuasiRandomSampler>();
}

}  // namespace caviar::search
