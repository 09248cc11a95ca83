// median: stops a trial whose best objective so far, at its latest step, is
// worse than the median of the objective values that succeeded trials
// reported at that same step (the median stopping rule of Google Vizier;
// Optuna's MedianPruner). Never before `warmup_steps`, and only once at
// least `min_trials` succeeded trials reported that step.
//
// State: per step, the sorted values of succeeded trials, taken in by
// OnTrialFinished and TakeIn (the history at load; idempotent per trial).
//
// Options: warmup_steps (int >= 0, default 0), min_trials (int >= 1,
// default 5).
#include <algorithm>
#include <cmath>
#include <map>
#include <memory>
#include <unordered_set>
#include <vector>

#include "absl/strings/str_format.h"
#include "common/status_macros.h"
#include "server/search/options.h"
#include "server/search/pruner.h"
#include "server/search/pruners.h"

namespace caviar::search {
namespace {

class MedianPruner : public Pruner {
 public:
  MedianPruner(int64_t warmup_steps, int64_t min_trials, caviar::v1::Objective objective)
      : warmup_steps_(warmup_steps),
        min_trials_(min_trials),
        objective_(std::move(objective)) {}

  PruneDecision OnReport(const PruneContext& context) override {
    const caviar::v1::Trial& trial = *context.trial;
    if (trial.measurements().empty()) return {};
    const int64_t step = trial.measurements().rbegin()->step();
    if (step < warmup_steps_) return {};
    double best = INFINITY;
    for (const caviar::v1::Measurement& m : trial.measurements()) {
      if (m.step() > step) continue;
      std::optional<double> loss = MeasuredLoss(objective_, m);
      if (loss && !std::isnan(*loss)) best = std::min(best, *loss);
    }
    if (std::isinf(best) && best > 0) return {};  // Nothing measured yet.
    auto it = by_step_.find(step);
    if (it == by_step_.end() || static_cast<int64_t>(it->second.size()) < min_trials_)
      return {};
    const std::vector<double>& v = it->second;
    const size_t n = v.size();
    const double median = n % 2 == 1 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
    if (!(best > median)) return {};
    return {true,
            absl::StrFormat(
                "median rule at step %d: best %s so far %g is worse than the median "
                "%g of %d succeeded trials",
                step, objective_.metric(), UserValue(objective_, best),
                UserValue(objective_, median), n)};
  }

  void OnTrialFinished(const caviar::v1::Trial& trial) override { Ingest(trial); }
  void TakeIn(const caviar::v1::Trial& trial) override { Ingest(trial); }

 private:
  void Ingest(const caviar::v1::Trial& trial) {
    if (trial.state() != caviar::v1::SUCCEEDED || !ingested_.insert(trial.id()).second)
      return;
    for (const caviar::v1::Measurement& m : trial.measurements()) {
      std::optional<double> loss = MeasuredLoss(objective_, m);
      if (!loss || std::isnan(*loss)) continue;
      std::vector<double>& v = by_step_[m.step()];
      v.insert(std::upper_bound(v.begin(), v.end(), *loss), *loss);
    }
  }

  const int64_t warmup_steps_;
  const int64_t min_trials_;
  const caviar::v1::Objective objective_;
  std::unordered_set<int64_t> ingested_;
  std::map<int64_t, std::vector<double>> by_step_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<Pruner>> NewMedianPruner(
    const google::protobuf::Struct& options, const caviar::v1::Objective& objective) {
  Options o(options, "pruner.options");
  CAVIAR_RETURN_IF_ERROR(o.CheckKnownKeys({"warmup_steps", "min_trials"}));
  CAVIAR_ASSIGN_OR_RETURN(int64_t warmup, o.Int("warmup_steps", 0, 0, int64_t{1} << 40));
  CAVIAR_ASSIGN_OR_RETURN(int64_t min_trials, o.Int("min_trials", 5, 1, 1000000));
  return std::make_unique<MedianPruner>(warmup, min_trials, objective);
}

}  // namespace caviar::search
