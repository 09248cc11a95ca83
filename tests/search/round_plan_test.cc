// coarse_to_fine's round sizes follow the budget and the dimension
// (server/search/round_plan.h): the rule itself, and the sampler playing it
// out, including a budget that grows mid-study.
#include "server/search/round_plan.h"

#include <map>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/search/sampler.h"
#include "tests/search/study_loop.h"

namespace caviar::search {
namespace {

using ::caviar::search::testing::DoubleParam;
using ::caviar::search::testing::MakeSampler;
using ::caviar::search::testing::MakeSpace;
using ::caviar::search::testing::SimStudy;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

// The sizes of successive rounds when nothing changes the budget.
std::vector<int64_t> Sizes(int64_t budget, int dims, const RoundRule& rule) {
  std::vector<int64_t> sizes;
  int64_t used = 0;
  for (int64_t round = 0; used < budget; ++round) {
    const RoundPlan plan = PlanRound(budget - used, dims, round, rule);
    sizes.push_back(plan.size);
    used += plan.size;
  }
  return sizes;
}

TEST(RoundPlanTest, FollowsTheDocumentedRule) {
  RoundRule rule;
  rule.trials_per_dimension = 1.5;
  rule.max_rounds = 8;
  rule.first_share = 1.5;
  // 2-d: rounds of at least max(4, ceil(1.5 * 3)) = 5; 50 / 5 = 10 rounds,
  // capped at 8; the first gets 1.5 shares: round(1.5 * 50 / 8.5) = 9; then
  // floor(41 / 7) = 5, and 6 for each of the six rounds left.
  EXPECT_THAT(Sizes(50, 2, rule), ElementsAre(9, 5, 6, 6, 6, 6, 6, 6));
  const RoundPlan first = PlanRound(50, 2, 0, rule);
  EXPECT_EQ(first.rounds, 8);
  // 6-d: rounds of at least ceil(1.5 * 7) = 11: 4 rounds, the first of
  // round(1.5 * 50 / 4.5) = 17.
  EXPECT_THAT(Sizes(50, 6, rule), ElementsAre(17, 11, 11, 11));
  // A budget below one round's minimum: a single round takes it all.
  EXPECT_THAT(Sizes(8, 6, rule), ElementsAre(8));
  // Large budgets: never more than max_rounds, rounds grow instead.
  EXPECT_THAT(Sizes(1000, 2, rule), ElementsAre(176, 117, 117, 118, 118, 118, 118, 118));
  // Nothing left: one trial (the coordinator enforces the budget).
  EXPECT_EQ(PlanRound(0, 3, 2, rule).size, 1);
  EXPECT_EQ(PlanRound(-5, 3, 2, rule).rounds, 1);
  // Past max_rounds (the budget grew after the last round): one more round
  // with all that is left.
  EXPECT_EQ(PlanRound(30, 2, 9, rule).size, 30);
}

TEST(RoundPlanTest, DefaultsAtFiftyTrials) {
  const RoundRule defaults;  // 0.75 per dimension, at most 8 rounds, 1.5 shares.
  // 2-d (rounds of at least 4): 8 rounds, as in bench/search's tuning.
  EXPECT_THAT(Sizes(50, 2, defaults), ElementsAre(9, 5, 6, 6, 6, 6, 6, 6));
  // 6-d (at least ceil(0.75 * 7) = 6): 7 rounds; 8-d (at least 7): 6.
  EXPECT_THAT(Sizes(50, 6, defaults), ElementsAre(9, 6, 7, 7, 7, 7, 7));
  EXPECT_THAT(Sizes(50, 8, defaults), ElementsAre(10, 8, 8, 8, 8, 8));
}

// Counts of trials by round of a finished study.
std::vector<int64_t> TrialsPerRound(SimStudy& study) {
  std::map<int, int64_t> counts;
  for (const TrialPoint& t : study.trials()) ++counts[t.round];
  std::vector<int64_t> sizes;
  for (const auto& [round, n] : counts) sizes.push_back(n);
  return sizes;
}

double Bowl(const std::vector<double>& u) {
  double s = 0;
  for (double x : u) s += (x - 0.3) * (x - 0.3);
  return s;
}

TEST(RoundPlanTest, CoarseToFineSpendsExactlyItsBudget) {
  const SearchSpace space = MakeSpace({DoubleParam("a", 0, 1), DoubleParam("b", 0, 1)});
  const RoundRule defaults;
  auto sampler = MakeSampler("coarse_to_fine", space);
  SimStudy study(space, 3);
  study.spec().mutable_budget()->set_max_trials(50);
  absl::Status end = study.Run(*sampler, Bowl, 1000, 4);
  ASSERT_TRUE(absl::IsOutOfRange(end)) << end;
  EXPECT_THAT(end.message(), HasSubstr("budget of 50 trials spent"));
  EXPECT_EQ(study.trials().size(), 50u);
  EXPECT_EQ(TrialsPerRound(study), Sizes(50, 2, defaults));
  EXPECT_EQ(study.regions().size(), Sizes(50, 2, defaults).size());
  // Every round after the first zooms in.
  for (int r = 1; r < study.regions().size(); ++r) {
    const auto& now = study.regions()[r];
    const auto& before = study.regions()[r - 1];
    EXPECT_LT((now.hi().at("a") - now.lo().at("a")) * (now.hi().at("b") - now.lo().at("b")),
              (before.hi().at("a") - before.lo().at("a")) *
                  (before.hi().at("b") - before.lo().at("b")))
        << "round " << r;
  }
}

TEST(RoundPlanTest, MoreDimensionsMeanFewerLargerRounds) {
  std::vector<caviar::v1::ParameterSpec> params;
  for (int i = 0; i < 6; ++i) params.push_back(DoubleParam("x" + std::to_string(i), 0, 1));
  const SearchSpace six = MakeSpace(params);
  const RoundRule defaults;
  auto sampler = MakeSampler("coarse_to_fine", six);
  SimStudy study(six, 5);
  study.spec().mutable_budget()->set_max_trials(50);
  ASSERT_TRUE(absl::IsOutOfRange(study.Run(*sampler, Bowl, 1000, 4)));
  EXPECT_EQ(TrialsPerRound(study), Sizes(50, 6, defaults));
  EXPECT_LT(Sizes(50, 6, defaults).size(), Sizes(50, 2, defaults).size());
  EXPECT_GT(Sizes(50, 6, defaults)[2], Sizes(50, 2, defaults)[2]);
}

TEST(RoundPlanTest, AGrownBudgetReplansTheRemainingRounds) {
  const SearchSpace space = MakeSpace({DoubleParam("a", 0, 1), DoubleParam("b", 0, 1)});
  const RoundRule defaults;
  const std::vector<int64_t> planned = Sizes(50, 2, defaults);
  auto sampler = MakeSampler("coarse_to_fine", space);
  SimStudy study(space, 8);
  study.spec().mutable_budget()->set_max_trials(50);
  // Play the first three rounds, then grow the budget to 100 (as `caviar
  // refine --trials` or enqueueing past the budget does).
  const int64_t three_rounds = planned[0] + planned[1] + planned[2];
  ASSERT_TRUE(study.Run(*sampler, Bowl, static_cast<int>(three_rounds), 1).ok());
  study.spec().mutable_budget()->set_max_trials(100);
  absl::Status end = study.Run(*sampler, Bowl, 1000, 1);
  ASSERT_TRUE(absl::IsOutOfRange(end)) << end;
  EXPECT_THAT(end.message(), HasSubstr("budget of 100 trials spent"));
  EXPECT_EQ(study.trials().size(), 100u);
  // The third round (the current one: its trials are all in, but no later
  // round has started) and the ones after it are planned anew for the
  // 100 - used trials left from its start.
  std::vector<int64_t> expected(planned.begin(), planned.begin() + 2);
  int64_t used = planned[0] + planned[1];
  for (int64_t round = 2; used < 100; ++round) {
    const RoundPlan plan = PlanRound(100 - used, 2, round, defaults);
    expected.push_back(plan.size);
    used += plan.size;
  }
  EXPECT_EQ(TrialsPerRound(study), expected);
  EXPECT_GT(expected[2], planned[2]);  // The rounds left got larger.
  EXPECT_GT(expected[3], planned[3]);
}

TEST(RoundPlanTest, FixedTrialsPerRoundIgnoresTheBudget) {
  const SearchSpace space = MakeSpace({DoubleParam("a", 0, 1), DoubleParam("b", 0, 1)});
  google::protobuf::Struct options;
  (*options.mutable_fields())["trials_per_round"].set_number_value(7);
  (*options.mutable_fields())["rounds"].set_number_value(3);
  auto sampler = MakeSampler("coarse_to_fine", space, options);
  SimStudy study(space, 2);
  study.spec().mutable_budget()->set_max_trials(50);
  absl::Status end = study.Run(*sampler, Bowl, 1000, 2);
  ASSERT_TRUE(absl::IsOutOfRange(end)) << end;
  EXPECT_THAT(end.message(), HasSubstr("round 2 was the last (rounds = 3)"));
  EXPECT_THAT(TrialsPerRound(study), ElementsAre(7, 7, 7));
}

}  // namespace
}  // namespace caviar::search
