#include "client/format.h"

#include "client/progress.h"
#include "gmock/gmock.h"
#include "google/protobuf/text_format.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace caviar::client {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

caviar::v1::Trial TrialFromText(const std::string& text) {
  caviar::v1::Trial trial;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(text, &trial)) << text;
  return trial;
}

std::vector<caviar::v1::Trial> SomeTrials() {
  return {
      TrialFromText(R"pb(
        id: 1
        study: "q"
        state: SUCCEEDED
        attempt: 1
        worker_id: "w1"
        parameters {
          key: "learning_rate"
          value { double_value: 0.00123456789 }
        }
        parameters {
          key: "hidden_units"
          value { int_value: 64 }
        }
        parameters {
          key: "optimizer"
          value { string_value: "adam" }
        }
        final_measurement {
          step: 5
          metrics { key: "dev_accuracy" value: 0.9123456 }
        }
        objective_value: 0.9123456
      )pb"),
      TrialFromText(R"pb(
        id: 12
        study: "q"
        state: FAILED
        attempt: 2
        worker_id: "w2"
        parameters {
          key: "learning_rate"
          value { double_value: 0.5 }
        }
        parameters {
          key: "hidden_units"
          value { int_value: 100 }
        }
        parameters {
          key: "optimizer"
          value { string_value: "momentum" }
        }
        failure_kind: CRASHED
        failure_reason: "exit 1: bad \"thing\", really\nline 2"
      )pb"),
      TrialFromText(R"pb(
        id: 13
        study: "q"
        state: ACTIVE
        attempt: 1
        worker_id: "w1"
        parameters {
          key: "learning_rate"
          value { double_value: 0.01 }
        }
        parameters {
          key: "hidden_units"
          value { int_value: 7 }
        }
        parameters {
          key: "optimizer"
          value { string_value: "rmsprop" }
        }
        measurements {
          step: 1
          elapsed_seconds: 0.051
          metrics { key: "dev_accuracy" value: 0.5 }
          metrics { key: "loss" value: 0.69 }
        }
        measurements {
          step: 2
          elapsed_seconds: 0.102
          metrics { key: "dev_accuracy" value: 0.75 }
          metrics { key: "loss" value: 0.28 }
        }
      )pb"),
  };
}

TrialColumns Columns() {
  TrialColumns columns;
  columns.parameters = {"learning_rate", "hidden_units", "optimizer"};
  columns.objective_metric = "dev_accuracy";
  return columns;
}

TEST(Format, TrialsTableHasAlignedColumnsInSpecOrder) {
  const std::string table = FormatTrials(SomeTrials(), Columns(), OutputFormat::kTable);
  const std::string expected =
      "ID  STATE      learning_rate  hidden_units  optimizer  dev_accuracy  STEP  NOTE\n"
      " 1  SUCCEEDED       0.001235            64  adam           0.912346     5\n"
      "12  FAILED               0.5           100  momentum" +
      std::string(23, ' ') +
      "CRASHED: exit 1: bad \"thing\", really line 2\n"
      "13  ACTIVE              0.01             7  rmsprop" +
      std::string(21, ' ') + "2\n";
  EXPECT_EQ(table, expected);
}

TEST(Format, TrialsCsvQuotesAndKeepsFullPrecision) {
  const std::string csv = FormatTrials(SomeTrials(), Columns(), OutputFormat::kCsv);
  EXPECT_EQ(
      csv,
      "id,state,learning_rate,hidden_units,optimizer,dev_accuracy,step,attempt,"
      "worker_id,note\n"
      "1,SUCCEEDED,0.00123456789,64,adam,0.9123456,5,1,w1,\n"
      "12,FAILED,0.5,100,momentum,,,2,w2,\"CRASHED: exit 1: bad \"\"thing\"\", really "
      "line 2\"\n"
      "13,ACTIVE,0.01,7,rmsprop,,2,1,w1,\n");
}

TEST(Format, TrialsJsonIsAnArrayOfTrialsInTheCliStyle) {
  const auto json =
      nlohmann::json::parse(FormatTrials(SomeTrials(), Columns(), OutputFormat::kJson));
  ASSERT_TRUE(json.is_array());
  ASSERT_EQ(json.size(), 3u);
  EXPECT_EQ(json[0]["id"], 1);  // A number, not protobuf's string.
  EXPECT_EQ(json[0]["attempt"], 1);
  EXPECT_EQ(json[0]["state"], "SUCCEEDED");
  EXPECT_DOUBLE_EQ(json[0]["objective_value"].get<double>(), 0.9123456);
  // Parameter values are plain values, not oneof wrappers.
  EXPECT_DOUBLE_EQ(json[0]["parameters"]["learning_rate"].get<double>(), 0.00123456789);
  EXPECT_EQ(json[0]["parameters"]["hidden_units"], 64);
  EXPECT_EQ(json[0]["parameters"]["optimizer"], "adam");
  EXPECT_EQ(json[0]["final_measurement"]["metrics"]["dev_accuracy"], 0.9123456);
  EXPECT_EQ(json[1]["failure_kind"], "CRASHED");
  EXPECT_FALSE(json[1].contains("objective_value"));  // Unset: left out.
  EXPECT_EQ(FormatTrials({}, Columns(), OutputFormat::kJson), "[]\n");
}

