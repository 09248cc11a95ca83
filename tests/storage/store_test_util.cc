#include "tests/storage/store_test_util.h"

#include <stdlib.h>

#include <filesystem>

#include "gtest/gtest.h"

namespace caviar::storage {

caviar::v1::Study MakeStudy(const std::string& name) {
  caviar::v1::Study study;
  caviar::v1::StudySpec* spec = study.mutable_spec();
  spec->set_name(name);
  spec->set_description("study " + name);
  spec->mutable_objective()->set_metric("dev_accuracy");
  spec->mutable_objective()->set_goal(caviar::v1::MAXIMIZE);
  caviar::v1::ParameterSpec* lr = spec->add_parameters();
  lr->set_name("learning_rate");
  lr->mutable_double_()->set_min(1e-4);
  lr->mutable_double_()->set_max(1);
  lr->set_scale(caviar::v1::LOG);
  spec->mutable_algorithm()->set_name("random");
  spec->mutable_budget()->set_max_trials(100);
  spec->set_seed(7);
  study.set_state(caviar::v1::STUDY_ACTIVE);
  study.mutable_create_time()->set_seconds(1700000000);
  return study;
}

caviar::v1::Trial MakeTrial(int64_t id, const std::string& study,
                            caviar::v1::TrialState state) {
  caviar::v1::Trial trial;
  trial.set_id(id);
  trial.set_study(study);
  trial.set_state(state);
  (*trial.mutable_parameters())["learning_rate"].set_double_value(
      0.001 * static_cast<double>(id));
  (*trial.mutable_parameters())["layers"].set_int_value(id % 3 + 2);
  (*trial.mutable_parameters())["activation"].set_string_value("relu");
  trial.set_worker_id("worker-" + std::to_string(id % 4));
  trial.set_attempt(1);
  trial.mutable_create_time()->set_seconds(1700000000 + id);
  trial.set_origin(caviar::v1::SAMPLED);
  trial.set_seed(static_cast<uint64_t>(id) * 31);
  return trial;
}

caviar::v1::Measurement MakeMeasurement(int64_t step, double accuracy) {
  caviar::v1::Measurement m;
  m.set_step(step);
  m.set_elapsed_seconds(0.5 * static_cast<double>(step));
  (*m.mutable_metrics())["dev_accuracy"] = accuracy;
  (*m.mutable_metrics())["loss"] = 1.0 - accuracy;
  return m;
}

}  // namespace caviar::storage
