// server/search/pbt.h: options, the parent pick, and explore on each scale.
#include "server/search/pbt.h"

#include <cmath>
#include <set>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace caviar::search {
namespace {

using ::testing::HasSubstr;

SearchSpace Space() {
  google::protobuf::RepeatedPtrField<caviar::v1::ParameterSpec> params;
  auto* lr = params.Add();
  lr->set_name("lr");
  lr->mutable_double_()->set_min(1e-4);
  lr->mutable_double_()->set_max(1);
  lr->set_scale(caviar::v1::LOG);
  auto* beta = params.Add();
  beta->set_name("beta2");
  beta->mutable_double_()->set_min(0.9);
  beta->mutable_double_()->set_max(0.9999);
  beta->set_scale(caviar::v1::LOG1M);
  auto* units = params.Add();
  units->set_name("units");
  units->mutable_integer()->set_min(1);
  units->mutable_integer()->set_max(100);
  auto* batch = params.Add();
  batch->set_name("batch");
  for (double v : {16, 32, 64, 128}) batch->mutable_discrete()->add_values(v);
  auto* act = params.Add();
  act->set_name("act");
  act->mutable_categorical()->add_values("relu");
  act->mutable_categorical()->add_values("tanh");
  absl::StatusOr<SearchSpace> space = SearchSpace::Create(params);
  EXPECT_TRUE(space.ok()) << space.status();
  return *std::move(space);
}

ParameterMap Parent() {
  ParameterMap p;
  p["lr"].set_double_value(0.01);
  p["beta2"].set_double_value(0.99);
  p["units"].set_int_value(3);
  p["batch"].set_double_value(32);
  p["act"].set_string_value("tanh");
  return p;
}

TEST(PbtOptions, DefaultsAndPreciseErrors) {
  google::protobuf::Struct options;
  absl::StatusOr<PbtOptions> parsed = ParsePbtOptions(options);
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->quantile, 0.25);
  EXPECT_EQ(parsed->resample_probability, 0.25);

  (*options.mutable_fields())["quantile"].set_number_value(0.7);
  EXPECT_THAT(std::string(ParsePbtOptions(options).status().message()),
              HasSubstr("algorithm.options.quantile"));
  options.clear_fields();
  (*options.mutable_fields())["resample_probability"].set_number_value(-0.1);
  EXPECT_THAT(std::string(ParsePbtOptions(options).status().message()),
              HasSubstr("algorithm.options.resample_probability"));
  options.clear_fields();
  (*options.mutable_fields())["truncation"].set_number_value(1);
  EXPECT_THAT(std::string(ParsePbtOptions(options).status().message()),
              HasSubstr("truncation"));
}

TEST(PbtPickParent, OnlyTheBottomQuantileCopiesOneOfTheTop) {
  PbtOptions options;  // quantile 0.25
  std::vector<PbtStanding> standings;
  for (int i = 1; i <= 8; ++i) standings.push_back({i, double(i), 3});  // 1 best.
  std::set<int64_t> parents;
  for (uint64_t seed = 0; seed < 200; ++seed) {
    for (int64_t self : {7, 8}) {
      std::optional<int64_t> parent = PbtPickParent(options, self, standings, seed);
      ASSERT_TRUE(parent.has_value());
      parents.insert(*parent);
    }
    for (int64_t self = 1; self <= 6; ++self)
      EXPECT_FALSE(PbtPickParent(options, self, standings, seed).has_value());
  }
  EXPECT_EQ(parents, (std::set<int64_t>{1, 2}));
  // Alone: nothing to copy.
  EXPECT_FALSE(PbtPickParent(options, 1, {{1, 5.0, 1}}, 1).has_value());
  // Two: the worse copies the better.
  EXPECT_EQ(PbtPickParent(options, 2, {{1, 1.0, 1}, {2, 2.0, 1}}, 1), 1);
}

TEST(PbtExplore, PerturbsEachParameterOnItsOwnScale) {
  const SearchSpace space = Space();
  std::set<double> lr_ratios, beta_ratios;
  std::set<int64_t> units;
  std::set<double> batches;
  for (uint64_t seed = 0; seed < 200; ++seed) {
    absl::StatusOr<PbtExplored> e = PbtExplore(space, Parent(), 0, seed);
    ASSERT_TRUE(e.ok()) << e.status();
    EXPECT_TRUE(e->resampled.empty());
    const ParameterMap& p = e->parameters;
    lr_ratios.insert(std::round(p.at("lr").double_value() / 0.01 * 1000) / 1000);
    beta_ratios.insert(std::round((1 - p.at("beta2").double_value()) / 0.01 * 1000) /
                       1000);
    units.insert(p.at("units").int_value());
    batches.insert(p.at("batch").double_value());
    EXPECT_EQ(p.at("act").string_value(), "tanh");
  }
  EXPECT_EQ(lr_ratios, (std::set<double>{0.8, 1.2}));
  EXPECT_EQ(beta_ratios, (std::set<double>{0.8, 1.2}));
  EXPECT_EQ(units, (std::set<int64_t>{2, 4}));  // 3 * 0.8 and 3 * 1.2 move a step.
  EXPECT_EQ(batches, (std::set<double>{16, 64}));
}

TEST(PbtExplore, ClampsIntoTheRangeAndResamples) {
  const SearchSpace space = Space();
  ParameterMap top = Parent();
  top["lr"].set_double_value(1);
  top["batch"].set_double_value(128);
  for (uint64_t seed = 0; seed < 50; ++seed) {
    absl::StatusOr<PbtExplored> e = PbtExplore(space, top, 0, seed);
    ASSERT_TRUE(e.ok());
    EXPECT_LE(e->parameters.at("lr").double_value(), 1);
    EXPECT_LE(e->parameters.at("batch").double_value(), 128);
  }
  std::set<std::string> acts;
  for (uint64_t seed = 0; seed < 50; ++seed) {
    absl::StatusOr<PbtExplored> e = PbtExplore(space, Parent(), 1, seed);
    ASSERT_TRUE(e.ok());
    EXPECT_EQ(e->resampled.size(), 5u);
    acts.insert(e->parameters.at("act").string_value());
    EXPECT_TRUE(space.ToUnitPoint(e->parameters).ok());
  }
  EXPECT_EQ(acts, (std::set<std::string>{"relu", "tanh"}));
  ParameterMap missing = Parent();
  missing.erase("units");
  EXPECT_THAT(std::string(PbtExplore(space, missing, 0, 1).status().message()),
              HasSubstr("units"));
}

}  // namespace
}  // namespace caviar::search
