#include "client/spec_overrides.h"

#include "client/spec_loader.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace caviar::client {
namespace {

using ::testing::HasSubstr;

constexpr char kSpec[] = R"(name: s
objective: {metric: acc, goal: MAXIMIZE}
parameters:
  - {name: lr, double: {min: 1e-4, max: 1}, scale: LOG}
  - {name: units, integer: {min: 50, max: 100}}
budget: {max_trials: 10}
command: {argv: [train]}
)";

TEST(SpecOverridesTest, SetsScalarsListsAndNewKeys) {
  auto yaml =
      ApplyOverrides(kSpec, {"budget.max_trials=60", "parameters.1.integer.max=200",
                             "budget.max_parallel_trials=4", "seed=9",
                             "command.argv=[python3, train.py]"});
  ASSERT_TRUE(yaml.ok()) << yaml.status();
  auto spec = ParseSpecYaml(*yaml);
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_EQ(spec->budget().max_trials(), 60);
  EXPECT_EQ(spec->budget().max_parallel_trials(), 4);
  EXPECT_EQ(spec->parameters(1).integer().max(), 200);
  EXPECT_EQ(spec->seed(), 9u);
  ASSERT_EQ(spec->command().argv_size(), 2);
  EXPECT_EQ(spec->command().argv(1), "train.py");
}

TEST(SpecOverridesTest, BadOverridesNameThemselves) {
  EXPECT_THAT(ApplyOverrides(kSpec, {"budget"}).status().message(),
              HasSubstr("--set budget: expected KEY=VALUE"));
  EXPECT_THAT(ApplyOverrides(kSpec, {"parameters.5.name=x"}).status().message(),
              HasSubstr("--set parameters.5.name: \"5\" is not an index of a list of 2"));
  EXPECT_THAT(ApplyOverrides(kSpec, {"name.first=x"}).status().message(),
              HasSubstr("inside a scalar"));
  // Unknown keys pass through here and are refused by the spec's schema.
  auto yaml = ApplyOverrides(kSpec, {"budget.max_trails=3"});
  ASSERT_TRUE(yaml.ok());
  EXPECT_THAT(ParseSpecYaml(*yaml).status().message(), HasSubstr("budget.max_trails"));
}

TEST(SpecOverridesTest, NoOverridesLeaveTheTextAlone) {
  EXPECT_EQ(*ApplyOverrides(kSpec, {}), kSpec);
}

}  // namespace
}  // namespace caviar::client
