// The CLI's model of a watched study: sparklines, plain lines per event,
// the redrawn frame, resync after a snapshot, the end.
#include "client/watch_view.h"

#include "absl/strings/str_join.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace caviar::client {
namespace {

using caviar::v1::WatchEvent;
using ::testing::HasSubstr;

TEST(SparklineTest, ScalesFromMinToMaxAndKeepsTheLastPoints) {
  EXPECT_EQ(Sparkline({0, 1, 2, 3, 4, 5, 6, 7}, 8), "▁▂▃▄▅▆▇█");
  EXPECT_EQ(Sparkline({5, 5, 5}, 8), "▄▄▄");
  EXPECT_EQ(Sparkline({100, 0, 1}, 2), "▁█");
  EXPECT_EQ(Sparkline({0, NAN, 1}, 8), "▁!█");
  EXPECT_EQ(Sparkline({}, 8), "");
}

caviar::v1::Study Study(caviar::v1::StudyState state) {
  caviar::v1::Study study;
  study.mutable_spec()->set_name("s");
  study.mutable_spec()->mutable_objective()->set_metric("acc");
  study.mutable_spec()->mutable_objective()->set_goal(caviar::v1::MAXIMIZE);
  study.mutable_spec()->mutable_budget()->set_max_trials(3);
  study.set_state(state);
  return study;
}

WatchEvent Point(int64_t trial, int64_t step, double acc, int branch = 0) {
  WatchEvent e;
  e.set_kind(caviar::v1::WATCH_MEASUREMENT);
  e.set_trial_id(trial);
  e.mutable_measurement()->set_step(step);
  e.mutable_measurement()->set_branch(branch);
  (*e.mutable_measurement()->mutable_metrics())["acc"] = acc;
  return e;
}

TEST(WatchViewTest, FollowsAStudyFromSnapshotToEnd) {
  WatchView view;
  WatchEvent snapshot;
  snapshot.set_kind(caviar::v1::WATCH_SNAPSHOT);
  *snapshot.mutable_study() = Study(caviar::v1::STUDY_ACTIVE);
  snapshot.mutable_study()->set_active_trials(1);
  caviar::v1::Trial* t = snapshot.add_trials();
  t->set_id(4);
  t->set_state(caviar::v1::ACTIVE);
  std::vector<std::string> lines = view.Apply(snapshot);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_THAT(lines[0], HasSubstr("watching s: ACTIVE 0/3 done, 1 active"));
  EXPECT_THAT(lines[1], HasSubstr("trial 4 ACTIVE"));
  EXPECT_FALSE(view.ended());

  for (int step = 1; step <= 4; ++step) view.Apply(Point(4, step, 0.5 + 0.1 * step));
  lines = view.Apply(Point(4, 5, 0.95));
  EXPECT_THAT(lines.at(0), HasSubstr("trial 4 step 5 acc=0.95"));
  WatchEvent nudge;
  nudge.set_kind(caviar::v1::WATCH_NUDGE);
  nudge.set_trial_id(4);
  nudge.mutable_nudge()->set_id(1);
  (*nudge.mutable_nudge()->mutable_parameters())["lr"].set_double_value(0.001);
  nudge.mutable_nudge()->set_applied_at_step(6);
  EXPECT_THAT(view.Apply(nudge).at(0),
              HasSubstr("trial 4 nudge 1 lr=0.001: applied at step 6"));
  // A rollback to step 2: the curve goes back there and continues.
  WatchEvent rollback;
  rollback.set_kind(caviar::v1::WATCH_ROLLBACK);
  rollback.set_trial_id(4);
  rollback.mutable_branch()->set_number(1);
  rollback.mutable_branch()->set_from_step(2);
  rollback.mutable_branch()->set_requested_step(3);
  EXPECT_THAT(view.Apply(rollback).at(0),
              HasSubstr("trial 4 rolled back to step 2 (asked 3) as branch 1"));
  view.Apply(Point(4, 3, 0.9, 1));

  const std::string frame = absl::StrJoin(view.Frame(100, 30), "\n");
  EXPECT_THAT(frame, HasSubstr("caviar watch s  ACTIVE"));
  EXPECT_THAT(frame, HasSubstr("     4  ACTIVE        3  0.9        ▁▃█  branch 1"));
  EXPECT_THAT(frame, HasSubstr("nudge 1 lr=0.001: applied at step 6"));
  for (const std::string& line : view.Frame(40, 5)) EXPECT_LE(line.size(), 40u * 3);
  EXPECT_EQ(view.Frame(40, 5).size(), 5u);

  WatchEvent pruned;
  pruned.set_kind(caviar::v1::WATCH_TRIAL);
  caviar::v1::Trial* p = pruned.add_trials();
  p->set_id(4);
  p->set_state(caviar::v1::STOPPED);
  p->set_stop_reason("below the median");
  EXPECT_THAT(view.Apply(pruned).at(0),
              HasSubstr("trial 4 STOPPED ✂ pruned: below the median"));
  WatchEvent done;
  done.set_kind(caviar::v1::WATCH_STUDY);
  *done.mutable_study() = Study(caviar::v1::STUDY_COMPLETED);
  view.Apply(done);
  EXPECT_TRUE(view.ended());
  EXPECT_THAT(view.Summary(), HasSubstr("s: COMPLETED"));
}

TEST(WatchViewTest, ASecondSnapshotIsAResync) {
  WatchView view(9);
  WatchEvent snapshot;
  snapshot.set_kind(caviar::v1::WATCH_SNAPSHOT);
  *snapshot.mutable_study() = Study(caviar::v1::STUDY_ACTIVE);
  caviar::v1::Trial* t = snapshot.add_trials();
  t->set_id(9);
  t->set_state(caviar::v1::ACTIVE);
  view.Apply(snapshot);
  snapshot.set_dropped_events(12);
  EXPECT_THAT(view.Apply(snapshot).at(0), HasSubstr("resynced (12 events missed)"));
  t->set_state(caviar::v1::SUCCEEDED);
  view.Apply(snapshot);
  EXPECT_TRUE(view.ended());  // The watched trial finished.
}

}  // namespace
}  // namespace caviar::client
