#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <tuple>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/search/sampler.h"
#include "tests/search/study_loop.h"

namespace caviar::search {
namespace {

using ::caviar::search::testing::CategoricalParam;
using ::caviar::search::testing::DoubleParam;
using ::caviar::search::testing::IntParam;
using ::caviar::search::testing::MakeSampler;
using ::caviar::search::testing::MakeSpace;
using ::caviar::search::testing::Number;
using ::caviar::search::testing::SimStudy;
using ::caviar::search::testing::Struct;
using ::caviar::search::testing::Text;
using ::testing::HasSubstr;

using Cell = std::tuple<double, int64_t, std::string>;

Cell CellOf(const SearchSpace& space, const TrialPoint& t) {
  ParameterMap v = space.FromUnitPoint(t.unit);
  return {v["x"].double_value(), v["n"].int_value(), v["act"].string_value()};
}

TEST(GridSamplerTest, HandsOutEveryCellExactlyOnceThenEnds) {
  caviar::v1::ParameterSpec x = DoubleParam("x", -1, 1);
  x.set_grid_points(3);
  const SearchSpace space =
      MakeSpace({x, IntParam("n", 1, 3), CategoricalParam("act", {"relu", "tanh"})});
  auto grid = MakeSampler("grid", space);
  SimStudy study(space, 1);
  for (int k = 0; k < 18; ++k) {
    absl::StatusOr<int64_t> id = study.Ask(*grid);
    ASSERT_TRUE(id.ok()) << id.status();
    // Finish some, fail some, leave some running: none comes back.
    if (k % 3 == 0) study.Finish(*id, 1.0);
    if (k % 3 == 1) study.Finish(*id, std::nullopt, caviar::v1::FAILED);
  }
  absl::StatusOr<int64_t> done = study.Ask(*grid);
  EXPECT_TRUE(absl::IsOutOfRange(done.status())) << done.status();
  EXPECT_THAT(done.status().message(), HasSubstr("all 18 cells"));
  std::set<Cell> cells;
  for (const TrialPoint& t : study.trials()) cells.insert(CellOf(space, t));
  std::set<Cell> expected;
  for (double xv : {-1.0, 0.0, 1.0}) {
    for (int64_t n : {1, 2, 3}) {
      for (const char* a : {"relu", "tanh"}) expected.insert({xv, n, a});
    }
  }
  EXPECT_EQ(cells, expected);
}

TEST(GridSamplerTest, PointsFollowTheScale) {
  const SearchSpace space =
      MakeSpace({DoubleParam("lr", 1e-4, 1, caviar::v1::LOG),
                 DoubleParam("beta", 0.9, 0.999, caviar::v1::LOG1M)});
  auto grid = MakeSampler("grid", space, Struct({{"points", Number(3)}}));
  SimStudy study(space, 1);
  EXPECT_TRUE(absl::IsOutOfRange(study.Run(
      *grid, [](auto&) { return 0.0; }, 100, 1)));
  ASSERT_EQ(study.trials().size(), 9u);
  std::set<double> lrs, betas;
  for (const TrialPoint& t : study.trials()) {
    ParameterMap v = space.FromUnitPoint(t.unit);
    lrs.insert(v["lr"].double_value());
    betas.insert(v["beta"].double_value());
  }
  ASSERT_EQ(lrs.size(), 3u);
  EXPECT_NEAR(*std::next(lrs.begin()), 1e-2, 1e-12);
  ASSERT_EQ(betas.size(), 3u);
  EXPECT_NEAR(*std::next(betas.begin()), 0.99, 1e-12);
}

TEST(GridSamplerTest, SkipsCellsTheStudyAlreadyHas) {
  const SearchSpace space = MakeSpace({IntParam("n", 1, 4)});
  auto grid = MakeSampler("grid", space);
  SimStudy study(space, 1);
  caviar::v1::ParameterValue two;
  two.set_int_value(2);
  study.Add({*space.ToUnit(0, two)});  // Enqueued by a user, still pending.
  std::vector<int64_t> handed;
  while (true) {
    absl::StatusOr<int64_t> id = study.Ask(*grid);
    if (!id.ok()) break;
    handed.push_back(space.FromUnitPoint(study.trials()[*id - 1].unit)["n"].int_value());
  }
  EXPECT_THAT(handed, ::testing::ElementsAre(1, 3, 4));
}

TEST(GridSamplerTest, IntegerGridPointsSubsampleTheRange) {
  caviar::v1::ParameterSpec units = IntParam("units", 10, 1000);
  units.set_grid_points(4);
  const SearchSpace space = MakeSpace({units});
  auto grid = MakeSampler("grid", space);
  SimStudy study(space, 1);
  EXPECT_TRUE(absl::IsOutOfRange(study.Run(
      *grid, [](auto&) { return 0.0; }, 100, 1)));
  std::vector<int64_t> values;
  for (const TrialPoint& t : study.trials()) {
    values.push_back(space.FromUnitPoint(t.unit)["units"].int_value());
  }
  EXPECT_THAT(values, ::testing::ElementsAre(10, 340, 670, 1000));
}

// Every cell of a 4 x 4 grid, in the order the sampler hands them out, as
// (lr index, batch index) pairs.
std::vector<std::pair<int, int>> GridOrder(const google::protobuf::Struct& options,
                                           uint64_t seed, int max_trials, int asks) {
  caviar::v1::ParameterSpec lr = DoubleParam("lr", 1e-4, 1e-1, caviar::v1::LOG);
  lr.set_grid_points(4);
  const SearchSpace space = MakeSpace({lr, IntParam("batch", 1, 4)});
  auto grid = MakeSampler("grid", space, options);
  if (grid == nullptr) return {};
  SimStudy study(space, seed);
  study.spec().mutable_budget()->set_max_trials(max_trials);
  std::vector<std::pair<int, int>> order;
  for (int k = 0; k < asks; ++k) {
    absl::StatusOr<int64_t> id = study.Ask(*grid);
    if (!id.ok()) {
      EXPECT_TRUE(absl::IsOutOfRange(id.status())) << id.status();
      break;
    }
    ParameterMap v = space.FromUnitPoint(study.trials()[*id - 1].unit);
    const int lr_index =
        static_cast<int>(std::lround(std::log10(v["lr"].double_value()) + 4));
    order.emplace_back(lr_index, static_cast<int>(v["batch"].int_value()));
  }
  return order;
}

// A grid cut short by max_trials used to explore one corner: 8 trials of a
// 4 x 4 grid tried only 2 learning rates.
TEST(GridSamplerTest, AGridCutShortByTheBudgetIsShuffledByDefault) {
  const auto order = GridOrder({}, 7, 8, 8);
  ASSERT_EQ(order.size(), 8u);
  std::set<int> lrs, batches;
  for (const auto& [lr, batch] : order) {
    lrs.insert(lr);
    batches.insert(batch);
  }
  EXPECT_GE(lrs.size(), 3u);
  EXPECT_GE(batches.size(), 3u);
  // With room for every cell the order stays lexicographic.
  const auto full = GridOrder({}, 7, 16, 2);
  EXPECT_THAT(full, ::testing::ElementsAre(std::pair(0, 1), std::pair(0, 2)));
  // So it does when asked, however small the budget.
  const auto asked = GridOrder(Struct({{"order", Text("lexicographic")}}), 7, 8, 2);
  EXPECT_THAT(asked, ::testing::ElementsAre(std::pair(0, 1), std::pair(0, 2)));
}

TEST(GridSamplerTest, AShuffledGridHandsOutEveryCellOnceInAnOrderFixedBySeed) {
  const google::protobuf::Struct shuffled = Struct({{"order", Text("shuffled")}});
  const auto order = GridOrder(shuffled, 7, 100, 17);
  ASSERT_EQ(order.size(), 16u);  // Then OUT_OF_RANGE.
  EXPECT_EQ(std::set(order.begin(), order.end()).size(), 16u);
  EXPECT_EQ(GridOrder(shuffled, 7, 100, 17), order);
  EXPECT_NE(GridOrder(shuffled, 8, 100, 17), order);
  std::vector<std::pair<int, int>> sorted = order;
  std::sort(sorted.begin(), sorted.end());
  EXPECT_NE(sorted, order);
}

TEST(GridSamplerTest, AShuffledGridOfBillionsOfCellsStartsAtOnce) {
  std::vector<caviar::v1::ParameterSpec> params;
  for (int i = 0; i < 6; ++i) params.push_back(IntParam(absl::StrCat("n", i), 1, 1000));
  const SearchSpace space = MakeSpace(params);  // 10^18 cells.
  auto grid = MakeSampler("grid", space, Struct({{"order", Text("shuffled")}}));
  ASSERT_NE(grid, nullptr);
  SimStudy study(space, 3);
  std::set<std::vector<double>> seen;
  for (int k = 0; k < 200; ++k) {
    absl::StatusOr<int64_t> id = study.Ask(*grid);
    ASSERT_TRUE(id.ok()) << id.status();
    seen.insert(study.trials()[*id - 1].unit);
  }
  EXPECT_EQ(seen.size(), 200u);
  std::set<int64_t> first_values;
  for (const TrialPoint& t : study.trials())
    first_values.insert(space.FromUnitPoint(t.unit)["n0"].int_value());
  EXPECT_GT(first_values.size(), 150u);
}

TEST(GridSamplerTest, RejectsBadOptions) {
  const SearchSpace space = MakeSpace({DoubleParam("x", 0, 1)});
  caviar::v1::Algorithm algorithm;
  algorithm.set_name("grid");
  *algorithm.mutable_options() = Struct({{"points", Number(0)}});
  EXPECT_THAT(CreateSampler(algorithm, space).status().message(),
              HasSubstr("algorithm.options.points: must be in [1, 1000000], got 0"));
  *algorithm.mutable_options() = Struct({{"points", Number(2.5)}});
  EXPECT_THAT(CreateSampler(algorithm, space).status().message(),
              HasSubstr("algorithm.options.points: must be an integer"));
  const SearchSpace huge = MakeSpace({IntParam("seed", 0, 1000000000)});
  algorithm.clear_options();
  EXPECT_THAT(CreateSampler(algorithm, huge).status().message(),
              HasSubstr("parameters[0] (seed): integer range has 1000000001 values"));
}

}  // namespace
}  // namespace caviar::search
