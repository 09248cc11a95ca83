// CommandObjective against real processes: small sh scripts in a temp dir.
#include "worker/command_objective.h"

#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/temp_dir.h"

namespace caviar::worker {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;
using Steady = std::chrono::steady_clock;

// A real ProgressReporter: records every report, says stop from a given
// step on, or when told to from outside (as the worker's shutdown does).
class RecordingReporter : public ProgressReporter {
 public:
  explicit RecordingReporter(int64_t stop_at_step = -1) : stop_at_step_(stop_at_step) {}

  ProgressReply Report(const caviar::v1::Measurement& measurement) override {
    std::lock_guard<std::mutex> lock(mu_);
    reports_.push_back(measurement);
    ProgressReply reply;
    if (stop_at_step_ >= 0 && measurement.step() >= stop_at_step_) {
      reply.stop = true;
      reply.reason = "test says stop";
    }
    return reply;
  }
  bool StopRequested() const override { return external_stop_.load(); }
  void RequestStop() { external_stop_ = true; }
  std::vector<caviar::v1::Measurement> reports() {
    std::lock_guard<std::mutex> lock(mu_);
    return reports_;
  }

 private:
  const int64_t stop_at_step_;
  std::atomic<bool> external_stop_{false};
  std::mutex mu_;
  std::vector<caviar::v1::Measurement> reports_;
};

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// Alive and not a zombie (an orphan's new parent may not reap it at once).
bool ProcessAlive(pid_t pid) {
  if (::kill(pid, 0) != 0) return false;
  const std::string stat = ReadFile(absl::StrCat("/proc/", pid, "/stat"));
  const size_t close = stat.rfind(')');
  return close != std::string::npos && close + 2 < stat.size() && stat[close + 2] != 'Z';
}

bool WaitUntilDead(pid_t pid, std::chrono::milliseconds timeout) {
  const auto deadline = Steady::now() + timeout;
  while (ProcessAlive(pid)) {
    if (Steady::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return true;
}

class CommandObjectiveTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = temp_.path();
    trial_.set_id(42);
    trial_.set_study("demo");
    trial_.set_attempt(2);
    trial_.set_seed(7);
    (*trial_.mutable_parameters())["learning_rate"].set_double_value(0.001);
    (*trial_.mutable_parameters())["layers"].set_int_value(3);
    (*trial_.mutable_parameters())["optimizer"].set_string_value("adam");
    (*trial_.mutable_parameters())["hidden-units"].set_int_value(64);
    spec_.set_name("demo");
    spec_.mutable_objective()->set_metric("dev_accuracy");
    spec_.mutable_objective()->set_goal(caviar::v1::MAXIMIZE);
  }
  caviar::testing::TempDir temp_;

  std::string Path(const std::string& name) const { return dir_ + "/" + name; }

  // Writes an sh script and makes the spec run it with `args`.
  void UseScript(const std::string& body, std::vector<std::string> args = {}) {
    std::ofstream(Path("run.sh")) << "#!/bin/sh\n" << body << "\n";
    auto* command = spec_.mutable_command();
    command->clear_argv();
    command->add_argv("/bin/sh");
    command->add_argv(Path("run.sh"));
    for (const auto& a : args) command->add_argv(a);
  }

  TrialOutcome Run(ProgressReporter* reporter) {
    CommandObjective objective;
    return objective.Run(spec_, trial_, reporter);
  }

  std::string dir_;
  caviar::v1::StudySpec spec_;
  caviar::v1::Trial trial_;
};

TEST_F(CommandObjectiveTest, ProgramIsLookedUpInTheSpecsPath) {
  std::filesystem::create_directories(Path("bin"));
  std::ofstream(Path("bin/my-trainer"))
      << "#!/bin/sh\necho \"caviar: dev_accuracy=$0\"\n";
  std::filesystem::permissions(Path("bin/my-trainer"), std::filesystem::perms::owner_all);
  std::ofstream(Path("bin/not-executable")) << "#!/bin/sh\n";
  spec_.mutable_command()->add_argv("my-trainer");
  (*spec_.mutable_command()->mutable_env())["PATH"] = Path("bin") + ":/usr/bin:/bin";
  RecordingReporter reporter;
  TrialOutcome outcome = Run(&reporter);
  // $0 is not a number: the run fails, but it did run the right program.
  EXPECT_THAT(outcome.failure_reason, HasSubstr(Path("bin/my-trainer")));
  spec_.mutable_command()->set_argv(0, "not-executable");
  outcome = Run(&reporter);
  EXPECT_THAT(outcome.failure_reason, HasSubstr("not found in PATH"));
}

TEST_F(CommandObjectiveTest, ReportsMetricsInOrderAndMergesTheFinalMeasurement) {
  UseScript(R"(
echo "loading data"
echo "caviar: dev_accuracy=0.5 loss=2"
echo "caviar: dev_accuracy=0.7 loss=1"
echo "something else entirely"
echo '{"step": 5, "loss": 0.5, "lr": 0.1}'
printf 'caviar: test_accuracy=0.8')");  // Last line without a newline.
  RecordingReporter reporter;
  const TrialOutcome outcome = Run(&reporter);
  EXPECT_EQ(outcome.failure_kind, caviar::v1::FAILURE_KIND_UNSPECIFIED)
      << outcome.failure_reason;
  EXPECT_FALSE(outcome.stopped);
  const auto reports = reporter.reports();
  ASSERT_EQ(reports.size(), 4);
  std::vector<int64_t> steps;
  for (const auto& r : reports) steps.push_back(r.step());
  EXPECT_THAT(steps, ElementsAre(1, 2, 5, 6));
  EXPECT_EQ(reports[0].metrics().at("dev_accuracy"), 0.5);
  EXPECT_EQ(reports[1].metrics().at("dev_accuracy"), 0.7);
  EXPECT_EQ(reports[2].metrics().at("lr"), 0.1);
  for (size_t i = 1; i < reports.size(); ++i) {
    EXPECT_GE(reports[i].elapsed_seconds(), reports[i - 1].elapsed_seconds());
  }
  const auto& final = outcome.final_measurement;
  EXPECT_EQ(final.step(), 6);
  EXPECT_EQ(final.metrics().size(), 4);
  EXPECT_EQ(final.metrics().at("dev_accuracy"), 0.7);
  EXPECT_EQ(final.metrics().at("loss"), 0.5);
  EXPECT_EQ(final.metrics().at("lr"), 0.1);
  EXPECT_EQ(final.metrics().at("test_accuracy"), 0.8);
  EXPECT_GE(final.elapsed_seconds(), reports.back().elapsed_seconds());
}

TEST_F(CommandObjectiveTest, PlaceholdersEnvironmentAndWorkingDirArrive) {
  UseScript(R"(
for a in "$@"; do echo "arg:$a"; done > args.txt
env | grep -E '^(CAVIAR_|FROM_SPEC=)' | grep -vE '^CAVIAR_(NUDGE_FILE|CHECKPOINT_DIR)=' \
  | sort > env.txt
test -f "$CAVIAR_NUDGE_FILE" && test -d "$CAVIAR_CHECKPOINT_DIR" && echo panda > panda.txt
pwd > pwd.txt
echo "caviar: dev_accuracy=1")",
            {"--lr={learning_rate}", "--layers", "{layers}", "{optimizer}/{hidden-units}",
             "{{literal}}", "a}}b"});
  (*spec_.mutable_command()->mutable_env())["FROM_SPEC"] = "yes";
  (*spec_.mutable_command()->mutable_env())["CAVIAR_TRIAL_ID"] = "overridden?";
  spec_.mutable_command()->set_working_dir(dir_);
  RecordingReporter reporter;
  const TrialOutcome outcome = Run(&reporter);
  ASSERT_EQ(outcome.failure_kind, caviar::v1::FAILURE_KIND_UNSPECIFIED)
      << outcome.failure_reason;
  EXPECT_EQ(ReadFile(Path("args.txt")),
            "arg:--lr=0.001\narg:--layers\narg:3\narg:adam/64\narg:{literal}\narg:a}b\n");
  EXPECT_EQ(ReadFile(Path("env.txt")),
            "CAVIAR_ATTEMPT=2\n"
            "CAVIAR_PARAM_HIDDEN_UNITS=64\n"
            "CAVIAR_PARAM_LAYERS=3\n"
            "CAVIAR_PARAM_LEARNING_RATE=0.001\n"
            "CAVIAR_PARAM_OPTIMIZER=adam\n"
            "CAVIAR_SEED=7\n"
            "CAVIAR_STUDY=demo\n"
            "CAVIAR_TRIAL_ID=42\n"
            "FROM_SPEC=yes\n");
  EXPECT_EQ(ReadFile(Path("pwd.txt")), std::filesystem::canonical(dir_).string() + "\n");
  EXPECT_EQ(ReadFile(Path("panda.txt")), "panda\n");  // The nudge file and checkpoint folder.
}

