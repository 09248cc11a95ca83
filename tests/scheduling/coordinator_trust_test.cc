// The Coordinator's promises under faults, each a regression test of a
// defect found in review: one transaction per transition (a study never
// stays ACTIVE with its budget spent), nothing changes on a failed commit
// (memory and pruner alike), leases on the monotonic clock, a stall is not
// an outage of the workers, late results from the last holder are kept, one
// meaning of NaN, the stop reason reaches the workers, request limits.
#include <memory>
#include <string>

#include "gmock/gmock.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"
#include "server/scheduling/coordinator.h"
#include "server/scheduling/proto_util.h"
#include "storage/sqlite_store.h"
#include "tests/scheduling/coordinator_fixture.h"
#include "tests/testing/faulty_store.h"
#include "tests/testing/temp_dir.h"

namespace caviar::scheduling {
namespace {

using caviar::v1::Trial;
using ::testing::HasSubstr;
using testing::FaultyStore;

class CoordinatorTrustTest : public ::testing::Test {
 protected:
  void SetUp() override { Restart(); }

  // As after a kill -9: a new store and coordinator over the same file.
  void Restart(CoordinatorOptions options = {}) {
    coordinator_.reset();
    faulty_.reset();
    sqlite_.reset();
    auto store = storage::SqliteStore::Open(dir_.File("caviar.db"));
    ASSERT_TRUE(store.ok()) << store.status();
    sqlite_ = *std::move(store);
    faulty_ = std::make_unique<FaultyStore>(sqlite_.get());
    auto coordinator = Coordinator::Create(faulty_.get(), &clock_, options);
    ASSERT_TRUE(coordinator.ok()) << coordinator.status();
    coordinator_ = *std::move(coordinator);
  }

  Trial Suggest(const std::string& worker) {
    caviar::v1::SuggestTrialRequest request;
    request.set_worker_id(worker);
    auto response = coordinator_->SuggestTrial(request);
    EXPECT_TRUE(response.ok()) << response.status();
    return response.ok() ? response->trial() : Trial();
  }

  caviar::v1::ReportProgressRequest ReportOf(const Trial& t, int64_t step,
                                             double score) {
    caviar::v1::ReportProgressRequest request;
    request.set_trial_id(t.id());
    request.set_worker_id(t.worker_id());
    request.set_attempt(t.attempt());
    *request.mutable_measurement() = Metric(step, score);
    return request;
  }

  caviar::v1::CompleteTrialRequest CompletionOf(const Trial& t, double score) {
    caviar::v1::CompleteTrialRequest request;
    request.set_trial_id(t.id());
    request.set_worker_id(t.worker_id());
    request.set_attempt(t.attempt());
    *request.mutable_final_measurement() = Metric(1, score);
    return request;
  }

  // Everything the coordinator shows of a study: the study and every trial
  // with its curve.
  std::string Snapshot(const std::string& study) {
    std::string out;
    auto s = coordinator_->GetStudy(study);
    if (s.ok()) out += s->DebugString();
    caviar::v1::ListTrialsRequest request;
    request.set_study(study);
    request.set_include_measurements(true);
    request.set_page_size(10000);
    auto trials = coordinator_->ListTrials(request);
    if (trials.ok()) out += trials->DebugString();
    return out;
  }

