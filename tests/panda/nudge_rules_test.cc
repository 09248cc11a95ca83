// What a nudge may change (common/trainer_settings/nudge_rules.h,
// server/scheduling/nudges.h) and a nudge's bookkeeping through progress
// reports and leases.
#include "common/trainer_settings/nudge_rules.h"

#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/scheduling/nudges.h"

namespace caviar::scheduling {
namespace {

using ::testing::HasSubstr;

caviar::v1::ParameterValue Double(double x) {
  caviar::v1::ParameterValue v;
  v.set_double_value(x);
  return v;
}
caviar::v1::ParameterValue Int(int64_t n) {
  caviar::v1::ParameterValue v;
  v.set_int_value(n);
  return v;
}
caviar::v1::ParameterValue Text(const std::string& s) {
  caviar::v1::ParameterValue v;
  v.set_string_value(s);
  return v;
}

class NudgeRulesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    caviar::v1::ParameterSpec* lr = trainer_.add_parameters();
    lr->set_name("learning_rate");
    lr->mutable_double_()->set_min(1e-4);
    lr->mutable_double_()->set_max(1e-1);
    lr->set_scale(caviar::v1::LOG);
    trainer_.mutable_trainer()->set_epochs(3);
    command_.set_name("cmd");
    *command_.add_parameters() = *lr;
    command_.mutable_parameters(0)->set_name("lr");
    command_.mutable_command()->add_argv("train");
  }

  absl::Status Check(const caviar::v1::StudySpec& spec, const std::string& name,
                     const caviar::v1::ParameterValue& value, bool outside = false) {
    search::ParameterMap parameters;
    parameters[name] = value;
    auto space = search::SearchSpace::Create(spec.parameters());
    EXPECT_TRUE(space.ok());
    return CheckNudgeParameters(spec, *space, parameters, outside);
  }

  caviar::v1::StudySpec trainer_;
  caviar::v1::StudySpec command_;
};

TEST_F(NudgeRulesTest, SettingsFixedWhileTrainingAreRefusedNamingWhy) {
  EXPECT_EQ(Check(trainer_, "layers", Int(3)).message(),
            "parameters[layers]: cannot change while a trial trains (it fixes the "
            "network's shape)");
  EXPECT_THAT(Check(trainer_, "optimizer", Text("adam")).message(),
              HasSubstr("parameters[optimizer]: cannot change while a trial trains (the "
                        "optimizer's state"));
  for (const char* fixed : {"hidden_units", "activation", "batch_norm", "init", "seed",
                            "threads", "augment_flip", "augment_shift"}) {
    EXPECT_NE(trainer_settings::WhyFixedWhileTraining(fixed), nullptr) << fixed;
  }
  EXPECT_THAT(Check(trainer_, "momentum", Double(0.9)).message(),
              HasSubstr("parameters[momentum]: not a trainer setting (changeable: "
                        "learning_rate, beta1, beta2, epsilon, batch_size, lr_decay"));
}

TEST_F(NudgeRulesTest, ChangeableSettingsSearchedOrFixed) {
  for (const char* name : {"beta1", "beta2", "l2", "dropout", "bn_momentum"})
    EXPECT_TRUE(Check(trainer_, name, Double(0.5)).ok()) << name;
  EXPECT_TRUE(Check(trainer_, "epsilon", Double(1e-6)).ok());
  EXPECT_TRUE(Check(trainer_, "batch_size", Int(64)).ok());
  EXPECT_TRUE(Check(trainer_, "lr_schedule", Text("exponential")).ok());
  EXPECT_TRUE(Check(trainer_, "lr_decay", Double(0.1)).ok());
  EXPECT_TRUE(Check(trainer_, "lr_step_epochs", Int(2)).ok());
  EXPECT_TRUE(Check(trainer_, "learning_rate", Double(0.01)).ok());
  EXPECT_EQ(Check(trainer_, "dropout", Double(1.5)).message(),
            "parameters[dropout]: must be in [0, 1), got 1.5");
  EXPECT_THAT(Check(trainer_, "batch_size", Double(2.5)).message(),
              HasSubstr("parameters[batch_size]: needs an integer value"));
}

