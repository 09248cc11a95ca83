// The worker's built-in trainer objective, run for real on a tiny CSV dataset
// with a recording ProgressReporter.
#include "worker/trainer_objective.h"

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "worker/trainer/random.h"

namespace caviar::worker {
namespace {

using ::testing::HasSubstr;

// Records every measurement; can ask to stop or nudge the learning rate.
class RecordingReporter : public ProgressReporter {
 public:
  ProgressReply Report(const caviar::v1::Measurement& measurement) override {
    measurements.push_back(measurement);
    ProgressReply reply;
    reply.stop = stop_after_reports > 0 && int(measurements.size()) >= stop_after_reports;
    if (nudge_at_step == measurement.step()) {
      reply.parameter_updates["learning_rate"].set_double_value(nudge_learning_rate);
    }
    return reply;
  }
  bool StopRequested() const override {
    return stop_flag_after_polls >= 0 && ++polls > stop_flag_after_polls;
  }

  std::vector<caviar::v1::Measurement> measurements;
  int stop_after_reports = 0;
  int64_t nudge_at_step = -1;
  double nudge_learning_rate = 0;
  int stop_flag_after_polls = -1;
  mutable int polls = 0;
};

class TrainerObjectiveTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::path(::testing::TempDir()) /
           ("caviar_trainer_objective_" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
    WriteBlobs(dir_ / "train.csv", 600, 1);
    WriteBlobs(dir_ / "test.csv", 200, 2);
    spec_.set_name("blobs");
    spec_.mutable_objective()->set_metric("dev_accuracy");
    spec_.mutable_objective()->set_goal(caviar::v1::MAXIMIZE);
    auto* trainer = spec_.mutable_trainer();
    trainer->set_epochs(3);
    auto* csv = trainer->mutable_dataset()->mutable_csv();
    csv->set_train_path((dir_ / "train.csv").string());
    csv->set_test_path((dir_ / "test.csv").string());
    csv->set_has_header(true);
    csv->set_label_column("label");
    trainer->mutable_dataset()->set_dev_size(100);
    trainer->mutable_dataset()->set_split_seed(3);
    trainer->mutable_settings()->set_hidden_units(16);
    trainer->mutable_settings()->set_batch_size(32);
    trainer->mutable_settings()->set_learning_rate(0.01);
    trial_.set_id(1);
    trial_.set_seed(42);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // Three Gaussian blobs in 5 dimensions, label in the middle column.
  static void WriteBlobs(const std::filesystem::path& path, int rows, uint64_t seed) {
    trainer::Random random(seed);
    std::ofstream out(path);
    out << "f0,f1,label,f2,f3,f4\n";
    for (int r = 0; r < rows; ++r) {
      const int label = int(random.Below(3));
      double f[5];
      for (int i = 0; i < 5; ++i) f[i] = (i == label ? 3.0 : 0.0) + random.Normal();
      out << f[0] << "," << f[1] << "," << label << "," << f[2] << "," << f[3] << ","
          << f[4] << "\n";
    }
  }

  void SetParameter(const std::string& name, const caviar::v1::ParameterValue& value) {
    (*trial_.mutable_parameters())[name] = value;
  }
  static caviar::v1::ParameterValue Double(double v) {
    caviar::v1::ParameterValue value;
    value.set_double_value(v);
    return value;
  }
  static caviar::v1::ParameterValue Int(int64_t v) {
    caviar::v1::ParameterValue value;
    value.set_int_value(v);
    return value;
  }
  static caviar::v1::ParameterValue String(const std::string& v) {
    caviar::v1::ParameterValue value;
    value.set_string_value(v);
    return value;
  }

  std::filesystem::path dir_;
  caviar::v1::StudySpec spec_;
  caviar::v1::Trial trial_;
};

TEST_F(TrainerObjectiveTest, TrainsReportsEachEpochAndAddsTestMetrics) {
  TrainerObjective objective;
  RecordingReporter reporter;
  SetParameter("learning_rate", Double(0.02));
  SetParameter("batch_size", Int(50));
  SetParameter("optimizer", String("adam"));
  const TrialOutcome outcome = objective.Run(spec_, trial_, &reporter);
  EXPECT_EQ(outcome.failure_kind, caviar::v1::FAILURE_KIND_UNSPECIFIED)
      << outcome.failure_reason;
  EXPECT_FALSE(outcome.stopped);
  ASSERT_EQ(reporter.measurements.size(), 3u);
  for (int e = 0; e < 3; ++e) {
    const auto& m = reporter.measurements[e];
    EXPECT_EQ(m.step(), e + 1);
    for (const char* name : {"train_loss", "train_accuracy", "dev_loss", "dev_accuracy",
                             "seconds", "learning_rate"}) {
      EXPECT_TRUE(m.metrics().contains(name)) << name;
    }
    EXPECT_DOUBLE_EQ(m.metrics().at("learning_rate"), 0.02);
  }
  const auto& final_metrics = outcome.final_measurement.metrics();
  EXPECT_EQ(outcome.final_measurement.step(), 3);
  EXPECT_GT(final_metrics.at("dev_accuracy"), 0.85);
  EXPECT_GT(final_metrics.at("test_accuracy"), 0.85);
  EXPECT_TRUE(final_metrics.contains("test_loss"));
  EXPECT_EQ(final_metrics.at("dev_accuracy"),
            reporter.measurements.back().metrics().at("dev_accuracy"));
}

TEST_F(TrainerObjectiveTest, LoadsTheDatasetOncePerProcess) {
  TrainerObjective objective;
  for (int i = 0; i < 2; ++i) {
    RecordingReporter reporter;
    trial_.set_id(i + 1);
    EXPECT_EQ(objective.Run(spec_, trial_, &reporter).failure_kind,
              caviar::v1::FAILURE_KIND_UNSPECIFIED);
  }
  EXPECT_EQ(objective.dataset_loads(), 1);
  spec_.mutable_trainer()->mutable_dataset()->set_dev_size(50);
  RecordingReporter reporter;
  objective.Run(spec_, trial_, &reporter);
  EXPECT_EQ(objective.dataset_loads(), 2);
}

TEST_F(TrainerObjectiveTest, SameTrialSeedSameCurve) {
  TrainerObjective objective;
  RecordingReporter a, b;
  objective.Run(spec_, trial_, &a);
  objective.Run(spec_, trial_, &b);
  ASSERT_EQ(a.measurements.size(), b.measurements.size());
  for (size_t i = 0; i < a.measurements.size(); ++i) {
    EXPECT_EQ(a.measurements[i].metrics().at("dev_loss"),
              b.measurements[i].metrics().at("dev_loss"));
  }
}

TEST_F(TrainerObjectiveTest, StopsWhenTheReplySaysStop) {
  TrainerObjective objective;
  RecordingReporter reporter;
  reporter.stop_after_reports = 1;
  const TrialOutcome outcome = objective.Run(spec_, trial_, &reporter);
  EXPECT_TRUE(outcome.stopped);
  EXPECT_EQ(outcome.failure_kind, caviar::v1::FAILURE_KIND_UNSPECIFIED);
  EXPECT_EQ(reporter.measurements.size(), 1u);
  EXPECT_EQ(outcome.final_measurement.step(), 1);
  EXPECT_TRUE(outcome.final_measurement.metrics().contains("test_accuracy"));
}

TEST_F(TrainerObjectiveTest, HonoursStopBetweenMiniBatches) {
  TrainerObjective objective;
  RecordingReporter reporter;
  reporter.stop_flag_after_polls = 3;  // 500 examples / 32 = 16 batches per epoch.
  const TrialOutcome outcome = objective.Run(spec_, trial_, &reporter);
  EXPECT_TRUE(outcome.stopped);
  EXPECT_TRUE(reporter.measurements.empty());
  EXPECT_EQ(reporter.polls, 4);
}

TEST_F(TrainerObjectiveTest, AppliesALearningRateNudge) {
  TrainerObjective objective;
  RecordingReporter reporter;
  reporter.nudge_at_step = 1;
  reporter.nudge_learning_rate = 0.003;
  objective.Run(spec_, trial_, &reporter);
  ASSERT_EQ(reporter.measurements.size(), 3u);
  EXPECT_DOUBLE_EQ(reporter.measurements[0].metrics().at("learning_rate"), 0.01);
  EXPECT_DOUBLE_EQ(reporter.measurements[1].metrics().at("learning_rate"), 0.003);
  EXPECT_DOUBLE_EQ(reporter.measurements[2].metrics().at("learning_rate"), 0.003);
}

TEST_F(TrainerObjectiveTest, NanLossIsDiverged) {
  TrainerObjective objective;
  RecordingReporter reporter;
  SetParameter("learning_rate", Double(1e30));
  SetParameter("optimizer", String("gd"));
  SetParameter("batch_norm", String("false"));
  const TrialOutcome outcome = objective.Run(spec_, trial_, &reporter);
  EXPECT_EQ(outcome.failure_kind, caviar::v1::DIVERGED);
  EXPECT_THAT(outcome.failure_reason, HasSubstr("loss is"));
}

TEST_F(TrainerObjectiveTest, UnreadableDatasetIsInfeasibleNamingTheFile) {
  TrainerObjective objective;
  RecordingReporter reporter;
  std::ofstream(dir_ / "bad.csv") << "a,label\n1,0\nx,1\n";
  spec_.mutable_trainer()->mutable_dataset()->mutable_csv()->set_train_path(
      (dir_ / "bad.csv").string());
  TrialOutcome outcome = objective.Run(spec_, trial_, &reporter);
  EXPECT_EQ(outcome.failure_kind, caviar::v1::INFEASIBLE);
  EXPECT_THAT(outcome.failure_reason,
              HasSubstr((dir_ / "bad.csv").string() + ":3: column 0: non-numeric cell 'x'"));
  spec_.mutable_trainer()->mutable_dataset()->mutable_csv()->set_train_path("/nonexistent.csv");
  outcome = objective.Run(spec_, trial_, &reporter);
  EXPECT_EQ(outcome.failure_kind, caviar::v1::INFEASIBLE);
  EXPECT_THAT(outcome.failure_reason, HasSubstr("/nonexistent.csv"));
  EXPECT_TRUE(reporter.measurements.empty());
}

TEST_F(TrainerObjectiveTest, SettingsOverridesAndDefaults) {
  caviar::v1::TrainerSettings fixed;
  fixed.set_learning_rate(0.1);
  fixed.set_layers(3);
  ParameterMap parameters;
  parameters["learning_rate"].set_double_value(0.005);
  parameters["hidden_units"].set_int_value(64);
  parameters["batch_norm"].set_string_value("false");
  parameters["activation"].set_string_value("tanh");
  parameters["batch_size"].set_double_value(256);  // A discrete value arrives as a double.
  parameters["dropout"].set_double_value(0.25);
  auto settings = EffectiveSettings(fixed, parameters);
  ASSERT_TRUE(settings.ok()) << settings.status();
  auto config = ConfigFromSettings(*settings, 9);
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_DOUBLE_EQ(config->learning_rate, 0.005);
  EXPECT_EQ(config->hidden, (std::vector<int>{64, 64, 64}));
  EXPECT_FALSE(config->batch_norm);
  EXPECT_EQ(config->activation, trainer::Activation::kTanh);
  EXPECT_EQ(config->init, trainer::InitKind::kXavier);
  EXPECT_EQ(config->batch_size, 256);
  EXPECT_DOUBLE_EQ(config->dropout, 0.25);
  EXPECT_EQ(config->seed, 9u);
  EXPECT_EQ(config->optimizer.kind, trainer::OptimizerKind::kAdam);

  parameters["layers"].set_double_value(2.5);
  EXPECT_THAT(std::string(EffectiveSettings(fixed, parameters).status().message()),
              HasSubstr("layers"));
  parameters.erase("layers");
  parameters["momentum_typo"].set_double_value(0.9);
  EXPECT_THAT(std::string(EffectiveSettings(fixed, parameters).status().message()),
              HasSubstr("momentum_typo: not a trainer setting"));
}

caviar::v1::ParameterSpec DoubleParam(const std::string& name, double lo, double hi) {
  caviar::v1::ParameterSpec p;
  p.set_name(name);
  p.mutable_double_()->set_min(lo);
  p.mutable_double_()->set_max(hi);
  return p;
}

TEST_F(TrainerObjectiveTest, ValidateTrainerSpecNamesTheParameterAndReason) {
  EXPECT_TRUE(ValidateTrainerSpec(spec_).ok());
  *spec_.add_parameters() = DoubleParam("learning_rate", 1e-4, 0.1);
  auto* layers = spec_.add_parameters();
  layers->set_name("layers");
  layers->mutable_integer()->set_min(1);
  layers->mutable_integer()->set_max(3);
  auto* optimizer = spec_.add_parameters();
  optimizer->set_name("optimizer");
  optimizer->mutable_categorical()->add_values("adam");
  optimizer->mutable_categorical()->add_values("momentum");
  auto* batch = spec_.add_parameters();
  batch->set_name("batch_size");
  batch->mutable_discrete()->add_values(32);
  batch->mutable_discrete()->add_values(64);
  EXPECT_TRUE(ValidateTrainerSpec(spec_).ok()) << ValidateTrainerSpec(spec_);

  auto expect_error = [](const caviar::v1::StudySpec& spec, const std::string& text) {
    const absl::Status status = ValidateTrainerSpec(spec);
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << text;
    EXPECT_THAT(std::string(status.message()), HasSubstr(text));
  };
  caviar::v1::StudySpec spec = spec_;
  *spec.add_parameters() = DoubleParam("lerning_rate", 0.1, 0.2);
  expect_error(spec, "parameters[4] (lerning_rate): not a trainer setting (known: ");
  spec = spec_;
  *spec.add_parameters() = DoubleParam("hidden_units", 10, 20);
  expect_error(spec, "parameters[4] (hidden_units): an integer setting cannot take a double");
  spec = spec_;
  spec.mutable_parameters(2)->mutable_categorical()->add_values("adamw");
  expect_error(spec, "parameters[2] (optimizer): unknown value \"adamw\" (known: gd, "
                     "momentum, rmsprop, adam)");
  spec = spec_;
  spec.mutable_parameters(0)->mutable_double_()->set_min(0);
  expect_error(spec, "parameters[0] (learning_rate): must be in (0, inf), got 0");
  spec = spec_;
  spec.mutable_parameters(3)->mutable_discrete()->add_values(12.5);
  expect_error(spec, "parameters[3] (batch_size): must be an integer, got 12.5");
  spec = spec_;
  *spec.add_parameters() = DoubleParam("beta1", 0.9, 1.0);
  expect_error(spec, "parameters[4] (beta1): must be in [0, 1), got 1");
  spec = spec_;
  *spec.add_parameters() = DoubleParam("dropout", 0, 1.0);
  expect_error(spec, "parameters[4] (dropout): must be in [0, 1), got 1");
  spec = spec_;
  spec.mutable_trainer()->mutable_settings()->set_augment_flip(true);
  expect_error(spec, "trainer.settings.augment_flip: needs images: an IDX dataset");
  spec = spec_;
  auto* shift = spec.add_parameters();
  shift->set_name("augment_shift");
  shift->mutable_integer()->set_max(2);
  expect_error(spec, "parameters[4] (augment_shift): needs images: an IDX dataset");
  auto* idx = spec.mutable_trainer()->mutable_dataset()->mutable_idx();
  idx->set_train_images("/images.idx");
  idx->set_train_labels("/labels.idx");
  spec.mutable_trainer()->mutable_settings()->set_augment_flip(true);
  EXPECT_TRUE(ValidateTrainerSpec(spec).ok()) << ValidateTrainerSpec(spec);
  spec = spec_;
  spec.mutable_trainer()->mutable_settings()->set_dropout(-0.1);
  expect_error(spec, "trainer.settings.dropout: must be in [0, 1), got -0.1");
  spec = spec_;
  auto* optimizer_as_number = spec.add_parameters();
  optimizer_as_number->set_name("activation");
  optimizer_as_number->mutable_integer()->set_max(2);
  expect_error(spec, "parameters[4] (activation): a string setting needs a categorical");
  spec = spec_;
  spec.mutable_trainer()->mutable_settings()->set_activation("gelu");
  expect_error(spec, "trainer.settings.activation: unknown value \"gelu\"");
  spec = spec_;
  spec.mutable_trainer()->set_epochs(0);
  expect_error(spec, "trainer.epochs: must be >= 1, got 0");
  spec = spec_;
  spec.mutable_objective()->set_metric("accuracy");
  expect_error(spec, "objective.metric: the trainer reports no metric \"accuracy\"");
  spec = spec_;
  spec.mutable_trainer()->mutable_dataset()->clear_csv();
  expect_error(spec, "trainer.dataset: needs a source: idx or csv");
  // Dataset files are the worker's business: a missing file is fine here.
  spec = spec_;
  spec.mutable_trainer()->mutable_dataset()->mutable_csv()->set_train_path("/missing.csv");
  EXPECT_TRUE(ValidateTrainerSpec(spec).ok());
  // Command studies are not the trainer's business at all.
  caviar::v1::StudySpec command;
  command.mutable_command()->add_argv("train.sh");
  *command.add_parameters() = DoubleParam("anything", 0, 1);
  EXPECT_TRUE(ValidateTrainerSpec(command).ok());
}

}  // namespace
}  // namespace caviar::worker
