// Runs the built `caviar` binary as a user would: usage errors, local spec
// checks, and commands against an in-process StudyService on loopback.
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/client/fake_study_service.h"

namespace caviar {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using ::testing::StartsWith;

struct Result {
  int exit_code = -1;
  std::string out;
  std::string err;
};

std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// `arguments` is a shell fragment (all test arguments are shell-safe).
Result RunCaviar(const std::string& arguments, const std::string& environment = "") {
  const std::string base = ::testing::TempDir() + "/cli_test_" + std::to_string(getpid());
  const std::string command = "env -u CAVIAR_COORDINATOR -u CAVIAR_TOKEN " + environment +
                              " " CAVIAR_CLI " " + arguments + " >" + base + ".out 2>" +
                              base + ".err </dev/null";
  const int status = std::system(command.c_str());
  Result result;
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  result.out = ReadAll(base + ".out");
  result.err = ReadAll(base + ".err");
  return result;
}

const std::string kExample = std::string(CAVIAR_EXAMPLES_DIR) + "/quadratic.yaml";

TEST(Cli, HelpListsEveryCommand) {
  Result result = RunCaviar("--help");
  EXPECT_EQ(result.exit_code, 0);
  for (const char* command :
       {"submit", "studies", "study", "trials", "trial", "best", "stop", "wait"}) {
    EXPECT_THAT(result.out, HasSubstr(std::string("\n  ") + command + " ")) << command;
  }
  EXPECT_THAT(result.out, HasSubstr("CAVIAR_COORDINATOR"));
  Result trials = RunCaviar("trials --help");
  EXPECT_EQ(trials.exit_code, 0);
  EXPECT_THAT(trials.out, AllOf(HasSubstr("--state"), HasSubstr("--sort"),
                                HasSubstr("--limit"), HasSubstr("--format")));
}

TEST(Cli, UsageErrorsExitTwoWithAMessage) {
  Result none = RunCaviar("");
  EXPECT_EQ(none.exit_code, 2);
  EXPECT_THAT(none.err, HasSubstr("subcommand is required"));

  Result unknown = RunCaviar("frobnicate");
  EXPECT_EQ(unknown.exit_code, 2);
  EXPECT_THAT(unknown.err, HasSubstr("unknown command 'frobnicate'"));

  Result missing = RunCaviar("trials");
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_THAT(missing.err, HasSubstr("study is required"));

  Result format = RunCaviar("trials s --format xml");
  EXPECT_EQ(format.exit_code, 2);
  EXPECT_THAT(format.err, HasSubstr("--format"));

  Result option = RunCaviar("studies --bogus");
  EXPECT_EQ(option.exit_code, 2);
  EXPECT_THAT(option.err, HasSubstr("--bogus"));

  Result id = RunCaviar("trial abc");
  EXPECT_EQ(id.exit_code, 2);
  EXPECT_THAT(id.out, IsEmpty());
}

TEST(Cli, DryRunChecksTheSpecLocally) {
  Result ok = RunCaviar("submit --dry-run " + kExample);
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
  EXPECT_THAT(ok.out, HasSubstr("'quadratic', 4 parameters, max_trials 20"));

  Result missing = RunCaviar("submit --dry-run /nonexistent/spec.yaml");
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_THAT(missing.err, HasSubstr("cannot read spec file '/nonexistent/spec.yaml'"));

  const std::string bad =
      ::testing::TempDir() + "/cli_bad_" + std::to_string(getpid()) + ".yaml";
  std::ofstream(bad) << "name: s\nparameters:\n  - name: a\n    scael: LOG\n";
  Result invalid = RunCaviar("submit --dry-run " + bad);
  EXPECT_EQ(invalid.exit_code, 1);
  EXPECT_THAT(invalid.err, HasSubstr(bad + ":4:5: parameters[0].scael: unknown field"));
  EXPECT_THAT(invalid.out, IsEmpty());
}

// A grid cut short by its budget says so before it runs.
TEST(Cli, SubmitWarnsOfAGridLargerThanTheBudget) {
  const std::string grid =
      ::testing::TempDir() + "/cli_grid_" + std::to_string(getpid()) + ".yaml";
  std::ofstream(grid) << "name: g\nobjective: {metric: m, goal: MAXIMIZE}\n"
                         "parameters:\n  - {name: a, integer: {min: 1, max: 4}}\n"
                         "  - {name: b, integer: {min: 1, max: 4}}\n"
                         "algorithm: {name: grid}\nbudget: {max_trials: 8}\n"
                         "command: {argv: [run]}\n";
  Result result = RunCaviar("submit --dry-run " + grid);
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_THAT(result.err,
              HasSubstr("caviar: warning: the grid has 16 cells and budget.max_trials is "
                        "8: 8 of them run, in shuffled order"));
  std::ofstream(grid, std::ios::app) << "seed: 1\n";
  Result full = RunCaviar("submit --dry-run --set budget.max_trials=16 " + grid);
  EXPECT_EQ(full.exit_code, 0) << full.err;
  EXPECT_THAT(full.err, IsEmpty());
}

TEST(Cli, UnreachableCoordinatorFailsWithTheAddress) {
  Result result = RunCaviar("--coordinator 127.0.0.1:1 --timeout 5 studies");
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_THAT(result.err, HasSubstr("coordinator at 127.0.0.1:1 is unavailable"));
  // The address also comes from the environment.
  result = RunCaviar("--timeout 5 studies", "CAVIAR_COORDINATOR=127.0.0.1:2");
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_THAT(result.err, HasSubstr("127.0.0.1:2"));
}

class CliWithCoordinator : public ::testing::Test {
 protected:
  void SetUp() override {
    for (int i = 1; i <= 4; ++i) {
      caviar::v1::Trial trial;
      trial.set_id(i);
      trial.set_study("quadratic");
      trial.set_state(i == 3 ? caviar::v1::FAILED : caviar::v1::SUCCEEDED);
      (*trial.mutable_parameters())["learning_rate"].set_double_value(0.001 * i);
      (*trial.mutable_parameters())["optimizer"].set_string_value(i % 2 ? "adam" : "sgd");
      if (i != 3) trial.set_objective_value(0.5 + 0.1 * (i % 3));
      for (int step = 1; step <= 2; ++step) {
        caviar::v1::Measurement* measurement = trial.add_measurements();
        measurement->set_step(step);
        measurement->set_elapsed_seconds(0.05 * step);
        (*measurement->mutable_metrics())["dev_accuracy"] = 0.25 * step;
      }
      coordinator_.service().AddTrial(trial);
    }
  }

