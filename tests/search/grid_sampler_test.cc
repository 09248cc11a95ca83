#include <map>
#include <set>
#include <tuple>

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
