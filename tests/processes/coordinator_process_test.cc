// Promises of the coordinator that only whole processes can show: one
// coordinator per port, and a stalled (SIGSTOP) coordinator that resumes
// without throwing away its workers' running trials.
#include <signal.h>

#include <chrono>
#include <fstream>
#include <map>
#include <thread>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/e2e/process.h"
#include "tests/testing/temp_dir.h"

namespace caviar::testing {
namespace {

using ::testing::HasSubstr;
using Json = nlohmann::json;

class CoordinatorProcessTest : public ::testing::Test {
 protected:
  // Starts a coordinator on `listen` over `db`; returns its port, or 0 if it
  // exited (its stderr in *err).
  int Start(std::unique_ptr<Process>* out, const std::string& db,
            const std::string& listen, std::string* err = nullptr,
            const std::string& binary = CAVIAR_COORDINATOR_BIN,
            const std::map<std::string, std::string>& env = {}) {
    const std::string port_file = dir_.File(db + ".port");
    std::remove(port_file.c_str());
    *out = std::make_unique<Process>(
        std::vector<std::string>{binary, "--db", dir_.File(db), "--port-file", port_file,
                                 "--listen", listen},
        dir_.File(absl::StrCat(db, ".log", ++starts_)), env);
    for (int i = 0; i < 400; ++i) {
      std::ifstream in(port_file);
      int port = 0;
      if (in >> port && port > 0) return port;
      if (!(*out)->Running()) {
        if (err != nullptr) *err = (*out)->Stderr();
        return 0;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(25));
    }
    return 0;
  }

  CommandResult Cli(int port, std::vector<std::string> args) {
    args.insert(args.begin(),
                {CAVIAR_CLI_BIN, "--coordinator", absl::StrCat("127.0.0.1:", port)});
    return RunCommand(std::move(args), dir_.File(absl::StrCat("cli", ++cli_calls_)));
  }

  TempDir dir_;
  int cli_calls_ = 0;
  int starts_ = 0;
};

// Defect 5: with SO_REUSEPORT a second coordinator (another database) on
// the same port also served, and the kernel split the workers between them.
TEST_F(CoordinatorProcessTest, ASecondCoordinatorOnTheSamePortRefusesToStart) {
  std::unique_ptr<Process> first, second;
  const int port = Start(&first, "one.db", "127.0.0.1:0");
  ASSERT_GT(port, 0) << first->Stderr();
  std::string err;
  EXPECT_EQ(Start(&second, "two.db", absl::StrCat("127.0.0.1:", port), &err), 0);
  EXPECT_NE(second->Wait(), 0);
  EXPECT_THAT(err, HasSubstr("cannot listen"));
  EXPECT_TRUE(first->Running());
}

// Defect 4: a 7 s stall (SIGSTOP) of the coordinator expired every healthy
// lease on resume and threw away all running work.
TEST_F(CoordinatorProcessTest, AStalledCoordinatorKeepsItsWorkersTrials) {
  std::unique_ptr<Process> coordinator;
  const int port = Start(&coordinator, "stall.db", "127.0.0.1:0");
  ASSERT_GT(port, 0);
  const std::string spec = dir_.File("stall.yaml");
  std::ofstream(spec) << R"(name: stall
objective: {metric: score, goal: MAXIMIZE}
parameters:
  - {name: x, double: {min: 0, max: 1}}
budget: {max_trials: 2, max_parallel_trials: 2}
trial_policy: {lease_seconds: 4, max_retries: 3}
command:
  argv: [sh, -c, "for i in 1 2 3 4 5 6 7 8 9 10; do sleep 1; echo caviar: step=$i score={x}; done"]
)";
  ASSERT_EQ(Cli(port, {"submit", spec}).exit_code, 0);
  std::vector<std::unique_ptr<Process>> workers;
  for (const char* id : {"w1", "w2"}) {
    workers.push_back(std::make_unique<Process>(
        std::vector<std::string>{CAVIAR_WORKER_BIN, "--coordinator",
                                 absl::StrCat("127.0.0.1:", port), "--id", id,
                                 "--study", "stall"},
        dir_.File(absl::StrCat("worker-", id))));
  }
  std::this_thread::sleep_for(std::chrono::seconds(2));
  coordinator->Signal(SIGSTOP);
  std::this_thread::sleep_for(std::chrono::seconds(7));  // Past the 4 s lease.
  coordinator->Signal(SIGCONT);
  CommandResult wait = Cli(port, {"wait", "stall"});
  ASSERT_EQ(wait.exit_code, 0) << wait.err;
  CommandResult trials = Cli(port, {"trials", "stall", "--format", "json"});
  ASSERT_EQ(trials.exit_code, 0) << trials.err;
  Json all = Json::parse(trials.out);
  ASSERT_EQ(all.size(), 2u);
  for (const Json& t : all) {
    EXPECT_EQ(t["state"], "SUCCEEDED") << t.dump();
    EXPECT_EQ(t["attempt"], 1) << "a healthy lease was expired: " << t.dump();
  }
}

// Defect 1 with the real binaries: the coordinator killed right before and
// right after the commit that ends a study. Restarted on the same file, the
// study ends (the last result is stored with the study's end, or it is not
// stored and its worker delivers it again), and `caviar wait` returns.
TEST_F(CoordinatorProcessTest, KilledAtTheCommitThatEndsTheStudyItStillEnds) {
  for (const std::string when : {"before", "after"}) {
    SCOPED_TRACE(when);
    const std::string db = when + ".db";
    std::unique_ptr<Process> coordinator;
    std::string err;
    const int port = Start(&coordinator, db, "127.0.0.1:0", &err,
                           CAVIAR_CRASHPOINTS_COORDINATOR_BIN,
                           {{"CAVIAR_CRASH_AT", when + ":study_end"}});
    ASSERT_GT(port, 0) << err;
    const std::string spec = dir_.File(when + ".yaml");
    std::ofstream(spec) << R"(name: ends
objective: {metric: score, goal: MAXIMIZE}
parameters:
  - {name: x, double: {min: 0, max: 1}}
budget: {max_trials: 2, max_parallel_trials: 1}
trial_policy: {lease_seconds: 30}
command:
  argv: [sh, -c, "echo caviar: score={x}"]
)";
    ASSERT_EQ(Cli(port, {"submit", spec}).exit_code, 0);
    Process worker({CAVIAR_WORKER_BIN, "--coordinator", absl::StrCat("127.0.0.1:", port),
                    "--id", "w1", "--study", "ends"},
                   dir_.File(when + ".worker"));
    EXPECT_EQ(coordinator->Wait(), 128 + SIGKILL) << "the crash point was not reached";
    std::unique_ptr<Process> restarted;
    ASSERT_EQ(Start(&restarted, db, absl::StrCat("127.0.0.1:", port), &err), port) << err;
    CommandResult wait = Cli(port, {"wait", "ends"});
    ASSERT_EQ(wait.exit_code, 0) << wait.err;
    CommandResult trials = Cli(port, {"trials", "ends", "--format", "json"});
    Json all = Json::parse(trials.out);
    ASSERT_EQ(all.size(), 2u) << trials.out;
    for (const Json& t : all) EXPECT_EQ(t["state"], "SUCCEEDED") << t.dump();
  }
}

}  // namespace
}  // namespace caviar::testing