TEST_F(CommandObjectiveTest, RelativeProgramIsFoundInWorkingDir) {
  std::ofstream(Path("train.sh")) << "#!/bin/sh\necho caviar: dev_accuracy=0.25\n";
  std::filesystem::permissions(Path("train.sh"), std::filesystem::perms::owner_all);
  spec_.mutable_command()->add_argv("./train.sh");
  spec_.mutable_command()->set_working_dir(dir_);
  RecordingReporter reporter;
  const TrialOutcome outcome = Run(&reporter);
  ASSERT_EQ(outcome.failure_kind, caviar::v1::FAILURE_KIND_UNSPECIFIED)
      << outcome.failure_reason;
  EXPECT_EQ(outcome.final_measurement.metrics().at("dev_accuracy"), 0.25);
}

TEST_F(CommandObjectiveTest, NonZeroExitCrashesWithTheTailOfStderr) {
  // 10 KB of noise first: only the last ~4 KiB are kept.
  UseScript(R"(
echo "caviar: dev_accuracy=0.5"
i=0; while [ $i -lt 200 ]; do echo "noise line $i ............................" >&2; i=$((i+1)); done
printf 'Traceback: \377 bad byte\nValueError: the real error\n' >&2
exit 3)");
  RecordingReporter reporter;
  const TrialOutcome outcome = Run(&reporter);
  EXPECT_EQ(outcome.failure_kind, caviar::v1::CRASHED);
  EXPECT_THAT(outcome.failure_reason, HasSubstr("command exited with status 3"));
  EXPECT_THAT(outcome.failure_reason, HasSubstr("ValueError: the real error"));
  EXPECT_THAT(outcome.failure_reason, HasSubstr("Traceback: ? bad byte"));
  EXPECT_THAT(outcome.failure_reason, Not(HasSubstr("noise line 1 ")));
  EXPECT_LE(outcome.failure_reason.size(), 4096 + 100);
  EXPECT_GT(outcome.failure_reason.size(), 3000);
  // The partial curve is kept.
  EXPECT_EQ(outcome.final_measurement.metrics().at("dev_accuracy"), 0.5);
}