  testing::TempDir dir_;
  FakeClock clock_;
  std::unique_ptr<storage::SqliteStore> sqlite_;
  std::unique_ptr<FaultyStore> faulty_;
  std::unique_ptr<Coordinator> coordinator_;
};

// Defect 1: the last trial's result and the study's end were two commits; a
// kill between them left the study ACTIVE forever with its budget spent.
TEST_F(CoordinatorTrustTest, KilledAtAnyWriteOfTheLastCompletionNoStudyIsLeftHanging) {
  for (int writes = 0; writes <= 2; ++writes) {
    SCOPED_TRACE(writes);
    const std::string name = "last" + std::to_string(writes);
    ASSERT_TRUE(coordinator_->CreateStudy(Spec(name, 1)).ok());
    Trial t = Suggest(name + "-worker");
    ASSERT_EQ(t.study(), name);
    faulty_->CrashAfter(writes);
    (void)coordinator_->CompleteTrial(CompletionOf(t, 0.5));
    Restart();
    auto study = coordinator_->GetStudy(name);
    ASSERT_TRUE(study.ok());
    auto trial = coordinator_->GetTrial(t.id());
    ASSERT_TRUE(trial.ok());
    if (trial->state() == caviar::v1::SUCCEEDED) {
      EXPECT_EQ(study->state(), caviar::v1::STUDY_COMPLETED) << study->DebugString();
    } else {
      EXPECT_EQ(trial->state(), caviar::v1::ACTIVE);
      EXPECT_EQ(study->state(), caviar::v1::STUDY_ACTIVE);
    }
  }
}

// Defect 1, the other half: a database already in that state (written by an
// older version) is decided again at start.
TEST_F(CoordinatorTrustTest, LoadEndsAStudyWhoseBudgetIsSpent) {
  ASSERT_TRUE(coordinator_->CreateStudy(Spec("spent", 1)).ok());
  Trial t = Suggest("w1");
  Trial done = t;
  done.set_state(caviar::v1::SUCCEEDED);
  done.set_objective_value(0.5);
  storage::WriteBatch batch;
  batch.PutTrial(done);  // The trial's write, without the study's.
  ASSERT_TRUE(sqlite_->Commit(batch).ok());
  Restart();
  auto study = coordinator_->GetStudy("spent");
  ASSERT_TRUE(study.ok());
  EXPECT_EQ(study->state(), caviar::v1::STUDY_COMPLETED);
  EXPECT_THAT(study->state_reason(), HasSubstr("budget spent"));
  Restart();  // And it was stored so.
  EXPECT_EQ(coordinator_->GetStudy("spent")->state(), caviar::v1::STUDY_COMPLETED);
}

// A failed commit changes nothing the coordinator shows, for every mutator.
TEST_F(CoordinatorTrustTest, AFailedCommitChangesNothing) {
  ASSERT_TRUE(coordinator_->CreateStudy(Spec("s", 3, 0)).ok());
  auto unchanged = [&](const std::string& what, auto call) {
    SCOPED_TRACE(what);
    const std::string before = Snapshot("s");
    faulty_->FailCommit(1);
    auto result = call();
    EXPECT_FALSE(result.ok());
    faulty_->Heal();
    EXPECT_EQ(Snapshot("s"), before);
  };
  caviar::v1::SuggestTrialRequest suggest;
  suggest.set_worker_id("w1");
  unchanged("suggest", [&] { return coordinator_->SuggestTrial(suggest); });
  Trial t = Suggest("w1");
  unchanged("report", [&] { return coordinator_->ReportProgress(ReportOf(t, 1, 0.5)); });
  unchanged("complete",
            [&] { return coordinator_->CompleteTrial(CompletionOf(t, 0.5)); });
  caviar::v1::CompleteTrialRequest release = CompletionOf(t, 0);
  release.set_release(true);
  unchanged("release", [&] { return coordinator_->CompleteTrial(release); });
  clock_.Advance(absl::Seconds(31));
  unchanged("expire", [&] { return coordinator_->ExpireLeases(); });
  unchanged("stop", [&] { return coordinator_->StopStudy("s", "why"); });
  // The last trial of the budget: the trial and the study's end together.
  Trial last = Suggest("w1");
  ASSERT_EQ(last.id(), t.id());  // w1 still holds t: the failed expiry changed nothing.
  ASSERT_TRUE(coordinator_->CompleteTrial(CompletionOf(last, 0.1)).ok());
  Trial second = Suggest("w2");
  ASSERT_TRUE(coordinator_->CompleteTrial(CompletionOf(second, 0.2)).ok());
  Trial third = Suggest("w3");
  unchanged("last completion",
            [&] { return coordinator_->CompleteTrial(CompletionOf(third, 0.3)); });
  EXPECT_EQ(coordinator_->GetStudy("s")->state(), caviar::v1::STUDY_ACTIVE);
}

// Defect 2: the pruner took a report in before it was committed, so a
// report whose commit failed was judged again as already seen.
TEST_F(CoordinatorTrustTest, APrunerTakesInOnlyCommittedReports) {
  caviar::v1::StudySpec spec = Spec("asha", 10, 0);
  spec.mutable_pruner()->set_name("asha");
  (*spec.mutable_pruner()->mutable_options()->mutable_fields())["reduction_factor"]
      .set_number_value(2);
  ASSERT_TRUE(coordinator_->CreateStudy(spec).ok());
  Trial good = Suggest("w1");
  Trial bad = Suggest("w2");
  ASSERT_TRUE(coordinator_->ReportProgress(ReportOf(good, 1, 0.9)).ok());
  faulty_->FailCommit(1);
  EXPECT_FALSE(coordinator_->ReportProgress(ReportOf(bad, 1, 0.1)).ok());
  faulty_->Heal();
  auto retried = coordinator_->ReportProgress(ReportOf(bad, 1, 0.1));
  ASSERT_TRUE(retried.ok()) << retried.status();
  EXPECT_EQ(retried->decision(), caviar::v1::STOP) << retried->reason();
  EXPECT_THAT(retried->reason(), HasSubstr("asha"));
}

// Defect 4: leases ran on the wall clock.
TEST_F(CoordinatorTrustTest, WallClockStepsMoveNoLease) {
  ASSERT_TRUE(coordinator_->CreateStudy(Spec("s", 5)).ok());
  Trial t = Suggest("w1");  // Lease: 30 s.
  clock_.StepWallClock(absl::Seconds(120));
  EXPECT_EQ(*coordinator_->ExpireLeases(), 0);
  EXPECT_EQ(coordinator_->GetTrial(t.id())->state(), caviar::v1::ACTIVE);
  clock_.StepWallClock(-absl::Hours(1));
  clock_.Advance(absl::Seconds(31));  // The worker is dead: 31 s of silence.
  EXPECT_EQ(*coordinator_->ExpireLeases(), 1);
  EXPECT_EQ(coordinator_->GetTrial(t.id())->state(), caviar::v1::PENDING);
}

// Defect 4: a stalled coordinator (SIGSTOP) expired every healthy lease on
// resume. A stall gives running trials a full lease instead.
TEST_F(CoordinatorTrustTest, AStalledCoordinatorExpiresNoLeaseOnResume) {
  CoordinatorOptions options;
  options.stall_threshold = absl::Seconds(3);
  Restart(options);
  ASSERT_TRUE(coordinator_->CreateStudy(Spec("s", 5)).ok());
  Trial t = Suggest("w1");
  EXPECT_EQ(*coordinator_->ExpireLeases(), 0);
  clock_.Advance(absl::Seconds(40));  // Stopped for 40 s, past the 30 s lease.
  EXPECT_EQ(*coordinator_->ExpireLeases(), 0);
  EXPECT_TRUE(coordinator_->ReportProgress(ReportOf(t, 1, 0.5)).ok());
  // A worker that really is gone still loses its trial, a lease later.
  for (int s = 0; s < 31; ++s) {
    clock_.Advance(absl::Seconds(1));
    ASSERT_TRUE(coordinator_->ExpireLeases().ok());
  }
  EXPECT_EQ(coordinator_->GetTrial(t.id())->state(), caviar::v1::PENDING);
}

// Defect 3: a result finished while the coordinator could not hear it was
// refused because the lease had run out, and the trial was run again.
TEST_F(CoordinatorTrustTest, TheLastHoldersLateResultIsKeptUnlessTheTrialMovedOn) {
  ASSERT_TRUE(coordinator_->CreateStudy(Spec("s", 5)).ok());
  Trial late = Suggest("w1");
  Trial taken = Suggest("w2");
  clock_.Advance(absl::Seconds(31));
  EXPECT_EQ(*coordinator_->ExpireLeases(), 2);
  // A late progress report is refused: the trial may go to someone else.
  EXPECT_EQ(coordinator_->ReportProgress(ReportOf(late, 1, 0.5)).status().code(),
            absl::StatusCode::kFailedPrecondition);
  auto kept = coordinator_->CompleteTrial(CompletionOf(late, 0.5));
  ASSERT_TRUE(kept.ok()) << kept.status();
  EXPECT_EQ(kept->state(), caviar::v1::SUCCEEDED);
  EXPECT_EQ(kept->objective_value(), 0.5);
  // Handed to another worker meanwhile: the old holder's result is refused.
  Trial again = Suggest("w3");
  ASSERT_EQ(again.id(), taken.id());
  EXPECT_EQ(coordinator_->CompleteTrial(CompletionOf(taken, 0.7)).status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(coordinator_->GetTrial(taken.id())->worker_id(), "w3");
}

// Defect 12: NaN was FAILED/DIVERGED without a pruner and STOPPED (using
// budget) with the divergence pruner.
TEST_F(CoordinatorTrustTest, ANaNObjectiveIsDivergedWithOrWithoutAPruner) {
  for (const std::string pruner : {"none", "divergence"}) {
    SCOPED_TRACE(pruner);
    caviar::v1::StudySpec spec = Spec("nan-" + pruner, 5);
    spec.mutable_pruner()->set_name(pruner);
    ASSERT_TRUE(coordinator_->CreateStudy(spec).ok());
    caviar::v1::SuggestTrialRequest suggest;
    suggest.set_worker_id("w-" + pruner);
    suggest.set_study(spec.name());
    Trial t = coordinator_->SuggestTrial(suggest)->trial();
    auto reply = coordinator_->ReportProgress(ReportOf(t, 1, std::nan("")));
    ASSERT_TRUE(reply.ok());
    caviar::v1::CompleteTrialRequest done = CompletionOf(t, std::nan(""));
    if (reply->decision() == caviar::v1::STOP) {
      done.set_stopped(true);
      done.clear_final_measurement();
    }
    auto final_trial = coordinator_->CompleteTrial(done);
    ASSERT_TRUE(final_trial.ok()) << final_trial.status();
    EXPECT_EQ(final_trial->state(), caviar::v1::FAILED);
    EXPECT_EQ(final_trial->failure_kind(), caviar::v1::DIVERGED);
    EXPECT_FALSE(final_trial->has_objective_value());
  }
}

// Defect 14: `caviar stop NAME --reason X` told running trials "study ended".
TEST_F(CoordinatorTrustTest, RunningTrialsHearTheReasonTheirStudyWasStoppedFor) {
  ASSERT_TRUE(coordinator_->CreateStudy(Spec("s", 5)).ok());
  Trial t = Suggest("w1");
  ASSERT_TRUE(coordinator_->StopStudy("s", "out of GPU hours").ok());
  auto reply = coordinator_->ReportProgress(ReportOf(t, 1, 0.5));
  ASSERT_TRUE(reply.ok());
  EXPECT_EQ(reply->decision(), caviar::v1::STOP);
  EXPECT_EQ(reply->reason(), "out of GPU hours");
}

// Defect 10: max_retries 0 was read as "the default (2)".
TEST_F(CoordinatorTrustTest, ZeroRetriesMeansTheFirstLostLeaseFailsTheTrial) {
  caviar::v1::StudySpec spec = Spec("s", 5);
  spec.mutable_trial_policy()->set_max_retries(0);
  ASSERT_TRUE(coordinator_->CreateStudy(spec).ok());
  Trial t = Suggest("w1");
  clock_.Advance(absl::Seconds(31));
  EXPECT_EQ(*coordinator_->ExpireLeases(), 1);
  auto failed = coordinator_->GetTrial(t.id());
  EXPECT_EQ(failed->state(), caviar::v1::FAILED);
  EXPECT_EQ(failed->failure_kind(), caviar::v1::LEASE_EXPIRED);
}

// Defect 15: huge page tokens gave negative next tokens; unbounded worker ids.
TEST_F(CoordinatorTrustTest, RequestFieldsHaveLimits) {
  ASSERT_TRUE(coordinator_->CreateStudy(Spec("s", 5)).ok());
  Suggest("w1");
  caviar::v1::ListTrialsRequest list;
  list.set_study("s");
  list.set_page_token("9223372036854775000");
  auto page = coordinator_->ListTrials(list);
  ASSERT_TRUE(page.ok()) << page.status();
  EXPECT_EQ(page->trials_size(), 0);
  EXPECT_TRUE(page->next_page_token().empty());

  caviar::v1::SuggestTrialRequest suggest;
  suggest.set_worker_id(std::string(257, 'w'));
  auto refused = coordinator_->SuggestTrial(suggest);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(refused.status().message(), HasSubstr("worker_id"));
}

}  // namespace
}  // namespace caviar::scheduling
