// Issue 11's resume bar with the real binaries: a built-in-trainer trial of
// 6 epochs whose worker is killed with SIGKILL (or stopped with SIGTERM)
// right after its epoch-3 checkpoint; another worker resumes it at epoch 3. Its final
// weights (the bytes of the epoch-6 checkpoint, compared by SHA-256) and every metric of
// its curve and final measurement are bit-identical to an uninterrupted run
// of the same spec and seed (wall-time metrics aside: seconds and
// elapsed_seconds).
#include <signal.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>
#include <thread>

#include "absl/strings/str_cat.h"
#include "caviar/v1/service.grpc.pb.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/e2e/process.h"
#include "tests/panda/harness.h"

namespace caviar::testing {
namespace {

using ::testing::HasSubstr;

// The coordinator and the CSV files come from the panda-mode harness.
class ResumeEndToEndTest : public PandaHarness {
 protected:
  void Submit(const std::string& name) {
    const std::string spec = dir_.File(name + ".yaml");
    std::ofstream(spec) << absl::StrCat("name: ", name, R"(
objective: {metric: dev_accuracy, goal: MAXIMIZE}
parameters:
  - {name: learning_rate, discrete: {values: [0.003]}}
budget: {max_trials: 1, max_parallel_trials: 1}
trial_policy: {lease_seconds: 2, max_retries: 2}
seed: 7
trainer:
  epochs: 6
  dataset:
    csv: {train_path: )",
                                        dir_.File("train.csv"),
                                        ", test_path: ", dir_.File("test.csv"),
                                        R"(, label_column: label, has_header: true}
    dev_size: 1000
  settings: {seed: 42, layers: 2, hidden_units: 384, batch_size: 32, dropout: 0.1, threads: 1}
)");
    CommandResult r = RunCommand({CAVIAR_CLI_BIN, "--coordinator",
                                  absl::StrCat("127.0.0.1:", port_), "submit", spec},
                                 dir_.File("submit-" + name));
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }

  std::unique_ptr<Process> Worker(const std::string& id, const std::string& study) {
    return std::make_unique<Process>(
        std::vector<std::string>{CAVIAR_WORKER_BIN, "--coordinator",
                                 absl::StrCat("127.0.0.1:", port_), "--id", id, "--study",
                                 study, "--max-trials", "1"},
        dir_.File("worker-" + id));
  }

  template <typename Request, typename Response, typename Method>
  Response Call(Method method, const Request& request) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    Response response;
    const grpc::Status status = (studies_.get()->*method)(&context, request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return response;
  }

  caviar::v1::Trial OnlyTrial(const std::string& study) {
    caviar::v1::ListTrialsRequest request;
    request.set_study(study);
    request.set_include_measurements(true);
    auto trials = Call<caviar::v1::ListTrialsRequest, caviar::v1::ListTrialsResponse>(
        &caviar::v1::StudyService::Stub::ListTrials, request);
    return trials.trials_size() == 1 ? trials.trials(0) : caviar::v1::Trial();
  }

  std::vector<caviar::v1::CheckpointInfo> Checkpoints(int64_t trial) {
    caviar::v1::ListCheckpointsRequest request;
    request.set_trial_id(trial);
    auto listed =
        Call<caviar::v1::ListCheckpointsRequest, caviar::v1::ListCheckpointsResponse>(
            &caviar::v1::StudyService::Stub::ListCheckpoints, request);
    return {listed.checkpoints().begin(), listed.checkpoints().end()};
  }

  std::string DigestAt(int64_t trial, int64_t step) {
    for (const auto& info : Checkpoints(trial))
      if (info.step() == step) return info.digest();
    return "(no checkpoint at step " + std::to_string(step) + ")";
  }

