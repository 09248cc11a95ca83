#include <algorithm>
#include <cmath>
#include <string>
#include <utility>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/search/sampler.h"
#include "tests/search/study_loop.h"

namespace caviar::search {
namespace {

using ::caviar::search::testing::DoubleParam;
using ::caviar::search::testing::MakeSampler;
using ::caviar::search::testing::MakeSpace;
using ::caviar::search::testing::Number;
using ::caviar::search::testing::SimStudy;
using ::caviar::search::testing::Struct;
using ::testing::HasSubstr;

// Learning rate on a log scale and a linear offset; optimum at lr = 3e-3,
// shift = 1.3, where the loss is 0.
constexpr double kBestLr = 3e-3;
constexpr double kBestShift = 1.3;

SearchSpace Space() {
  return MakeSpace(
      {DoubleParam("lr", 1e-6, 1, caviar::v1::LOG), DoubleParam("shift", -5, 5)});
}

double Loss(const SearchSpace& space, const std::vector<double>& unit) {
  ParameterMap v = space.FromUnitPoint(unit);
  const double a = std::log10(v["lr"].double_value() / kBestLr);
  const double b = (v["shift"].double_value() - kBestShift) / 2;
  return a * a + b * b;
}

google::protobuf::Struct FourRounds() {
  return Struct({{"rounds", Number(4)},
                 {"trials_per_round", Number(20)},
                 {"top_fraction", Number(0.2)},
                 {"margin", Number(0.1)}});
}

TEST(CoarseToFineTest, RegionsShrinkAroundTheOptimum) {
  const SearchSpace space = Space();
  const std::vector<double> optimum = {(std::log10(kBestLr) + 6) / 6,
                                       (kBestShift + 5) / 10};
  for (uint64_t seed : {1, 2, 3, 4, 5}) {
    auto sampler = MakeSampler("coarse_to_fine", space, FourRounds());
    SimStudy study(space, seed);
    absl::Status end = study.Run(
        *sampler, [&](const std::vector<double>& u) { return Loss(space, u); }, 1000, 4);
    ASSERT_TRUE(absl::IsOutOfRange(end)) << end;
    EXPECT_THAT(end.message(), HasSubstr("round 3 was the last"));
    ASSERT_EQ(study.trials().size(), 80u);
    ASSERT_EQ(study.regions().size(), 4);
    double previous_area = 2;
    for (int r = 0; r < 4; ++r) {
      const caviar::v1::Region& region = study.regions()[r];
      EXPECT_EQ(region.round(), r);
      EXPECT_EQ(region.origin(), "sampler");
      double area = 1;
      for (int i = 0; i < 2; ++i) {
        const std::string& name = space.parameter(i).name();
        const double lo = region.lo().at(name), hi = region.hi().at(name);
        EXPECT_LE(lo, optimum[i]) << "seed " << seed << " round " << r << " " << name;
        EXPECT_GE(hi, optimum[i]) << "seed " << seed << " round " << r << " " << name;
        if (r > 0) {  // Clipped to the previous region.
          EXPECT_GE(lo, study.regions()[r - 1].lo().at(name));
          EXPECT_LE(hi, study.regions()[r - 1].hi().at(name));
        }
        area *= hi - lo;
      }
      EXPECT_LT(area, previous_area * (r == 0 ? 1 : 0.5))
          << "seed " << seed << " round " << r;
      previous_area = area;
    }
    for (const TrialPoint& t : study.trials()) {
      const caviar::v1::Region& region = study.regions()[t.round];
      EXPECT_GE(t.unit[0], region.lo().at("lr") - 1e-9);
      EXPECT_LE(t.unit[0], region.hi().at("lr") + 1e-9);
    }
    // Random search with 80 trials typically ends near 0.05; the zoom gets
    // within 0.1 decade of the learning rate and 0.2 of the shift.
    EXPECT_LT(*study.BestLoss(), 0.01) << "seed " << seed;
  }
}

// Branin on [-5, 10] x [0, 15]: three global minima (0.397887), far apart
// with hills between them.
double Branin(double x1, double x2) {
  const double pi = 3.14159265358979323846;
  const double b = 5.1 / (4 * pi * pi), c = 5 / pi, t = 1 / (8 * pi);
  const double u = x2 - b * x1 * x1 + c * x1 - 6;
  return u * u + 10 * (1 - t) * std::cos(x1) + 10;
}

TEST(CoarseToFineTest, ZoomsIntoOneOfSeveralOptima) {
  const SearchSpace space =
      MakeSpace({DoubleParam("x1", -5, 10), DoubleParam("x2", 0, 15)});
  const double pi = 3.14159265358979323846;
  const std::vector<std::vector<double>> minima = {{(-pi + 5) / 15, 12.275 / 15},
                                                   {(pi + 5) / 15, 2.275 / 15},
                                                   {(9.42478 + 5) / 15, 2.475 / 15}};
  // How far (in unit widths, the larger of the two) a point is from a region.
  auto distance = [](const caviar::v1::Region& region, const std::vector<double>& m) {
    double d = 0;
    for (const auto& [i, name] : {std::pair<int, std::string>{0, "x1"}, {1, "x2"}}) {
      d = std::max({d, region.lo().at(name) - m[i], m[i] - region.hi().at(name)});
    }
    return d;
  };
  std::vector<double> regrets;
  for (uint64_t seed = 1; seed <= 10; ++seed) {
    // Defaults, a budget of 96: 8 rounds (round_plan.h: 17, 11, 11, 11, 11,
    // 11, 12, 12).
    auto sampler = MakeSampler("coarse_to_fine", space);
    SimStudy study(space, seed);
    study.spec().mutable_budget()->set_max_trials(96);
    absl::Status end = study.Run(
        *sampler,
        [&](const std::vector<double>& u) { return Branin(-5 + 15 * u[0], 15 * u[1]); },
        1000, 4);
    ASSERT_TRUE(absl::IsOutOfRange(end)) << end;
    ASSERT_EQ(study.regions().size(), 8);
    for (const caviar::v1::Region& region : study.regions()) {
      // Every region holds a minimum or ends within 0.05 of one (the last
      // rounds can zoom onto a point of the valley next to the minimum).
      int near = 0;
      for (const std::vector<double>& m : minima) near += distance(region, m) <= 0.05;
      EXPECT_GE(near, 1) << "seed " << seed << " round " << region.round();
      if (region.round() < 7) continue;
      // The last region is small and about one minimum only: it did not
      // stay spread over two of them.
      EXPECT_EQ(near, 1) << "seed " << seed;
      EXPECT_LE(region.hi().at("x1") - region.lo().at("x1"), 0.1) << "seed " << seed;
      EXPECT_LE(region.hi().at("x2") - region.lo().at("x2"), 0.1) << "seed " << seed;
    }
    regrets.push_back(*study.BestLoss() - 0.397887);
    EXPECT_LT(regrets.back(), 0.3) << "seed " << seed;
  }
  // Random search with 96 trials typically ends near 0.5 above the minimum.
  std::sort(regrets.begin(), regrets.end());
  EXPECT_LT(regrets[5], 0.05);
}

TEST(CoarseToFineTest, WaitsForTheRoundThenStartsTheNextRegion) {
  const SearchSpace space = Space();
  auto sampler =
      MakeSampler("coarse_to_fine", space,
                  Struct({{"rounds", Number(2)}, {"trials_per_round", Number(3)}}));
  SimStudy study(space, 9);
  for (int k = 0; k < 3; ++k) ASSERT_TRUE(study.Ask(*sampler).ok());
  ASSERT_EQ(study.regions().size(), 1);
  study.Finish(1, 0.5);
  study.Finish(2, std::nullopt, caviar::v1::FAILED);
  absl::StatusOr<int64_t> wait = study.Ask(*sampler);
  EXPECT_TRUE(absl::IsUnavailable(wait.status())) << wait.status();
  EXPECT_THAT(wait.status().message(), HasSubstr("waiting for 1 of them"));
  study.Finish(3, 0.2);
  absl::StatusOr<int64_t> next = study.Ask(*sampler);
  ASSERT_TRUE(next.ok()) << next.status();
  EXPECT_EQ(study.trials().back().round, 1);
  ASSERT_EQ(study.regions().size(), 2);
  EXPECT_EQ(study.regions()[1].round(), 1);
  ASSERT_TRUE(study.Ask(*sampler).ok());
  ASSERT_TRUE(study.Ask(*sampler).ok());
  for (int64_t id = 4; id <= 6; ++id) study.Finish(id, 1.0);
  EXPECT_TRUE(absl::IsOutOfRange(study.Ask(*sampler).status()));
}

TEST(CoarseToFineTest, HonoursARegionTheUserRefined) {
  const SearchSpace space = Space();
  auto sampler = MakeSampler("coarse_to_fine", space, FourRounds());
  SimStudy study(space, 4);
  ASSERT_TRUE(study
                  .Run(
                      *sampler, [&](auto& u) { return Loss(space, u); }, 30, 2)
                  .ok());
  const int sampler_round = study.regions().rbegin()->round();
  // `caviar refine --param lr=1e-5:1e-4` names one parameter: the other keeps
  // the current region's bounds.
  caviar::v1::Region refine;
  refine.set_round(sampler_round + 1);
  refine.set_origin("refine");
  (*refine.mutable_lo())["lr"] = 1.0 / 6;
  (*refine.mutable_hi())["lr"] = 2.0 / 6;
  *study.regions().Add() = refine;
  const caviar::v1::Region& before = study.regions()[study.regions().size() - 2];
  for (int k = 0; k < 20; ++k) {
    absl::StatusOr<int64_t> id = study.Ask(*sampler);
    ASSERT_TRUE(id.ok()) << id.status();
    const TrialPoint& t = study.trials()[*id - 1];
    EXPECT_EQ(t.round, sampler_round + 1);
    EXPECT_FALSE(study.last().new_region.has_value());
    const double lr = space.FromUnitPoint(t.unit)["lr"].double_value();
    EXPECT_GE(lr, 1e-5 * (1 - 1e-9));
    EXPECT_LE(lr, 1e-4 * (1 + 1e-9));
    EXPECT_GE(t.unit[1], before.lo().at("shift") - 1e-9);
    EXPECT_LE(t.unit[1], before.hi().at("shift") + 1e-9);
  }
}

TEST(CoarseToFineTest, RejectsBadOptions) {
  caviar::v1::Algorithm algorithm;
  algorithm.set_name("coarse_to_fine");
  *algorithm.mutable_options() = Struct({{"rounds", Number(0)}});
  EXPECT_THAT(CreateSampler(algorithm, Space()).status().message(),
              HasSubstr("algorithm.options.rounds: must be in [1, 1000], got 0"));
  *algorithm.mutable_options() = Struct({{"top_fraction", Number(1.5)}});
  EXPECT_THAT(CreateSampler(algorithm, Space()).status().message(),
              HasSubstr("algorithm.options.top_fraction: must be in"));
  *algorithm.mutable_options() = Struct({{"max_volume", Number(0)}});
  EXPECT_THAT(CreateSampler(algorithm, Space()).status().message(),
              HasSubstr("algorithm.options.max_volume: must be in [0.01, 1], got 0"));
}

}  // namespace
}  // namespace caviar::search
