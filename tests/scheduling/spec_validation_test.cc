#include "server/scheduling/spec_validation.h"

#include <functional>
#include <limits>
#include <string>

#include "absl/strings/str_cat.h"
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

TEST(SpecValidation, AcceptsAnExternalSpec) {
  caviar::v1::StudySpec spec = ValidSpec();
  spec.mutable_external();  // Trials run by SDK clients: nothing to run here.
  EXPECT_TRUE(ValidateStudySpec(spec, nullptr).ok());
  EXPECT_EQ(RunKindOf(spec), caviar::v1::RUN_KIND_EXTERNAL);
}

TEST(RunKinds, EmptyMeansCommandAndTrainer) {
  google::protobuf::RepeatedField<int> none;
  caviar::v1::StudySpec spec = ValidSpec();
  EXPECT_TRUE(CanRun(none, spec));
  spec.mutable_trainer();
  EXPECT_TRUE(CanRun(none, spec));
  spec.mutable_external();
  EXPECT_FALSE(CanRun(none, spec));
  google::protobuf::RepeatedField<int> external;
  external.Add(caviar::v1::RUN_KIND_EXTERNAL);
  EXPECT_TRUE(CanRun(external, spec));
  EXPECT_FALSE(CanRun(external, ValidSpec()));
}

TEST(RunKinds, UnknownKindsNameTheElement) {
  google::protobuf::RepeatedField<int> kinds;
  kinds.Add(caviar::v1::RUN_KIND_COMMAND);
  EXPECT_TRUE(ValidateRunKinds(kinds).ok());
  kinds.Add(9);
  EXPECT_THAT(ValidateRunKinds(kinds).message(),
              HasSubstr("run_kinds[1]: unknown run kind 9"));
  kinds.Set(1, caviar::v1::RUN_KIND_UNSPECIFIED);
  EXPECT_THAT(ValidateRunKinds(kinds).message(),
              HasSubstr("run_kinds[1]: unknown run kind 0"));
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
             "command: a study needs an objective: command, trainer, or external"},
        Case{"EmptyArgv", [](auto& s) { s.mutable_command()->clear_argv(); },
             "command.argv: is empty"},
        Case{"UnknownPlaceholder",
             [](auto& s) { s.mutable_command()->add_argv("--x={momentum}"); },
             "command.argv[3]: placeholder {momentum} names no parameter"},
        Case{"UnclosedPlaceholder",
             [](auto& s) { s.mutable_command()->add_argv("--x={layers"); },
             "command.argv[3]: unclosed '{'"},
        Case{"TooManyParameters",
             [](auto& s) {
               for (int i = 0; i < 1000; ++i) {
                 auto* p = s.add_parameters();
                 p->set_name(absl::StrCat("p", i));
                 p->mutable_integer()->set_max(1);
               }
             },
             "parameters: 1004 parameters, over the limit of 1000"},
        Case{"SpecOverOneMebibyte",
             [](auto& s) { s.set_description(std::string(1 << 20, 'x')); },
             "spec: serialized size 1048"},
        Case{"LongDescription",
             [](auto& s) { s.set_description(std::string(4097, 'x')); },
             "description: 4097 bytes, over the limit of 4096"},
        Case{"LongStudyName", [](auto& s) { s.set_name(std::string(129, 'a')); },
             "name: 129 bytes, over the limit of 128"},
        Case{"LongMetric",
             [](auto& s) { s.mutable_objective()->set_metric(std::string(129, 'm')); },
             "objective.metric: 129 bytes, over the limit of 128"},
        Case{"MetricWithSpace",
             [](auto& s) { s.mutable_objective()->set_metric("dev accuracy"); },
             "objective.metric: \"dev accuracy\" may hold only"},
        Case{"LongCategory",
             [](auto& s) {
               s.mutable_parameters(3)->mutable_categorical()->add_values(
                   std::string(4097, 'c'));
             },
             "parameters[3].categorical.values[2]: 4097 bytes, over the limit of 4096"},
        Case{"LongArgument",
             [](auto& s) { s.mutable_command()->add_argv(std::string(4097, 'a')); },
             "command.argv[3]: 4097 bytes, over the limit of 4096"},
        Case{"LongEnvironmentValue",
             [](auto& s) {
               (*s.mutable_command()->mutable_env())["HOME"] = std::string(4097, 'v');
             },
             "command.env[HOME]: 4097 bytes, over the limit of 4096"},
        Case{"BadEnvironmentName",
             [](auto& s) { (*s.mutable_command()->mutable_env())["A=B"] = "1"; },
             "command.env: name \"A=B\" must be letters, digits and _"},
        Case{"LongAlgorithmName",
             [](auto& s) { s.mutable_algorithm()->set_name(std::string(200, 'a')); },
             "algorithm.name: 200 bytes, over the limit of 128"},
        Case{"LongOptionKey",
             [](auto& s) {
               (*s.mutable_algorithm()->mutable_options()->mutable_fields())[std::string(
                                                                                 129, 'k')]
                   .set_number_value(1);
             },
             "algorithm.options: key of 129 bytes, over the limit of 128"},
        Case{"LongOptionString",
             [](auto& s) {
               (*s.mutable_pruner()->mutable_options()->mutable_fields())["metric"]
                   .set_string_value(std::string(4097, 's'));
             },
             "pruner.options.metric: 4097 bytes, over the limit of 4096"},
        Case{"LongDatasetPath",
             [](auto& s) {
               s.mutable_trainer()->mutable_dataset()->mutable_idx()->set_train_images(
                   std::string(4097, 'p'));
             },
             "trainer.dataset.idx.train_images: 4097 bytes, over the limit of 4096"},
        Case{"InfiniteBound",
             [](auto& s) {
               s.mutable_parameters(0)->mutable_double_()->set_max(
                   std::numeric_limits<double>::infinity());
             },
             "parameters[0] (learning_rate): double min and max must be finite"},
        Case{"RangeWiderThanADouble",
             [](auto& s) {
               s.mutable_parameters(0)->set_scale(caviar::v1::LINEAR);
               s.mutable_parameters(0)->mutable_double_()->set_min(-1e308);
               s.mutable_parameters(0)->mutable_double_()->set_max(1e308);
             },
             "parameters[0] (learning_rate): double range [-1e+308, 1e+308] is wider "
             "than a double can hold"},
        Case{"ZeroLease",
             [](auto& s) { s.mutable_trial_policy()->set_lease_seconds(0); },
             "trial_policy.lease_seconds: must be in [1, 604800]"},
        Case{"GridOrder",
             [](auto& s) {
               s.mutable_algorithm()->set_name("grid");
               (*s.mutable_algorithm()->mutable_options()->mutable_fields())["order"]
                   .set_string_value("spiral");
             },
             "algorithm.options.order: must be one of lexicographic, shuffled"}),
    [](const ::testing::TestParamInfo<Case>& info) { return info.param.name; });

