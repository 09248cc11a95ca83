// examples/pytorch/train.py through a real coordinator and workers
// (label `torch`; registered only where /usr/bin/python3 imports torch): a
// nudge of the learning rate reaches the running PyTorch command, which
// applies and acknowledges it; a worker killed with -9 after a checkpoint
// leaves the trial to another worker, which resumes the command from that
// checkpoint (CAVIAR_RESUME_STEP) and finishes it.
#include <signal.h>

#include <chrono>
#include <cmath>
#include <functional>
#include <string>
#include <thread>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/panda/harness.h"

namespace caviar::testing {
namespace {

using ::testing::HasSubstr;

constexpr int kEpochs = 5;

// The learning rate a measurement reports (NaN when it has none).
double LearningRate(const caviar::v1::Measurement& m) {
  auto it = m.metrics().find("learning_rate");
  return it == m.metrics().end() ? std::nan("") : it->second;
}

class TorchExampleTest : public PandaHarness {
 protected:
  int64_t LastStep(int64_t id) {
    const caviar::v1::Trial t = GetTrial(id);
    int64_t step = 0;
    for (const auto& m : t.measurements())
      if (m.attempt() == t.attempt()) step = std::max(step, m.step());
    return step;
  }
  // Whether `done` held within `seconds`.
  static bool WaitFor(const std::function<bool()>& done, int seconds = 240) {
    for (int i = 0; i < seconds * 20 && !done(); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    return done();
  }
};

TEST_F(TorchExampleTest, NudgedAcknowledgedCheckpointedAndResumedAfterKill) {
  const std::string spec = absl::StrCat(
      "name: torch\n", "objective: {metric: dev_accuracy, goal: MAXIMIZE}\n",
      "parameters:\n", "  - {name: learning_rate, discrete: {values: [0.05]}}\n",
      "budget: {max_trials: 1, max_parallel_trials: 1}\n",
      "trial_policy: {lease_seconds: 3, max_retries: 3}\n",
      "checkpoint: {keep_latest: 10}\n", "command:\n", "  argv: [/usr/bin/python3, ",
      CAVIAR_TORCH_EXAMPLE, ", --epochs, \"", kEpochs,
      "\", --train-limit, \"2000\", --dev-size, \"1000\", ",
      "--hidden, \"32\", --epoch-delay, \"1.5\"]\n", "  grace_seconds: 5\n");
  Submit("torch", spec);
  auto first = Worker("first", "torch");
  const int64_t id = WaitForTrial("torch");
  const std::string trial = absl::StrCat(id);
  ASSERT_TRUE(WaitFor([&] { return LastStep(id) >= 1; })) << "step 1";

  CommandResult nudged =
      Caviar({"nudge", trial, "--param", "learning_rate=0.01", "--outside-range"});
  ASSERT_EQ(nudged.exit_code, 0) << nudged.err;
  ASSERT_TRUE(WaitFor([&] {
    const caviar::v1::Trial t = GetTrial(id);
    return t.nudges_size() == 1 && t.nudges(0).has_applied_at_step();
  })) << "the nudge's acknowledgement: "
      << GetTrial(id).DebugString();
  const caviar::v1::Trial acked = GetTrial(id);
  ASSERT_EQ(acked.nudges_size(), 1);
  const int64_t applied = acked.nudges(0).applied_at_step();
  // The command reports the learning rate it trains with: the nudged one
  // from the step the acknowledgement names.
  ASSERT_TRUE(WaitFor([&] { return LastStep(id) >= applied; })) << "the nudged step";
  const caviar::v1::Trial nudged_trial = GetTrial(id);
  for (const auto& m : nudged_trial.measurements()) {
    if (m.step() >= applied)
      EXPECT_DOUBLE_EQ(LearningRate(m), 0.01) << m.DebugString();
    else
      EXPECT_DOUBLE_EQ(LearningRate(m), 0.05) << m.DebugString();
  }

  // Killed after a checkpoint: the next worker resumes from it.
  WaitForCheckpoint(id, applied);
  if (HasFatalFailure()) return;
  const int64_t saved = LatestCheckpointStep(id);
  ASSERT_LT(saved, kEpochs) << "the run ended before the kill";
  first->Signal(SIGKILL);
  first->Wait();
  auto second = Worker("second", "torch");
  ASSERT_TRUE(WaitFor([&] { return GetTrial(id).state() == caviar::v1::SUCCEEDED; }))
      << GetTrial(id).DebugString() << second->Stderr();
  const caviar::v1::Trial done = GetTrial(id);
  EXPECT_GE(done.attempt(), 2);
  EXPECT_EQ(done.final_measurement().step(), kEpochs);
  EXPECT_THAT(second->Stderr(), HasSubstr(absl::StrCat("resuming after step ")));
  // The resumed attempt trained with the nudged rate (from the checkpoint).
  for (const auto& m : done.measurements())
    if (m.attempt() == done.attempt() && m.step() > saved)
      EXPECT_DOUBLE_EQ(LearningRate(m), 0.01) << m.DebugString();
  CommandResult shown = Caviar({"trial", trial});
  EXPECT_THAT(shown.out, HasSubstr(absl::StrCat("applied at step ", applied)));
}

}  // namespace
}  // namespace caviar::testing