TEST_F(CommandObjectiveTest, DeathBySignalCrashes) {
  UseScript("echo dying >&2; kill -KILL $$");
  RecordingReporter reporter;
  const TrialOutcome outcome = Run(&reporter);
  EXPECT_EQ(outcome.failure_kind, caviar::v1::CRASHED);
  EXPECT_THAT(outcome.failure_reason, HasSubstr("killed by signal 9"));
  EXPECT_THAT(outcome.failure_reason, HasSubstr("dying"));
}

// A scheduler's preemption (Slurm signals every process of the job step)
// or a Ctrl-C of the job can reach the command before the worker: killed by
// a SIGTERM or SIGINT the worker did not send, it did not fail, it was
// interrupted, and the worker hands the trial back.
TEST_F(CommandObjectiveTest, DeathByAnOutsideSigtermIsAnInterruptionNotACrash) {
  for (const char* signal : {"TERM", "INT"}) {
    SCOPED_TRACE(signal);
    UseScript(std::string("echo caviar: step=1 dev_accuracy=0.5; kill -") + signal + " $$");
    RecordingReporter reporter;
    const TrialOutcome outcome = Run(&reporter);
    EXPECT_TRUE(outcome.stopped);
    EXPECT_EQ(outcome.failure_kind, caviar::v1::FAILURE_KIND_UNSPECIFIED)
        << outcome.failure_reason;
  }
}

TEST_F(CommandObjectiveTest, NonFiniteObjectiveDiverges) {
  UseScript(R"(
echo "caviar: dev_accuracy=0.3 loss=1"
echo "caviar: dev_accuracy=nan loss=inf")");
  RecordingReporter reporter;
  const TrialOutcome outcome = Run(&reporter);
  EXPECT_EQ(outcome.failure_kind, caviar::v1::DIVERGED);
  EXPECT_THAT(outcome.failure_reason, HasSubstr("\"dev_accuracy\" is nan at step 2"));
  EXPECT_TRUE(std::isnan(outcome.final_measurement.metrics().at("dev_accuracy")));
  EXPECT_EQ(reporter.reports().size(), 2);
}

TEST_F(CommandObjectiveTest, NonFiniteOtherMetricDoesNotDiverge) {
  UseScript(R"(echo '{"dev_accuracy": 0.9, "grad_norm": Infinity}')");
  RecordingReporter reporter;
  const TrialOutcome outcome = Run(&reporter);
  EXPECT_EQ(outcome.failure_kind, caviar::v1::FAILURE_KIND_UNSPECIFIED)
      << outcome.failure_reason;
}

