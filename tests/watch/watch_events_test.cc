// What the Coordinator tells watchers: a snapshot taken with the
// subscription, then one event per committed change (trial states, curve
// points, nudges, rollbacks, study counts), nothing for unwatched studies;
// and the panda study kind's rules.
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/scheduling/coordinator_fixture.h"

namespace caviar::scheduling {
namespace {

using caviar::v1::WatchEvent;
using ::testing::HasSubstr;

class WatchEventsTest : public CoordinatorTest {
 protected:
  WatchEvent Snapshot(const caviar::v1::WatchRequest& request) {
    absl::StatusOr<WatchEvent> snapshot =
        coordinator_->WatchSnapshot(request, nullptr, &subscription_);
    EXPECT_TRUE(snapshot.ok()) << snapshot.status();
    return snapshot.ok() ? *snapshot : WatchEvent();
  }
  std::vector<caviar::v1::WatchEventKind> Kinds() {
    std::vector<caviar::v1::WatchEventKind> kinds;
    for (const WatchEvent& e : subscription_->Take().events) {
      kinds.push_back(e.kind());
      events_.push_back(e);
    }
    return kinds;
  }
  std::shared_ptr<watch::Subscription> subscription_;
  std::vector<WatchEvent> events_;
};

TEST_F(WatchEventsTest, ASnapshotThenEveryCommittedChangeOfTheStudy) {
  ASSERT_TRUE(coordinator_->CreateStudy(Spec("s", 2, 1)).ok());
  ASSERT_TRUE(coordinator_->CreateStudy(Spec("other", 1)).ok());
  caviar::v1::WatchRequest request;
  request.set_study("s");
  WatchEvent snapshot = Snapshot(request);
  EXPECT_EQ(snapshot.kind(), caviar::v1::WATCH_SNAPSHOT);
  EXPECT_EQ(snapshot.study().spec().name(), "s");
  EXPECT_EQ(snapshot.trials_size(), 0);
  EXPECT_EQ(snapshot.best_trial_id(), 0);

  Trial t = Suggest("w1", "s");
  EXPECT_THAT(Kinds(),
              ::testing::ElementsAre(caviar::v1::WATCH_TRIAL, caviar::v1::WATCH_STUDY));
  EXPECT_EQ(events_[0].trials(0).state(), caviar::v1::ACTIVE);
  EXPECT_EQ(events_[1].study().active_trials(), 1);
  Suggest("w2", "other");  // Another study: nothing here.
  EXPECT_TRUE(Kinds().empty());

  ASSERT_TRUE(Report(t, 1, 0.5).ok());
  EXPECT_THAT(Kinds(), ::testing::ElementsAre(caviar::v1::WATCH_MEASUREMENT));
  EXPECT_EQ(events_.back().trial_id(), t.id());
  EXPECT_EQ(events_.back().measurement().metrics().at("score"), 0.5);

  caviar::v1::NudgeTrialRequest nudge;
  nudge.set_trial_id(t.id());
  (*nudge.mutable_parameters())["learning_rate"].set_double_value(0.01);
  ASSERT_TRUE(coordinator_->NudgeTrial(nudge).ok());
  EXPECT_THAT(Kinds(), ::testing::ElementsAre(caviar::v1::WATCH_NUDGE));
  EXPECT_FALSE(events_.back().nudge().has_delivered_after_step());
  ASSERT_TRUE(Report(t, 2, 0.6).ok());  // Delivered with this report's reply.
  EXPECT_THAT(Kinds(), ::testing::ElementsAre(caviar::v1::WATCH_MEASUREMENT,
                                              caviar::v1::WATCH_NUDGE));
  EXPECT_EQ(events_.back().nudge().delivered_after_step(), 2);

  // A snapshot now has the running trial with its curve.
  std::shared_ptr<watch::Subscription> second;
  absl::StatusOr<WatchEvent> now = coordinator_->WatchSnapshot(request, nullptr, &second);
  ASSERT_TRUE(now.ok());
  ASSERT_EQ(now->trials_size(), 1);
  EXPECT_EQ(now->trials(0).measurements_size(), 2);
  second->Cancel();

  ASSERT_TRUE(Complete(t, 0.9).ok());
  EXPECT_THAT(Kinds(),
              ::testing::ElementsAre(caviar::v1::WATCH_TRIAL, caviar::v1::WATCH_STUDY));
  EXPECT_EQ(events_[events_.size() - 2].trials(0).state(), caviar::v1::SUCCEEDED);
  Trial last = Suggest("w1", "s");
  ASSERT_TRUE(Complete(last, 0.7).ok());
  Kinds();
  // The last completion ends the study: its final counts come last.
  EXPECT_EQ(events_.back().kind(), caviar::v1::WATCH_STUDY);
  EXPECT_EQ(events_.back().study().state(), caviar::v1::STUDY_COMPLETED);
  WatchEvent ended = Snapshot(request);
  EXPECT_EQ(ended.best_trial_id(), t.id());
  EXPECT_EQ(ended.trials_size(), 2);  // Both finished; the best with its curve last.
  EXPECT_EQ(ended.trials(1).id(), t.id());
}

TEST_F(WatchEventsTest, OneTrialAndRefusals) {
  ASSERT_TRUE(coordinator_->CreateStudy(Spec("s", 2)).ok());
  Trial t = Suggest("w1", "s");
  ASSERT_TRUE(Report(t, 1, 0.5).ok());
  caviar::v1::WatchRequest request;
  request.set_trial_id(t.id());
  WatchEvent snapshot = Snapshot(request);
  ASSERT_EQ(snapshot.trials_size(), 1);
  EXPECT_EQ(snapshot.trials(0).measurements_size(), 1);
  EXPECT_EQ(snapshot.study().spec().name(), "s");
  Trial other = Suggest("w2", "s");
  ASSERT_TRUE(Report(other, 1, 0.1).ok());
  ASSERT_TRUE(Report(t, 2, 0.6).ok());
  for (const WatchEvent& e : subscription_->Take().events) {
    if (e.kind() == caviar::v1::WATCH_MEASUREMENT) EXPECT_EQ(e.trial_id(), t.id());
  }

  std::shared_ptr<watch::Subscription> none;
  caviar::v1::WatchRequest bad;
  EXPECT_THAT(coordinator_->WatchSnapshot(bad, nullptr, &none).status().message(),
              HasSubstr("study, trial_id: give exactly one"));
  bad.set_study("missing");
  EXPECT_TRUE(
      absl::IsNotFound(coordinator_->WatchSnapshot(bad, nullptr, &none).status()));
  bad.set_trial_id(5);
  EXPECT_TRUE(
      absl::IsInvalidArgument(coordinator_->WatchSnapshot(bad, nullptr, &none).status()));
  bad.clear_study();
  bad.set_trial_id(999);
  EXPECT_TRUE(
      absl::IsNotFound(coordinator_->WatchSnapshot(bad, nullptr, &none).status()));
  EXPECT_EQ(none, nullptr);
}

caviar::v1::StudySpec Panda(const std::string& name) {
  caviar::v1::StudySpec spec = Spec(name, 1, 1);
  spec.mutable_algorithm()->set_name("panda");
  google::protobuf::Value start;
  (*start.mutable_struct_value()->mutable_fields())["learning_rate"].set_number_value(
      0.01);
  (*spec.mutable_algorithm()->mutable_options()->mutable_fields())["start"] = start;
  return spec;
}

TEST_F(WatchEventsTest, APandaStudyHasOneTrialFromItsStart) {
  ASSERT_TRUE(coordinator_->CreateStudy(Panda("p")).ok());
  Trial t = Suggest("w1", "p");
  EXPECT_NEAR(t.parameters().at("learning_rate").double_value(), 0.01, 1e-12);
  EXPECT_EQ(t.parameters().at("units").int_value(), 75);  // The middle of 50..100.
  caviar::v1::SuggestTrialRequest more;
  more.set_worker_id("w2");
  more.set_study("p");
  auto none = coordinator_->SuggestTrial(more);
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_trial());

