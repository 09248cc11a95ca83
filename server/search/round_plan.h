// RoundPlan: how many trials coarse_to_fine's next round gets, from the
// budget left and the dimension (the rule of README "Search: samplers and
// pruners").
//
// The rule, applied at the start of every round (so a budget that grows, or
// a refine that adds trials, re-plans the rounds still to come):
//   left      = budget.max_trials - trials of the earlier rounds
//   min_size  = max(4, ceil(trials_per_dimension * (d + 1)))
//   rounds    = clamp(floor(left / min_size), 1, max(1, max_rounds - round))
//               (the rounds still to run, this one included)
//   size      = round 0: round(first_share * left / (rounds - 1 + first_share))
//               later:   floor(left / rounds)
// so the first round, which samples the whole box, gets first_share times a
// later round's trials; the last round takes what is left.
//
// Pure functions; thread-compatible.
#ifndef CAVIAR_SERVER_SEARCH_ROUND_PLAN_H_
#define CAVIAR_SERVER_SEARCH_ROUND_PLAN_H_

#include <cstdint>

namespace caviar::search {

struct RoundRule {
  double trials_per_dimension = 0.75;
  int64_t max_rounds = 8;
  double first_share = 1.5;
};

struct RoundPlan {
  int64_t size = 1;    // Trials of this round (>= 1).
  int64_t rounds = 1;  // Rounds still to run, this one included (>= 1).
};

// `left`: trials the budget has left at the start of round `round` (<= 0
// plans one trial: the coordinator enforces the budget). `dims` >= 1.
RoundPlan PlanRound(int64_t left, int dims, int64_t round, const RoundRule& rule);

}  // namespace caviar::search

#endif  // CAVIAR_SERVER_SEARCH_ROUND_PLAN_H_
