// divergence: stops a trial whose training has blown up: the objective, or
// any metric whose name contains "loss", is NaN or infinite in the latest
// measurement; or the metric named by `metric` exceeds `factor` times its
// first (positive, finite) value in the trial. Stateless.
//
// Options: metric (string, default "loss"), factor (double >= 1, default
// 10).
#include <cmath>
#include <memory>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_format.h"
#include "common/status_macros.h"
#include "server/search/options.h"
#include "server/search/pruner.h"
#include "server/search/pruners.h"

namespace caviar::search {
namespace {

class DivergencePruner : public Pruner {
 public:
  DivergencePruner(std::string metric, double factor)
      : metric_(std::move(metric)), factor_(factor) {}

  PruneDecision OnReport(const PruneContext& context) override {
    const caviar::v1::Trial& trial = *context.trial;
    if (trial.measurements().empty()) return {};
    const caviar::v1::Measurement& last = *trial.measurements().rbegin();
    const std::string& objective = context.spec->objective().metric();
    for (const auto& [name, value] : last.metrics()) {
      const bool watched = name == objective || name == metric_ ||
                           absl::StrContains(absl::AsciiStrToLower(name), "loss");
      if (watched && !std::isfinite(value)) {
        return {true, absl::StrFormat("diverged: %s is %g at step %d", name, value,
                                      last.step())};
      }
    }
    auto now = last.metrics().find(metric_);
    if (now == last.metrics().end()) return {};
    for (const caviar::v1::Measurement& m : trial.measurements()) {
      auto first = m.metrics().find(metric_);
      if (first == m.metrics().end()) continue;
      if (std::isfinite(first->second) && first->second > 0 &&
          now->second > factor_ * first->second) {
        return {true, absl::StrFormat(
                          "diverged: %s %g at step %d is above %g x its first value %g",
                          metric_, now->second, last.step(), factor_, first->second)};
      }
      break;
    }
    return {};
  }

 private:
  const std::string metric_;
  const double factor_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<Pruner>> NewDivergencePruner(
    const google::protobuf::Struct& options, const caviar::v1::Objective&) {
  Options o(options, "pruner.options");
  CAVIAR_RETURN_IF_ERROR(o.CheckKnownKeys({"metric", "factor"}));
  CAVIAR_ASSIGN_OR_RETURN(std::string metric, o.String("metric", "loss", {}));
  if (metric.empty()) {
    return absl::InvalidArgumentError("pruner.options.metric: must not be empty");
  }
  CAVIAR_ASSIGN_OR_RETURN(double factor, o.Double("factor", 10.0, 1.0, 1e12));
  return std::make_unique<DivergencePruner>(std::move(metric), factor);
}

}  // namespace caviar::search
