// The rules of a trial's life, without a store or a coordinator.
#include "server/scheduling/trial_transitions.h"

#include <cmath>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/scheduling/coordinator_fixture.h"

namespace caviar::scheduling {
namespace {

using caviar::v1::Trial;
using ::testing::HasSubstr;

const absl::Time kNow = absl::FromUnixSeconds(1'800'000'000);

Trial Running(int attempt = 1) {
  Trial t;
  t.set_id(7);
  t.set_study("s");
  t.set_state(caviar::v1::ACTIVE);
  t.set_worker_id("w");
  t.set_attempt(attempt);
  *t.add_measurements() = Metric(1, 0.4);
  *t.add_measurements() = Metric(2, 0.6);
  return t;
}

caviar::v1::CompleteTrialRequest Result(double score) {
  caviar::v1::CompleteTrialRequest r;
  *r.mutable_final_measurement() = Metric(3, score);
  return r;
}

TEST(TrialTransitionsTest, LeaseStartsTheNextAttempt) {
  Trial pending = Running(2);
  pending.set_state(caviar::v1::PENDING);
  Trial leased = Lease(pending, "w9", kNow, absl::Seconds(30));
  EXPECT_EQ(leased.state(), caviar::v1::ACTIVE);
  EXPECT_EQ(leased.worker_id(), "w9");
  EXPECT_EQ(leased.attempt(), 3);
  EXPECT_EQ(leased.lease_deadline().seconds(), 1'800'000'030);
  EXPECT_EQ(leased.measurements_size(), 0);
}

TEST(TrialTransitionsTest, CompleteGivesEachResultItsState) {
  const caviar::v1::StudySpec spec = Spec("s", 5);
  EXPECT_EQ(Complete(spec, Running(), Result(0.9), kNow).state(), caviar::v1::SUCCEEDED);

  Trial nan = Complete(spec, Running(), Result(std::nan("")), kNow);
  EXPECT_EQ(nan.state(), caviar::v1::FAILED);
  EXPECT_EQ(nan.failure_kind(), caviar::v1::DIVERGED);
  EXPECT_FALSE(nan.has_objective_value());

  caviar::v1::CompleteTrialRequest none;
  Trial crashed = Complete(spec, Running(), none, kNow);
  EXPECT_EQ(crashed.failure_kind(), caviar::v1::CRASHED);
  EXPECT_THAT(crashed.failure_reason(), HasSubstr("score"));

  caviar::v1::CompleteTrialRequest stopped;
  stopped.set_stopped(true);
  Trial cut = Complete(spec, Running(), stopped, kNow);
  EXPECT_EQ(cut.state(), caviar::v1::STOPPED);
  EXPECT_EQ(cut.objective_value(), 0.6);  // Its last measured value.

  Trial pruned_nan = Running();
  *pruned_nan.add_measurements() = Metric(3, std::nan(""));
  pruned_nan.set_stop_reason("diverged: score is nan at step 3");
  Trial diverged = Complete(spec, pruned_nan, stopped, kNow);
  EXPECT_EQ(diverged.state(), caviar::v1::FAILED);
  EXPECT_EQ(diverged.failure_kind(), caviar::v1::DIVERGED);
  EXPECT_THAT(diverged.failure_reason(), HasSubstr("diverged: score is nan"));
}

TEST(TrialTransitionsTest, ExpiryRetriesThenFails) {
  const caviar::v1::StudySpec spec = Spec("s", 5);
  const LeasePolicy policy{absl::Seconds(30), 1};
  EXPECT_EQ(Expire(spec, Running(1), policy, kNow).state(), caviar::v1::PENDING);
  Trial out = Expire(spec, Running(2), policy, kNow);
  EXPECT_EQ(out.state(), caviar::v1::FAILED);
  EXPECT_EQ(out.failure_kind(), caviar::v1::LEASE_EXPIRED);
  const LeasePolicy no_retries{absl::Seconds(30), 0};
  EXPECT_EQ(Expire(spec, Running(1), no_retries, kNow).state(), caviar::v1::FAILED);
  Trial told = Running(1);
  told.set_stop_reason("pruned");
  EXPECT_EQ(Expire(spec, told, policy, kNow).state(), caviar::v1::STOPPED);
  EXPECT_EQ(Release(spec, told, kNow).state(), caviar::v1::STOPPED);
  EXPECT_EQ(Release(spec, Running(1), kNow).state(), caviar::v1::PENDING);
}

TEST(TrialTransitionsTest, TheStudyEndsWithTheTransitionThatSpendsItsBudget) {
  const caviar::v1::StudySpec spec = Spec("s", 2);
  StudyTally tally;
  tally.counts[caviar::v1::SUCCEEDED] = 1;
  tally.counts[caviar::v1::ACTIVE] = 1;
  EXPECT_FALSE(StudyEndReason(spec, tally).has_value());
  StudyTally after = tally.After(caviar::v1::ACTIVE, caviar::v1::SUCCEEDED);
  ASSERT_TRUE(StudyEndReason(spec, after).has_value());
  EXPECT_THAT(*StudyEndReason(spec, after), HasSubstr("budget spent: 2"));
  StudyTally failed = tally.After(caviar::v1::ACTIVE, caviar::v1::FAILED);
  EXPECT_FALSE(StudyEndReason(spec, failed).has_value());
  failed.sampler_exhausted = true;
  EXPECT_EQ(*StudyEndReason(spec, failed), "search space exhausted");
}

}  // namespace
}  // namespace caviar::scheduling
