// The panda "sampler": one fixed starting point (options.start, or the middle
// of each range on its scale), checked options naming the field.
#include <cmath>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/search/sampler.h"
#include "tests/search/study_loop.h"

namespace caviar::search {
namespace {

using ::caviar::search::testing::CategoricalParam;
using ::caviar::search::testing::DoubleParam;
using ::caviar::search::testing::IntParam;
using ::caviar::search::testing::MakeSpace;
using ::caviar::search::testing::Number;
using ::caviar::search::testing::SimStudy;
using ::testing::HasSubstr;

SearchSpace Space() {
  return MakeSpace({DoubleParam("learning_rate", 1e-4, 1e-1, caviar::v1::LOG),
                    IntParam("hidden_units", 32, 512),
                    CategoricalParam("optimizer", {"adam", "momentum", "rmsprop"})});
}

google::protobuf::Value Text(const std::string& s) {
  google::protobuf::Value v;
  v.set_string_value(s);
  return v;
}

absl::StatusOr<std::unique_ptr<Sampler>> Panda(
    const SearchSpace& space,
    const std::vector<std::pair<std::string, google::protobuf::Value>>& start) {
  caviar::v1::Algorithm algorithm;
  algorithm.set_name("panda");
  if (!start.empty()) {
    google::protobuf::Value v;
    for (const auto& [k, value] : start)
      (*v.mutable_struct_value()->mutable_fields())[k] = value;
    (*algorithm.mutable_options()->mutable_fields())["start"] = v;
  }
  return CreateSampler(algorithm, space);
}

TEST(PandaSamplerTest, StartsWhereTheSpecSaysAndAtTheMiddleOtherwise) {
  const SearchSpace space = Space();
  auto sampler =
      Panda(space, {{"learning_rate", Number(0.01)}, {"optimizer", Text("rmsprop")}});
  ASSERT_TRUE(sampler.ok()) << sampler.status();
  SimStudy study(space, 7);
  for (int i = 0; i < 3; ++i) {  // The same point every time (a replacement).
    absl::StatusOr<int64_t> id = study.Ask(**sampler);
    ASSERT_TRUE(id.ok()) << id.status();
    const ParameterMap values = space.FromUnitPoint(study.trials().back().unit);
    EXPECT_NEAR(values.at("learning_rate").double_value(), 0.01, 1e-12);
    EXPECT_EQ(values.at("optimizer").string_value(), "rmsprop");
    // 32..512 on a linear scale: the middle is 272.
    EXPECT_EQ(values.at("hidden_units").int_value(), 272);
    study.Finish(*id, 1.0);
  }
  auto middle = Panda(space, {});
  ASSERT_TRUE(middle.ok());
  SimStudy other(space, 1);
  ASSERT_TRUE(other.Ask(**middle).ok());
  const ParameterMap values = space.FromUnitPoint(other.trials().back().unit);
  // The geometric middle of [1e-4, 1e-1] on a LOG scale.
  EXPECT_NEAR(values.at("learning_rate").double_value(), std::pow(10.0, -2.5), 1e-12);
  EXPECT_EQ(values.at("optimizer").string_value(), "momentum");
}

TEST(PandaSamplerTest, RefusesBadStartsNamingTheField) {
  const SearchSpace space = Space();
  EXPECT_THAT(
      Panda(space, {{"momentum", Number(0.9)}}).status().message(),
      HasSubstr("algorithm.options.start.momentum: not a parameter of the study"));
  EXPECT_THAT(Panda(space, {{"learning_rate", Number(0.5)}}).status().message(),
              HasSubstr("algorithm.options.start.learning_rate: "));
  EXPECT_THAT(Panda(space, {{"hidden_units", Number(64.5)}}).status().message(),
              HasSubstr("algorithm.options.start.hidden_units: parameter hidden_units "
                        "takes an integer"));
  EXPECT_THAT(Panda(space, {{"optimizer", Text("sgd")}}).status().message(),
              HasSubstr("algorithm.options.start.optimizer: "));
  caviar::v1::Algorithm algorithm;
  algorithm.set_name("panda");
  (*algorithm.mutable_options()->mutable_fields())["start"] = Number(1);
  EXPECT_THAT(CreateSampler(algorithm, space).status().message(),
              HasSubstr("algorithm.options.start: must map parameter names"));
  (*algorithm.mutable_options()->mutable_fields())["rounds"] = Number(1);
  EXPECT_THAT(CreateSampler(algorithm, space).status().message(),
              HasSubstr("algorithm.options.rounds: unknown option"));
}

}  // namespace
}  // namespace caviar::search