TEST(Format, JsonKeepsFieldOrderAndWritesOddValuesReadably) {
  caviar::v1::Trial trial = TrialFromText(R"pb(
    id: 7
    state: FAILED
    failure_reason: "bad \377 byte"
    measurements {
      step: 1
      metrics { key: "loss" value: nan }
      metrics { key: "acc" value: inf }
    }
    create_time { seconds: 1700000000 }
  )pb");
  const std::string text = MessageToJson(trial);
  const auto json = nlohmann::json::parse(text);  // Valid UTF-8 JSON.
  EXPECT_EQ(json["measurements"][0]["metrics"]["loss"], "NaN");
  EXPECT_EQ(json["measurements"][0]["metrics"]["acc"], "Infinity");
  EXPECT_EQ(json["create_time"], "2023-11-14T22:13:20Z");
  EXPECT_THAT(json["failure_reason"].get<std::string>(), HasSubstr("bad "));
  EXPECT_LT(text.find("\"id\""), text.find("\"state\""));  // Field-number order.
  EXPECT_LT(text.find("\"acc\""), text.find("\"loss\""));  // Map keys sorted.
  EXPECT_EQ(JsonLine(ToJson(trial)).find('\n'), JsonLine(ToJson(trial)).size() - 1);
}

caviar::v1::Study ZoomedStudy() {
  caviar::v1::Study study;
  google::protobuf::TextFormat::ParseFromString(
      R"pb(
        spec {
          name: "z"
          parameters {
            name: "lr"
            double { min: 1e-4 max: 1 }
            scale: LOG
          }
          parameters {
            name: "opt"
            categorical { values: [ "adam", "sgd", "rmsprop", "gd" ] }
          }
        }
        regions { round: 0 origin: "sampler" }
        regions {
          round: 1
          origin: "refine"
          lo { key: "lr" value: 0.25 }
          hi { key: "lr" value: 0.5 }
          lo { key: "opt" value: 0.25 }
          hi { key: "opt" value: 0.5 }
        }
        regions {
          round: 2
          origin: "sampler"
          lo { key: "lr" value: 0.25 }
          hi { key: "lr" value: 0.375 }
        }
      )pb",
      &study);
  return study;
}

TEST(Format, RegionsAreInParameterValuesWithRoundZeroOnce) {
  const caviar::v1::Study study = ZoomedStudy();
  EXPECT_EQ(*FormatRegions(study, OutputFormat::kTable),
            "ROUND  ORIGIN   lr                 opt\n"
            "    0  sampler  0.0001 .. 1        adam .. gd\n"
            "    1  refine   0.001 .. 0.01      sgd\n"
            "    2  sampler  0.001 .. 0.003162  sgd\n");
  const auto json = nlohmann::json::parse(*FormatRegions(study, OutputFormat::kJson));
  ASSERT_EQ(json.size(), 3u);
  EXPECT_DOUBLE_EQ(json[1]["parameters"]["lr"]["lo"].get<double>(), 1e-3);
  EXPECT_EQ(json[2]["parameters"]["opt"]["hi"], "sgd");  // Kept from round 1.
  EXPECT_EQ(*FormatRegions(study, OutputFormat::kCsv),
            "round,origin,lr.lo,lr.hi,opt.lo,opt.hi\n"
            "0,sampler,0.0001,1,adam,gd\n"
            "1,refine,0.001,0.01,sgd,sgd\n"
            "2,sampler,0.001,0.0031622776601683794,sgd,sgd\n");
  // Without a recorded round 0 (a random search refined by hand), the whole
  // space is round 0.
  caviar::v1::Study refined = study;
  refined.mutable_regions()->DeleteSubrange(0, 1);
  EXPECT_THAT(*FormatRegions(refined, OutputFormat::kTable),
              HasSubstr("    0  whole space  0.0001 .. 1"));
  // The summary and the study's JSON show the same, never the unit cube.
  EXPECT_THAT(FormatStudySummary(study), HasSubstr("regions:\n  ROUND  ORIGIN   lr"));
  EXPECT_THAT(FormatStudySummary(study), Not(HasSubstr("[0.25")));
  EXPECT_EQ(StudyToJson(study)["regions"][1]["parameters"]["lr"]["hi"], 0.01);
}

TEST(Format, ColumnsDefaultToSortedParameterNames) {
  const std::string table =
      FormatTrials(SomeTrials(), TrialColumns(), OutputFormat::kTable);
  EXPECT_THAT(
      table,
      HasSubstr("ID  STATE      hidden_units  learning_rate  optimizer  objective"));
}

TEST(Format, ColumnsForSpecFollowTheSpec) {
  caviar::v1::StudySpec spec;
  spec.add_parameters()->set_name("b");
  spec.add_parameters()->set_name("a");
  spec.mutable_objective()->set_metric("loss");
  TrialColumns columns = ColumnsForSpec(spec);
  EXPECT_EQ(columns.parameters, (std::vector<std::string>{"b", "a"}));
  EXPECT_EQ(columns.objective_metric, "loss");
}

