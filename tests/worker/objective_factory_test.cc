// The production ObjectiveFactory (what caviar-worker runs trials with):
// objectives live as long as the factory, so the trainer's dataset is read
// once for all the trials of a study.
#include "worker/objective_factory.h"

#include <fstream>
#include <set>
#include <string>

#include "gtest/gtest.h"
#include "tests/testing/temp_dir.h"
#include "worker/trainer_objective.h"

namespace caviar::worker {
namespace {

class NullReporter : public ProgressReporter {
 public:
  ProgressReply Report(const caviar::v1::Measurement&) override { return {}; }
  bool StopRequested() const override { return false; }
};

// Two separable classes in 3 features.
void WriteDataset(const std::string& path) {
  std::ofstream out(path);
  out << "a,b,c,label\n";
  for (int i = 0; i < 200; ++i) {
    const int label = i % 2;
    out << (label ? 2.0 : -2.0) + 0.01 * (i % 7) << "," << 0.1 * (i % 5) << ","
        << (label ? -1.0 : 1.0) << "," << label << "\n";
  }
}

caviar::v1::StudySpec TrainerSpec(const std::string& csv) {
  caviar::v1::StudySpec spec;
  spec.set_name("blobs");
  spec.mutable_objective()->set_metric("dev_accuracy");
  auto* trainer = spec.mutable_trainer();
  trainer->set_epochs(1);
  trainer->mutable_dataset()->mutable_csv()->set_train_path(csv);
  trainer->mutable_dataset()->mutable_csv()->set_has_header(true);
  trainer->mutable_dataset()->mutable_csv()->set_label_column("label");
  trainer->mutable_dataset()->set_dev_size(50);
  trainer->mutable_settings()->set_hidden_units(8);
  trainer->mutable_settings()->set_batch_size(32);
  return spec;
}

TEST(ObjectiveFactoryTest, TrialsOfOneStudyLoadTheDatasetOnce) {
  caviar::testing::TempDir dir;
  WriteDataset(dir.File("train.csv"));
  const caviar::v1::StudySpec spec = TrainerSpec(dir.File("train.csv"));
  ObjectiveFactory factory = MakeObjectiveFactory();

  // Two trials, as WorkerLoop runs them: one factory call per trial.
  std::set<const TrainerObjective*> objectives;
  for (int id = 1; id <= 2; ++id) {
    absl::StatusOr<Objective*> objective = factory(spec);
    ASSERT_TRUE(objective.ok()) << objective.status();
    auto* trainer = dynamic_cast<TrainerObjective*>(*objective);
    ASSERT_NE(trainer, nullptr);
    caviar::v1::Trial trial;
    trial.set_id(id);
    trial.set_seed(id);
    NullReporter reporter;
    const TrialOutcome outcome = trainer->Run(spec, trial, &reporter);
    EXPECT_EQ(outcome.failure_kind, caviar::v1::FAILURE_KIND_UNSPECIFIED)
        << outcome.failure_reason;
    objectives.insert(trainer);
  }
  // Reads from disk by every objective the factory handed out.
  int loads = 0;
  for (const TrainerObjective* objective : objectives)
    loads += objective->dataset_loads();
  EXPECT_EQ(loads, 1);
}

TEST(ObjectiveFactoryTest, EachKindIsBuiltOnceAndNothingToRunIsAnError) {
  ObjectiveFactory factory = MakeObjectiveFactory();
  caviar::v1::StudySpec command;
  command.mutable_command()->add_argv("true");
  absl::StatusOr<Objective*> first = factory(command);
  absl::StatusOr<Objective*> second = factory(command);
  ASSERT_TRUE(first.ok() && second.ok());
  EXPECT_EQ(*first, *second);
  EXPECT_EQ(factory(caviar::v1::StudySpec()).status().code(),
            absl::StatusCode::kInvalidArgument);
  // Another factory (another worker) has its own objectives.
  absl::StatusOr<Objective*> other = MakeObjectiveFactory()(command);
  ASSERT_TRUE(other.ok());
  EXPECT_NE(*other, *first);
}

}  // namespace
}  // namespace caviar::worker
