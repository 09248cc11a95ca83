// The `caviar` binary against a real caviar-coordinator process (SQLite file,
// gRPC on loopback). Trials are run by the test itself over the
// WorkerService, as an external client (the Python SDK's way) would: no
// worker processes, so the studies are exactly what the test made them.
#include <chrono>
#include <cmath>
#include <fstream>
#include <memory>
#include <sstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "caviar/v1/service.grpc.pb.h"
#include "gmock/gmock.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/e2e/process.h"
#include "tests/testing/temp_dir.h"

namespace caviar::testing {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using ::testing::StartsWith;
using Json = nlohmann::json;

constexpr char kSpec[] = R"(objective: {metric: score, goal: MAXIMIZE}
parameters:
  - {name: lr, double: {min: 1e-4, max: 1}, scale: LOG}
  - {name: units, integer: {min: 8, max: 64}}
  - {name: opt, categorical: {values: [adam, sgd]}}
budget: {max_trials: 1000}
external: {}
)";

class CliCoordinatorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    coordinator_ = std::make_unique<Process>(
        std::vector<std::string>{CAVIAR_COORDINATOR_BIN, "--db", dir_.File("caviar.db"),
                                 "--port-file", dir_.File("port"), "--listen",
                                 "127.0.0.1:0"},
        dir_.File("coordinator"));
    for (int i = 0; i < 400 && port_ == 0; ++i) {
      std::ifstream in(dir_.File("port"));
      if (!(in >> port_)) port_ = 0;
      ASSERT_TRUE(coordinator_->Running()) << coordinator_->Stderr();
      if (port_ == 0) std::this_thread::sleep_for(std::chrono::milliseconds(25));
    }
    ASSERT_GT(port_, 0) << coordinator_->Stderr();
    workers_ = caviar::v1::WorkerService::NewStub(grpc::CreateChannel(
        absl::StrCat("127.0.0.1:", port_), grpc::InsecureChannelCredentials()));
  }

  CommandResult Cli(std::vector<std::string> args) {
    args.insert(args.begin(),
                {CAVIAR_CLI_BIN, "--coordinator", absl::StrCat("127.0.0.1:", port_)});
    return RunCommand(std::move(args), dir_.File(absl::StrCat("cli", ++cli_calls_)));
  }

  // Submits kSpec (plus `extra` YAML) as study `name`.
  void Submit(const std::string& name, const std::string& extra = "") {
    const std::string path = dir_.File(name + ".yaml");
    std::ofstream(path) << "name: " << name << "\n" << kSpec << extra;
    CommandResult r = Cli({"submit", path});
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }

  // Runs up to `count` trials of `study` as an external client: `steps`
  // measurements each (score and loss), then success with the last score.
  // Returns how many it ran.
  int RunTrials(const std::string& study, int count, int steps) {
    int ran = 0;
    for (; ran < count; ++ran) {
      grpc::ClientContext suggest_context;
      caviar::v1::SuggestTrialRequest suggest;
      suggest.set_worker_id("test-client");
      suggest.set_study(study);
      suggest.add_run_kinds(caviar::v1::RUN_KIND_EXTERNAL);
      caviar::v1::SuggestTrialResponse lease;
      grpc::Status status = workers_->SuggestTrial(&suggest_context, suggest, &lease);
      EXPECT_TRUE(status.ok()) << status.error_message();
      if (!status.ok() || !lease.has_trial()) break;
      const caviar::v1::Trial& trial = lease.trial();
      const double lr = trial.parameters().at("lr").double_value();
      const double best = 1 - std::pow(std::log10(lr) + 2, 2) / 10;
      for (int step = 1; step <= steps; ++step) {
        grpc::ClientContext report_context;
        caviar::v1::ReportProgressRequest report;
        report.set_trial_id(trial.id());
        report.set_worker_id("test-client");
        report.set_attempt(trial.attempt());
        report.mutable_measurement()->set_step(step);
        report.mutable_measurement()->set_elapsed_seconds(0.5 * step);
        (*report.mutable_measurement()->mutable_metrics())["score"] = best * step / steps;
        (*report.mutable_measurement()->mutable_metrics())["loss"] = 1.0 / step;
        caviar::v1::ReportProgressResponse reply;
        EXPECT_TRUE(workers_->ReportProgress(&report_context, report, &reply).ok());
      }
      grpc::ClientContext complete_context;
      caviar::v1::CompleteTrialRequest complete;
      complete.set_trial_id(trial.id());
      complete.set_worker_id("test-client");
      complete.set_attempt(trial.attempt());
      complete.mutable_final_measurement()->set_step(steps);
      (*complete.mutable_final_measurement()->mutable_metrics())["score"] = best;
      caviar::v1::Trial done;
      status = workers_->CompleteTrial(&complete_context, complete, &done);
      EXPECT_TRUE(status.ok()) << status.error_message();
    }
    return ran;
  }

  Json JsonOf(std::vector<std::string> args) {
    args.insert(args.end(), {"--format", "json"});
    CommandResult r = Cli(args);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    Json json = Json::parse(r.out, nullptr, /*allow_exceptions=*/false);
    EXPECT_FALSE(json.is_discarded()) << r.out;
    return json;
  }

  TempDir dir_;
  int port_ = 0;
  int cli_calls_ = 0;
  std::unique_ptr<Process> coordinator_;
  std::unique_ptr<caviar::v1::WorkerService::Stub> workers_;
};

