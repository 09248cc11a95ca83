#include "server/scheduling/spec_validation.h"

#include <functional>

#include "gmock/gmock.h"
#include "google/protobuf/text_format.h"
#include "gtest/gtest.h"

namespace caviar::scheduling {
namespace {

using ::testing::HasSubstr;

caviar::v1::StudySpec ValidSpec() {
  caviar::v1::StudySpec spec;
  google::protobuf::TextFormat::ParseFromString(
      R"pb(
        name: "quadratic"
        objective { metric: "dev_accuracy" goal: MAXIMIZE }
        parameters {
          name: "learning_rate"
          double { min: 1e-4 max: 1 }
          scale: LOG
        }
        parameters {
          name: "beta1"
          double { min: 0.9 max: 0.999 }
          scale: LOG1M
        }
        parameters {
          name: "layers"
          integer { min: 2 max: 4 }
        }
        parameters {
          name: "optimizer"
          categorical { values: [ "adam", "momentum" ] }
        }
        algorithm { name: "random" }
        budget { max_trials: 10 max_parallel_trials: 2 }
        command { argv: [ "train", "--lr={learning_rate}", "{{literal}}" ] }
      )pb",
      &spec);
  return spec;
}

struct Case {
  std::string name;
  std::function<void(caviar::v1::StudySpec&)> mutate;
  std::string expected;
};

class SpecValidationTest : public ::testing::TestWithParam<Case> {};

TEST(SpecValidation, AcceptsAValidSpec) {
  EXPECT_TRUE(ValidateStudySpec(ValidSpec(), nullptr).ok())
      << ValidateStudySpec(ValidSpec(), nullptr);
}

TEST_P(SpecValidationTest, NamesTheFieldAndTheReason) {
  caviar::v1::StudySpec spec = ValidSpec();
  GetParam().mutate(spec);
  absl::Status status = ValidateStudySpec(spec, nullptr);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
  EXPECT_THAT(status.message(), HasSubstr(GetParam().expected));
}

INSTANTIATE_TEST_SUITE_P(
    Cases, SpecValidationTest,
    ::testing::Values(
        Case{"EmptyName", [](auto& s) { s.clear_name(); }, "name: is empty"},
        Case{"BadName", [](auto& s) { s.set_name("a b"); },
             "name: \"a b\" may hold only"},
        Case{"NoMetric", [](auto& s) { s.mutable_objective()->clear_metric(); },
             "objective.metric: is empty"},
        Case{"NoGoal", [](auto& s) { s.mutable_objective()->clear_goal(); },
             "objective.goal: must be MAXIMIZE or MINIMIZE"},
        Case{"NoParameters", [](auto& s) { s.clear_parameters(); },
             "parameters: at least one parameter"},
        Case{"MinNotBelowMax",
             [](auto& s) { s.mutable_parameters(0)->mutable_double_()->set_min(2); },
             "parameters[0] (learning_rate): double needs min < max"},
        Case{"LogWithZeroMin",
             [](auto& s) { s.mutable_parameters(0)->mutable_double_()->set_min(0); },
             "parameters[0] (learning_rate): LOG scale needs min > 0"},
        Case{"Log1mOutsideUnit",
             [](auto& s) { s.mutable_parameters(1)->mutable_double_()->set_max(1.0); },
             "parameters[1] (beta1): LOG1M scale needs 0 < min < max < 1"},
        Case{"IntegerMinAboveMax",
             [](auto& s) { s.mutable_parameters(2)->mutable_integer()->set_min(9); },
             "parameters[2] (layers): integer needs min <= max"},
        Case{"DuplicateParameter",
             [](auto& s) { s.mutable_parameters(3)->set_name("layers"); },
             "parameters[3] (layers): duplicate parameter name"},
        Case{"EmptyParameterName", [](auto& s) { s.mutable_parameters(2)->clear_name(); },
             "parameters[2]: name is empty"},
        Case{"DuplicateCategory",
             [](auto& s) {
               s.mutable_parameters(3)->mutable_categorical()->add_values("adam");
             },
             "categorical value \"adam\" appears twice"},
        Case{"UnknownAlgorithm",
             [](auto& s) { s.mutable_algorithm()->set_name("bayes"); },
             "algorithm.name: unknown algorithm \"bayes\""},
        Case{"UnknownPruner", [](auto& s) { s.mutable_pruner()->set_name("oracle"); },
             "pruner.name: unknown pruner \"oracle\""},
        Case{"UnknownAlgorithmOption",
             [](auto& s) {
               (*s.mutable_algorithm()->mutable_options()->mutable_fields())["speed"]
                   .set_number_value(3);
             },
             "algorithm.options.speed: unknown option"},
        Case{"NoTrials", [](auto& s) { s.mutable_budget()->set_max_trials(0); },
             "budget.max_trials: must be >= 1, got 0"},
        Case{"NegativeParallel",
             [](auto& s) { s.mutable_budget()->set_max_parallel_trials(-1); },
             "budget.max_parallel_trials: must be >= 0"},
        Case{"NegativeLease",
             [](auto& s) { s.mutable_trial_policy()->set_lease_seconds(-5); },
             "trial_policy.lease_seconds: must be in"},
        Case{"NegativeRetries",
             [](auto& s) { s.mutable_trial_policy()->set_max_retries(-1); },
             "trial_policy.max_retries: must be in [0, 100]"},
        Case{"NoObjective", [](auto& s) { s.clear_command(); },
             "a study needs an objective: command or trainer"},
        Case{"EmptyArgv", [](auto& s) { s.mutable_command()->clear_argv(); },
             "command.argv: is empty"},
        Case{"UnknownPlaceholder",
             [](auto& s) { s.mutable_command()->add_argv("--x={momentum}"); },
             "command.argv[3]: placeholder {momentum} names no parameter"},
        Case{"UnclosedPlaceholder",
             [](auto& s) { s.mutable_command()->add_argv("--x={layers"); },
             "command.argv[3]: unclosed '{'"}),
    [](const ::testing::TestParamInfo<Case>& info) { return info.param.name; });

TEST(SpecValidation, RunsTheObjectiveValidatorLast) {
  auto validator = [](const caviar::v1::StudySpec&) {
    return absl::InvalidArgumentError("trainer.settings.optimizer: unknown");
  };
  EXPECT_THAT(ValidateStudySpec(ValidSpec(), validator).message(),
              HasSubstr("trainer.settings.optimizer"));
}

}  // namespace
}  // namespace caviar::scheduling