TEST(Format, TrialDetailShowsTheLearningCurve) {
  const std::string detail =
      FormatTrialDetail(SomeTrials()[2], "dev_accuracy", OutputFormat::kTable);
  EXPECT_THAT(detail, HasSubstr("trial:         13\n"));
  EXPECT_THAT(detail, HasSubstr("state:         ACTIVE\n"));
  EXPECT_THAT(detail, HasSubstr("  learning_rate  0.01\n"));
  EXPECT_THAT(detail, HasSubstr("learning curve:\n"
                                "STEP  ELAPSED_S  dev_accuracy  loss\n"
                                "   1       0.05           0.5  0.69\n"
                                "   2       0.10          0.75  0.28\n"));
  const std::string curve =
      FormatTrialDetail(SomeTrials()[2], "dev_accuracy", OutputFormat::kCsv);
  EXPECT_EQ(curve,
            "step,elapsed_seconds,dev_accuracy,loss\n"
            "1,0.051,0.5,0.69\n"
            "2,0.102,0.75,0.28\n");
  EXPECT_THAT(FormatTrialDetail(SomeTrials()[0], "dev_accuracy", OutputFormat::kTable),
              HasSubstr("learning curve: (no measurements yet)"));
}

TEST(Format, StudiesTableAndSummary) {
  caviar::v1::Study study;
  ASSERT_TRUE(google::protobuf::TextFormat::ParseFromString(
      R"pb(
        spec {
          name: "quadratic"
          objective { metric: "dev_accuracy" goal: MAXIMIZE }
          parameters {
            name: "learning_rate"
            double { min: 0.0001 max: 1 }
            scale: LOG
          }
          parameters {
            name: "optimizer"
            categorical { values: [ "adam", "sgd" ] }
          }
          budget { max_trials: 20 max_parallel_trials: 2 }
          command {
            argv: [ "python3", "quadratic.py" ]
            working_dir: "/x"
          }
        }
        state: STUDY_ACTIVE
        succeeded_trials: 7
        stopped_trials: 1
        failed_trials: 2
        active_trials: 2
        create_time { seconds: 1700000000 nanos: 5 }
      )pb",
      &study));
  EXPECT_EQ(FormatStudies({study}, OutputFormat::kTable),
            "NAME       STATE   DONE  ACTIVE  FAILED  ALGORITHM  CREATED\n"
            "quadratic  ACTIVE  8/20       2       2  random     2023-11-14T22:13:20Z\n");
  EXPECT_EQ(FormatStudies({study}, OutputFormat::kCsv),
            "name,state,succeeded,stopped,failed,active,pending,max_trials,algorithm,"
            "create_time\n"
            "quadratic,ACTIVE,7,1,2,2,0,20,,2023-11-14T22:13:20Z\n");
  const std::string summary = FormatStudySummary(study);
  EXPECT_THAT(summary, HasSubstr("objective:  maximize dev_accuracy\n"));
  EXPECT_THAT(summary, HasSubstr("budget:     20 trials, 2 in parallel\n"));
  EXPECT_THAT(summary, HasSubstr("  learning_rate  double [0.0001, 1] LOG\n"));
  EXPECT_THAT(summary, HasSubstr("  optimizer      categorical {adam, sgd}\n"));
  EXPECT_THAT(summary, HasSubstr("runs:       python3 quadratic.py\n"));

  EXPECT_EQ(ProgressBar(study, 0.93, 10),
            "[####------]  8/20 done  2 active  2 failed  "
            "best dev_accuracy 0.93");
  EXPECT_EQ(ProgressLine(study, std::nullopt),
            "quadratic: ACTIVE 8/20 done, 2 active, 2 failed");
  EXPECT_FALSE(StudyEnded(study));
  study.set_state(caviar::v1::STUDY_STOPPED);
  EXPECT_TRUE(StudyEnded(study));
  EXPECT_EQ(ProgressBar(study, std::nullopt, 4).substr(0, 6), "[####]");
}

TEST(Format, TextTableRightAlignsOnlyNumericColumns) {
  TextTable table({"A", "NUMBER", "MIXED"});
  table.AddRow({"x", "1", "1"});
  table.AddRow({"long", "-2.5e-3", "abc"});
  EXPECT_EQ(table.Render(),
            "A      NUMBER  MIXED\n"
            "x           1  1\n"
            "long  -2.5e-3  abc\n");
}

TEST(Format, ParseOutputFormatNamesTheChoices) {
  EXPECT_EQ(*ParseOutputFormat("csv"), OutputFormat::kCsv);
  absl::StatusOr<OutputFormat> bad = ParseOutputFormat("xml");
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(std::string(bad.status().message()), HasSubstr("table, json or csv"));
  EXPECT_EQ(CsvField("plain"), "plain");
  EXPECT_EQ(CsvField("a,b"), "\"a,b\"");
}

}  // namespace
}  // namespace caviar::client