// A trial in the CLI's one JSON style: plain parameter values, numeric ids.
void ExpectPlainTrial(const Json& trial) {
  SCOPED_TRACE(trial.dump());
  EXPECT_TRUE(trial["id"].is_number_integer());
  EXPECT_TRUE(trial["parameters"]["lr"].is_number_float());
  EXPECT_TRUE(trial["parameters"]["units"].is_number_integer());
  EXPECT_TRUE(trial["parameters"]["opt"].is_string());
  EXPECT_EQ(trial["state"], "SUCCEEDED");
  EXPECT_TRUE(trial["objective_value"].is_number());
}

TEST_F(CliCoordinatorTest, EveryCommandWritesTheSameJson) {
  Submit("style");
  ASSERT_EQ(RunTrials("style", 6, 3), 6);

  Json trials = JsonOf({"trials", "style"});
  ASSERT_EQ(trials.size(), 6u);
  for (const Json& t : trials) ExpectPlainTrial(t);

  Json best = JsonOf({"best", "style", "--top", "2"});
  ASSERT_EQ(best.size(), 2u);
  for (const Json& t : best) ExpectPlainTrial(t);
  EXPECT_GE(best[0]["objective_value"].get<double>(),
            best[1]["objective_value"].get<double>());

  // `trial` is the same object as in the listing, plus its curve.
  const int64_t id = best[0]["id"].get<int64_t>();
  Json trial = JsonOf({"trial", absl::StrCat(id)});
  ExpectPlainTrial(trial);
  Json listed;
  for (const Json& t : trials) {
    if (t["id"] == id) listed = t;
  }
  EXPECT_EQ(trial["parameters"], listed["parameters"]);
  ASSERT_EQ(trial["measurements"].size(), 3u);
  EXPECT_EQ(trial["measurements"][2]["step"], 3);
  EXPECT_TRUE(trial["measurements"][2]["metrics"]["loss"].is_number());

  Json studies = JsonOf({"studies"});
  ASSERT_EQ(studies.size(), 1u);
  EXPECT_EQ(studies[0]["spec"]["name"], "style");
  EXPECT_EQ(studies[0]["succeeded_trials"], 6);  // A number, like every integer.
  Json study = JsonOf({"study", "style"});
  EXPECT_EQ(study["spec"]["budget"]["max_trials"], 1000);
  EXPECT_TRUE(study["spec"].contains("external"));

  Json importance = JsonOf({"importance", "style"});
  EXPECT_TRUE(importance.is_object()) << importance.dump();

  Json drift = JsonOf({"drift", "style"});
  EXPECT_EQ(drift, Json::array());
  CommandResult retest = Cli({"retest", "style", "--top", "1", "--repeats", "2"});
  ASSERT_EQ(retest.exit_code, 0) << retest.err;
  ASSERT_EQ(RunTrials("style", 2, 1), 2);
  drift = JsonOf({"drift", "style"});
  ASSERT_EQ(drift.size(), 1u);
  EXPECT_EQ(drift[0]["trial_id"], id);
  EXPECT_EQ(drift[0]["retests"], 2);
  EXPECT_EQ(drift[0]["done"], 2);
  EXPECT_NEAR(drift[0]["drift"].get<double>(), 0, 1e-9);  // The same score again.
}

