// A coordinator, workers and the `caviar` CLI as real processes, for the
// panda-mode end-to-end tests: the coordinator on an ephemeral loopback
// port with its database and checkpoint folder in a temporary directory, a
// synthetic CSV dataset for the built-in trainer, and typed reads of trials
// and checkpoints over gRPC.
#ifndef CAVIAR_TESTS_PANDA_HARNESS_H_
#define CAVIAR_TESTS_PANDA_HARNESS_H_

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "caviar/v1/service.grpc.pb.h"
#include "gtest/gtest.h"
#include "tests/e2e/process.h"
#include "tests/testing/temp_dir.h"

namespace caviar::testing {

// A synthetic 4-class problem: class centers plus noise, 64 features.
void WriteFourClassCsv(const std::string& path, int rows, uint32_t seed);

// The metrics of `m` without the wall-time one ("seconds").
std::map<std::string, double> DeterministicMetrics(const caviar::v1::Measurement& m);

// The settings section a trainer checkpoint ends with (trainer.cc
// SaveState): what a nudge may change.
struct CheckpointSettings {
  int32_t lr_schedule = 0;
  double lr_decay = 0;
  int32_t lr_step_epochs = 0;
  double beta1 = 0, beta2 = 0, epsilon = 0, l2 = 0, dropout = 0, bn_momentum = 0;
  int32_t batch_size = 0;
};
CheckpointSettings SettingsOfCheckpoint(const std::string& bytes);

class PandaHarness : public ::testing::Test {
 protected:
  void SetUp() override;

  std::string Address() const;
  // A built-in-trainer study (6 epochs by default) over the CSV files,
  // `settings` the YAML flow map of its fixed settings, `extra` more YAML
  // at the top level (e.g. "checkpoint: {...}").
  std::string TrainerSpec(const std::string& name, const std::string& parameters,
                          const std::string& settings, const std::string& extra,
                          int epochs = 6);
  void Submit(const std::string& name, const std::string& yaml);
  // `caviar --coordinator ... args...`.
  CommandResult Caviar(const std::vector<std::string>& args);
  std::unique_ptr<Process> Worker(const std::string& id, const std::string& study);

  caviar::v1::Trial GetTrial(int64_t id);
  caviar::v1::Trial OnlyTrial(const std::string& study);
  // Every trial of `study` (GetTrial of each: curves of every branch).
  std::vector<caviar::v1::Trial> Trials(const std::string& study);
  caviar::v1::Study GetStudy(const std::string& name);
  // Waits (up to `seconds`) until `study` has its trial; returns its id.
  int64_t WaitForTrial(const std::string& study, int seconds = 60);
  std::vector<caviar::v1::CheckpointInfo> Checkpoints(int64_t trial);
  int64_t LatestCheckpointStep(int64_t trial);
  // Waits until the trial has a checkpoint of step >= `step`.
  void WaitForCheckpoint(int64_t trial, int64_t step, int seconds = 120);
  // The bytes of a stored checkpoint, read from the coordinator's folder.
  std::string CheckpointBytes(int64_t trial, int64_t step);

  TempDir dir_;
  int port_ = 0;
  std::unique_ptr<Process> coordinator_;
  std::unique_ptr<caviar::v1::StudyService::Stub> studies_;
};

}  // namespace caviar::testing

#endif  // CAVIAR_TESTS_PANDA_HARNESS_H_
