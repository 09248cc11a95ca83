// Runs every registered sampler through the same checks: points inside the
// unit cube and values inside their declared ranges, on every scale and for
// categories; the same points for the same seed and history; no repeated
// configuration in a finite space, ending with OUT_OF_RANGE once all are
// taken; sensible answers while many trials are still running.
#include <cmath>
#include <set>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/search/finite.h"
#include "server/search/sampler.h"
#include "tests/search/study_loop.h"

namespace caviar::search {
namespace {

using ::caviar::search::testing::CategoricalParam;
using ::caviar::search::testing::DiscreteParam;
using ::caviar::search::testing::DoubleParam;
using ::caviar::search::testing::IntParam;
using ::caviar::search::testing::MakeSampler;
using ::caviar::search::testing::MakeSpace;
using ::caviar::search::testing::SimStudy;
using ::caviar::search::testing::Struct;
using ::testing::HasSubstr;

SearchSpace MixedSpace() {
  return MakeSpace({DoubleParam("learning_rate", 1e-4, 1, caviar::v1::LOG),
                    DoubleParam("beta1", 0.9, 0.999, caviar::v1::LOG1M),
                    IntParam("hidden_units", 50, 100), IntParam("layers", 2, 4),
                    CategoricalParam("optimizer", {"adam", "momentum", "rmsprop"}),
                    DiscreteParam("batch_size", {32, 64, 128})});
}

// A smooth function of the unit point with its optimum inside the cube.
double Bowl(const std::vector<double>& u) {
  double s = 0;
  for (size_t i = 0; i < u.size(); ++i)
    s += (u[i] - 0.3 - 0.05 * i) * (u[i] - 0.3 - 0.05 * i);
  return s;
}

class SamplerConformanceTest : public ::testing::TestWithParam<std::string> {};

TEST_P(SamplerConformanceTest, PointsAndValuesStayInRange) {
  const SearchSpace space = MixedSpace();
  auto sampler = MakeSampler(GetParam(), space);
  ASSERT_NE(sampler, nullptr);
  SimStudy study(space, 42);
  absl::Status end = study.Run(*sampler, Bowl, 60, 3);
  ASSERT_TRUE(end.ok() || absl::IsOutOfRange(end)) << end;
  ASSERT_GE(study.trials().size(), 20u);
  std::set<std::string> optimizers;
  for (const TrialPoint& t : study.trials()) {
    ASSERT_EQ(t.unit.size(), 6u);
    for (double u : t.unit) {
      EXPECT_GE(u, 0.0);
      EXPECT_LE(u, 1.0);
    }
    ParameterMap values = space.FromUnitPoint(t.unit);
    const double lr = values["learning_rate"].double_value();
    EXPECT_GE(lr, 1e-4);
    EXPECT_LE(lr, 1.0);
    const double beta = values["beta1"].double_value();
    EXPECT_GE(beta, 0.9);
    EXPECT_LE(beta, 0.999);
    EXPECT_GE(values["hidden_units"].int_value(), 50);
    EXPECT_LE(values["hidden_units"].int_value(), 100);
    EXPECT_GE(values["layers"].int_value(), 2);
    EXPECT_LE(values["layers"].int_value(), 4);
    EXPECT_THAT(std::vector<double>({32, 64, 128}),
                ::testing::Contains(values["batch_size"].double_value()));
    optimizers.insert(values["optimizer"].string_value());
  }
  EXPECT_THAT(optimizers, ::testing::IsSubsetOf({"adam", "momentum", "rmsprop"}));
}

TEST_P(SamplerConformanceTest, SameSeedAndHistoryGiveTheSamePoints) {
  const SearchSpace space = MixedSpace();
  auto first = MakeSampler(GetParam(), space);
  auto second = MakeSampler(GetParam(), space);
  SimStudy a(space, 7), b(space, 7);
  ASSERT_TRUE(a.Run(*first, Bowl, 45, 4).ok());
  ASSERT_TRUE(b.Run(*second, Bowl, 45, 4).ok());
  ASSERT_EQ(a.trials().size(), b.trials().size());
  for (size_t k = 0; k < a.trials().size(); ++k) {
    EXPECT_EQ(a.trials()[k].unit, b.trials()[k].unit) << "trial " << k;
  }
  // The same sampler asked twice with the same context answers the same,
  // and a sampler that saw another history first does too.
  auto s1 = first->Suggest(a.Context());
  auto s2 = first->Suggest(a.Context());
  SimStudy other(space, 99);
  ASSERT_TRUE(other.Run(*second, Bowl, 12, 2).ok());
  auto s3 = second->Suggest(a.Context());
  ASSERT_EQ(s1.ok(), s2.ok());
  ASSERT_EQ(s1.ok(), s3.ok());
  if (s1.ok()) {
    EXPECT_EQ(s1->unit, s2->unit);
    EXPECT_EQ(s1->unit, s3->unit);
  }
}

TEST_P(SamplerConformanceTest, NeverRepeatsAConfigurationOfAFiniteSpace) {
  const SearchSpace space =
      MakeSpace({CategoricalParam("optimizer", {"adam", "momentum", "rmsprop"}),
                 IntParam("layers", 1, 4), DiscreteParam("batch_size", {32, 128})});
  ASSERT_EQ(space.TotalCardinality(), 24);
  for (int parallel : {1, 4}) {
    auto sampler = MakeSampler(GetParam(), space);
    SimStudy study(space, 5);
    // An enqueued configuration is taken too.
    study.Finish(study.Add({0.1, 0.1, 0.9}), 1.0);
    absl::Status end = study.Run(*sampler, Bowl, 200, parallel);
    EXPECT_TRUE(absl::IsOutOfRange(end)) << end;
    std::set<int64_t> keys;
    for (const TrialPoint& t : study.trials()) {
      EXPECT_TRUE(keys.insert(ConfigurationKey(space, t.unit)).second)
          << "repeated configuration at trial " << t.id << " (parallel " << parallel
          << ")";
    }
    EXPECT_EQ(keys.size(), 24u);
  }
}

TEST_P(SamplerConformanceTest, SpreadsOutWhileTrialsAreRunning) {
  const SearchSpace space = MakeSpace({DoubleParam("x", 0, 1), DoubleParam("y", -1, 1)});
  auto sampler = MakeSampler(GetParam(), space);
  SimStudy study(space, 3);
  ASSERT_TRUE(study.Run(*sampler, Bowl, 20, 1).ok());
  // Eight workers ask at once: nothing finishes in between.
  std::vector<std::vector<double>> asked;
  for (int k = 0; k < 8; ++k) {
    absl::StatusOr<int64_t> id = study.Ask(*sampler);
    if (!id.ok()) {
      EXPECT_TRUE(absl::IsUnavailable(id.status()) || absl::IsOutOfRange(id.status()))
          << id.status();
      break;
    }
    asked.push_back(study.trials()[*id - 1].unit);
  }
  for (size_t a = 0; a < asked.size(); ++a) {
    for (size_t b = a + 1; b < asked.size(); ++b) {
      EXPECT_GT(std::hypot(asked[a][0] - asked[b][0], asked[a][1] - asked[b][1]), 1e-3)
          << "suggestions " << a << " and " << b << " coincide";
    }
  }
}

TEST_P(SamplerConformanceTest, SamplesInsideARefinedRegion) {
  if (GetParam() == "grid")
    GTEST_SKIP() << "a grid is fixed; refine refuses grid studies";
  const SearchSpace space = MakeSpace({DoubleParam("x", 0, 1), DoubleParam("y", -1, 1)});
  auto sampler = MakeSampler(GetParam(), space);
  EXPECT_TRUE(sampler->SamplesRegions());  // The scheduler must not map it again.
  SimStudy study(space, 8);
  ASSERT_TRUE(study.Run(*sampler, Bowl, 24, 2).ok());
  caviar::v1::Region refine;  // As `caviar refine` records it.
  refine.set_round(9);
  refine.set_origin("refine");
  (*refine.mutable_lo())["x"] = 0.6;
  (*refine.mutable_hi())["x"] = 0.7;
  (*refine.mutable_lo())["y"] = 0.1;
  (*refine.mutable_hi())["y"] = 0.3;
  *study.regions().Add() = refine;
  for (int k = 0; k < 12; ++k) {
    absl::StatusOr<int64_t> id = study.Ask(*sampler);
    ASSERT_TRUE(id.ok()) << id.status();
    const TrialPoint& t = study.trials()[*id - 1];
    EXPECT_EQ(t.round, 9);
    EXPECT_GE(t.unit[0], 0.6 - 1e-9);
    EXPECT_LE(t.unit[0], 0.7 + 1e-9);
    EXPECT_GE(t.unit[1], 0.1 - 1e-9);
    EXPECT_LE(t.unit[1], 0.3 + 1e-9);
    study.Finish(*id, Bowl(t.unit));
  }
}

TEST_P(SamplerConformanceTest, FillsARefinedRegionOfAFiniteSpaceFirst) {
  if (GetParam() == "grid")
    GTEST_SKIP() << "a grid is fixed; refine refuses grid studies";
  const SearchSpace space =
      MakeSpace({CategoricalParam("optimizer", {"adam", "momentum", "rmsprop"}),
                 IntParam("layers", 1, 4)});
  auto sampler = MakeSampler(GetParam(), space);
  SimStudy study(space, 2);
  caviar::v1::Region refine;  // adam or momentum, 3 or 4 layers: 4 configurations.
  refine.set_round(1);
  refine.set_origin("refine");
  (*refine.mutable_lo())["optimizer"] = 0;
  (*refine.mutable_hi())["optimizer"] = 2.0 / 3;
  (*refine.mutable_lo())["layers"] = 0.5;
  (*refine.mutable_hi())["layers"] = 1;
  *study.regions().Add() = refine;
  std::set<int64_t> keys;
  for (int k = 0; k < 12; ++k) {
    absl::StatusOr<int64_t> id = study.Ask(*sampler);
    ASSERT_TRUE(id.ok()) << id.status();
    const TrialPoint& t = study.trials()[*id - 1];
    EXPECT_TRUE(keys.insert(ConfigurationKey(space, t.unit)).second) << "trial " << t.id;
    const bool inside = t.unit[0] < 2.0 / 3 && t.unit[1] > 0.5;
    if (k < 4) EXPECT_TRUE(inside) << "trial " << t.id << " left the region early";
    if (k >= 4) EXPECT_FALSE(inside) << "trial " << t.id;
    study.Finish(*id, 1.0 + k);
  }
  EXPECT_TRUE(absl::IsOutOfRange(study.Ask(*sampler).status()));
}

TEST_P(SamplerConformanceTest, RejectsUnknownOptions) {
  caviar::v1::Algorithm algorithm;
  algorithm.set_name(GetParam());
  google::protobuf::Value v;
  v.set_number_value(1);
  (*algorithm.mutable_options()->mutable_fields())["bogus"] = v;
  auto sampler = CreateSampler(algorithm, MixedSpace());
  ASSERT_FALSE(sampler.ok());
  EXPECT_TRUE(absl::IsInvalidArgument(sampler.status()));
  EXPECT_THAT(sampler.status().message(),
              HasSubstr("algorithm.options.bogus: unknown option"));
}

// Every sampler that searches: panda proposes one fixed starting point for
// its study's single trial (tests/search/panda_sampler_test.cc checks it).
std::vector<std::string> SearchingSamplers() {
  std::vector<std::string> names;
  for (const std::string& name : SamplerNames())
    if (name != "panda") names.push_back(name);
  return names;
}

INSTANTIATE_TEST_SUITE_P(AllSamplers, SamplerConformanceTest,
                         ::testing::ValuesIn(SearchingSamplers()),
                         [](const auto& info) { return info.param; });

TEST(SamplerRegistryTest, ListsTheBuiltInSamplers) {
  EXPECT_THAT(SamplerNames(), ::testing::IsSupersetOf({"coarse_to_fine", "grid", "panda",
                                                       "quasi_random", "random", "tpe"}));
  caviar::v1::Algorithm algorithm;
  algorithm.set_name("annealing");
  EXPECT_THAT(CreateSampler(algorithm, MixedSpace()).status().message(),
              HasSubstr("algorithm.name: unknown algorithm \"annealing\""));
}

}  // namespace
}  // namespace caviar::search