TEST_F(CliCoordinatorTest, EveryListingCommandTakesTableJsonAndCsv) {
  Submit("formats",
         "algorithm: {name: coarse_to_fine, options: {trials_per_round: 4}}\n");
  ASSERT_EQ(RunTrials("formats", 6, 2), 6);
  const std::vector<std::vector<std::string>> listings = {
      {"studies"},          {"trials", "formats"},
      {"best", "formats"},  {"importance", "formats"},
      {"drift", "formats"}, {"regions", "formats"}};
  for (const auto& listing : listings) {
    SCOPED_TRACE(listing[0]);
    for (const char* format : {"table", "json", "csv"}) {
      std::vector<std::string> args = listing;
      args.insert(args.end(), {"--format", format});
      CommandResult r = Cli(args);
      EXPECT_EQ(r.exit_code, 0) << format << ": " << r.err;
      if (std::string(format) == "json") {
        EXPECT_FALSE(Json::parse(r.out, nullptr, false).is_discarded()) << r.out;
      }
    }
    std::vector<std::string> args = listing;
    args.insert(args.end(), {"--format", "xml"});
    CommandResult bad = Cli(args);
    EXPECT_EQ(bad.exit_code, 2);
    EXPECT_THAT(bad.err, HasSubstr("--format"));
  }
  CommandResult csv = Cli({"trials", "formats", "--format", "csv"});
  EXPECT_THAT(csv.out, StartsWith("id,state,lr,units,opt,score,"));
}

TEST_F(CliCoordinatorTest, RegionsAreInParameterValuesWithRoundZeroOnce) {
  Submit("zoom", "algorithm: {name: coarse_to_fine, options: {trials_per_round: 4}}\n");
  ASSERT_EQ(RunTrials("zoom", 6, 1), 6);

  CommandResult table = Cli({"regions", "zoom"});
  ASSERT_EQ(table.exit_code, 0) << table.err;
  std::vector<std::string> lines = absl::StrSplit(table.out, '\n', absl::SkipEmpty());
  ASSERT_GE(lines.size(), 3u) << table.out;  // Header, round 0, round 1.
  EXPECT_THAT(lines[0], AllOf(StartsWith("ROUND"), HasSubstr("lr"), HasSubstr("units")));
  EXPECT_THAT(lines[1], HasSubstr("0.0001 .. 1"));  // Round 0: the whole lr range.
  EXPECT_THAT(lines[1], HasSubstr("8 .. 64"));
  EXPECT_THAT(lines[1], HasSubstr("adam .. sgd"));
  Json regions = JsonOf({"regions", "zoom"});
  ASSERT_EQ(regions.size(), lines.size() - 1);
  int zeros = 0;
  for (const Json& r : regions) zeros += r["round"] == 0;
  EXPECT_EQ(zeros, 1) << regions.dump();
  EXPECT_NEAR(regions[0]["parameters"]["lr"]["lo"].get<double>(), 1e-4, 1e-12);
  EXPECT_EQ(regions[0]["parameters"]["units"]["hi"], 64);
  EXPECT_EQ(regions[0]["parameters"]["opt"]["lo"], "adam");

  // By hand: a decade of lr.
  CommandResult refine = Cli({"refine", "zoom", "--param", "lr=1e-3:1e-2"});
  ASSERT_EQ(refine.exit_code, 0) << refine.err;
  EXPECT_THAT(refine.out, HasSubstr("0.001 .. 0.01"));
  // `caviar study` shows the same table, in values, not on the unit cube.
  CommandResult study = Cli({"study", "zoom"});
  ASSERT_EQ(study.exit_code, 0) << study.err;
  EXPECT_THAT(study.out, AllOf(HasSubstr("regions:\n  ROUND"), HasSubstr("0.001 .. 0.01"),
                               HasSubstr("0.0001 .. 1"), Not(HasSubstr("lr ["))));
  Json json = JsonOf({"study", "zoom"});
  ASSERT_EQ(json["regions"].size(), regions.size() + 1);
  EXPECT_NEAR(json["regions"].back()["parameters"]["lr"]["hi"].get<double>(), 1e-2,
              1e-12);
  EXPECT_EQ(json["regions"].back()["origin"], "refine");
}

