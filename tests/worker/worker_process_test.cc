// The real caviar-worker binary against a real caviar-coordinator (loopback,
// a real SQLite file): what happens to a trial when the worker or the
// coordinator dies, and whether every spec the coordinator accepts can reach
// a worker.
#include <signal.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "client/client.h"
#include "gtest/gtest.h"
#include "tests/e2e/process.h"
#include "tests/testing/temp_dir.h"

namespace caviar::testing {
namespace {

using Clock = std::chrono::steady_clock;
using caviar::v1::StudySpec;
using caviar::v1::Trial;

// True while `pid` is a live process (a zombie nobody reaped counts as dead:
// it runs no code any more).
bool Alive(pid_t pid) {
  std::ifstream stat(absl::StrCat("/proc/", pid, "/stat"));
  std::string line;
  if (!std::getline(stat, line)) return false;
  const size_t close = line.rfind(')');
  if (close == std::string::npos || close + 2 >= line.size()) return false;
  const char state = line[close + 2];
  return state != 'Z' && state != 'X';
}

// Waits until `done()` or `timeout`; returns whether done() held.
template <typename Done>
bool WaitUntil(Done done, std::chrono::milliseconds timeout) {
  const auto give_up = Clock::now() + timeout;
  while (!done()) {
    if (Clock::now() >= give_up) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return true;
}

int ReadInt(const std::string& path) {
  std::ifstream in(path);
  int value = 0;
  return in >> value ? value : 0;
}

class WorkerProcessTest : public ::testing::Test {
 protected:
  void StartCoordinator() {
    std::remove(dir_.File("port").c_str());
    coordinator_ = std::make_unique<Process>(
        std::vector<std::string>{CAVIAR_COORDINATOR_BIN, "--db", dir_.File("caviar.db"),
                                 "--port-file", dir_.File("port"), "--listen",
                                 absl::StrCat("127.0.0.1:", port_)},
        dir_.File(absl::StrCat("coordinator", ++starts_)));
    ASSERT_TRUE(WaitUntil(
        [&] { return ReadInt(dir_.File("port")) > 0 || !coordinator_->Running(); },
        std::chrono::seconds(10)));
    ASSERT_TRUE(coordinator_->Running()) << coordinator_->Stderr();
    port_ = ReadInt(dir_.File("port"));
    auto client = caviar::client::CaviarClient::Connect(Address());
    ASSERT_TRUE(client.ok()) << client.status();
    client_ = *std::move(client);
  }

  std::string Address() const { return absl::StrCat("127.0.0.1:", port_); }

  // CAVIAR_TEST_WORKER_BIN runs another build of the worker (e.g. an older
  // one, to see these tests fail on it).
  std::unique_ptr<Process> StartWorker(const std::string& id) {
    const char* other = std::getenv("CAVIAR_TEST_WORKER_BIN");
    return std::make_unique<Process>(
        std::vector<std::string>{other != nullptr ? other : CAVIAR_WORKER_BIN,
                                 "--coordinator", Address(), "--id", id, "--log-level",
                                 "debug"},
        dir_.File("worker-" + id));
  }

  // A one-parameter study whose command is `script` (Python) run in dir_.
  StudySpec ScriptStudy(const std::string& name, const std::string& script,
                        int lease_seconds = 30) {
    std::ofstream(dir_.File(name + ".py")) << script;
    StudySpec spec;
    spec.mutable_objective()->set_metric("score");
    spec.mutable_objective()->set_goal(caviar::v1::MAXIMIZE);
    caviar::v1::ParameterSpec* x = spec.add_parameters();
    x->set_name("x");
    x->mutable_double_()->set_min(0);
    x->mutable_double_()->set_max(1);
    spec.mutable_budget()->set_max_trials(1);
    spec.mutable_budget()->set_max_parallel_trials(1);
    spec.mutable_trial_policy()->set_max_retries(2);
    spec.mutable_trial_policy()->set_lease_seconds(lease_seconds);
    spec.mutable_command()->add_argv("python3");
    spec.mutable_command()->add_argv(name + ".py");
    spec.set_name(name);
    spec.mutable_command()->set_working_dir(dir_.path());
    return spec;
  }

  std::vector<Trial> Trials(const std::string& study) {
    caviar::v1::ListTrialsRequest request;
    request.set_study(study);
    auto trials = client_->ListAllTrials(request);
    EXPECT_TRUE(trials.ok()) << trials.status();
    return trials.ok() ? *trials : std::vector<Trial>{};
  }

  bool HasTrialIn(const std::string& study, caviar::v1::TrialState state) {
    for (const Trial& trial : Trials(study)) {
      if (trial.state() == state) return true;
    }
    return false;
  }

  TempDir dir_;
  int port_ = 0;
  int starts_ = 0;
  std::unique_ptr<Process> coordinator_;
  std::unique_ptr<caviar::client::CaviarClient> client_;
};

// A command that starts a grandchild (in its process group), then reports
// once and goes quiet: after a kill -9 of the worker neither writes to the
// dead worker's pipe, so nothing but the worker's own arrangements can end
// them.
constexpr char kForkingScript[] = R"(import os, subprocess, time
child = subprocess.Popen(["sleep", "300"])
open("grandchild.pid", "w").write(str(child.pid))
open("command.pid", "w").write(str(os.getpid()))
print("caviar: step=1 score=0.5", flush=True)
time.sleep(300)
)";

TEST_F(WorkerProcessTest, KilledWorkerTakesItsCommandAndGrandchildrenAlong) {
  StartCoordinator();
  auto worker = StartWorker("victim");
  ASSERT_TRUE(client_->CreateStudy(ScriptStudy("orphans", kForkingScript)).ok());
  ASSERT_TRUE(WaitUntil(
      [&] {
        return ReadInt(dir_.File("grandchild.pid")) > 0 &&
               ReadInt(dir_.File("command.pid")) > 0;
      },
      std::chrono::seconds(20)))
      << worker->Stderr();
  const pid_t command = ReadInt(dir_.File("command.pid"));
  const pid_t grandchild = ReadInt(dir_.File("grandchild.pid"));
  ASSERT_TRUE(Alive(command));
  ASSERT_TRUE(Alive(grandchild));

  worker->Signal(SIGKILL);
  worker->Wait();
  const auto killed = Clock::now();
  const bool gone = WaitUntil([&] { return !Alive(command) && !Alive(grandchild); },
                              std::chrono::seconds(2));
  const double ms =
      std::chrono::duration<double, std::milli>(Clock::now() - killed).count();
  // Leave nothing behind even when the check fails.
  if (Alive(grandchild)) ::kill(grandchild, SIGKILL);
  if (Alive(command)) ::kill(command, SIGKILL);
  EXPECT_TRUE(gone) << "command alive: " << Alive(command)
                    << ", grandchild alive: " << Alive(grandchild);
  std::printf("command and grandchild gone %.0f ms after kill -9 of the worker\n", ms);
}

// A command that finishes when the test creates the file "go".
constexpr char kGatedScript[] = R"(import os, time
print("caviar: step=1 score=0.25", flush=True)
while not os.path.exists("go"):
    time.sleep(0.05)
print("caviar: step=2 score=0.75", flush=True)
)";

TEST_F(WorkerProcessTest, FinishedResultReachesARestartedCoordinatorPromptly) {
  StartCoordinator();
  auto worker = StartWorker("patient");
  ASSERT_TRUE(client_->CreateStudy(ScriptStudy("outage", kGatedScript, 120)).ok());
  ASSERT_TRUE(WaitUntil([&] { return HasTrialIn("outage", caviar::v1::ACTIVE); },
                        std::chrono::seconds(20)));
  // The coordinator goes away; meanwhile the trial finishes and the worker
  // holds its result, retrying.
  coordinator_->Signal(SIGKILL);
  coordinator_->Wait();
  std::ofstream(dir_.File("go")) << "go";
  // Long enough for unbounded exponential backoffs to grow well past a few
  // seconds (gRPC's reconnect backoff: 1 s x 1.6 per attempt).
  std::this_thread::sleep_for(std::chrono::seconds(8));
  ASSERT_TRUE(worker->Running()) << worker->Stderr();

  StartCoordinator();  // Same port, same file.
  const auto restarted = Clock::now();
  const bool delivered = WaitUntil(
      [&] { return worker->Stderr().find("completed: SUCCEEDED") != std::string::npos; },
      std::chrono::seconds(30));
  const double seconds = std::chrono::duration<double>(Clock::now() - restarted).count();
  ASSERT_TRUE(delivered) << worker->Stderr();
  std::printf("result delivered %.2f s after the coordinator restarted\n", seconds);
    std::printf("%s\n----\n%s\n", worker->Stderr().c_str(),
                coordinator_->Stderr().c_str());
  EXPECT_LT(seconds, 5.0);
  std::vector<Trial> trials = Trials("outage");
  ASSERT_EQ(trials.size(), 1u);
  EXPECT_EQ(trials[0].state(), caviar::v1::SUCCEEDED);
  EXPECT_EQ(trials[0].final_measurement().metrics().at("score"), 0.75);
}

constexpr char kQuickScript[] = R"(print("caviar: score=1", flush=True)
)";

// Whatever spec size the coordinator accepts, its trials must reach a
// worker: refusing a spec at CreateStudy is fine, accepting one that no
// worker can receive is not.
TEST_F(WorkerProcessTest, EverySpecTheCoordinatorAcceptsReachesAWorker) {
  StartCoordinator();
  auto worker = StartWorker("big");
  for (int mib : {1, 5, 12}) {
    const std::string name = absl::StrCat("big", mib);
    StudySpec spec = ScriptStudy(name, kQuickScript);
    spec.set_description(std::string(static_cast<size_t>(mib) << 20, 'd'));
    auto created = client_->CreateStudy(spec);
    if (!created.ok()) {
      EXPECT_EQ(created.status().code(), absl::StatusCode::kInvalidArgument)
          << mib << " MiB: " << created.status();
      continue;
    }
    EXPECT_TRUE(WaitUntil([&] { return HasTrialIn(name, caviar::v1::SUCCEEDED); },
                          std::chrono::seconds(20)))
        << "a " << mib << " MiB spec was accepted but its trial never ran; worker log:\n"
        << worker->Stderr().substr(0, 4000);
  }
}

}  // namespace
}  // namespace caviar::testing
