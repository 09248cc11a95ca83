// Population-based training (algorithm pbt, issue 11) through the real
// binaries: a coordinator, four workers and the `caviar` CLI train a
// population of four built-in-trainer trials; trials in the bottom quantile
// continue from a top trial's checkpoint with perturbed settings. Checks the
// lineage, that the copied bytes are the parent's (digests), that the new
// branch resumes the parent's curve and trains with the new settings, and
// the budget.
#include <chrono>
#include <cmath>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "common/digest/sha256.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/panda/harness.h"

namespace caviar::testing {
namespace {

using ::testing::HasSubstr;

constexpr int kPopulation = 4;
constexpr int kEpochs = 8;

double TimeOf(const google::protobuf::Timestamp& t) {
  return t.seconds() + t.nanos() * 1e-9;
}

class PbtEndToEndTest : public PandaHarness {
 protected:
  std::unique_ptr<Process> PopulationWorker(int i, const std::string& study) {
    return std::make_unique<Process>(
        std::vector<std::string>{CAVIAR_WORKER_BIN, "--coordinator", Address(), "--id",
                                 absl::StrCat("w", i), "--study", study},
        dir_.File(absl::StrCat("pbt-worker-", i)));
  }
};

TEST_F(PbtEndToEndTest, BottomTrialsContinueFromTopTrialsCheckpointsWithLineage) {
  // Learning rates from hopeless to good, so that the population spreads;
  // dropout is searched too, and checkpoints carry it (SettingsOfCheckpoint).
  const std::string parameters =
      "  - {name: learning_rate, double: {min: 0.00001, max: 0.3}, scale: LOG}\n"
      "  - {name: dropout, double: {min: 0.05, max: 0.5}}\n";
  std::string spec = TrainerSpec(
      "pbt", parameters,
      "{seed: 42, layers: 1, hidden_units: 64, batch_size: 64, optimizer: momentum, "
      "beta1: 0.9, threads: 1}",
      "algorithm: {name: pbt, options: {quantile: 0.5, resample_probability: 0.2}}\n"
      "checkpoint: {every_steps: 1, keep_latest: 100}\n",
      kEpochs);
  spec = absl::StrReplaceAll(spec,
                             {{"budget: {max_trials: 1, max_parallel_trials: 1}",
                               absl::StrCat("budget: {max_trials: ", kPopulation,
                                            ", max_parallel_trials: ", kPopulation, "}")},
                              {"lease_seconds: 2", "lease_seconds: 20"}});
  Submit("pbt", spec);
  std::vector<std::unique_ptr<Process>> workers;
  for (int i = 0; i < kPopulation; ++i) workers.push_back(PopulationWorker(i, "pbt"));

  caviar::v1::Study study;
  for (int i = 0; i < 120 * 10; ++i) {
    study = GetStudy("pbt");
    if (study.state() != caviar::v1::STUDY_ACTIVE) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_EQ(study.state(), caviar::v1::STUDY_COMPLETED) << study.DebugString();

  // The budget: the population, each trained to the last epoch, no more.
  const std::vector<caviar::v1::Trial> trials = Trials("pbt");
  ASSERT_EQ(trials.size(), size_t(kPopulation));
  std::map<int64_t, caviar::v1::Trial> by_id;
  for (const auto& t : trials) {
    EXPECT_EQ(t.state(), caviar::v1::SUCCEEDED) << t.DebugString();
    EXPECT_EQ(t.final_measurement().step(), kEpochs) << t.DebugString();
    by_id[t.id()] = t;
  }

  int exploits = 0, parent_files_compared = 0;
  for (const auto& t : trials) {
    for (const caviar::v1::Branch& b : t.branches()) {
      if (!b.has_exploit()) continue;
      ++exploits;
      const caviar::v1::Exploit& e = b.exploit();
      SCOPED_TRACE(
          absl::StrCat("trial ", t.id(), " branch ", b.number(), ": ", e.DebugString()));
      ASSERT_TRUE(by_id.count(e.parent_trial()));
      EXPECT_NE(e.parent_trial(), t.id());
      EXPECT_EQ(b.from_step(), e.parent_step());
      EXPECT_GE(e.parent_step(), 1);
      EXPECT_GE(e.left_step(), 1);
      // Lineage: where it came from and what changed.
      EXPECT_EQ(e.old_parameters().size(), 2u);
      EXPECT_EQ(e.parent_parameters().size(), 2u);
      EXPECT_EQ(b.parameters().size(), 2u);
      EXPECT_TRUE(e.has_objective_value());
      EXPECT_TRUE(e.has_parent_objective_value());
      // The bytes copied are the parent's: its checkpoint at that step has
      // the recorded digest (unless the parent itself later took another's
      // checkpoint at that step or before), and so has this trial's copy.
      const std::string parent_bytes = CheckpointBytes(e.parent_trial(), e.parent_step());
      bool parent_file_kept = true;
      for (const caviar::v1::Branch& later : by_id[e.parent_trial()].branches()) {
        if (later.from_step() <= e.parent_step() &&
            TimeOf(later.create_time()) > TimeOf(b.create_time()))
          parent_file_kept = false;
      }
      if (parent_file_kept) {
        ASSERT_FALSE(parent_bytes.empty());
        EXPECT_EQ(Sha256Digest(parent_bytes), e.checkpoint_digest());
        EXPECT_DOUBLE_EQ(SettingsOfCheckpoint(parent_bytes).dropout,
                         e.parent_parameters().at("dropout").double_value());
        ++parent_files_compared;
      }
      if (t.branch() == b.number()) {
        const std::string copy_bytes = CheckpointBytes(t.id(), e.parent_step());
        ASSERT_FALSE(copy_bytes.empty());
        EXPECT_EQ(Sha256Digest(copy_bytes), e.checkpoint_digest());
        if (parent_file_kept) EXPECT_EQ(copy_bytes, parent_bytes);
      }
      // Explore: each value is the parent's perturbed or resampled, inside
      // the range; dropout's perturbation shows in the checkpoint the new
      // branch saved one step later (its settings section).
      const double parent_dropout = e.parent_parameters().at("dropout").double_value();
      const double dropout = b.parameters().at("dropout").double_value();
      EXPECT_GE(dropout, 0.05);
      EXPECT_LE(dropout, 0.5);
      bool dropout_resampled = false;
      for (const std::string& name : e.resampled())
        dropout_resampled |= name == "dropout";
      if (!dropout_resampled) {
        const double ratio = dropout / parent_dropout;
        EXPECT_TRUE(std::abs(ratio - 0.8) < 1e-9 || std::abs(ratio - 1.2) < 1e-9 ||
                    dropout == 0.05 || dropout == 0.5)
            << parent_dropout << " -> " << dropout;
      }
      if (t.branch() == b.number()) {
        const std::string next = CheckpointBytes(t.id(), e.parent_step() + 1);
        ASSERT_FALSE(next.empty());
        EXPECT_DOUBLE_EQ(SettingsOfCheckpoint(next).dropout, dropout);
      }
    }
  }
  EXPECT_GE(exploits, 1) << "no trial exploited another";
  std::cout << exploits << " exploits among " << trials.size() << " trials, "
            << parent_files_compared << " compared with the parent's file\n";

  // The current branch of an exploited trial starts with the parent's curve
  // up to the copied step (the resuming worker reports it again).
  for (const auto& t : trials) {
    const caviar::v1::Branch* current = nullptr;
    for (const auto& b : t.branches())
      if (b.number() == t.branch()) current = &b;
    if (current == nullptr || !current->has_exploit()) continue;
    std::map<int64_t, caviar::v1::Measurement> mine;
    for (const auto& m : t.measurements())
      if (m.branch() == t.branch()) mine[m.step()] = m;
    const caviar::v1::Exploit& e = current->exploit();
    const caviar::v1::Trial& parent = by_id[e.parent_trial()];
    int compared = 0;
    for (const auto& m : parent.measurements()) {
      if (m.branch() != e.parent_branch() || m.step() > e.parent_step()) continue;
      ASSERT_TRUE(mine.count(m.step())) << "step " << m.step();
      EXPECT_EQ(DeterministicMetrics(mine[m.step()]), DeterministicMetrics(m))
          << "step " << m.step();
      ++compared;
    }
    EXPECT_EQ(compared, e.parent_step());
    ASSERT_TRUE(mine.count(current->exploit().parent_step() + 1)) << t.DebugString();
    EXPECT_EQ(mine.rbegin()->first, kEpochs);
  }

  // `caviar trial` shows the lineage.
  for (const auto& t : trials) {
    if (t.branches_size() == 0 || !t.branches(0).has_exploit()) continue;
    CommandResult shown = Caviar({"trial", absl::StrCat(t.id())});
    ASSERT_EQ(shown.exit_code, 0) << shown.err;
    EXPECT_THAT(shown.out,
                HasSubstr(absl::StrCat(
                    "for trial ", t.branches(0).exploit().parent_trial(),
                    "'s checkpoint at step ", t.branches(0).exploit().parent_step())));
    EXPECT_THAT(shown.out, HasSubstr("(with a pbt exploit)"));
    std::cout << shown.out;
    CommandResult json = Caviar({"trial", absl::StrCat(t.id()), "--format", "json"});
    EXPECT_THAT(json.out, HasSubstr("\"parent_trial\""));
    break;
  }
}

TEST_F(PbtEndToEndTest, SpecsPbtCannotRunAreRefusedNamingTheField) {
  const std::string spec =
      TrainerSpec("bad", "  - {name: hidden_units, integer: {min: 8, max: 64}}\n",
                  "{seed: 1, threads: 1}", "algorithm: {name: pbt}\n");
  std::ofstream(dir_.File("bad.yaml")) << spec;
  CommandResult r = Caviar({"submit", dir_.File("bad.yaml")});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_THAT(r.err, HasSubstr("algorithm.name: pbt changes the searched settings"));
  EXPECT_THAT(r.err, HasSubstr("parameters[hidden_units]"));

  const std::string off = TrainerSpec(
      "off", "  - {name: learning_rate, double: {min: 0.001, max: 0.1}, scale: LOG}\n",
      "{seed: 1, threads: 1}", "algorithm: {name: pbt}\ncheckpoint: {every_steps: 0}\n");
  std::ofstream(dir_.File("off.yaml")) << off;
  r = Caviar({"submit", dir_.File("off.yaml")});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_THAT(r.err, HasSubstr("checkpoint.every_steps"));
}

}  // namespace
}  // namespace caviar::testing
