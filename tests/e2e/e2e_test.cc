// End to end with the real binaries: caviar-coordinator, caviar-worker
// processes and the caviar CLI, over loopback and a real SQLite file.
#include <signal.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/e2e/process.h"
#include "tests/testing/temp_dir.h"

namespace caviar::testing {
namespace {

using ::testing::HasSubstr;
using Json = nlohmann::json;

// A trial script: `steps` steps of `step_seconds`, score peaks at lr = 1e-2.
constexpr char kScript[] = R"(import sys, time, math
lr = float(sys.argv[1]); steps = int(sys.argv[2]); pause = float(sys.argv[3])
for step in range(1, steps + 1):
    time.sleep(pause)
    score = 1 - (math.log10(lr) + 2) ** 2 / 10
    print(f"caviar: step={step} score={score * step / steps:.6f}", flush=True)
)";

class EndToEndTest : public ::testing::Test {
 protected:
  void SetUp() override { std::ofstream(dir_.File("train.py")) << kScript; }

  std::string Log(const std::string& name) { return dir_.File(name); }

  void StartCoordinator() {
    std::remove(dir_.File("port").c_str());
    std::vector<std::string> argv = {CAVIAR_COORDINATOR_BIN, "--db",
                                     dir_.File("caviar.db"), "--port-file",
                                     dir_.File("port"),      "--listen"};
    argv.push_back(port_ == 0 ? "127.0.0.1:0" : absl::StrCat("127.0.0.1:", port_));
    argv.insert(argv.end(), coordinator_flags_.begin(), coordinator_flags_.end());
    coordinator_ =
        std::make_unique<Process>(argv, Log(absl::StrCat("coordinator", ++starts_)));
    for (int i = 0; i < 200; ++i) {
      std::ifstream in(dir_.File("port"));
      int port = 0;
      if (in >> port && port > 0) {
        port_ = port;
        return;
      }
      ASSERT_TRUE(coordinator_->Running()) << coordinator_->Stderr();
      std::this_thread::sleep_for(std::chrono::milliseconds(25));
    }
    FAIL() << "coordinator did not start: " << coordinator_->Stderr();
  }

  std::string Address() const { return absl::StrCat("127.0.0.1:", port_); }

  std::unique_ptr<Process> StartWorker(const std::string& id) {
    return std::make_unique<Process>(
        std::vector<std::string>{CAVIAR_WORKER_BIN, "--coordinator", Address(), "--id",
                                 id, "--log-level", "debug"},
        Log("worker-" + id), worker_env_);
  }

  CommandResult Cli(std::vector<std::string> args,
                    const std::map<std::string, std::string>& env = {}) {
    args.insert(args.begin(), {CAVIAR_CLI_BIN, "--coordinator", Address()});
    std::map<std::string, std::string> with_token = env;
    if (!cli_token_.empty() && !with_token.count("CAVIAR_TOKEN"))
      with_token["CAVIAR_TOKEN"] = cli_token_;
    return RunCommand(std::move(args), Log(absl::StrCat("cli", ++cli_calls_)),
                      with_token);
  }

  // Writes a study spec running train.py and returns its path.
  std::string WriteSpec(const std::string& name, int max_trials, int steps,
                        double step_seconds, int lease_seconds = 30) {
    const std::string path = dir_.File(name + ".yaml");
    std::ofstream(path) << absl::StrCat(R"(name: )", name, R"(
objective: {metric: score, goal: MAXIMIZE}
parameters:
  - {name: learning_rate, double: {min: 1e-4, max: 1}, scale: LOG}
budget: {max_trials: )",
                                        max_trials, R"(, max_parallel_trials: 2}
trial_policy: {lease_seconds: )",
                                        lease_seconds, R"(, max_retries: 3}
command:
  argv: [python3, train.py, "{learning_rate}", ")",
                                        steps, R"(", ")", step_seconds, R"("]
  working_dir: .
)");
    return path;
  }

  Json Trials(const std::string& study, const std::string& state = "") {
    std::vector<std::string> args = {"trials", study, "--format", "json"};
    if (!state.empty()) args.insert(args.end(), {"--state", state});
    CommandResult r = Cli(args);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return r.exit_code == 0 ? Json::parse(r.out) : Json::array();
  }

  void WaitFor(const std::string& study) {
    CommandResult r = Cli({"wait", study});
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }

  TempDir dir_;
  int port_ = 0;
  int starts_ = 0;
  int cli_calls_ = 0;
  std::unique_ptr<Process> coordinator_;
  std::vector<std::string> coordinator_flags_;
  std::map<std::string, std::string> worker_env_;
  std::string cli_token_;
};

TEST_F(EndToEndTest, TwoWorkersCompleteASubmittedStudy) {
  StartCoordinator();
  auto w1 = StartWorker("w1");
  auto w2 = StartWorker("w2");
  CommandResult submit = Cli({"submit", WriteSpec("bowl", 8, 2, 0.05)});
  ASSERT_EQ(submit.exit_code, 0) << submit.err;
  EXPECT_EQ(submit.out, "bowl\n");
  WaitFor("bowl");
  Json trials = Trials("bowl");
  ASSERT_EQ(trials.size(), 8u);
  std::set<std::string> workers;
  for (const Json& t : trials) {
    EXPECT_EQ(t["state"], "SUCCEEDED") << t.dump();
    workers.insert(t["worker_id"].get<std::string>());
  }
  EXPECT_EQ(workers.size(), 2u);  // Both workers ran trials.
  CommandResult best = Cli({"best", "bowl", "--top", "1", "--format", "json"});
  ASSERT_EQ(best.exit_code, 0) << best.err;
  Json top = Json::parse(best.out);
  ASSERT_EQ(top.size(), 1u);
  double best_value = top[0]["objective_value"].get<double>();
  for (const Json& t : trials) EXPECT_LE(t["objective_value"].get<double>(), best_value);
}

TEST_F(EndToEndTest, AKilledWorkersTrialIsRerunByTheOther) {
  StartCoordinator();
  // Short lease so the lost trial comes back quickly.
  CommandResult submit = Cli({"submit", WriteSpec("killed", 6, 6, 0.25, 2)});
  ASSERT_EQ(submit.exit_code, 0) << submit.err;
  auto victim = StartWorker("victim");
  int64_t victim_trial = 0;
  for (int i = 0; i < 200 && victim_trial == 0; ++i) {
    for (const Json& t : Trials("killed", "active")) {
      if (t["worker_id"] == "victim") {
        victim_trial = t["id"].get<int64_t>();
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_NE(victim_trial, 0);
  std::this_thread::sleep_for(std::chrono::milliseconds(400));  // Mid-trial.
  victim->Signal(SIGKILL);
  victim->Wait();
  auto survivor = StartWorker("survivor");
  WaitFor("killed");
  Json succeeded = Trials("killed", "succeeded");
  EXPECT_EQ(succeeded.size(), 6u);
  bool rerun = false;
  for (const Json& t : succeeded) {
    if (t["id"].get<int64_t>() == victim_trial) {
      rerun = true;
      EXPECT_EQ(t["worker_id"], "survivor");
      EXPECT_EQ(t["attempt"], 2);
    }
  }
  EXPECT_TRUE(rerun) << "trial " << victim_trial << " was not re-run";
}

TEST_F(EndToEndTest, CoordinatorKilledAndRestartedLosesNothing) {
  StartCoordinator();
  CommandResult submit = Cli({"submit", WriteSpec("restart", 12, 3, 0.1)});
  ASSERT_EQ(submit.exit_code, 0) << submit.err;
  auto w1 = StartWorker("w1");
  auto w2 = StartWorker("w2");
  std::set<std::string> completed;
  for (int i = 0; i < 400 && completed.size() < 4; ++i) {
    completed.clear();
    for (const Json& t : Trials("restart", "succeeded")) completed.insert(t["id"].dump());
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_GE(completed.size(), 4u);
  coordinator_->Signal(SIGKILL);
  coordinator_->Wait();
  std::this_thread::sleep_for(
      std::chrono::milliseconds(500));  // Workers retry meanwhile.
  StartCoordinator();                   // Same port, same file.
  std::set<std::string> after;
  for (const Json& t : Trials("restart", "succeeded")) after.insert(t["id"].dump());
  for (const std::string& id : completed) EXPECT_TRUE(after.count(id)) << id;
  WaitFor("restart");
  EXPECT_EQ(Trials("restart", "succeeded").size(), 12u);
}

TEST_F(EndToEndTest, SteeringFromTheCommandLine) {
  StartCoordinator();
  auto w1 = StartWorker("w1");
  auto w2 = StartWorker("w2");
  ASSERT_EQ(Cli({"submit", WriteSpec("steer", 12, 1, 0.01)}).exit_code, 0);
  WaitFor("steer");

  CommandResult importance = Cli({"importance", "steer"});
  ASSERT_EQ(importance.exit_code, 0) << importance.err;
  EXPECT_THAT(importance.out, HasSubstr("learning_rate"));

  // Zoom into one decade for 6 more trials.
  CommandResult refine =
      Cli({"refine", "steer", "--param", "learning_rate=1e-3:1e-2", "--trials", "6"});
  ASSERT_EQ(refine.exit_code, 0) << refine.err;
  WaitFor("steer");
  int in_round_1 = 0;
  for (const Json& t : Trials("steer", "succeeded")) {
    if (t.value("round", 0) != 1) continue;
    ++in_round_1;
    const double lr = t["parameters"]["learning_rate"].get<double>();
    EXPECT_GE(lr, 1e-3 * (1 - 1e-9));
    EXPECT_LE(lr, 1e-2 * (1 + 1e-9));
  }
  EXPECT_EQ(in_round_1, 6);
  CommandResult regions = Cli({"regions", "steer"});
  ASSERT_EQ(regions.exit_code, 0) << regions.err;
  EXPECT_THAT(regions.out, HasSubstr("refine"));
  EXPECT_THAT(regions.out, HasSubstr("0.001 .. 0.01"));

  // Re-test the best two configurations twice each, then compare.
  CommandResult retest = Cli({"retest", "steer", "--top", "2", "--repeats", "2"});
  ASSERT_EQ(retest.exit_code, 0) << retest.err;
  EXPECT_THAT(retest.out, HasSubstr("re-test of trial"));
  WaitFor("steer");
  CommandResult drift = Cli({"drift", "steer"});
  ASSERT_EQ(drift.exit_code, 0) << drift.err;
  EXPECT_THAT(drift.out, HasSubstr("NEW MEAN"));

  // An explicit configuration, and a wrong one that names its problem.
  CommandResult enqueue = Cli({"enqueue", "steer", "--param", "learning_rate=0.05"});
  ASSERT_EQ(enqueue.exit_code, 0) << enqueue.err;
  CommandResult bad = Cli({"enqueue", "steer", "--param", "learning_rate=7"});
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_THAT(bad.err, HasSubstr("learning_rate"));
  WaitFor("steer");
  EXPECT_EQ(Trials("steer", "succeeded").size(), 12u + 6u + 4u + 1u);
}

// "Panda" mode through the real binaries: a running built-in trainer trial
// is nudged to a new learning rate and trains on with it.
TEST_F(EndToEndTest, NudgingARunningTrainerTrial) {
  const std::string data = "/usr/share/datasets/fashion-mnist/";
  if (!std::ifstream(data + "train-images-idx3-ubyte.gz")) {
    GTEST_SKIP() << "dataset-fashion-mnist is not installed";
  }
  StartCoordinator();
  std::ofstream(dir_.File("panda.yaml")) << absl::StrCat(R"(name: panda
objective: {metric: dev_accuracy, goal: MAXIMIZE}
parameters:
  - {name: learning_rate, double: {min: 0.01, max: 0.1}, scale: LOG}
budget: {max_trials: 1}
trainer:
  epochs: 100000
  dataset:
    idx: {train_images: )", data, R"(train-images-idx3-ubyte.gz, train_labels: )", data,
                                                         R"(train-labels-idx1-ubyte.gz}
    dev_size: 200
    train_limit: 1000
  settings: {hidden_units: 16, layers: 1, batch_size: 100, threads: 1}
)");
  ASSERT_EQ(Cli({"submit", dir_.File("panda.yaml")}).exit_code, 0);
  auto worker = StartWorker("w1");
  std::string id;
  for (int i = 0; i < 200 && id.empty(); ++i) {
    for (const Json& t : Trials("panda", "active")) id = t["id"].dump();
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_FALSE(id.empty());
  CommandResult nudge = Cli({"nudge", id, "--param", "learning_rate=0.0123"});
  ASSERT_EQ(nudge.exit_code, 0) << nudge.err;
  bool applied = false;
  for (int i = 0; i < 200 && !applied; ++i) {
    CommandResult trial = Cli({"trial", id, "--format", "json"});
    ASSERT_EQ(trial.exit_code, 0) << trial.err;
    for (const Json& m : Json::parse(trial.out).value("measurements", Json::array())) {
      const double lr = m["metrics"].value("learning_rate", 0.0);
      if (std::abs(lr - 0.0123) < 1e-9) applied = true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_TRUE(applied) << "the trainer never reported the nudged learning rate";
  ASSERT_EQ(Cli({"stop", "panda"}).exit_code, 0);
  WaitFor("panda");
  Json stopped = Trials("panda", "stopped");
  ASSERT_EQ(stopped.size(), 1u);
  EXPECT_TRUE(stopped[0]["nudges"][0].contains("delivered_after_step"));
}

TEST_F(EndToEndTest, TokensSeparateWorkersFromAdmins) {
  std::ofstream(dir_.File("worker.token")) << "w-secret\n";
  std::ofstream(dir_.File("admin.token")) << "a-secret\n";
  // Token files readable by others are refused.
  for (const char* name : {"worker.token", "admin.token"}) {
    std::filesystem::permissions(dir_.File(name), std::filesystem::perms::owner_read |
                                                      std::filesystem::perms::owner_write);
  }
  coordinator_flags_ = {"--worker-token-file", dir_.File("worker.token"),
                        "--admin-token-file", dir_.File("admin.token")};
  StartCoordinator();
  const std::string spec = WriteSpec("guarded", 3, 1, 0.01);
  CommandResult anonymous = Cli({"submit", spec});
  EXPECT_NE(anonymous.exit_code, 0);
  EXPECT_THAT(anonymous.err, HasSubstr("bearer token"));
  CommandResult as_worker = Cli({"submit", spec}, {{"CAVIAR_TOKEN", "w-secret"}});
  EXPECT_NE(as_worker.exit_code, 0);
  EXPECT_THAT(as_worker.err, HasSubstr("admin token"));
  cli_token_ = "a-secret";
  ASSERT_EQ(Cli({"submit", spec}).exit_code, 0);
  worker_env_ = {{"CAVIAR_TOKEN", "w-secret"}};
  auto worker = StartWorker("w1");
  WaitFor("guarded");
  EXPECT_EQ(Trials("guarded", "succeeded").size(), 3u);
}

TEST_F(EndToEndTest, InvalidSpecsAreRefusedAndCreateNothing) {
  StartCoordinator();
  std::string spec = WriteSpec("bad", 5, 1, 0.01);
  std::string text;
  {
    std::ifstream in(spec);
    text.assign(std::istreambuf_iterator<char>(in), {});
  }
  struct Case {
    std::string from, to, expected;
  };
  for (const Case& c : std::vector<Case>{
           {"max_trials: 5", "max_trials: 0", "budget.max_trials"},
           {"min: 1e-4", "min: 0",
            "parameters[0] (learning_rate): LOG scale needs min > 0"},
           {"min: 1e-4", "min: 2", "min < max"},
           {"scale: LOG}", "scale: LOG, colour: red}", "colour"},
           {"\"{learning_rate}\"", "\"{momentum}\"", "command.argv[2]"},
           {"goal: MAXIMIZE", "goal: UPWARDS", "goal"},
       }) {
    const std::string path = dir_.File("invalid.yaml");
    std::ofstream(path) << absl::StrReplaceAll(text, {{c.from, c.to}});
    CommandResult r = Cli({"submit", path});
    EXPECT_NE(r.exit_code, 0) << c.to;
    EXPECT_THAT(r.err, HasSubstr(c.expected)) << c.to;
  }
  CommandResult studies = Cli({"studies", "--format", "json"});
  ASSERT_EQ(studies.exit_code, 0) << studies.err;
  EXPECT_EQ(studies.out.find("\"bad\""), std::string::npos) << studies.out;
  // The duplicate name is refused too, after a valid submit.
  ASSERT_EQ(Cli({"submit", spec}).exit_code, 0);
  CommandResult again = Cli({"submit", spec});
  EXPECT_NE(again.exit_code, 0);
  EXPECT_THAT(again.err, HasSubstr("already exists"));
}

}  // namespace
}  // namespace caviar::testing