TEST_F(CliCoordinatorTest, RefineOfAnEndedStudyNeedsTrials) {
  Submit("ended");
  ASSERT_EQ(RunTrials("ended", 4, 1), 4);
  ASSERT_EQ(Cli({"stop", "ended"}).exit_code, 0);
  CommandResult refused = Cli({"refine", "ended", "--top", "0.5"});
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_THAT(refused.err, HasSubstr("study 'ended' has ended (STOPPED)"));
  EXPECT_THAT(refused.err, HasSubstr("add --trials N"));
  EXPECT_THAT(refused.out, IsEmpty());
  Json before = JsonOf({"study", "ended"});
  EXPECT_FALSE(before.contains("regions"));  // Nothing changed.

  CommandResult reopened = Cli({"refine", "ended", "--top", "0.5", "--trials", "2"});
  EXPECT_EQ(reopened.exit_code, 0) << reopened.err;
  Json after = JsonOf({"study", "ended"});
  EXPECT_EQ(after["state"], "STUDY_ACTIVE");
  EXPECT_EQ(after["regions"].back()["origin"], "refine");
}

TEST_F(CliCoordinatorTest, AnExternalStudyIsShownLikeAnyOther) {
  Submit("ext");
  ASSERT_EQ(RunTrials("ext", 2, 1), 2);
  CommandResult study = Cli({"study", "ext"});
  ASSERT_EQ(study.exit_code, 0) << study.err;
  EXPECT_THAT(
      study.out,
      AllOf(HasSubstr("study:      ext\n"), HasSubstr("state:      ACTIVE"),
            HasSubstr("objective:  maximize score"), HasSubstr("trials:     2 succeeded"),
            HasSubstr("runs:       external"),
            HasSubstr("  lr     double [0.0001, 1] LOG")));
  CommandResult yaml = Cli({"study", "ext", "--format", "yaml"});
  EXPECT_THAT(yaml.out, HasSubstr("\nexternal: {}\n"));
}

TEST_F(CliCoordinatorTest, BadTrialIdsAreUsageErrors) {
  for (const std::vector<std::string>& args :
       std::vector<std::vector<std::string>>{{"trial", "abc"},
                                             {"trial", "0"},
                                             {"trial", "1.5"},
                                             {"trial", "99999999999999999999"},
                                             {"nudge", "abc", "--param", "lr=0.1"},
                                             {"rollback", "abc", "--to-step", "1"},
                                             {"pause", "abc"},
                                             {"resume", "0"}}) {
    CommandResult r = Cli(args);
    SCOPED_TRACE(args[0] + " " + args[1]);
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_THAT(r.err,
                HasSubstr("'" + args[1] + "' is not a trial id (a positive integer"));
    EXPECT_LT(r.err.size(), 200u) << r.err;
    EXPECT_THAT(r.out, IsEmpty());
  }
  CommandResult limit = Cli({"trials", "s", "--limit", "many"});
  EXPECT_EQ(limit.exit_code, 2);
  EXPECT_THAT(limit.err, HasSubstr("'many' is not a non-negative integer"));
  CommandResult missing = Cli({"trial", "12345"});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_THAT(missing.err, HasSubstr("trial 12345 not found"));
  // watch: a study or --trial, one of them.
  for (const std::vector<std::string>& args :
       std::vector<std::vector<std::string>>{{"watch"}, {"watch", "s", "--trial", "1"}}) {
    CommandResult r = Cli(args);
    EXPECT_EQ(r.exit_code, 2) << r.err;
    EXPECT_THAT(r.err, HasSubstr("give a study name or --trial ID (one of them)"));
    EXPECT_THAT(r.out, IsEmpty());
  }
}

