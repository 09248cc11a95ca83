// The scheduling layer over a real SQLite file, with an injected clock.
#include "server/scheduling/coordinator.h"

#include <cmath>
#include <set>

#include "gmock/gmock.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"
#include "tests/scheduling/coordinator_fixture.h"

namespace caviar::scheduling {
namespace {

using caviar::v1::Trial;
using ::testing::HasSubstr;

TEST_F(CoordinatorTest, CreateStudyValidatesBeforeWriting) {
  caviar::v1::StudySpec bad = Spec("s", 0);
  auto created = coordinator_->CreateStudy(bad);
  EXPECT_EQ(created.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(created.status().message(), HasSubstr("budget.max_trials"));
  EXPECT_TRUE(coordinator_->ListStudies().empty());
  Reopen();
  EXPECT_TRUE(coordinator_->ListStudies().empty());

  ASSERT_TRUE(coordinator_->CreateStudy(Spec("s", 3)).ok());
  EXPECT_EQ(coordinator_->CreateStudy(Spec("s", 3)).status().code(),
            absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(coordinator_->GetStudy("nope").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(coordinator_->GetTrial(42).status().code(), absl::StatusCode::kNotFound);
}

TEST_F(CoordinatorTest, SuggestLeasesAndIsIdempotentPerWorker) {
  ASSERT_TRUE(coordinator_->CreateStudy(Spec("s", 5)).ok());
  Trial a = Suggest("w1");
  EXPECT_EQ(a.state(), caviar::v1::ACTIVE);
  EXPECT_EQ(a.worker_id(), "w1");
  EXPECT_EQ(a.attempt(), 1);
  EXPECT_EQ(a.parameters().size(), 2u);
  const double lr = a.parameters().at("learning_rate").double_value();
  EXPECT_GE(lr, 1e-4);
  EXPECT_LE(lr, 1.0);
  Trial again = Suggest("w1");
  EXPECT_EQ(again.id(), a.id());
  Trial b = Suggest("w2");
  EXPECT_NE(b.id(), a.id());
}

TEST_F(CoordinatorTest, MaxParallelTrialsIsRespected) {
  ASSERT_TRUE(coordinator_->CreateStudy(Spec("s", 10, 2)).ok());
  EXPECT_NE(Suggest("w1").id(), 0);
  EXPECT_NE(Suggest("w2").id(), 0);
  EXPECT_EQ(Suggest("w3").id(), 0);
}

TEST_F(CoordinatorTest, ReportsExtendTheLeaseAndExpiryRequeuesWithSameParameters) {
  ASSERT_TRUE(coordinator_->CreateStudy(Spec("s", 5)).ok());
  Trial t = Suggest("w1");
  clock_.Advance(absl::Seconds(20));
  ASSERT_TRUE(Report(t, 1, 0.5).ok());
  clock_.Advance(absl::Seconds(20));  // 40 s after start, 20 s after the report.
  EXPECT_EQ(*coordinator_->ExpireLeases(), 0);
  clock_.Advance(absl::Seconds(11));
  EXPECT_EQ(*coordinator_->ExpireLeases(), 1);
  auto pending = coordinator_->GetTrial(t.id());
  EXPECT_EQ(pending->state(), caviar::v1::PENDING);

  // The stale lease's report is refused and changes nothing.
  auto stale = Report(t, 2, 0.9);
  EXPECT_EQ(stale.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(coordinator_->GetTrial(t.id())->measurements_size(), 1);

  Trial retried = Suggest("w2");
  // Taken over: the old holder's result is refused too.
  EXPECT_EQ(Complete(t, 0.9).status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(retried.id(), t.id());
  EXPECT_EQ(retried.attempt(), 2);
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(
      retried.parameters().at("learning_rate"), t.parameters().at("learning_rate")));

  // max_retries: 1, so a second lost lease fails the trial for good.
  clock_.Advance(absl::Seconds(31));
  EXPECT_EQ(*coordinator_->ExpireLeases(), 1);
  auto failed = coordinator_->GetTrial(t.id());
  EXPECT_EQ(failed->state(), caviar::v1::FAILED);
  EXPECT_EQ(failed->failure_kind(), caviar::v1::LEASE_EXPIRED);
}

TEST_F(CoordinatorTest, AReleasedTrialGoesBackToTheQueueAtOnce) {
  ASSERT_TRUE(coordinator_->CreateStudy(Spec("s", 5)).ok());
  Trial t = Suggest("w1");
  ASSERT_TRUE(Report(t, 1, 0.5).ok());
  caviar::v1::CompleteTrialRequest release;
  release.set_trial_id(t.id());
  release.set_worker_id("w1");
  release.set_attempt(1);
  release.set_release(true);
  auto released = coordinator_->CompleteTrial(release);
  ASSERT_TRUE(released.ok()) << released.status();
  EXPECT_EQ(released->state(), caviar::v1::PENDING);
  Trial again = Suggest("w2");  // No waiting for the lease.
  EXPECT_EQ(again.id(), t.id());
  EXPECT_EQ(again.attempt(), 2);
  EXPECT_EQ(Report(t, 2, 0.6).status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST_F(CoordinatorTest, ARetriedReportIsStoredOnce) {
  ASSERT_TRUE(coordinator_->CreateStudy(Spec("s", 5)).ok());
  Trial t = Suggest("w1");
  ASSERT_TRUE(Report(t, 1, 0.5).ok());
  ASSERT_TRUE(Report(t, 1, 0.5).ok());  // The reply to the first was lost.
  ASSERT_TRUE(Report(t, 2, 0.6).ok());
  EXPECT_EQ(coordinator_->GetTrial(t.id())->measurements_size(), 2);
  Reopen();
  EXPECT_EQ(coordinator_->GetTrial(t.id())->measurements_size(), 2);
}

TEST_F(CoordinatorTest, ARetriedTrialStartsItsCurveAgain) {
  ASSERT_TRUE(coordinator_->CreateStudy(Spec("s", 5)).ok());
  Trial t = Suggest("w1");
  ASSERT_TRUE(Report(t, 1, 0.1).ok());
  ASSERT_TRUE(Report(t, 2, 0.2).ok());
  clock_.Advance(absl::Seconds(31));
  ASSERT_EQ(*coordinator_->ExpireLeases(), 1);
  Trial retry = Suggest("w2");
  ASSERT_EQ(retry.id(), t.id());
  EXPECT_EQ(coordinator_->GetTrial(t.id())->measurements_size(), 0);
  ASSERT_TRUE(Report(retry, 1, 0.3).ok());
  auto trial = coordinator_->GetTrial(t.id());
  ASSERT_EQ(trial->measurements_size(), 1);
  EXPECT_EQ(trial->measurements(0).attempt(), 2);
  Reopen();
  trial = coordinator_->GetTrial(t.id());
  ASSERT_EQ(trial->measurements_size(), 1);
  EXPECT_EQ(trial->measurements(0).metrics().at("score"), 0.3);
}

TEST_F(CoordinatorTest, CompletingTwiceWithTheSameLeaseReturnsTheStoredResult) {
  ASSERT_TRUE(coordinator_->CreateStudy(Spec("s", 5)).ok());
  Trial t = Suggest("w1");
  auto first = Complete(t, 0.7);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->state(), caviar::v1::SUCCEEDED);
  EXPECT_EQ(first->objective_value(), 0.7);
  auto second = Complete(t, 0.1);  // A retry after a lost reply.
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ(second->objective_value(), 0.7);
  Trial other = t;
  other.set_worker_id("intruder");
  EXPECT_EQ(Complete(other, 0.9).status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST_F(CoordinatorTest, BudgetEndsTheStudyAndFailuresDoNotCount) {
  ASSERT_TRUE(coordinator_->CreateStudy(Spec("s", 2)).ok());
  Trial a = Suggest("w1");
  caviar::v1::CompleteTrialRequest crash;
  crash.set_trial_id(a.id());
  crash.set_worker_id("w1");
  crash.set_attempt(1);
  crash.set_failure_kind(caviar::v1::CRASHED);
  crash.set_failure_reason("exit 3: boom");
  auto crashed = coordinator_->CompleteTrial(crash);
  ASSERT_TRUE(crashed.ok());
  EXPECT_EQ(crashed->state(), caviar::v1::FAILED);
  EXPECT_EQ(crashed->failure_reason(), "exit 3: boom");

  Trial b = Suggest("w1");
  Trial c = Suggest("w2");
  EXPECT_EQ(Suggest("w3").id(), 0);  // Both remaining budget slots are running.
  ASSERT_TRUE(Complete(b, 0.5).ok());
  ASSERT_TRUE(Complete(c, 0.6).ok());
  auto study = coordinator_->GetStudy("s");
  EXPECT_EQ(study->state(), caviar::v1::STUDY_COMPLETED);
  EXPECT_EQ(study->succeeded_trials(), 2);
  EXPECT_EQ(study->failed_trials(), 1);
  caviar::v1::SuggestTrialRequest request;
  request.set_worker_id("w1");
  request.set_study("s");
  EXPECT_TRUE(coordinator_->SuggestTrial(request)->no_more_work());
  auto best = coordinator_->BestTrials("s", 5);
  ASSERT_EQ(best->size(), 2u);
  EXPECT_EQ((*best)[0].id(), c.id());
}

TEST_F(CoordinatorTest, NonFiniteOrMissingObjectiveFails) {
  ASSERT_TRUE(coordinator_->CreateStudy(Spec("s", 5)).ok());
  auto diverged = Complete(Suggest("w1"), std::nan(""));
  EXPECT_EQ(diverged->state(), caviar::v1::FAILED);
  EXPECT_EQ(diverged->failure_kind(), caviar::v1::DIVERGED);
  Trial t = Suggest("w1");
  caviar::v1::CompleteTrialRequest request;
  request.set_trial_id(t.id());
  request.set_worker_id("w1");
  request.set_attempt(1);
  (*request.mutable_final_measurement()->mutable_metrics())["loss"] = 0.1;
  auto missing = coordinator_->CompleteTrial(request);
  EXPECT_EQ(missing->state(), caviar::v1::FAILED);
  EXPECT_THAT(missing->failure_reason(), HasSubstr("\"score\""));
}

TEST_F(CoordinatorTest, StopStudySendsStopToRunningTrials) {
  ASSERT_TRUE(coordinator_->CreateStudy(Spec("s", 5)).ok());
  Trial t = Suggest("w1");
  ASSERT_EQ(Report(t, 1, 0.1)->decision(), caviar::v1::CONTINUE);
  ASSERT_TRUE(coordinator_->StopStudy("s", "").ok());
  EXPECT_EQ(coordinator_->StopStudy("s", "").status().code(),
            absl::StatusCode::kFailedPrecondition);
  auto reply = Report(t, 2, 0.2);
  EXPECT_EQ(reply->decision(), caviar::v1::STOP);
  caviar::v1::CompleteTrialRequest request;
  request.set_trial_id(t.id());
  request.set_worker_id("w1");
  request.set_attempt(1);
  request.set_stopped(true);
  auto stopped = coordinator_->CompleteTrial(request);
  EXPECT_EQ(stopped->state(), caviar::v1::STOPPED);
  EXPECT_EQ(stopped->objective_value(), 0.2);  // Its last measurement.
  EXPECT_EQ(Suggest("w2").id(), 0);
}

TEST_F(CoordinatorTest, EverythingSurvivesARestart) {
  ASSERT_TRUE(coordinator_->CreateStudy(Spec("s", 4)).ok());
  Trial done = Suggest("w1");
  ASSERT_TRUE(Report(done, 1, 0.3).ok());
  ASSERT_TRUE(Complete(done, 0.4).ok());
  Trial running = Suggest("w2");
  ASSERT_TRUE(Report(running, 1, 0.2).ok());

  Reopen();
  auto study = coordinator_->GetStudy("s");
  ASSERT_TRUE(study.ok());
  EXPECT_EQ(study->succeeded_trials(), 1);
  EXPECT_EQ(study->active_trials(), 1);
  auto reloaded = coordinator_->GetTrial(done.id());
  EXPECT_EQ(reloaded->objective_value(), 0.4);
  EXPECT_EQ(reloaded->measurements_size(), 1);
  // The running trial's worker carries on with its lease.
  ASSERT_TRUE(Report(running, 2, 0.25).ok());
  EXPECT_EQ(Suggest("w2").id(), running.id());
  // New trials get new ids.
  Trial fresh = Suggest("w3");
  EXPECT_GT(fresh.id(), running.id());
}

TEST_F(CoordinatorTest, ListTrialsFiltersOrdersAndPages) {
  ASSERT_TRUE(coordinator_->CreateStudy(Spec("s", 10)).ok());
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(Complete(Suggest("w"), 0.1 * i).ok());
  Suggest("w");  // One active.
  caviar::v1::ListTrialsRequest request;
  request.set_study("s");
  request.add_states(caviar::v1::SUCCEEDED);
  request.set_order_by("objective");
  request.set_page_size(2);
  auto page1 = coordinator_->ListTrials(request);
  ASSERT_TRUE(page1.ok());
  EXPECT_EQ(page1->total_size(), 5);
  ASSERT_EQ(page1->trials_size(), 2);
  EXPECT_DOUBLE_EQ(page1->trials(0).objective_value(), 0.4);
  request.set_page_token(page1->next_page_token());
  auto page2 = coordinator_->ListTrials(request);
  EXPECT_DOUBLE_EQ(page2->trials(0).objective_value(), 0.2);
  request.set_order_by("loss");
  EXPECT_THAT(coordinator_->ListTrials(request).status().message(),
              HasSubstr("order_by"));
}

}  // namespace
}  // namespace caviar::scheduling
