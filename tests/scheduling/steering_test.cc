// Refine, enqueue, re-test and importance, over a real SQLite file.
#include <cmath>
#include <cstdint>
#include <ctime>
#include <limits>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/scheduling/coordinator_fixture.h"

namespace caviar::scheduling {
namespace {

using ::testing::HasSubstr;

caviar::v1::ParameterSet Config(double lr, int64_t units) {
  caviar::v1::ParameterSet set;
  (*set.mutable_parameters())["learning_rate"].set_double_value(lr);
  (*set.mutable_parameters())["units"].set_int_value(units);
  return set;
}

// Runs trials to the end; the score depends on the learning rate only.
void RunTrials(CoordinatorTest& test, int n) {
  for (int i = 0; i < n; ++i) {
    caviar::v1::Trial t = test.Suggest("w");
    if (t.id() == 0) return;
    const double lr = t.parameters().at("learning_rate").double_value();
    ASSERT_TRUE(test.Complete(t, -std::pow(std::log10(lr) + 2, 2)).ok());
  }
}

class SteeringTest : public CoordinatorTest {};

TEST_F(SteeringTest, EnqueuedConfigurationsRunFirstAndExactlyOnce) {
  ASSERT_TRUE(coordinator_->CreateStudy(Spec("s", 3)).ok());
  caviar::v1::EnqueueTrialsRequest request;
  request.set_study("s");
  *request.add_configurations() = Config(0.01, 64);
  *request.add_configurations() = Config(0.1, 80);
  auto enqueued = coordinator_->EnqueueTrials(request);
  ASSERT_TRUE(enqueued.ok()) << enqueued.status();
  ASSERT_EQ(enqueued->size(), 2u);
  Trial a = Suggest("w1");
  Trial b = Suggest("w2");
  EXPECT_EQ(a.origin(), caviar::v1::ENQUEUED);
  EXPECT_EQ(a.parameters().at("units").int_value(), 64);
  EXPECT_EQ(b.parameters().at("units").int_value(), 80);
  Trial c = Suggest("w3");
  EXPECT_EQ(c.origin(), caviar::v1::SAMPLED);
}

TEST_F(SteeringTest, EnqueueChecksEveryConfigurationFirst) {
  ASSERT_TRUE(coordinator_->CreateStudy(Spec("s", 3)).ok());
  caviar::v1::EnqueueTrialsRequest request;
  request.set_study("s");
  *request.add_configurations() = Config(0.01, 64);
  *request.add_configurations() = Config(5.0, 64);
  auto result = coordinator_->EnqueueTrials(request);
  EXPECT_EQ(result.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(result.status().message(),
              HasSubstr("configurations[1]: parameter learning_rate: 5 is outside"));
  EXPECT_EQ(coordinator_->GetStudy("s")->pending_trials(), 0);
}

TEST_F(SteeringTest, EnqueueReopensAnEndedStudyAndGrowsItsBudget) {
  ASSERT_TRUE(coordinator_->CreateStudy(Spec("s", 2)).ok());
  RunTrials(*this, 2);
  ASSERT_EQ(coordinator_->GetStudy("s")->state(), caviar::v1::STUDY_COMPLETED);
  caviar::v1::EnqueueTrialsRequest request;
  request.set_study("s");
  *request.add_configurations() = Config(0.02, 70);
  ASSERT_TRUE(coordinator_->EnqueueTrials(request).ok());
  auto study = coordinator_->GetStudy("s");
  EXPECT_EQ(study->state(), caviar::v1::STUDY_ACTIVE);
  EXPECT_EQ(study->spec().budget().max_trials(), 3);
  RunTrials(*this, 1);
  EXPECT_EQ(coordinator_->GetStudy("s")->state(), caviar::v1::STUDY_COMPLETED);
}

TEST_F(SteeringTest, RetestRerunsTheBestConfigurations) {
  ASSERT_TRUE(coordinator_->CreateStudy(Spec("s", 10)).ok());
  RunTrials(*this, 10);
  auto best = coordinator_->BestTrials("s", 2);
  caviar::v1::RetestTrialsRequest request;
  request.set_study("s");
  request.set_top(2);
  request.set_repeats(2);
  auto retests = coordinator_->RetestTrials(request);
  ASSERT_TRUE(retests.ok()) << retests.status();
  ASSERT_EQ(retests->size(), 4u);
  EXPECT_EQ((*retests)[0].retest_of(), (*best)[0].id());
  EXPECT_EQ((*retests)[2].retest_of(), (*best)[1].id());
  EXPECT_NE((*retests)[0].seed(), (*retests)[1].seed());
  Trial first = Suggest("w");
  EXPECT_EQ(first.origin(), caviar::v1::RETEST);
  EXPECT_EQ(first.parameters().at("learning_rate").double_value(),
            (*best)[0].parameters().at("learning_rate").double_value());
  request.set_study("nothing-yet");
  EXPECT_EQ(coordinator_->RetestTrials(request).status().code(),
            absl::StatusCode::kNotFound);
}

TEST_F(SteeringTest, RefineWithARangeKeepsNewTrialsInside) {
  ASSERT_TRUE(coordinator_->CreateStudy(Spec("s", 10)).ok());
  RunTrials(*this, 10);
  caviar::v1::RefineStudyRequest request;
  request.set_study("s");
  (*request.mutable_ranges())["learning_rate"].mutable_lo()->set_double_value(1e-3);
  (*request.mutable_ranges())["learning_rate"].mutable_hi()->set_double_value(1e-2);
  request.set_additional_trials(20);
  auto refined = coordinator_->RefineStudy(request);
  ASSERT_TRUE(refined.ok()) << refined.status();
  EXPECT_EQ(refined->state(), caviar::v1::STUDY_ACTIVE);
  ASSERT_EQ(refined->regions_size(), 1);
  EXPECT_EQ(refined->regions(0).origin(), "refine");
  EXPECT_NEAR(refined->regions(0).lo().at("learning_rate"), 0.25, 1e-9);  // Decade 1e-3.
  for (int i = 0; i < 20; ++i) {
    Trial t = Suggest("w");
    ASSERT_NE(t.id(), 0);
    const double lr = t.parameters().at("learning_rate").double_value();
    EXPECT_GE(lr, 1e-3 * (1 - 1e-9));
    EXPECT_LE(lr, 1e-2 * (1 + 1e-9));
    EXPECT_EQ(t.round(), 1);
    ASSERT_TRUE(Complete(t, 0.5).ok());
  }
  // History is kept: the first 10 trials are still there.
  EXPECT_EQ(coordinator_->GetStudy("s")->succeeded_trials(), 30);
}

TEST_F(SteeringTest, RefineTopBoxesTheBestTrials) {
  ASSERT_TRUE(coordinator_->CreateStudy(Spec("s", 40)).ok());
  RunTrials(*this, 40);
  caviar::v1::RefineStudyRequest request;
  request.set_study("s");
  request.set_top_fraction(0.1);
  auto refined = coordinator_->RefineStudy(request);
  ASSERT_TRUE(refined.ok()) << refined.status();
  const auto& region = refined->regions(0);
  // The best learning rates are near 1e-2, i.e. u = 0.5.
  EXPECT_LE(region.lo().at("learning_rate"), 0.5);
  EXPECT_GE(region.hi().at("learning_rate"), 0.5);
  EXPECT_LT(region.hi().at("learning_rate") - region.lo().at("learning_rate"), 0.5);
  request.set_top_fraction(0);
  EXPECT_THAT(coordinator_->RefineStudy(request).status().message(),
              HasSubstr("top_fraction"));
  request.set_top_fraction(0.5);
  (*request.mutable_ranges())["momentum"].mutable_lo()->set_double_value(0.9);
  EXPECT_THAT(coordinator_->RefineStudy(request).status().message(),
              HasSubstr("ranges[momentum]: unknown parameter"));
  // A huge name is not echoed back whole.
  request.clear_ranges();
  (*request.mutable_ranges())[std::string(1 << 20, 'x')].mutable_lo()->set_double_value(
      1);
  const absl::Status huge = coordinator_->RefineStudy(request).status();
  EXPECT_THAT(huge.message(), HasSubstr("xxx... (1048576 bytes)]: unknown parameter"));
  EXPECT_LT(huge.message().size(), 200u);
}

// `caviar refine S --top 0.5 --trials 2147483647` used to wrap the budget
// negative and wedge the study.
TEST_F(SteeringTest, RefineRefusesABudgetPastTheLimitAndChangesNothing) {
  ASSERT_TRUE(coordinator_->CreateStudy(Spec("s", 10)).ok());
  RunTrials(*this, 10);
  caviar::v1::RefineStudyRequest request;
  request.set_study("s");
  request.set_top_fraction(0.5);
  request.set_additional_trials(std::numeric_limits<int32_t>::max());
  auto refused = coordinator_->RefineStudy(request);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(refused.status().message(),
              HasSubstr("additional_trials: 10 + 2147483647 trials exceed the limit of "
                        "2147483647 (budget.max_trials)"));
  Reopen();
  auto study = coordinator_->GetStudy("s");
  EXPECT_EQ(study->spec().budget().max_trials(), 10);
  EXPECT_EQ(study->state(), caviar::v1::STUDY_COMPLETED);
  EXPECT_EQ(study->regions_size(), 0);
  // The largest budget that fits is fine, and the study runs on.
  request.set_additional_trials(std::numeric_limits<int32_t>::max() - 10);
  auto refined = coordinator_->RefineStudy(request);
  ASSERT_TRUE(refined.ok()) << refined.status();
  EXPECT_EQ(refined->spec().budget().max_trials(), std::numeric_limits<int32_t>::max());
  EXPECT_NE(Suggest("w").id(), 0);
}

// Enqueue and re-test grow the budget by the trials they add: at the limit
// they are refused instead of wrapping.
TEST_F(SteeringTest, EnqueueAndRetestRefuseABudgetPastTheLimit) {
  ASSERT_TRUE(
      coordinator_->CreateStudy(Spec("s", std::numeric_limits<int32_t>::max())).ok());
  RunTrials(*this, 2);
  caviar::v1::RefineStudyRequest refine;
  refine.set_study("s");
  refine.set_top_fraction(1);
  refine.set_additional_trials(1);
  EXPECT_THAT(coordinator_->RefineStudy(refine).status().message(),
              HasSubstr("additional_trials: 2147483647 + 1 trials exceed the limit"));
  // Enqueue and re-test do not raise a budget that already has room.
  caviar::v1::EnqueueTrialsRequest enqueue;
  enqueue.set_study("s");
  *enqueue.add_configurations() = Config(0.01, 64);
  ASSERT_TRUE(coordinator_->EnqueueTrials(enqueue).ok());
  caviar::v1::RetestTrialsRequest retest;
  retest.set_study("s");
  retest.set_top(1);
  ASSERT_TRUE(coordinator_->RetestTrials(retest).ok());
  EXPECT_EQ(coordinator_->GetStudy("s")->spec().budget().max_trials(),
            std::numeric_limits<int32_t>::max());
}

// A study at the parameter limit suggests, completes and reloads quickly
// (name lookups used to make each trial cost O(parameters^2)).
TEST_F(SteeringTest, AStudyAtTheParameterLimitRunsAndReloadsFast) {
  caviar::v1::StudySpec spec = Spec("s", 40);
  for (int i = spec.parameters_size(); i < 1000; ++i) {
    auto* p = spec.add_parameters();
    p->set_name(absl::StrCat("p", i));
    p->mutable_double_()->set_max(1);
  }
  const std::clock_t start = std::clock();  // Processor time: fair on a shared machine.
  ASSERT_TRUE(coordinator_->CreateStudy(spec).ok());
  RunTrials(*this, 40);
  Reopen();
  EXPECT_EQ(coordinator_->GetStudy("s")->succeeded_trials(), 40);
  EXPECT_LT(static_cast<double>(std::clock() - start) / CLOCKS_PER_SEC, 10.0);
}

TEST_F(SteeringTest, ANudgeReachesTheRunningTrialOnce) {
  ASSERT_TRUE(coordinator_->CreateStudy(Spec("s", 5)).ok());
  Trial t = Suggest("w1");
  ASSERT_TRUE(Report(t, 1, 0.1).ok());
  caviar::v1::NudgeTrialRequest nudge;
  nudge.set_trial_id(t.id());
  (*nudge.mutable_parameters())["learning_rate"].set_double_value(1e-3);
  ASSERT_TRUE(coordinator_->NudgeTrial(nudge).ok());
  (*nudge.mutable_parameters())["learning_rate"].set_double_value(2e-3);
  ASSERT_TRUE(coordinator_->NudgeTrial(nudge).ok());
  auto reply = Report(t, 2, 0.2);
  ASSERT_TRUE(reply.ok());
  ASSERT_EQ(reply->parameter_updates().size(), 1u);
  EXPECT_EQ(reply->parameter_updates().at("learning_rate").double_value(), 2e-3);
  EXPECT_TRUE(Report(t, 3, 0.3)->parameter_updates().empty());  // Delivered once.
  Reopen();
  auto trial = coordinator_->GetTrial(t.id());
  ASSERT_EQ(trial->nudges_size(), 2);
  EXPECT_EQ(trial->nudges(1).delivered_after_step(), 2);
}

TEST_F(SteeringTest, OnlyRunningTrialsTakeValidNudges) {
  ASSERT_TRUE(coordinator_->CreateStudy(Spec("s", 5)).ok());
  Trial t = Suggest("w1");
  caviar::v1::NudgeTrialRequest nudge;
  nudge.set_trial_id(t.id());
  (*nudge.mutable_parameters())["momentum"].set_double_value(0.9);
  EXPECT_THAT(coordinator_->NudgeTrial(nudge).status().message(),
              HasSubstr("parameters[momentum]: study \"s\" has no such parameter"));
  nudge.clear_parameters();
  (*nudge.mutable_parameters())["learning_rate"].set_string_value("fast");
  EXPECT_EQ(coordinator_->NudgeTrial(nudge).status().code(),
            absl::StatusCode::kInvalidArgument);
  nudge.clear_parameters();
  (*nudge.mutable_parameters())["learning_rate"].set_double_value(0.01);
  ASSERT_TRUE(Complete(t, 0.5).ok());
  EXPECT_EQ(coordinator_->NudgeTrial(nudge).status().code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST_F(SteeringTest, ImportanceRanksTheParameterThatMatters) {
  ASSERT_TRUE(coordinator_->CreateStudy(Spec("s", 60)).ok());
  RunTrials(*this, 60);
  auto importance = coordinator_->GetImportance("s");
  ASSERT_TRUE(importance.ok()) << importance.status();
  ASSERT_EQ(importance->parameters_size(), 2);
  EXPECT_EQ(importance->parameters(0).name(), "learning_rate");
  EXPECT_GT(importance->parameters(0).importance(), 0.7);
  EXPECT_EQ(importance->trials_used(), 60);
}

}  // namespace
}  // namespace caviar::scheduling
