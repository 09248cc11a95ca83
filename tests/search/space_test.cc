#include "server/search/space.h"

#include <cmath>
#include <random>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/search/sampler.h"
#include "tests/search/study_loop.h"

namespace caviar::search {
namespace {

using ::testing::HasSubstr;

caviar::v1::ParameterSpec Double(const std::string& name, double min, double max,
                                 caviar::v1::Scale scale) {
  caviar::v1::ParameterSpec p;
  p.set_name(name);
  p.mutable_double_()->set_min(min);
  p.mutable_double_()->set_max(max);
  p.set_scale(scale);
  return p;
}

SearchSpace MakeSpace(std::vector<caviar::v1::ParameterSpec> params) {
  google::protobuf::RepeatedPtrField<caviar::v1::ParameterSpec> field(params.begin(),
                                                                      params.end());
  auto space = SearchSpace::Create(field);
  EXPECT_TRUE(space.ok()) << space.status();
  return *space;
}

absl::Status CreateError(std::vector<caviar::v1::ParameterSpec> params) {
  google::protobuf::RepeatedPtrField<caviar::v1::ParameterSpec> field(params.begin(),
                                                                      params.end());
  return SearchSpace::Create(field).status();
}

TEST(SpaceTest, LogScaleHasEqualMassPerDecade) {
  SearchSpace space = MakeSpace({Double("learning_rate", 1e-4, 1, caviar::v1::LOG)});
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> uniform;
  int per_decade[4] = {0, 0, 0, 0};
  const int n = 40000;
  for (int i = 0; i < n; ++i) {
    const double x = space.FromUnit(0, uniform(rng)).double_value();
    ASSERT_GE(x, 1e-4);
    ASSERT_LE(x, 1.0);
    per_decade[std::min(3, static_cast<int>(std::floor(std::log10(x) + 4)))]++;
  }
  for (int d = 0; d < 4; ++d) EXPECT_NEAR(per_decade[d], n / 4, n * 0.015) << d;
}

TEST(SpaceTest, Log1mGivesHalfTheSamplesBelowPointNineNine) {
  SearchSpace space = MakeSpace({Double("beta1", 0.9, 0.999, caviar::v1::LOG1M)});
  std::mt19937_64 rng(11);
  std::uniform_real_distribution<double> uniform;
  int low = 0;
  const int n = 40000;
  for (int i = 0; i < n; ++i) {
    const double x = space.FromUnit(0, uniform(rng)).double_value();
    ASSERT_GE(x, 0.9);
    ASSERT_LE(x, 0.999);
    if (x < 0.99) ++low;
  }
  EXPECT_NEAR(low, n / 2, n * 0.015);
}

TEST(SpaceTest, UnitRoundTripsOnEveryScale) {
  SearchSpace space = MakeSpace({Double("a", 1e-4, 1, caviar::v1::LOG),
                                 Double("b", 0.9, 0.999, caviar::v1::LOG1M),
                                 Double("c", -3, 5, caviar::v1::LINEAR)});
  for (double u : {0.0, 0.1, 0.5, 0.77, 1.0}) {
    for (int i = 0; i < 3; ++i) {
      auto back = space.ToUnit(i, space.FromUnit(i, u));
      ASSERT_TRUE(back.ok());
      EXPECT_NEAR(*back, u, 1e-9) << i;
    }
  }
  EXPECT_NEAR(space.FromUnit(0, 0.5).double_value(), 1e-2, 1e-12);
  EXPECT_NEAR(space.FromUnit(1, 0.5).double_value(), 0.99, 1e-12);
}

TEST(SpaceTest, IntegersAreUniformOverTheirValues) {
  caviar::v1::ParameterSpec layers;
  layers.set_name("layers");
  layers.mutable_integer()->set_min(2);
  layers.mutable_integer()->set_max(4);
  SearchSpace space = MakeSpace({layers});
  std::mt19937_64 rng(3);
  std::uniform_real_distribution<double> uniform;
  int count[3] = {0, 0, 0};
  for (int i = 0; i < 30000; ++i) count[space.FromUnit(0, uniform(rng)).int_value() - 2]++;
  for (int c : count) EXPECT_NEAR(c, 10000, 400);
  EXPECT_EQ(space.Cardinality(0), 3);
}

TEST(SpaceTest, CategoricalAndDiscreteRoundTrip) {
  caviar::v1::ParameterSpec opt;
  opt.set_name("optimizer");
  for (const char* v : {"adam", "momentum", "rmsprop"}) opt.mutable_categorical()->add_values(v);
  caviar::v1::ParameterSpec batch;
  batch.set_name("batch_size");
  for (double v : {128, 32, 64}) batch.mutable_discrete()->add_values(v);
  SearchSpace space = MakeSpace({opt, batch});
  EXPECT_EQ(space.TotalCardinality(), 9);
  EXPECT_EQ(space.FromUnit(1, 0.0).double_value(), 32);  // Sorted.
  EXPECT_EQ(space.FromUnit(0, 0.99).string_value(), "rmsprop");
  auto u = space.ToUnit(0, space.FromUnit(0, 0.5));
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(space.FromUnit(0, *u).string_value(), "momentum");
  caviar::v1::ParameterValue bad;
  bad.set_string_value("sgd");
  EXPECT_THAT(space.ToUnit(0, bad).status().message(), HasSubstr("optimizer"));
}

TEST(SpaceTest, ErrorsNameTheFieldAndTheReason) {
  EXPECT_THAT(CreateError({Double("lr", 0, 1, caviar::v1::LOG)}).message(),
              HasSubstr("parameters[0] (lr): LOG scale needs min > 0"));
  EXPECT_THAT(CreateError({Double("b", 0.9, 1.0, caviar::v1::LOG1M)}).message(),
              HasSubstr("parameters[0] (b): LOG1M scale needs 0 < min < max < 1"));
  EXPECT_THAT(CreateError({Double("x", 2, 1, caviar::v1::LINEAR)}).message(),
              HasSubstr("parameters[0] (x): double needs min < max"));
  EXPECT_THAT(CreateError({Double("x", 0, 1, caviar::v1::LINEAR),
                           Double("x", 0, 1, caviar::v1::LINEAR)})
                  .message(),
              HasSubstr("parameters[1] (x): duplicate parameter name"));
  EXPECT_THAT(CreateError({Double("", 0, 1, caviar::v1::LINEAR)}).message(),
              HasSubstr("parameters[0]: name is empty"));
  caviar::v1::ParameterSpec none;
  none.set_name("p");
  EXPECT_THAT(CreateError({none}).message(), HasSubstr("parameters[0] (p): needs one of"));
}

// Requests name parameters and categories: a huge one is not echoed whole.
TEST(SpaceTest, ErrorsQuoteAtMost64BytesOfAName) {
  SearchSpace space = MakeSpace({Double("lr", 1e-4, 1, caviar::v1::LOG)});
  ParameterMap params;
  params[std::string(1 << 20, 'n')].set_double_value(0.1);
  const absl::Status status = space.ToUnitPoint(params).status();
  EXPECT_THAT(status.message(), HasSubstr("unknown parameter \"" + std::string(64, 'n') +
                                          "... (1048576 bytes)\""));
  EXPECT_LT(status.message().size(), 200u);
  EXPECT_EQ(EchoForError("adam"), "adam");
}

TEST(SpaceTest, ParseAndFormatValues) {
  SearchSpace space = MakeSpace({Double("lr", 1e-4, 1, caviar::v1::LOG)});
  auto v = space.ParseValue(0, "1e-3");
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(FormatValue(*v), "0.001");
  EXPECT_FALSE(space.ParseValue(0, "5").ok());
  EXPECT_FALSE(space.ParseValue(0, "fast").ok());
}


// The same two properties end to end: points drawn by the samplers that do
// not adapt to results, turned into values by the space.
TEST(SpaceTest, SamplersKeepEqualMassPerDecadeAndPerDecadeOfOneMinusBeta) {
  SearchSpace space = MakeSpace({Double("learning_rate", 1e-4, 1, caviar::v1::LOG),
                                 Double("beta1", 0.9, 0.999, caviar::v1::LOG1M)});
  for (const char* name : {"random", "quasi_random"}) {
    auto sampler = testing::MakeSampler(name, space);
    testing::SimStudy study(space, 2024);
    const int n = 4000;
    ASSERT_TRUE(study.Run(*sampler, [](auto&) { return 0.0; }, n, 1).ok());
    int per_decade[4] = {0, 0, 0, 0};
    int beta_low = 0;
    for (const TrialPoint& t : study.trials()) {
      ParameterMap v = space.FromUnitPoint(t.unit);
      const double lr = v["learning_rate"].double_value();
      per_decade[std::min(3, static_cast<int>(std::floor(std::log10(lr) + 4)))]++;
      beta_low += v["beta1"].double_value() < 0.99;
    }
    // Binomial sd: sqrt(4000 * 0.25 * 0.75) = 27 per decade; 31.6 for the
    // halves. Four sd of slack for random; quasi_random is near exact.
    const double slack = std::string(name) == "random" ? 4 : 0.5;
    for (int d = 0; d < 4; ++d) EXPECT_NEAR(per_decade[d], n / 4, slack * 27.4) << name << " " << d;
    EXPECT_NEAR(beta_low, n / 2, slack * 31.6) << name;
  }
}

}  // namespace
}  // namespace caviar::search
