// Issue 11's panda mode through the real binaries (coordinator, workers,
// `caviar`): nudging any changeable trainer setting, nudges and checkpoints
// of the user's own command, rollback to an earlier checkpoint as a new
// branch, and pause/resume.
#include <signal.h>

#include <chrono>
#include <thread>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/panda/harness.h"

namespace caviar::testing {
namespace {

using ::testing::HasSubstr;

// Fixed settings of the trainer studies below: momentum (beta1), dropout,
// l2 and batch size are all set, so a nudge changes each from a known value.
constexpr char kSettings[] =
    "{seed: 42, layers: 2, hidden_units: 384, batch_size: 32, optimizer: momentum, "
    "beta1: 0.9, dropout: 0.1, l2: 0.0001, threads: 1}";
constexpr char kLearningRate[] =
    "  - {name: learning_rate, discrete: {values: [0.003]}}\n";
constexpr char kKeepAll[] = "checkpoint: {keep_latest: 100}\n";

class PandaEndToEndTest : public PandaHarness {
 protected:
  // Waits until trial `id` reported a step >= `step` (current attempt).
  void WaitForStep(int64_t id, int64_t step, int seconds = 120) {
    for (int i = 0; i < seconds * 100; ++i) {
      const caviar::v1::Trial t = GetTrial(id);
      for (const auto& m : t.measurements())
        if (m.attempt() == t.attempt() && m.step() >= step) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    FAIL() << "trial " << id << " never reported step " << step;
  }

  // The points of `branch` in the trial's curve, by step.
  static std::map<int64_t, caviar::v1::Measurement> Branch(const caviar::v1::Trial& t,
                                                           int branch) {
    std::map<int64_t, caviar::v1::Measurement> out;
    for (const auto& m : t.measurements())
      if (m.branch() == branch) out[m.step()] = m;
    return out;
  }
};

TEST_F(PandaEndToEndTest, NudgesChangeDropoutL2MomentumBatchSizeAndLearningRate) {
  Submit("plain", TrainerSpec("plain", kLearningRate, kSettings, kKeepAll));
  {
    auto worker = Worker("plain", "plain");
    ASSERT_EQ(worker->Wait(), 0) << worker->Stderr();
  }
  const caviar::v1::Trial reference = OnlyTrial("plain");
  ASSERT_EQ(reference.state(), caviar::v1::SUCCEEDED) << reference.DebugString();

  Submit("nudged", TrainerSpec("nudged", kLearningRate, kSettings, kKeepAll));
  auto worker = Worker("nudged", "nudged");
  const int64_t id = WaitForTrial("nudged");
  WaitForStep(id, 1);
  const std::string trial = absl::StrCat(id);

  // Settings fixed while training are refused, naming them and why; so is a
  // value outside the searched range without --outside-range. Nothing changes.
  CommandResult layers = Caviar({"nudge", trial, "--param", "layers=3"});
  EXPECT_NE(layers.exit_code, 0);
  EXPECT_THAT(layers.err, HasSubstr("parameters[layers]: cannot change while a trial "
                                    "trains (it fixes the network's shape)"));
  CommandResult optimizer = Caviar({"nudge", trial, "--param", "optimizer=adam"});
  EXPECT_THAT(optimizer.err, HasSubstr("parameters[optimizer]: cannot change"));
  CommandResult outside = Caviar({"nudge", trial, "--param", "learning_rate=0.02"});
  EXPECT_NE(outside.exit_code, 0);
  EXPECT_THAT(outside.err, HasSubstr("outside the study's search range"));
  CommandResult bad = Caviar({"nudge", trial, "--param", "dropout=1.5"});
  EXPECT_THAT(bad.err, HasSubstr("parameters[dropout]: must be in [0, 1), got 1.5"));
  EXPECT_EQ(GetTrial(id).nudges_size(), 0);

  // Fixed settings need no flag; the searched learning rate does.
  CommandResult nudged =
      Caviar({"nudge", trial, "--param", "dropout=0.3", "--param", "l2=0.001", "--param",
              "beta1=0.5", "--param", "batch_size=64", "--param", "learning_rate=0.02",
              "--outside-range"});
  ASSERT_EQ(nudged.exit_code, 0) << nudged.err;
  ASSERT_EQ(worker->Wait(), 0) << worker->Stderr();

  const caviar::v1::Trial after = GetTrial(id);
  ASSERT_EQ(after.state(), caviar::v1::SUCCEEDED) << after.DebugString();
  ASSERT_EQ(after.nudges_size(), 1);
  const caviar::v1::Nudge& nudge = after.nudges(0);
  EXPECT_EQ(nudge.id(), 1);
  EXPECT_TRUE(nudge.outside_range());
  ASSERT_TRUE(nudge.has_delivered_after_step());
  ASSERT_TRUE(nudge.has_applied_at_step()) << nudge.DebugString();
  const int64_t k = nudge.applied_at_step();
  // Delivered with the reply to the report of step d, it applies from d + 1;
  // with a heartbeat during step d + 1, from d + 2.
  EXPECT_GE(k, nudge.delivered_after_step() + 1);
  EXPECT_LE(k, nudge.delivered_after_step() + 2);
  ASSERT_LE(k, 6) << "the nudge came after the last epoch: epochs are too short here";

  // Before the nudge the curve is the un-nudged run's, to the bit; from
  // step k on it is not, and the learning rate is the nudged one.
  ASSERT_EQ(after.measurements_size(), 6);
  for (int i = 0; i < 6; ++i) {
    const auto& m = after.measurements(i);
    if (m.step() < k) {
      EXPECT_EQ(DeterministicMetrics(m), DeterministicMetrics(reference.measurements(i)))
          << "step " << m.step();
    } else {
      EXPECT_NE(m.metrics().at("train_loss"),
                reference.measurements(i).metrics().at("train_loss"))
          << "step " << m.step();
      EXPECT_DOUBLE_EQ(m.metrics().at("learning_rate"), 0.02) << "step " << m.step();
    }
  }
  // The trainer's state holds the new values from the checkpoint saved
  // right after it applied the nudge (after step k - 1, trained with the old
  // ones) on, the ones before it the old values.
  for (int64_t step = k - 1; step <= 6; ++step) {
    if (step < 1) continue;
    const CheckpointSettings state = SettingsOfCheckpoint(CheckpointBytes(id, step));
    EXPECT_EQ(state.dropout, 0.3) << "step " << step;
    EXPECT_EQ(state.l2, 0.001) << "step " << step;
    EXPECT_EQ(state.beta1, 0.5) << "step " << step;
    EXPECT_EQ(state.batch_size, 64) << "step " << step;
  }
  for (int64_t step = 1; step < k - 1; ++step) {
    const CheckpointSettings state = SettingsOfCheckpoint(CheckpointBytes(id, step));
    EXPECT_EQ(state.dropout, 0.1) << "step " << step;
    EXPECT_EQ(state.l2, 0.0001) << "step " << step;
    EXPECT_EQ(state.beta1, 0.9) << "step " << step;
    EXPECT_EQ(state.batch_size, 32) << "step " << step;
  }

  CommandResult shown = Caviar({"trial", trial});
  ASSERT_EQ(shown.exit_code, 0) << shown.err;
  EXPECT_THAT(shown.out, HasSubstr(absl::StrCat("applied at step ", k)));
  EXPECT_THAT(shown.out, HasSubstr("dropout=0.3"));
}

TEST_F(PandaEndToEndTest, RollbackRestoresTheCheckpointOfStepNAndKeepsBothBranches) {
  Submit("rb", TrainerSpec("rb", kLearningRate, kSettings,
                           "checkpoint: {every_steps: 2, keep_latest: 100}\n"));
  auto first = Worker("rb-1", "rb");
  const int64_t id = WaitForTrial("rb");
  WaitForCheckpoint(id, 4);
  first->Signal(SIGKILL);
  first->Wait();
  const std::string trial = absl::StrCat(id);
  std::string digest_at_2;
  for (const auto& info : Checkpoints(id))
    if (info.step() == 2) digest_at_2 = info.digest();
  ASSERT_THAT(digest_at_2, HasSubstr("sha256:"));

  // Step 3 has no checkpoint: the nearest earlier one (2) is used.
  CommandResult refused =
      Caviar({"rollback", trial, "--to-step", "3", "--set", "layers=3"});
  EXPECT_THAT(refused.err, HasSubstr("parameters[layers]: cannot change"));
  CommandResult rolled = Caviar({"rollback", trial, "--to-step", "3"});
  ASSERT_EQ(rolled.exit_code, 0) << rolled.err;
  EXPECT_THAT(rolled.out, HasSubstr("branch 1 continues from the checkpoint at step 2"));
  // The abandoned branch's later checkpoints are gone; step 2's is untouched.
  const auto kept = Checkpoints(id);
  ASSERT_EQ(kept.size(), 1u);
  EXPECT_EQ(kept[0].step(), 2);
  EXPECT_EQ(kept[0].digest(), digest_at_2);

  auto second = Worker("rb-2", "rb");
  WaitForCheckpoint(id, 4);
  second->Signal(SIGKILL);
  second->Wait();
  EXPECT_THAT(second->Stderr(), HasSubstr("resuming after step 2"));
  // Branch 1 is branch 0 again from the restored weights: bit-identical.
  caviar::v1::Trial t = GetTrial(id);
  auto branch0 = Branch(t, 0);
  auto branch1 = Branch(t, 1);
  for (int64_t step : {3, 4}) {
    ASSERT_TRUE(branch0.count(step) && branch1.count(step)) << t.DebugString();
    EXPECT_EQ(DeterministicMetrics(branch1[step]), DeterministicMetrics(branch0[step]))
        << "step " << step;
  }

  // Now back to step 2 again with a changed learning rate (outside the
  // searched values): branch 2 parts from branch 1 at step 3.
  CommandResult changed = Caviar({"rollback", trial, "--to-step", "2", "--set",
                                  "learning_rate=0.03", "--outside-range"});
  ASSERT_EQ(changed.exit_code, 0) << changed.err;
  auto third = Worker("rb-3", "rb");
  ASSERT_EQ(third->Wait(), 0) << third->Stderr();
  EXPECT_THAT(third->Stderr(), HasSubstr("resuming after step 2"));
  t = GetTrial(id);
  ASSERT_EQ(t.state(), caviar::v1::SUCCEEDED) << t.DebugString();
  EXPECT_EQ(t.branch(), 2);
  ASSERT_EQ(t.branches_size(), 2);
  EXPECT_EQ(t.branches(0).from_step(), 2);
  EXPECT_EQ(t.branches(0).requested_step(), 3);
  EXPECT_EQ(t.branches(1).parent(), 1);
  EXPECT_FALSE(t.has_rollback_step());
  auto branch2 = Branch(t, 2);
  ASSERT_EQ(branch2.size(), 6u) << t.DebugString();
  EXPECT_EQ(DeterministicMetrics(branch2[2]), DeterministicMetrics(branch0[2]));
  EXPECT_DOUBLE_EQ(branch2[3].metrics().at("learning_rate"), 0.03);
  EXPECT_NE(branch2[3].metrics().at("train_loss"), branch1[3].metrics().at("train_loss"));
  ASSERT_EQ(t.nudges_size(), 1);
  EXPECT_TRUE(t.nudges(0).from_rollback());
  EXPECT_EQ(t.nudges(0).applied_at_step(), 3);
  // The curve keeps every branch, and `caviar trial` shows them.
  EXPECT_FALSE(Branch(t, 0).empty());
  EXPECT_FALSE(Branch(t, 1).empty());
  CommandResult shown = Caviar({"trial", trial});
  EXPECT_THAT(shown.out, HasSubstr("branches (current: 2)"));
  EXPECT_THAT(shown.out, HasSubstr("2: rolled back from branch 1 to step 2 with "
                                   "learning_rate=0.03"));
}

TEST_F(PandaEndToEndTest, APausedTrialWaitsAndResumesFromItsCheckpoint) {
  Submit("pz", TrainerSpec("pz", kLearningRate, kSettings, kKeepAll));
  auto first = Worker("pz-1", "pz");
  const int64_t id = WaitForTrial("pz");
  WaitForStep(id, 2);
  const std::string trial = absl::StrCat(id);
  CommandResult paused = Caviar({"pause", trial});
  ASSERT_EQ(paused.exit_code, 0) << paused.err;
  ASSERT_EQ(first->Wait(), 0) << first->Stderr();
  EXPECT_THAT(first->Stderr(), HasSubstr("released to the coordinator"));
  caviar::v1::Trial t = GetTrial(id);
  ASSERT_EQ(t.state(), caviar::v1::PAUSED) << t.DebugString();
  const int64_t last_step = t.measurements().rbegin()->step();
  ASSERT_LT(last_step, 6);
  EXPECT_EQ(LatestCheckpointStep(id), last_step);  // Saved when it paused.

  CommandResult resumed = Caviar({"resume", trial});
  ASSERT_EQ(resumed.exit_code, 0) << resumed.err;
  EXPECT_THAT(resumed.out, HasSubstr("PENDING"));
  auto second = Worker("pz-2", "pz");
  ASSERT_EQ(second->Wait(), 0) << second->Stderr();
  EXPECT_THAT(second->Stderr(),
              HasSubstr(absl::StrCat("resuming after step ", last_step)));
  EXPECT_EQ(GetTrial(id).state(), caviar::v1::SUCCEEDED);
  EXPECT_NE(Caviar({"resume", trial}).exit_code, 0);  // Nothing to resume now.
}

// The user's own command: a Python script (panda_command.py).
std::string CommandSpec(const std::string& name, const std::string& ack) {
  return absl::StrCat("name: ", name, R"(
objective: {metric: loss, goal: MINIMIZE}
parameters:
  - {name: lr, double: {min: 0.01, max: 1.0}, scale: LOG}
budget: {max_trials: 1, max_parallel_trials: 1}
trial_policy: {lease_seconds: 2, max_retries: 5}
checkpoint: {keep_latest: 100}
command:
  argv: [/usr/bin/python3, )",
                      CAVIAR_PANDA_COMMAND, R"(, "8", "0.4"]
  env: {ACK: ")",
                      ack, "\"}\n");
}

TEST_F(PandaEndToEndTest, ACommandGetsNudgesAndItsCheckpointFolderBack) {
  Submit("cmd", CommandSpec("cmd", "1"));
  auto first = Worker("cmd-1", "cmd");
  const int64_t id = WaitForTrial("cmd");
  WaitForStep(id, 2);
  const std::string trial = absl::StrCat(id);
  ASSERT_EQ(Caviar({"nudge", trial, "--param", "lr=0.5"}).exit_code, 0);
  CommandResult unknown = Caviar({"nudge", trial, "--param", "momentum=0.5"});
  EXPECT_THAT(unknown.err, HasSubstr("the study has no parameter \"momentum\""));
  int64_t applied = 0;
  for (int i = 0; i < 3000 && applied == 0; ++i) {
    const caviar::v1::Trial t = GetTrial(id);
    if (t.nudges_size() == 1 && t.nudges(0).has_applied_at_step())
      applied = t.nudges(0).applied_at_step();
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_GT(applied, 0) << "the command never acknowledged the nudge";
  WaitForCheckpoint(id, applied);
  first->Signal(SIGKILL);
  first->Wait();
  caviar::v1::Trial t = GetTrial(id);
  for (const auto& m : t.measurements()) {
    EXPECT_DOUBLE_EQ(m.metrics().at("lr"),
                     m.step() < applied ? t.parameters().at("lr").double_value() : 0.5)
        << "step " << m.step();
  }
  const int64_t saved = LatestCheckpointStep(id);

  auto second = Worker("cmd-2", "cmd");
  ASSERT_EQ(second->Wait(), 0) << second->Stderr();
  EXPECT_THAT(second->Stderr(), HasSubstr(absl::StrCat("resuming after step ", saved)));
  t = GetTrial(id);
  ASSERT_EQ(t.state(), caviar::v1::SUCCEEDED) << t.DebugString();
  ASSERT_EQ(t.measurements_size(), 8);
  // The steps after the checkpoint ran from the state it held (the nudged
  // learning rate included), in a command started with CAVIAR_RESUME_STEP.
  for (const auto& m : t.measurements()) {
    if (m.step() <= saved) continue;
    EXPECT_EQ(m.metrics().at("resumed_from"), saved) << "step " << m.step();
    EXPECT_DOUBLE_EQ(m.metrics().at("lr"), 0.5) << "step " << m.step();
  }
}

TEST_F(PandaEndToEndTest, ACommandThatIgnoresNudgesIsToldApartAndNotKilled) {
  Submit("deaf", CommandSpec("deaf", "0"));
  auto worker = Worker("deaf", "deaf");
  const int64_t id = WaitForTrial("deaf");
  WaitForStep(id, 2);
  const std::string trial = absl::StrCat(id);
  ASSERT_EQ(Caviar({"nudge", trial, "--param", "lr=0.5"}).exit_code, 0);
  ASSERT_EQ(worker->Wait(), 0) << worker->Stderr();
  const caviar::v1::Trial t = GetTrial(id);
  ASSERT_EQ(t.state(), caviar::v1::SUCCEEDED) << t.DebugString();  // SIGUSR1 spared it.
  ASSERT_EQ(t.nudges_size(), 1);
  EXPECT_TRUE(t.nudges(0).has_delivered_after_step());
  EXPECT_FALSE(t.nudges(0).has_applied_at_step());
  CommandResult shown = Caviar({"trial", trial});
  EXPECT_THAT(shown.out, HasSubstr("not acknowledged"));
}

}  // namespace
}  // namespace caviar::testing
