#include "server/search/round_plan.h"

#include <algorithm>
#include <cmath>

namespace caviar::search {

RoundPlan PlanRound(int64_t left, int dims, int64_t round, const RoundRule& rule) {
  RoundPlan plan;
  if (left <= 1) return plan;
  const int64_t min_size = std::max<int64_t>(
      4, static_cast<int64_t>(std::ceil(rule.trials_per_dimension * (dims + 1) - 1e-9)));
  const int64_t cap = std::max<int64_t>(1, rule.max_rounds - round);
  plan.rounds = std::clamp<int64_t>(left / min_size, 1, cap);
  if (round == 0) {
    const double share = rule.first_share * static_cast<double>(left) /
                         (static_cast<double>(plan.rounds - 1) + rule.first_share);
    plan.size = std::clamp<int64_t>(std::llround(share), 1, left);
  } else {
    plan.size = std::max<int64_t>(1, left / plan.rounds);
  }
  return plan;
}

}  // namespace caviar::search