  Result Caviar(const std::string& arguments) {
    return RunCaviar(arguments, "CAVIAR_COORDINATOR=" + coordinator_.address());
  }

  testing::FakeCoordinator coordinator_;
};

TEST_F(CliWithCoordinator, SubmitPrintsTheNameAndPassesServerErrorsThrough) {
  Result created = Caviar("submit " + kExample);
  EXPECT_EQ(created.exit_code, 0) << created.err;
  EXPECT_EQ(created.out, "quadratic\n");

  Result again = Caviar("submit " + kExample);
  EXPECT_EQ(again.exit_code, 1);
  EXPECT_THAT(again.err, HasSubstr("study 'quadratic' already exists"));

  Result renamed = Caviar("submit --name other " + kExample);
  EXPECT_EQ(renamed.exit_code, 0) << renamed.err;
  EXPECT_EQ(renamed.out, "other\n");

  const std::string zero =
      ::testing::TempDir() + "/cli_zero_" + std::to_string(getpid()) + ".yaml";
  std::ofstream(zero) << "name: zero\nbudget: {max_trials: 0}\n";
  Result invalid = Caviar("submit " + zero);
  EXPECT_EQ(invalid.exit_code, 1);
  EXPECT_THAT(invalid.err, HasSubstr("budget.max_trials: must be >= 1, got 0"));

  Result studies = Caviar("studies");
  EXPECT_EQ(studies.exit_code, 0);
  EXPECT_THAT(studies.out, StartsWith("NAME "));
  EXPECT_THAT(studies.out, AllOf(HasSubstr("\nother "), HasSubstr("\nquadratic ")));

  Result yaml = Caviar("study quadratic --format yaml");
  EXPECT_EQ(yaml.exit_code, 0);
  EXPECT_THAT(yaml.out, HasSubstr("name: quadratic\n"));
  EXPECT_THAT(yaml.out, HasSubstr("working_dir: " + std::string(CAVIAR_EXAMPLES_DIR)));
  Result summary = Caviar("study quadratic");
  EXPECT_THAT(summary.out, HasSubstr("objective:  maximize dev_accuracy"));

  Result missing = Caviar("study nope");
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_THAT(missing.err, HasSubstr("study 'nope' not found"));
}

TEST_F(CliWithCoordinator, TrialsBestAndTrial) {
  ASSERT_EQ(Caviar("submit " + kExample).exit_code, 0);

  Result table = Caviar("trials quadratic --sort objective --state succeeded");
  EXPECT_EQ(table.exit_code, 0) << table.err;
  EXPECT_EQ(
      table.out,
      "ID  STATE      learning_rate  beta1  hidden_units  optimizer  dev_accuracy  "
      "STEP  NOTE\n"
      " 2  SUCCEEDED          0.002                       sgd                 0.7     2\n"
      " 1  SUCCEEDED          0.001                       adam                0.6     2\n"
      " 4  SUCCEEDED          0.004                       sgd                 0.6     "
      "2\n");

  Result csv = Caviar("trials quadratic --format csv --limit 2");
  EXPECT_EQ(csv.exit_code, 0);
  EXPECT_EQ(
      csv.out,
      "id,state,learning_rate,beta1,hidden_units,optimizer,dev_accuracy,step,attempt,"
      "worker_id,note\n"
      "1,SUCCEEDED,0.001,,,adam,0.6,2,0,,\n"
      "2,SUCCEEDED,0.002,,,sgd,0.7,2,0,,\n");

  Result json = Caviar("best quadratic --top 2 --format json");
  EXPECT_EQ(json.exit_code, 0);
  EXPECT_THAT(json.out,
              AllOf(StartsWith("["), HasSubstr("\"id\": 2,"),
                    HasSubstr("\"id\": 1,"), Not(HasSubstr("\"id\": 4,"))));

  Result bad_state = Caviar("trials quadratic --state running");
  EXPECT_EQ(bad_state.exit_code, 1);
  EXPECT_THAT(bad_state.err, HasSubstr("--state: unknown trial state 'running'"));

  Result trial = Caviar("trial 2");
  EXPECT_EQ(trial.exit_code, 0) << trial.err;
  EXPECT_THAT(trial.out, HasSubstr("dev_accuracy:  0.7\n"));
  EXPECT_THAT(trial.out, HasSubstr("STEP  ELAPSED_S  dev_accuracy\n"
                                   "   1       0.05          0.25\n"
                                   "   2       0.10           0.5\n"));
  Result no_trial = Caviar("trial 99");
  EXPECT_EQ(no_trial.exit_code, 1);
  EXPECT_THAT(no_trial.err, HasSubstr("trial 99 not found"));
}

TEST_F(CliWithCoordinator, WaitBlocksUntilTheStudyEnds) {
  ASSERT_EQ(Caviar("submit " + kExample).exit_code, 0);
  coordinator_.service().CompleteAfterGets(3);
  Result wait = Caviar("wait quadratic --interval 0.05");
  EXPECT_EQ(wait.exit_code, 0) << wait.err;
  EXPECT_THAT(wait.out, HasSubstr("quadratic: COMPLETED 20/20 done"));
  // Not a terminal: plain lines, no carriage returns.
  EXPECT_THAT(wait.err, HasSubstr("quadratic: ACTIVE 0/20 done"));
  EXPECT_THAT(wait.err, Not(HasSubstr("\r")));
  EXPECT_THAT(wait.err, HasSubstr("best dev_accuracy 0.7"));

  Result missing = Caviar("wait nope --interval 0.05");
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_THAT(missing.err, HasSubstr("study 'nope' not found"));
}

TEST(Cli, WaitRidesOutACoordinatorRestart) {
  int port = 0;
  {
    testing::FakeCoordinator first;
    port = first.port();
  }  // Gone: connections to `port` are refused until the second one starts.
  const std::string address = "127.0.0.1:" + std::to_string(port);
  Result wait;
  std::thread waiter([&] {
    wait = RunCaviar("--coordinator " + address +
                     " wait quadratic --interval 0.1 --unavailable-grace 30");
  });
  absl::SleepFor(absl::Milliseconds(700));
  testing::FakeCoordinator second(port);
  caviar::v1::Study study;
  study.mutable_spec()->set_name("quadratic");
  study.mutable_spec()->mutable_budget()->set_max_trials(3);
  study.set_state(caviar::v1::STUDY_ACTIVE);
  second.service().AddStudy(study);
  second.service().CompleteAfterGets(2);
  waiter.join();
  EXPECT_EQ(wait.exit_code, 0) << wait.err;
  EXPECT_THAT(wait.err, HasSubstr("waiting for the coordinator"));
  EXPECT_THAT(wait.out, HasSubstr("quadratic: COMPLETED 3/3 done"));

  Result impatient =
      RunCaviar("--coordinator 127.0.0.1:1 wait quadratic --unavailable-grace 0");
  EXPECT_EQ(impatient.exit_code, 1);
  EXPECT_THAT(impatient.err,
              HasSubstr("error: coordinator at 127.0.0.1:1 is unavailable"));
}

TEST_F(CliWithCoordinator, WaitGivesUpAfterMaxWait) {
  ASSERT_EQ(Caviar("submit " + kExample).exit_code, 0);
  Result wait = Caviar("wait quadratic --interval 0.05 --max-wait 0.3");
  EXPECT_EQ(wait.exit_code, 1);
  EXPECT_THAT(wait.err, HasSubstr("still running after 0.3 s"));
}

TEST_F(CliWithCoordinator, StopReportsTheNewState) {
  ASSERT_EQ(Caviar("submit " + kExample).exit_code, 0);
  Result stop = Caviar("stop quadratic --reason enough");
  EXPECT_EQ(stop.exit_code, 0) << stop.err;
  EXPECT_EQ(stop.out, "quadratic: STOPPED\n");
  Result wait = Caviar("wait quadratic");
  EXPECT_EQ(wait.exit_code, 0);
  EXPECT_THAT(wait.out, HasSubstr("quadratic: STOPPED"));
}

}  // namespace
}  // namespace caviar