  void InterruptAndCompare(const std::string& name, int signal,
                           const caviar::v1::Trial& reference);
};

// Runs study `name` with a worker that gets `signal` right after its epoch-3
// checkpoint, then another worker; checks the result against `reference`.
void ResumeEndToEndTest::InterruptAndCompare(const std::string& name, int signal,
                                             const caviar::v1::Trial& reference) {
  Submit(name);
  auto doomed = Worker(name + "-doomed", name);
  int64_t id = 0;
  int64_t latest_at_signal = 0;
  for (int i = 0; i < 6000 && latest_at_signal < 3; ++i) {
    if (id == 0) id = OnlyTrial(name).id();
    if (id != 0) {
      for (const auto& info : Checkpoints(id))
        latest_at_signal = std::max(latest_at_signal, info.step());
    }
    if (latest_at_signal < 3) std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  doomed->Signal(signal);
  const int exit_status = doomed->Wait();
  if (signal == SIGKILL) EXPECT_EQ(exit_status, 128 + SIGKILL);
  ASSERT_EQ(latest_at_signal, 3) << "the signal came too late: epochs are too short here";
  int64_t max_checkpoint = 0;
  for (const auto& info : Checkpoints(id))
    max_checkpoint = std::max(max_checkpoint, info.step());
  ASSERT_EQ(max_checkpoint, 3);
  if (signal == SIGTERM) {
    EXPECT_THAT(doomed->Stderr(), HasSubstr("released to the coordinator"));
    EXPECT_EQ(OnlyTrial(name).state(), caviar::v1::PENDING);  // Handed back at once.
  }

  auto rescuer = Worker(name + "-rescuer", name);
  ASSERT_EQ(rescuer->Wait(), 0) << rescuer->Stderr();
  EXPECT_THAT(rescuer->Stderr(), HasSubstr("resuming after step 3"));
  const caviar::v1::Trial resumed = OnlyTrial(name);
  ASSERT_EQ(resumed.state(), caviar::v1::SUCCEEDED) << resumed.DebugString();
  EXPECT_EQ(resumed.attempt(), 2);

  // The final weights: the epoch-6 checkpoints hold the same bytes.
  EXPECT_EQ(DigestAt(resumed.id(), 6), DigestAt(reference.id(), 6));
  EXPECT_THAT(DigestAt(reference.id(), 6), HasSubstr("sha256:"));
  // The curve: steps 1-3 reported again from the checkpoint, 4-6 trained
  // again; all equal to the uninterrupted run's, to the last bit.
  ASSERT_EQ(resumed.measurements_size(), 6) << resumed.DebugString();
  for (int i = 0; i < 6; ++i) {
    EXPECT_EQ(resumed.measurements(i).step(), i + 1);
    EXPECT_EQ(resumed.measurements(i).attempt(), 2);
    EXPECT_EQ(DeterministicMetrics(resumed.measurements(i)),
              DeterministicMetrics(reference.measurements(i)))
        << "step " << i + 1;
  }
  EXPECT_EQ(DeterministicMetrics(resumed.final_measurement()),
            DeterministicMetrics(reference.final_measurement()));
  EXPECT_EQ(resumed.final_measurement().metrics().count("test_accuracy"), 1);
  EXPECT_EQ(resumed.objective_value(), reference.objective_value());
}

TEST_F(ResumeEndToEndTest, AnInterruptedTrialResumesAtEpoch3BitIdentically) {
  // The uninterrupted run.
  Submit("reference");
  {
    auto worker = Worker("ref", "reference");
    ASSERT_EQ(worker->Wait(), 0) << worker->Stderr();
  }
  const caviar::v1::Trial reference = OnlyTrial("reference");
  ASSERT_EQ(reference.state(), caviar::v1::SUCCEEDED) << reference.DebugString();
  ASSERT_EQ(reference.measurements_size(), 6);
  // The signal below must land between the epoch-3 and epoch-4 checkpoints:
  // an epoch here takes far longer than one poll.
  std::printf("epoch 4 of the reference run took %.0f ms\n",
              reference.measurements(3).metrics().at("seconds") * 1e3);

  // A worker killed (its lease expires), and one stopped with SIGTERM (it
  // hands the trial back at once).
  InterruptAndCompare("killed", SIGKILL, reference);
  InterruptAndCompare("terminated", SIGTERM, reference);
}

}  // namespace
}  // namespace caviar::testing
