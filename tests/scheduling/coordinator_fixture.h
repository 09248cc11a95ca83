// A Coordinator over a real SQLite file in a temporary directory, with a
// FakeClock, and short-hands for the worker calls.
#ifndef CAVIAR_TESTS_SCHEDULING_COORDINATOR_FIXTURE_H_
#define CAVIAR_TESTS_SCHEDULING_COORDINATOR_FIXTURE_H_

#include <memory>
#include <string>

#include "google/protobuf/text_format.h"
#include "gtest/gtest.h"
#include "server/scheduling/coordinator.h"
#include "storage/sqlite_store.h"
#include "tests/testing/temp_dir.h"

namespace caviar::scheduling {

inline caviar::v1::StudySpec Spec(const std::string& name, int max_trials,
                                  int parallel = 0) {
  caviar::v1::StudySpec spec;
  google::protobuf::TextFormat::ParseFromString(
      R"pb(
        objective { metric: "score" goal: MAXIMIZE }
        parameters {
          name: "learning_rate"
          double { min: 1e-4 max: 1 }
          scale: LOG
        }
        parameters {
          name: "units"
          integer { min: 50 max: 100 }
        }
        command { argv: [ "true" ] }
        trial_policy { lease_seconds: 30 max_retries: 1 }
      )pb",
      &spec);
  spec.set_name(name);
  spec.mutable_budget()->set_max_trials(max_trials);
  spec.mutable_budget()->set_max_parallel_trials(parallel);
  return spec;
}

inline caviar::v1::Measurement Metric(int64_t step, double score) {
  caviar::v1::Measurement m;
  m.set_step(step);
  (*m.mutable_metrics())["score"] = score;
  return m;
}

class CoordinatorTest : public ::testing::Test {
 public:
  using Trial = caviar::v1::Trial;

  void SetUp() override { Reopen(); }

  // A new Coordinator over the same file, as after a restart.
  void Reopen() {
    coordinator_.reset();
    store_.reset();
    auto store = storage::SqliteStore::Open(dir_.File("caviar.db"));
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = *std::move(store);
    auto coordinator = Coordinator::Create(store_.get(), &clock_, CoordinatorOptions{});
    ASSERT_TRUE(coordinator.ok()) << coordinator.status();
    coordinator_ = *std::move(coordinator);
  }

  Trial Suggest(const std::string& worker, const std::string& study = "") {
    caviar::v1::SuggestTrialRequest request;
    request.set_worker_id(worker);
    request.set_study(study);
    auto response = coordinator_->SuggestTrial(request);
    EXPECT_TRUE(response.ok()) << response.status();
    return response.ok() ? response->trial() : Trial();
  }

  absl::StatusOr<caviar::v1::ReportProgressResponse> Report(const Trial& t, int64_t step,
                                                            double score) {
    caviar::v1::ReportProgressRequest request;
    request.set_trial_id(t.id());
    request.set_worker_id(t.worker_id());
    request.set_attempt(t.attempt());
    *request.mutable_measurement() = Metric(step, score);
    return coordinator_->ReportProgress(request);
  }

  absl::StatusOr<Trial> Complete(const Trial& t, double score) {
    caviar::v1::CompleteTrialRequest request;
    request.set_trial_id(t.id());
    request.set_worker_id(t.worker_id());
    request.set_attempt(t.attempt());
    *request.mutable_final_measurement() = Metric(1, score);
    return coordinator_->CompleteTrial(request);
  }

  testing::TempDir dir_;
  FakeClock clock_;
  std::unique_ptr<storage::SqliteStore> store_;
  std::unique_ptr<Coordinator> coordinator_;
};

}  // namespace caviar::scheduling

#endif  // CAVIAR_TESTS_SCHEDULING_COORDINATOR_FIXTURE_H_