std::vector<std::string> Lines(const std::string& text) {
  return absl::StrSplit(text, '\n', absl::SkipEmpty());
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

TEST_F(CliCoordinatorTest, ExportWritesEveryTrialWithItsCurve) {
  Submit("export");
  // More than one page of the export (500 trials), curves of 2 steps.
  ASSERT_EQ(RunTrials("export", 520, 2), 520);
  // One trial leased and not yet reported: a row without a curve.
  grpc::ClientContext context;
  caviar::v1::SuggestTrialRequest suggest;
  suggest.set_worker_id("test-client");
  suggest.set_study("export");
  suggest.add_run_kinds(caviar::v1::RUN_KIND_EXTERNAL);
  caviar::v1::SuggestTrialResponse lease;
  ASSERT_TRUE(workers_->SuggestTrial(&context, suggest, &lease).ok());

  CommandResult jsonl = Cli({"export", "export"});
  ASSERT_EQ(jsonl.exit_code, 0) << jsonl.err;
  std::vector<std::string> lines = Lines(jsonl.out);
  ASSERT_EQ(lines.size(), 521u);
  int64_t previous = 0;
  for (const std::string& line : lines) {
    Json t = Json::parse(line);
    EXPECT_GT(t["id"].get<int64_t>(), previous);  // Each trial once, in id order.
    previous = t["id"].get<int64_t>();
    EXPECT_TRUE(t["parameters"]["lr"].is_number_float());
    if (t["state"] == "SUCCEEDED") {
      ASSERT_EQ(t["measurements"].size(), 2u) << line;
      EXPECT_TRUE(t["measurements"][1]["metrics"]["score"].is_number());
    } else {
      EXPECT_EQ(t["state"], "ACTIVE");
      EXPECT_FALSE(t.contains("measurements"));
    }
  }
  // The same trial as `caviar trial --format json`, on one line.
  Json first = Json::parse(lines[0]);
  EXPECT_EQ(first, JsonOf({"trial", absl::StrCat(first["id"].get<int64_t>())}));

  const std::string file = dir_.File("export.csv");
  CommandResult csv = Cli({"export", "export", "--format", "csv", "-o", file});
  ASSERT_EQ(csv.exit_code, 0) << csv.err;
  EXPECT_THAT(csv.out, IsEmpty());
  std::vector<std::string> rows = Lines(ReadFile(file));
  ASSERT_EQ(rows.size(), 1u + 520 * 2 + 1);
  EXPECT_EQ(rows[0],
            "trial_id,state,lr,units,opt,objective_value,step,elapsed_seconds,attempt,"
            "score,loss");
  std::vector<std::string> second = absl::StrSplit(rows[2], ',');
  ASSERT_EQ(second.size(), 11u);
  EXPECT_EQ(second[0], Json::parse(lines[0])["id"].dump());
  EXPECT_EQ(second[1], "SUCCEEDED");
  EXPECT_EQ(second[6], "2");     // step
  EXPECT_EQ(second[7], "1");     // elapsed_seconds
  EXPECT_EQ(second[10], "0.5");  // loss at step 2
  std::vector<std::string> last = absl::StrSplit(rows.back(), ',');
  EXPECT_EQ(last[1], "ACTIVE");
  EXPECT_EQ(last[6], "");
  EXPECT_FALSE(std::ifstream(file + ".partial").good());

  CommandResult missing = Cli({"export", "nope", "-o", dir_.File("nope.jsonl")});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_THAT(missing.err, HasSubstr("study \"nope\" not found"));
  EXPECT_FALSE(std::ifstream(dir_.File("nope.jsonl")).good());
}

}  // namespace
}  // namespace caviar::testing