  caviar::v1::EnqueueTrialsRequest enqueue;
  enqueue.set_study("p");
  (*enqueue.add_configurations()->mutable_parameters())["units"].set_int_value(60);
  EXPECT_THAT(coordinator_->EnqueueTrials(enqueue).status().message(),
              HasSubstr("is a panda study"));
  caviar::v1::RefineStudyRequest refine;
  refine.set_study("p");
  refine.set_top_fraction(0.5);
  EXPECT_TRUE(absl::IsFailedPrecondition(coordinator_->RefineStudy(refine).status()));
  ASSERT_TRUE(Complete(t, 0.9).ok());
  EXPECT_EQ(coordinator_->GetStudy("p")->state(), caviar::v1::STUDY_COMPLETED);
}

TEST_F(WatchEventsTest, APandaSpecThatMakesNoSenseIsRefusedNamingTheField) {
  caviar::v1::StudySpec two = Panda("p2");
  two.mutable_budget()->set_max_trials(2);
  EXPECT_THAT(coordinator_->CreateStudy(two).status().message(),
              HasSubstr("budget.max_trials: must be 1 for a panda study"));
  caviar::v1::StudySpec parallel = Panda("p3");
  parallel.mutable_budget()->set_max_parallel_trials(4);
  EXPECT_THAT(coordinator_->CreateStudy(parallel).status().message(),
              HasSubstr("budget.max_parallel_trials: must be 0 or 1"));
  caviar::v1::StudySpec median = Panda("p4");
  median.mutable_pruner()->set_name("median");
  EXPECT_THAT(coordinator_->CreateStudy(median).status().message(),
              HasSubstr("pruner.name: a panda study's one trial"));
  caviar::v1::StudySpec unknown = Panda("p5");
  google::protobuf::Value start;
  (*start.mutable_struct_value()->mutable_fields())["momentum"].set_number_value(0.9);
  (*unknown.mutable_algorithm()->mutable_options()->mutable_fields())["start"] = start;
  EXPECT_THAT(
      coordinator_->CreateStudy(unknown).status().message(),
      HasSubstr("algorithm.options.start.momentum: not a parameter of the study"));
  caviar::v1::StudySpec divergence = Panda("p6");
  divergence.mutable_pruner()->set_name("divergence");
  EXPECT_TRUE(coordinator_->CreateStudy(divergence).ok());
  EXPECT_TRUE(absl::IsNotFound(coordinator_->GetStudy("p2").status()));
}

}  // namespace
}  // namespace caviar::scheduling
