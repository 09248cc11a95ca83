// An in-process coordinator on an ephemeral loopback port, over a real
// SQLite file, driven by real WorkerLoops (the code of caviar-worker) in
// threads.
#include <cmath>
#include <map>
#include <set>
#include <thread>

#include "absl/synchronization/mutex.h"
#include "gmock/gmock.h"
#include "google/protobuf/text_format.h"
#include "absl/synchronization/notification.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/generic/generic_stub.h"
#include "grpcpp/security/credentials.h"
#include "gtest/gtest.h"
#include "server/rpc/server.h"
#include "server/scheduling/coordinator.h"
#include "server/search/space.h"
#include "storage/sqlite_store.h"
#include "tests/testing/temp_dir.h"
#include "worker/worker_loop.h"

namespace caviar {
namespace {

// A stand-in training run: three steps whose score peaks at lr = 1e-2.
class BowlObjective : public worker::Objective {
 public:
  worker::TrialOutcome Run(const v1::StudySpec&, const v1::Trial& trial,
                           worker::ProgressReporter* reporter) override {
    const double lr = trial.parameters().at("learning_rate").double_value();
    const double score = 1.0 - std::pow(std::log10(lr) + 2, 2) / 10;
    worker::TrialOutcome outcome;
    for (int step = 1; step <= 3; ++step) {
      v1::Measurement m;
      m.set_step(step);
      (*m.mutable_metrics())["score"] = score * step / 3;
      if (reporter->Report(m).stop) {
        outcome.stopped = true;
        return outcome;
      }
      *outcome.final_measurement.mutable_metrics() = m.metrics();
    }
    return outcome;
  }
};

class IntegrationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = storage::SqliteStore::Open(dir_.File("caviar.db"));
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = *std::move(store);
    auto coordinator = scheduling::Coordinator::Create(store_.get(), Clock::Real(), {});
    ASSERT_TRUE(coordinator.ok()) << coordinator.status();
    coordinator_ = *std::move(coordinator);
    rpc::ServerOptions options;
    options.listen = "127.0.0.1:0";
    auto server = rpc::CoordinatorServer::Start(coordinator_.get(), options);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
  }

  // Runs `n` workers on `study` until it has no more work; returns the
  // number of trials each ran.
  std::vector<int> RunWorkers(int n, const std::string& study) {
    std::vector<int> ran(n);
    std::vector<std::thread> threads;
    for (int i = 0; i < n; ++i) {
      threads.emplace_back([&, i] {
        grpc::ChannelArguments args;
        args.SetInt("caviar.test.worker", i);
        worker::WorkerOptions options;
        options.worker_id = "w" + std::to_string(i);
        options.study = study;
        options.default_retry_after = absl::Milliseconds(20);
        // The factory owns its objective for the worker's life.
        auto objective = std::make_shared<BowlObjective>();
        worker::WorkerLoop loop(
            grpc::CreateCustomChannel(server_->address(),
                                      grpc::InsecureChannelCredentials(), args),
            [objective](const v1::StudySpec&) -> absl::StatusOr<worker::Objective*> {
              return objective.get();
            },
            options);
        auto exit = loop.Run();
        EXPECT_TRUE(exit.ok()) << exit.status();
        ran[i] = loop.trials_run();
      });
    }
    for (auto& t : threads) t.join();
    return ran;
  }

  testing::TempDir dir_;
  std::unique_ptr<storage::SqliteStore> store_;
  std::unique_ptr<scheduling::Coordinator> coordinator_;
  std::unique_ptr<rpc::CoordinatorServer> server_;
};

v1::StudySpec Spec(const std::string& text) {
  v1::StudySpec spec;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(text, &spec));
  return spec;
}