TEST_F(CommandObjectiveTest, MissingObjectiveMetricFailsAndNamesTheFirstBadLine) {
  UseScript(R"(
echo "caviar: loss=1"
echo "caviar: dev_accuracy=0,91"
echo "caviar: loss=0.5")");
  RecordingReporter reporter;
  const TrialOutcome outcome = Run(&reporter);
  EXPECT_EQ(outcome.failure_kind, caviar::v1::CRASHED);
  EXPECT_THAT(outcome.failure_reason,
              HasSubstr("without reporting the objective metric \"dev_accuracy\""));
  EXPECT_THAT(
      outcome.failure_reason,
      HasSubstr("stdout line 2: malformed metrics line: value of \"dev_accuracy\" "
                "is not a number: \"0,91\""));
  EXPECT_EQ(reporter.reports().size(), 2);  // The bad line was skipped.
}

TEST_F(CommandObjectiveTest, StopReplyTerminatesTheProcessGroup) {
  UseScript(R"(
echo $$ > pid.txt
sleep 300 &
echo $! > child.txt
i=1
while true; do echo "caviar: dev_accuracy=0.$i"; i=$((i+1)); sleep 0.02; done)");
  spec_.mutable_command()->set_working_dir(dir_);
  RecordingReporter reporter(/*stop_at_step=*/3);
  const auto start = Steady::now();
  const TrialOutcome outcome = Run(&reporter);
  const auto took = Steady::now() - start;
  EXPECT_TRUE(outcome.stopped);
  EXPECT_EQ(outcome.failure_kind, caviar::v1::FAILURE_KIND_UNSPECIFIED);
  EXPECT_EQ(outcome.final_measurement.step(), 3);
  EXPECT_EQ(reporter.reports().size(), 3);  // Nothing is reported after stop.
  // Everything obeyed SIGTERM: no wait for the 5 s grace.
  EXPECT_LT(took, std::chrono::seconds(4));
  const pid_t pid = std::stoi(ReadFile(Path("pid.txt")));
  const pid_t child = std::stoi(ReadFile(Path("child.txt")));
  EXPECT_TRUE(WaitUntilDead(pid, std::chrono::milliseconds(500)));
  EXPECT_TRUE(WaitUntilDead(child, std::chrono::milliseconds(500)));
}

TEST_F(CommandObjectiveTest, ChildIgnoringSigtermIsKilledAfterGrace) {
  // The script itself dies on SIGTERM; its child ignores it.
  UseScript(R"(
sh -c 'trap "" TERM; echo $$ > stubborn.txt; while true; do sleep 0.05; done' &
while [ ! -s stubborn.txt ]; do sleep 0.01; done
echo "caviar: dev_accuracy=0.1"
while true; do sleep 0.05; done)");
  spec_.mutable_command()->set_working_dir(dir_);
  spec_.mutable_command()->set_grace_seconds(1);
  RecordingReporter reporter;
  std::thread stopper([&] {
    // Stop from outside (as on worker shutdown) once the first line is in.
    while (reporter.reports().empty())
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    reporter.RequestStop();
  });
  const auto start = Steady::now();
  const TrialOutcome outcome = Run(&reporter);
  const auto took = Steady::now() - start;
  stopper.join();
  EXPECT_TRUE(outcome.stopped);
  const pid_t stubborn = std::stoi(ReadFile(Path("stubborn.txt")));
  EXPECT_FALSE(ProcessAlive(stubborn));
  EXPECT_GE(took, std::chrono::milliseconds(900));  // It waited for the grace...
  EXPECT_LT(took, std::chrono::seconds(4));         // ...then killed.
}

TEST_F(CommandObjectiveTest, LeaderIgnoringSigtermIsKilledAfterGrace) {
  UseScript(R"(
trap "" TERM
echo $$ > pid.txt
while true; do echo "caviar: dev_accuracy=0.2"; sleep 0.05; done)");
  spec_.mutable_command()->set_working_dir(dir_);
  spec_.mutable_command()->set_grace_seconds(1);
  RecordingReporter reporter(/*stop_at_step=*/1);
  const auto start = Steady::now();
  const TrialOutcome outcome = Run(&reporter);
  const auto took = Steady::now() - start;
  EXPECT_TRUE(outcome.stopped);
  EXPECT_GE(took, std::chrono::milliseconds(900));
  EXPECT_LT(took, std::chrono::seconds(4));
  EXPECT_FALSE(ProcessAlive(std::stoi(ReadFile(Path("pid.txt")))));
}