TEST_F(NudgeRulesTest, OutsideTheSearchRangeOnlyWithTheFlag) {
  const absl::Status refused = Check(trainer_, "learning_rate", Double(0.5));
  EXPECT_EQ(refused.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(
      refused.message(),
      HasSubstr("parameters[learning_rate]: 0.5 is outside [0.0001, 0.1] (outside "
                "the study's search range: allow it with outside_range"));
  EXPECT_TRUE(Check(trainer_, "learning_rate", Double(0.5), true).ok());
  // Still a valid setting: the flag lifts the range, not the rule.
  EXPECT_THAT(Check(trainer_, "learning_rate", Double(-1), true).message(),
              HasSubstr("parameters[learning_rate]: must be in (0, inf)"));

  EXPECT_THAT(Check(command_, "lr", Double(5)).message(),
              HasSubstr("outside the study's search range"));
  EXPECT_TRUE(Check(command_, "lr", Double(5), true).ok());
  EXPECT_THAT(Check(command_, "lr", Text("fast"), true).message(),
              HasSubstr("parameters[lr]: expects a number"));
  EXPECT_EQ(Check(command_, "momentum", Double(0.5), true).message(),
            "parameters[momentum]: study \"cmd\" has no such parameter");
}

TEST(NudgeProgressTest, DeliveredThenAcknowledgedAtTheStepTrainedWithIt) {
  caviar::v1::Trial trial;
  search::ParameterMap lr;
  lr["learning_rate"] = Double(0.01);
  *trial.add_nudges() = NewNudge(trial, lr, /*outside_range=*/false, absl::UnixEpoch());
  EXPECT_EQ(trial.nudges(0).id(), 1);

  caviar::v1::ReportProgressRequest heartbeat;
  ASSERT_TRUE(NudgeProgressDue(trial, heartbeat, std::nullopt));
  caviar::v1::ReportProgressResponse response;
  NoteNudgeProgress(heartbeat, std::nullopt, 4, &trial, &response);
  EXPECT_EQ(trial.nudges(0).delivered_after_step(), 4);
  ASSERT_EQ(response.nudges_size(), 1);
  EXPECT_EQ(response.parameter_updates().at("learning_rate").double_value(), 0.01);
  EXPECT_FALSE(NudgeProgressDue(trial, heartbeat, std::nullopt));

  caviar::v1::ReportProgressRequest report;
  report.add_nudge_acks(1);
  EXPECT_FALSE(NudgeProgressDue(trial, report, std::nullopt));  // Acks need a step.
  ASSERT_TRUE(NudgeProgressDue(trial, report, 5));
  response.Clear();
  NoteNudgeProgress(report, 5, 5, &trial, &response);
  EXPECT_EQ(trial.nudges(0).applied_at_step(), 5);
  EXPECT_EQ(response.nudges_size(), 0);
  EXPECT_FALSE(NudgeProgressDue(trial, report, 6));  // Applied once.
}

TEST(NudgeProgressTest, LeasesHandOverARollbacksSettingsAndNudgesAfterTheCheckpoint) {
  caviar::v1::Trial trial;
  trial.set_branch(1);
  trial.set_rollback_step(2);
  search::ParameterMap lr;
  lr["learning_rate"] = Double(0.01);
  caviar::v1::Nudge with_rollback = NewNudge(trial, lr, true, absl::UnixEpoch());
  with_rollback.set_from_rollback(true);
  with_rollback.set_delivered_after_step(2);
  *trial.add_nudges() = with_rollback;
  ASSERT_EQ(LeaseNudges(trial, 2).size(), 1u);

  caviar::v1::ReportProgressRequest report;
  report.add_nudge_acks(1);
  caviar::v1::ReportProgressResponse response;
  ASSERT_TRUE(NudgeProgressDue(trial, report, 3));
  NoteNudgeProgress(report, 3, 3, &trial, &response);
  EXPECT_EQ(trial.nudges(0).applied_at_step(), 3);
  EXPECT_FALSE(trial.has_rollback_step());     // Trained past it.
  EXPECT_TRUE(LeaseNudges(trial, 2).empty());  // The checkpoint of 2 + the nudge at 3.

  caviar::v1::Nudge later = NewNudge(trial, lr, false, absl::UnixEpoch());
  later.set_delivered_after_step(5);
  later.set_applied_at_step(6);
  *trial.add_nudges() = later;
  EXPECT_EQ(LeaseNudges(trial, 4).size(), 1u);  // Its checkpoint predates it.
  EXPECT_TRUE(LeaseNudges(trial, 5).empty());   // Saved after it was applied.
  EXPECT_TRUE(LeaseNudges(trial, 0).empty());   // From scratch: not replayed.
  trial.set_branch(2);
  EXPECT_TRUE(LeaseNudges(trial, 4).empty());  // Another branch's.
}

}  // namespace
}  // namespace caviar::scheduling