TEST(SpecValidation, AcceptsEveryLimitExactly) {
  caviar::v1::StudySpec spec = ValidSpec();
  spec.set_name(std::string(128, 'n'));
  spec.set_description(std::string(4096, 'd'));
  spec.mutable_objective()->set_metric(std::string(128, 'm'));
  spec.mutable_command()->add_argv(std::string(4096, 'a'));
  (*spec.mutable_command()->mutable_env())["OMP_NUM_THREADS"] = std::string(4096, '1');
  spec.mutable_parameters(3)->mutable_categorical()->add_values(std::string(4096, 'c'));
  for (int i = 4; i < 1000; ++i) {
    auto* p = spec.add_parameters();
    p->set_name(absl::StrCat("p", i));
    p->mutable_double_()->set_max(1);
  }
  spec.mutable_trial_policy()->set_max_retries(0);
  spec.mutable_command()->set_grace_seconds(0);
  EXPECT_TRUE(ValidateStudySpec(spec, nullptr).ok()) << ValidateStudySpec(spec, nullptr);
  spec.mutable_parameters(0)->set_scale(caviar::v1::LINEAR);
  spec.mutable_parameters(0)->mutable_double_()->set_min(-8e307);
  spec.mutable_parameters(0)->mutable_double_()->set_max(8e307);
  EXPECT_TRUE(ValidateStudySpec(spec, nullptr).ok()) << ValidateStudySpec(spec, nullptr);
}

TEST(SpecValidation, RunsTheObjectiveValidatorLast) {
  auto validator = [](const caviar::v1::StudySpec&) {
    return absl::InvalidArgumentError("trainer.settings.optimizer: unknown");
  };
  EXPECT_THAT(ValidateStudySpec(ValidSpec(), validator).message(),
              HasSubstr("trainer.settings.optimizer"));
}

}  // namespace
}  // namespace caviar::scheduling
