#include "server/search/importance.h"

#include <cmath>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/search/halton.h"
#include "tests/search/study_loop.h"

namespace caviar::search {
namespace {

using ::caviar::search::testing::CategoricalParam;
using ::caviar::search::testing::DoubleParam;
using ::caviar::search::testing::MakeSpace;
using ::testing::HasSubstr;

std::vector<TrialPoint> Trials(
    int d, int n, const std::function<double(const std::vector<double>&)>& f) {
  ScrambledHalton halton(d, 5);
  std::vector<TrialPoint> trials(n);
  for (int k = 0; k < n; ++k) {
    trials[k].id = k + 1;
    trials[k].unit.resize(d);
    halton.Point(k, absl::MakeSpan(trials[k].unit));
    trials[k].state = caviar::v1::SUCCEEDED;
    trials[k].loss = f(trials[k].unit);
  }
  return trials;
}

TEST(ImportanceTest, TheOnlyParameterThatMattersExplainsMostOfTheVariance) {
  // The notes' example: the learning rate matters, epsilon barely does.
  const SearchSpace space =
      MakeSpace({DoubleParam("epsilon", 1e-10, 1e-6, caviar::v1::LOG),
                 DoubleParam("learning_rate", 1e-4, 1, caviar::v1::LOG),
                 DoubleParam("unused", 0, 1)});
  auto trials = Trials(3, 60, [](const std::vector<double>& u) {
    return std::pow(u[1] - 0.6, 2) + 0.001 * u[0];
  });
  absl::StatusOr<std::vector<ParameterImportance>> result =
      ComputeImportance(space, trials);
  ASSERT_TRUE(result.ok()) << result.status();
  ASSERT_EQ(result->size(), 3u);
  EXPECT_EQ((*result)[0].name, "learning_rate");
  EXPECT_GT((*result)[0].importance, 0.8);
  EXPECT_LT((*result)[1].importance, 0.05);
  EXPECT_LT((*result)[2].importance, 0.05);
  // Deterministic.
  absl::StatusOr<std::vector<ParameterImportance>> again =
      ComputeImportance(space, trials);
  EXPECT_EQ((*again)[0].importance, (*result)[0].importance);
}

TEST(ImportanceTest, SplitsVarianceBetweenAdditiveParameters) {
  // f = 2 a + b: main-effect variances 4/12 and 1/12, no interaction.
  const SearchSpace space = MakeSpace({DoubleParam("a", 0, 1), DoubleParam("b", 0, 1)});
  auto trials =
      Trials(2, 200, [](const std::vector<double>& u) { return 2 * u[0] + u[1]; });
  auto result = ComputeImportance(space, trials);
  ASSERT_TRUE(result.ok());
  EXPECT_EQ((*result)[0].name, "a");
  EXPECT_NEAR((*result)[0].importance, 0.8, 0.08);
  EXPECT_NEAR((*result)[1].importance, 0.2, 0.06);
}

TEST(ImportanceTest, PureInteractionHasNoMainEffect) {
  // f = (a - 0.5)(b - 0.5): all variance is interaction.
  const SearchSpace space = MakeSpace({DoubleParam("a", 0, 1), DoubleParam("b", 0, 1)});
  auto trials = Trials(
      2, 200, [](const std::vector<double>& u) { return (u[0] - 0.5) * (u[1] - 0.5); });
  auto result = ComputeImportance(space, trials);
  ASSERT_TRUE(result.ok());
  EXPECT_LT((*result)[0].importance + (*result)[1].importance, 0.25);
}

TEST(ImportanceTest, CategoricalParameters) {
  const SearchSpace space = MakeSpace(
      {DoubleParam("x", 0, 1), CategoricalParam("optimizer", {"gd", "adam", "rmsprop"})});
  auto trials = Trials(2, 90, [&](const std::vector<double>& u) {
    return space.FromUnit(1, u[1]).string_value() == "adam" ? 0.0 : 1.0;
  });
  auto result = ComputeImportance(space, trials);
  ASSERT_TRUE(result.ok());
  EXPECT_EQ((*result)[0].name, "optimizer");
  EXPECT_GT((*result)[0].importance, 0.9);
}

TEST(ImportanceTest, NeedsFourFinishedTrials) {
  const SearchSpace space = MakeSpace({DoubleParam("x", 0, 1)});
  auto trials = Trials(1, 5, [](const std::vector<double>& u) { return u[0]; });
  trials[0].loss.reset();  // Failed: no loss.
  trials[1].loss = std::nan("");
  auto result = ComputeImportance(space, trials);
  EXPECT_TRUE(absl::IsFailedPrecondition(result.status()));
  EXPECT_THAT(result.status().message(), HasSubstr("at least 4 finished trials"));
  // A constant loss explains nothing.
  auto flat = Trials(1, 10, [](const std::vector<double>&) { return 1.0; });
  auto zero = ComputeImportance(space, flat);
  ASSERT_TRUE(zero.ok());
  EXPECT_EQ((*zero)[0].importance, 0.0);
}

}  // namespace
}  // namespace caviar::search
