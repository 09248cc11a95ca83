// examples/fashion_mnist.yaml parses as a StudySpec and passes the trainer's
// validation, and its dataset files exist where Debian installs them; every
// other example spec parses and passes validation too.
#include <filesystem>

#include "client/spec_loader.h"
#include "gtest/gtest.h"
#include "worker/trainer_objective.h"

namespace caviar::worker {
namespace {

TEST(ExampleSpecTest, FashionMnistExampleIsAValidTrainerStudy) {
  auto spec = client::LoadSpecFile(std::string(CAVIAR_SOURCE_DIR) +
                                   "/examples/fashion_mnist.yaml");
  ASSERT_TRUE(spec.ok()) << spec.status();
  ASSERT_TRUE(spec->has_trainer());
  EXPECT_TRUE(ValidateTrainerSpec(*spec).ok()) << ValidateTrainerSpec(*spec);
  EXPECT_EQ(spec->parameters_size(), 7);
  EXPECT_EQ(spec->trainer().dataset().train_limit(), 10000);
  if (std::filesystem::exists(spec->trainer().dataset().idx().train_images())) {
    caviar::v1::Trial trial;
    trial.set_seed(1);
    // Settings of one trial resolve to a valid trainer configuration.
    ParameterMap parameters;
    parameters["learning_rate"].set_double_value(1e-3);
    parameters["layers"].set_int_value(2);
    parameters["batch_size"].set_double_value(128);
    auto settings = EffectiveSettings(spec->trainer().settings(), parameters);
    ASSERT_TRUE(settings.ok()) << settings.status();
    EXPECT_TRUE(ConfigFromSettings(*settings, 1).ok());
    // The worker's view of the dataset: limits and split applied.
    auto data = LoadDataset(spec->trainer().dataset());
    ASSERT_TRUE(data.ok()) << data.status();
    EXPECT_EQ(data->train.size(), 10000);
    EXPECT_EQ(data->dev.size(), 5000);
    EXPECT_EQ(data->test.size(), 10000);
    EXPECT_EQ(data->train.num_features(), 784);
    EXPECT_EQ(data->test.num_classes, 10);
  }
}

TEST(ExampleSpecTest, EveryExampleSpecIsValid) {
  int trainer_studies = 0;
  for (const auto& entry :
       std::filesystem::directory_iterator(std::string(CAVIAR_SOURCE_DIR) + "/examples")) {
    if (entry.path().extension() != ".yaml") continue;
    auto spec = client::LoadSpecFile(entry.path().string());
    ASSERT_TRUE(spec.ok()) << entry.path() << ": " << spec.status();
    EXPECT_TRUE(ValidateTrainerSpec(*spec).ok())
        << entry.path() << ": " << ValidateTrainerSpec(*spec);
    trainer_studies += spec->has_trainer();
  }
  EXPECT_GE(trainer_studies, 4);
}

}  // namespace
}  // namespace caviar::worker