TEST_F(CommandObjectiveTest, LeftoverProcessesAreCleanedUpAfterANormalExit) {
  // The background sleep keeps stdout open: Run must not wait for EOF.
  UseScript(R"(
sleep 300 &
echo $! > child.txt
echo "caviar: dev_accuracy=0.9")");
  spec_.mutable_command()->set_working_dir(dir_);
  RecordingReporter reporter;
  const auto start = Steady::now();
  const TrialOutcome outcome = Run(&reporter);
  EXPECT_LT(Steady::now() - start, std::chrono::seconds(4));
  EXPECT_EQ(outcome.failure_kind, caviar::v1::FAILURE_KIND_UNSPECIFIED)
      << outcome.failure_reason;
  EXPECT_TRUE(WaitUntilDead(std::stoi(ReadFile(Path("child.txt"))),
                            std::chrono::milliseconds(500)));
}

TEST_F(CommandObjectiveTest, UnknownPlaceholderIsInfeasibleAndRunsNothing) {
  UseScript("touch ran.txt", {"--momentum={momentum}"});
  RecordingReporter reporter;
  const TrialOutcome outcome = Run(&reporter);
  EXPECT_EQ(outcome.failure_kind, caviar::v1::INFEASIBLE);
  EXPECT_THAT(
      outcome.failure_reason,
      HasSubstr("command.argv[2] \"--momentum={momentum}\": placeholder {momentum} "
                "names no parameter of the trial"));
  EXPECT_FALSE(std::filesystem::exists(Path("ran.txt")));
}

TEST_F(CommandObjectiveTest, BadBracesAreInfeasible) {
  RecordingReporter reporter;
  UseScript("true", {"{learning_rate"});
  TrialOutcome outcome = Run(&reporter);
  EXPECT_EQ(outcome.failure_kind, caviar::v1::INFEASIBLE);
  EXPECT_THAT(outcome.failure_reason, HasSubstr("unclosed '{'"));
  UseScript("true", {"x}"});
  outcome = Run(&reporter);
  EXPECT_EQ(outcome.failure_kind, caviar::v1::INFEASIBLE);
  EXPECT_THAT(outcome.failure_reason, HasSubstr("unmatched '}'"));
}

TEST_F(CommandObjectiveTest, ProgramThatCannotStartCrashes) {
  spec_.mutable_command()->add_argv("/nonexistent/train");
  RecordingReporter reporter;
  TrialOutcome outcome = Run(&reporter);
  EXPECT_EQ(outcome.failure_kind, caviar::v1::CRASHED);
  EXPECT_THAT(outcome.failure_reason,
              HasSubstr("cannot run \"/nonexistent/train\": No such file or directory"));

  spec_.mutable_command()->set_argv(0, "no-such-trainer");
  (*spec_.mutable_command()->mutable_env())["PATH"] = "/nonexistent/bin:/usr/bin";
  outcome = Run(&reporter);
  EXPECT_EQ(outcome.failure_kind, caviar::v1::CRASHED);
  EXPECT_THAT(outcome.failure_reason,
              HasSubstr("cannot run \"no-such-trainer\": not found in PATH "
                        "/nonexistent/bin:/usr/bin"));

  UseScript("true");
  spec_.mutable_command()->set_working_dir(Path("missing"));
  outcome = Run(&reporter);
  EXPECT_EQ(outcome.failure_kind, caviar::v1::CRASHED);
  EXPECT_THAT(outcome.failure_reason, HasSubstr("command.working_dir"));
  EXPECT_THAT(outcome.failure_reason, HasSubstr("No such file or directory"));
}

TEST_F(CommandObjectiveTest, SpecWithoutCommandIsInfeasible) {
  RecordingReporter reporter;
  TrialOutcome outcome = Run(&reporter);
  EXPECT_EQ(outcome.failure_kind, caviar::v1::INFEASIBLE);
  spec_.mutable_command();
  outcome = Run(&reporter);
  EXPECT_EQ(outcome.failure_kind, caviar::v1::INFEASIBLE);
  EXPECT_THAT(outcome.failure_reason, HasSubstr("command.argv is empty"));
}

TEST(ParameterEnvNameTest, UpperCasesAndReplacesPunctuation) {
  EXPECT_EQ(ParameterEnvName("learning_rate"), "CAVIAR_PARAM_LEARNING_RATE");
  EXPECT_EQ(ParameterEnvName("adam.beta-1"), "CAVIAR_PARAM_ADAM_BETA_1");
}

}  // namespace
}  // namespace caviar::worker
