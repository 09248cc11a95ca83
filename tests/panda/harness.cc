#include "tests/panda/harness.h"

#include <chrono>
#include <cstring>
#include <fstream>
#include <random>
#include <sstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"

namespace caviar::testing {

void WriteFourClassCsv(const std::string& path, int rows, uint32_t seed) {
  std::mt19937 gen(seed);
  std::normal_distribution<double> noise(0, 1.5);
  std::uniform_int_distribution<int> label(0, 3);
  std::ofstream out(path);
  out << "label";
  for (int f = 0; f < 64; ++f) out << ",f" << f;
  out << "\n";
  for (int r = 0; r < rows; ++r) {
    const int y = label(gen);
    out << y;
    for (int f = 0; f < 64; ++f) out << "," << ((f % 4 == y) ? 1.0 : 0.0) + noise(gen);
    out << "\n";
  }
}

std::map<std::string, double> DeterministicMetrics(const caviar::v1::Measurement& m) {
  std::map<std::string, double> out(m.metrics().begin(), m.metrics().end());
  out.erase("seconds");
  return out;
}

CheckpointSettings SettingsOfCheckpoint(const std::string& bytes) {
  CheckpointSettings s;
  constexpr size_t kSize = 4 + 8 + 4 + 6 * 8 + 4;
  if (bytes.size() < kSize) return s;
  const char* p = bytes.data() + bytes.size() - kSize;
  auto get = [&p](auto* value) {
    std::memcpy(value, p, sizeof *value);
    p += sizeof *value;
  };
  get(&s.lr_schedule);
  get(&s.lr_decay);
  get(&s.lr_step_epochs);
  get(&s.beta1);
  get(&s.beta2);
  get(&s.epsilon);
  get(&s.l2);
  get(&s.dropout);
  get(&s.bn_momentum);
  get(&s.batch_size);
  return s;
}

void PandaHarness::SetUp() {
  WriteFourClassCsv(dir_.File("train.csv"), 12000, 1);
  WriteFourClassCsv(dir_.File("test.csv"), 1000, 2);
  coordinator_ = std::make_unique<Process>(
      std::vector<std::string>{CAVIAR_COORDINATOR_BIN, "--db", dir_.File("caviar.db"),
                               "--listen", "127.0.0.1:0", "--port-file",
                               dir_.File("port")},
      dir_.File("coordinator"));
  for (int i = 0; i < 400 && port_ == 0; ++i) {
    std::ifstream in(dir_.File("port"));
    if (!(in >> port_)) port_ = 0;
    ASSERT_TRUE(coordinator_->Running()) << coordinator_->Stderr();
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  ASSERT_GT(port_, 0) << coordinator_->Stderr();
  studies_ = caviar::v1::StudyService::NewStub(
      grpc::CreateChannel(Address(), grpc::InsecureChannelCredentials()));
}

std::string PandaHarness::Address() const { return absl::StrCat("127.0.0.1:", port_); }

std::string PandaHarness::TrainerSpec(const std::string& name,
                                      const std::string& parameters,
                                      const std::string& settings,
                                      const std::string& extra, int epochs) {
  return absl::StrCat(
      "name: ", name, "\n", "objective: {metric: dev_accuracy, goal: MAXIMIZE}\n",
      "parameters:\n", parameters, "budget: {max_trials: 1, max_parallel_trials: 1}\n",
      "trial_policy: {lease_seconds: 2, max_retries: 5}\n", "seed: 7\n", extra,
      "trainer:\n", "  epochs: ", epochs, "\n", "  dataset:\n",
      "    csv: {train_path: ", dir_.File("train.csv"),
      ", test_path: ", dir_.File("test.csv"),
      ", label_column: label, has_header: true}\n", "    dev_size: 1000\n",
      "  settings: ", settings, "\n");
}

void PandaHarness::Submit(const std::string& name, const std::string& yaml) {
  const std::string spec = dir_.File(name + ".yaml");
  std::ofstream(spec) << yaml;
  CommandResult r = Caviar({"submit", spec});
  ASSERT_EQ(r.exit_code, 0) << r.err;
}

CommandResult PandaHarness::Caviar(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {CAVIAR_CLI_BIN, "--coordinator", Address()};
  argv.insert(argv.end(), args.begin(), args.end());
  static int calls = 0;
  return RunCommand(argv, dir_.File(absl::StrCat("cli-", ++calls)));
}

std::unique_ptr<Process> PandaHarness::Worker(const std::string& id,
                                              const std::string& study) {
  return std::make_unique<Process>(
      std::vector<std::string>{CAVIAR_WORKER_BIN, "--coordinator", Address(), "--id", id,
                               "--study", study, "--max-trials", "1"},
      dir_.File("worker-" + id));
}

caviar::v1::Trial PandaHarness::GetTrial(int64_t id) {
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  caviar::v1::GetTrialRequest request;
  request.set_id(id);
  caviar::v1::Trial trial;
  const grpc::Status status = studies_->GetTrial(&context, request, &trial);
  EXPECT_TRUE(status.ok()) << status.error_message();
  return trial;
}

std::vector<caviar::v1::Trial> PandaHarness::Trials(const std::string& study) {
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  caviar::v1::ListTrialsRequest request;
  request.set_study(study);
  caviar::v1::ListTrialsResponse response;
  const grpc::Status status = studies_->ListTrials(&context, request, &response);
  EXPECT_TRUE(status.ok()) << status.error_message();
  std::vector<caviar::v1::Trial> out;
  for (const auto& t : response.trials()) out.push_back(GetTrial(t.id()));
  return out;
}

caviar::v1::Trial PandaHarness::OnlyTrial(const std::string& study) {
  std::vector<caviar::v1::Trial> trials = Trials(study);
  return trials.size() == 1 ? trials[0] : caviar::v1::Trial();
}

caviar::v1::Study PandaHarness::GetStudy(const std::string& name) {
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  caviar::v1::GetStudyRequest request;
  request.set_name(name);
  caviar::v1::Study study;
  const grpc::Status status = studies_->GetStudy(&context, request, &study);
  EXPECT_TRUE(status.ok()) << status.error_message();
  return study;
}

int64_t PandaHarness::WaitForTrial(const std::string& study, int seconds) {
  for (int i = 0; i < seconds * 50; ++i) {
    const int64_t id = OnlyTrial(study).id();
    if (id != 0) return id;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ADD_FAILURE() << "study " << study << " has no trial after " << seconds << " s";
  return 0;
}

std::vector<caviar::v1::CheckpointInfo> PandaHarness::Checkpoints(int64_t trial) {
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  caviar::v1::ListCheckpointsRequest request;
  request.set_trial_id(trial);
  caviar::v1::ListCheckpointsResponse response;
  const grpc::Status status = studies_->ListCheckpoints(&context, request, &response);
  EXPECT_TRUE(status.ok()) << status.error_message();
  return {response.checkpoints().begin(), response.checkpoints().end()};
}

int64_t PandaHarness::LatestCheckpointStep(int64_t trial) {
  int64_t latest = 0;
  for (const auto& info : Checkpoints(trial)) latest = std::max(latest, info.step());
  return latest;
}

void PandaHarness::WaitForCheckpoint(int64_t trial, int64_t step, int seconds) {
  for (int i = 0; i < seconds * 200 && LatestCheckpointStep(trial) < step; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  ASSERT_GE(LatestCheckpointStep(trial), step) << "no checkpoint of step " << step;
}

std::string PandaHarness::CheckpointBytes(int64_t trial, int64_t step) {
  std::ifstream in(dir_.File(absl::StrCat("caviar.db.checkpoints/trial-", trial, "/step-",
                                          step, ".ckpt")),
                   std::ios::binary);
  std::stringstream bytes;
  bytes << in.rdbuf();
  return bytes.str();
}

}  // namespace caviar::testing