TEST_F(IntegrationTest, SeveralWorkersFinishAStudy) {
  ASSERT_TRUE(coordinator_
                  ->CreateStudy(Spec(R"pb(
                    name: "bowl"
                    objective { metric: "score" goal: MAXIMIZE }
                    parameters {
                      name: "learning_rate"
                      double { min: 1e-4 max: 1 }
                      scale: LOG
                    }
                    budget { max_trials: 40 max_parallel_trials: 4 }
                    command { argv: "unused" }
                  )pb"))
                  .ok());
  std::vector<int> ran = RunWorkers(4, "bowl");
  int total = 0;
  for (int r : ran) {
    EXPECT_GT(r, 0);  // Every worker got work.
    total += r;
  }
  EXPECT_EQ(total, 40);
  auto study = coordinator_->GetStudy("bowl");
  EXPECT_EQ(study->state(), v1::STUDY_COMPLETED);
  EXPECT_EQ(study->succeeded_trials(), 40);
  v1::ListTrialsRequest request;
  request.set_study("bowl");
  request.set_include_measurements(true);
  request.set_page_size(100);
  auto trials = coordinator_->ListTrials(request);
  for (const auto& t : trials->trials()) {
    EXPECT_EQ(t.measurements_size(), 3) << t.id();
    EXPECT_EQ(t.state(), v1::SUCCEEDED);
  }
}

TEST_F(IntegrationTest, GridCellsAreHandedOutExactlyOnceTo16Workers) {
  ASSERT_TRUE(coordinator_
                  ->CreateStudy(Spec(R"pb(
                    name: "grid"
                    objective { metric: "score" goal: MAXIMIZE }
                    parameters {
                      name: "learning_rate"
                      double { min: 1e-4 max: 1 }
                      scale: LOG
                      grid_points: 8
                    }
                    parameters {
                      name: "units"
                      integer { min: 1 max: 6 }
                    }
                    algorithm { name: "grid" }
                    budget { max_trials: 1000 }
                    command { argv: "unused" }
                  )pb"))
                  .ok());
  RunWorkers(16, "grid");
  auto study = coordinator_->GetStudy("grid");
  EXPECT_EQ(study->state(), v1::STUDY_COMPLETED);
  EXPECT_EQ(study->succeeded_trials(), 48);
  v1::ListTrialsRequest request;
  request.set_study("grid");
  request.set_page_size(1000);
  auto trials = coordinator_->ListTrials(request);
  std::set<std::pair<std::string, int64_t>> cells;
  for (const auto& t : trials->trials()) {
    cells.emplace(search::FormatValue(t.parameters().at("learning_rate")),
                  t.parameters().at("units").int_value());
  }
  EXPECT_EQ(trials->trials_size(), 48);
  EXPECT_EQ(cells.size(), 48u);
}

TEST_F(IntegrationTest, TheMedianRuleStopsBadTrialsThroughTheReportReply) {
  ASSERT_TRUE(coordinator_
                  ->CreateStudy(Spec(R"pb(
                    name: "pruned"
                    objective { metric: "score" goal: MAXIMIZE }
                    parameters {
                      name: "learning_rate"
                      double { min: 1e-4 max: 1 }
                      scale: LOG
                    }
                    pruner {
                      name: "median"
                      options {
                        fields {
                          key: "warmup_steps"
                          value { number_value: 1 }
                        }
                        fields {
                          key: "min_trials"
                          value { number_value: 3 }
                        }
                      }
                    }
                    budget { max_trials: 30 max_parallel_trials: 2 }
                    seed: 5
                    command { argv: "unused" }
                  )pb"))
                  .ok());
  RunWorkers(2, "pruned");
  auto study = coordinator_->GetStudy("pruned");
  EXPECT_EQ(study->state(), v1::STUDY_COMPLETED);
  EXPECT_EQ(study->succeeded_trials() + study->stopped_trials(), 30);
  EXPECT_GT(study->stopped_trials(), 0);
  v1::ListTrialsRequest request;
  request.set_study("pruned");
  request.add_states(v1::STOPPED);
  request.set_include_measurements(true);
  auto stopped = coordinator_->ListTrials(request);
  for (const auto& t : stopped->trials()) {
    EXPECT_THAT(t.stop_reason(), ::testing::HasSubstr("median"));
    EXPECT_LT(t.measurements_size(), 3);   // Cut short...
    EXPECT_TRUE(t.has_objective_value());  // ...with its last measurement kept.
  }
}

// The standard grpc.health.v1 service answers SERVING. Called through the
// generic stub with hand-made bytes: an empty HealthCheckRequest (all
// services), and a response whose field 1 (status) is 1 (SERVING).
TEST_F(IntegrationTest, ServesTheStandardHealthCheck) {
  auto channel =
      grpc::CreateChannel(server_->address(), grpc::InsecureChannelCredentials());
  grpc::GenericStub stub(channel);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  grpc::ByteBuffer request, response;
  grpc::Slice empty;
  request = grpc::ByteBuffer(&empty, 1);
  absl::Notification done;
  grpc::Status status;
  stub.UnaryCall(&context, "/grpc.health.v1.Health/Check", grpc::StubOptions(), &request,
                 &response, [&](grpc::Status s) {
                   status = std::move(s);
                   done.Notify();
                 });
  done.WaitForNotification();
  ASSERT_TRUE(status.ok()) << status.error_message();
  std::vector<grpc::Slice> slices;
  ASSERT_TRUE(response.Dump(&slices).ok());
  std::string bytes;
  for (const auto& slice : slices) bytes.append(slice.begin(), slice.end());
  EXPECT_EQ(bytes, std::string("\x08\x01", 2));
}

}  // namespace
}  // namespace caviar
