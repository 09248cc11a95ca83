// asha: asynchronous successive halving (Li et al. 2020), as a stopping
// rule. Rungs sit at steps min_resource * reduction_factor^k. When a trial
// reaches a rung, its objective there (its latest value at or before the
// rung's step) joins the rung's values, and the trial goes on only if it is
// among the best floor(n / reduction_factor) of the n trials that reached
// the rung, or the best one when there are fewer than reduction_factor of
// them (Optuna's SuccessiveHalvingPruner). NaN counts as the worst value.
//
// State: the sorted values per rung and the rungs each trial has reached,
// taken in as reports are stored (and from the history at load, TakeIn).
//
// Options: reduction_factor (int >= 2, default 3), min_resource (int >= 1
// steps, default 1).
#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <memory>
#include <unordered_map>
#include <vector>

#include "absl/strings/str_format.h"
#include "common/status_macros.h"
#include "server/search/options.h"
#include "server/search/pruner.h"
#include "server/search/pruners.h"

namespace caviar::search {
namespace {

class AshaPruner : public Pruner {
 public:
  AshaPruner(int64_t reduction_factor, int64_t min_resource,
             caviar::v1::Objective objective)
      : eta_(reduction_factor), min_resource_(min_resource), objective_(std::move(objective)) {}

  PruneDecision OnReport(const PruneContext& context) override {
    const caviar::v1::Trial& trial = *context.trial;
    for (const auto& [rung, value] : Reached(trial, trial.measurements_size())) {
      // Rank the value among the rung's values as if it were already there.
      static const std::vector<double> kNone;
      auto found = rungs_.find(rung);
      const std::vector<double>& values = found == rungs_.end() ? kNone : found->second;
      const int64_t n = static_cast<int64_t>(values.size()) + 1;
      const int64_t keep = std::max<int64_t>(n / eta_, 1);
      const int64_t at = std::upper_bound(values.begin(), values.end(), value) - values.begin();
      const double kth = keep - 1 < at ? values[keep - 1] : keep - 1 == at ? value : values[keep - 2];
      if (value > kth) {
        return {true,
                absl::StrFormat(
                    "asha: at rung %d (step %d) %s %g is not in the best %d of the %d "
                    "trials that reached it",
                    rung, RungStep(rung), objective_.metric(),
                    UserValue(objective_, value), keep, n)};
      }
    }
    return {};
  }

  void OnReportCommitted(const PruneContext& context) override {
    Record(*context.trial, context.trial->measurements_size());
  }

  void TakeIn(const caviar::v1::Trial& trial) override {
    Record(trial, trial.measurements_size());
  }

 private:
  // min_resource * eta^rung, saturating.
  int64_t RungStep(int rung) const {
    int64_t step = min_resource_;
    for (int k = 0; k < rung; ++k) {
      if (step > std::numeric_limits<int64_t>::max() / eta_)
        return std::numeric_limits<int64_t>::max();
      step *= eta_;
    }
    return step;
  }

  // The rungs the trial's first `count` measurements reach that it had not
  // reached before, with its value at each. Changes nothing.
  std::vector<std::pair<int, double>> Reached(const caviar::v1::Trial& trial,
                                              int count) const {
    std::vector<std::pair<int, double>> added;
    if (count <= 0) return added;
    auto known = reached_.find(trial.id());
    int reached = known == reached_.end() ? 0 : known->second;
    const auto& ms = trial.measurements();
    const int64_t last_step = ms[count - 1].step();
    while (RungStep(reached) <= last_step) {
      const int64_t rung_step = RungStep(reached);
      double value = std::numeric_limits<double>::infinity();
      int64_t value_step = std::numeric_limits<int64_t>::min();
      for (int k = 0; k < count; ++k) {
        if (ms[k].step() > rung_step || ms[k].step() < value_step) continue;
        std::optional<double> loss = MeasuredLoss(objective_, ms[k]);
        if (!loss) continue;
        value = std::isnan(*loss) ? std::numeric_limits<double>::infinity() : *loss;
        value_step = ms[k].step();
      }
      added.emplace_back(reached, value);
      ++reached;
    }
    return added;
  }

  // Takes in what Reached returns.
  void Record(const caviar::v1::Trial& trial, int count) {
    for (const auto& [rung, value] : Reached(trial, count)) {
      std::vector<double>& values = rungs_[rung];
      values.insert(std::upper_bound(values.begin(), values.end(), value), value);
      reached_[trial.id()] = rung + 1;
    }
  }

  const int64_t eta_;
  const int64_t min_resource_;
  const caviar::v1::Objective objective_;
  std::map<int, std::vector<double>> rungs_;
  std::unordered_map<int64_t, int> reached_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<Pruner>> NewAshaPruner(
    const google::protobuf::Struct& options, const caviar::v1::Objective& objective) {
  Options o(options, "pruner.options");
  CAVIAR_RETURN_IF_ERROR(o.CheckKnownKeys({"reduction_factor", "min_resource"}));
  CAVIAR_ASSIGN_OR_RETURN(int64_t eta, o.Int("reduction_factor", 3, 2, 1000));
  CAVIAR_ASSIGN_OR_RETURN(int64_t min_resource,
                          o.Int("min_resource", 1, 1, int64_t{1} << 40));
  return std::make_unique<AshaPruner>(eta, min_resource, objective);
}

}  // namespace caviar::search
