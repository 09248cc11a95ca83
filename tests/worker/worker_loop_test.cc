// WorkerLoop over real gRPC on loopback, against a small scripted
// WorkerService written here (the real coordinator is exercised by the
// integration and end-to-end tests).
#include "worker/worker_loop.h"

#include <atomic>
#include <chrono>
#include <deque>
#include <filesystem>
#include <fstream>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "grpcpp/security/server_credentials.h"
#include "grpcpp/server.h"
#include "grpcpp/server_builder.h"
#include "gtest/gtest.h"
#include "worker/objective_factory.h"

namespace caviar::worker {
namespace {

using caviar::v1::CompleteTrialRequest;
using caviar::v1::ReportProgressRequest;
using caviar::v1::ReportProgressResponse;
using ::testing::HasSubstr;
using Steady = std::chrono::steady_clock;

// What the scripted coordinator does and what it saw. Shared by the service
// instances of successive servers (a restart keeps the state).
struct Script {
  std::mutex mu;
  std::deque<caviar::v1::Trial> trials;
  caviar::v1::StudySpec spec;
  bool no_more_work = true;
  double retry_after_seconds = 0.02;
  std::function<grpc::Status()> on_suggest;  // Non-OK replaces the answer.
  std::function<grpc::Status(const ReportProgressRequest&, ReportProgressResponse*)>
      on_report;
  std::function<grpc::Status(const CompleteTrialRequest&)> on_complete;
  int suggest_calls = 0;
  int complete_calls = 0;
  std::vector<ReportProgressRequest> reports;
  std::vector<CompleteTrialRequest> completions;  // Acknowledged ones.
};

class ScriptedCoordinator final : public caviar::v1::WorkerService::Service {
 public:
  explicit ScriptedCoordinator(Script* script) : s_(script) {}

  grpc::Status SuggestTrial(grpc::ServerContext*,
                            const caviar::v1::SuggestTrialRequest* req,
                            caviar::v1::SuggestTrialResponse* resp) override {
    std::lock_guard<std::mutex> lock(s_->mu);
    ++s_->suggest_calls;
    if (s_->on_suggest) {
      grpc::Status status = s_->on_suggest();
      if (!status.ok()) return status;
    }
    if (s_->trials.empty()) {
      resp->set_no_more_work(s_->no_more_work);
      resp->set_retry_after_seconds(s_->retry_after_seconds);
      return grpc::Status::OK;
    }
    *resp->mutable_trial() = s_->trials.front();
    resp->mutable_trial()->set_worker_id(req->worker_id());
    s_->trials.pop_front();
    *resp->mutable_spec() = s_->spec;
    return grpc::Status::OK;
  }

  grpc::Status ReportProgress(grpc::ServerContext*, const ReportProgressRequest* req,
                              ReportProgressResponse* resp) override {
    std::lock_guard<std::mutex> lock(s_->mu);
    s_->reports.push_back(*req);
    resp->set_decision(caviar::v1::CONTINUE);
    if (s_->on_report) return s_->on_report(*req, resp);
    return grpc::Status::OK;
  }

  grpc::Status CompleteTrial(grpc::ServerContext*, const CompleteTrialRequest* req,
                             caviar::v1::Trial* resp) override {
    std::lock_guard<std::mutex> lock(s_->mu);
    ++s_->complete_calls;
    if (s_->on_complete) {
      grpc::Status status = s_->on_complete(*req);
      if (!status.ok()) return status;
    }
    s_->completions.push_back(*req);
    resp->set_id(req->trial_id());
    resp->set_state(req->failure_kind() != caviar::v1::FAILURE_KIND_UNSPECIFIED
                        ? caviar::v1::FAILED
                    : req->stopped() ? caviar::v1::STOPPED
                                     : caviar::v1::SUCCEEDED);
    return grpc::Status::OK;
  }

 private:
  Script* const s_;
};

// A server on 127.0.0.1; port 0 picks a free one.
class TestServer {
 public:
  TestServer(Script* script, int port) : service_(script) {
    grpc::ServerBuilder builder;
    builder.AddListeningPort(absl::StrCat("127.0.0.1:", port),
                             grpc::InsecureServerCredentials(), &port_);
    builder.RegisterService(&service_);
    server_ = builder.BuildAndStart();
  }
  ~TestServer() { Stop(); }
  void Stop() {
    if (server_) server_->Shutdown(std::chrono::system_clock::now());
    server_.reset();
  }
  int port() const { return port_; }
  bool ok() const { return server_ != nullptr && port_ > 0; }

 private:
  ScriptedCoordinator service_;
  int port_ = 0;
  std::unique_ptr<grpc::Server> server_;
};

// Reports `steps` measurements of "acc" (0.1 per step), `pause` apart;
// stops early when told to. Counts how often it saw a stop.
class SteppingObjective : public Objective {
 public:
  SteppingObjective(int steps, std::chrono::milliseconds pause,
                    std::function<void(int)> after_step = nullptr)
      : steps_(steps), pause_(pause), after_step_(std::move(after_step)) {}

  TrialOutcome Run(const caviar::v1::StudySpec&, const caviar::v1::Trial&,
                   ProgressReporter* reporter) override {
    TrialOutcome outcome;
    for (int step = 1; step <= steps_; ++step) {
      std::this_thread::sleep_for(pause_);
      if (reporter->StopRequested()) {
        outcome.stopped = true;
        ++stops;
        return outcome;
      }
      caviar::v1::Measurement m;
      m.set_step(step);
      (*m.mutable_metrics())["acc"] = 0.1 * step;
      *outcome.final_measurement.mutable_metrics() = m.metrics();
      outcome.final_measurement.set_step(step);
      const ProgressReply reply = reporter->Report(m);
      if (after_step_) after_step_(step);
      if (reply.stop) {
        outcome.stopped = true;
        ++stops;
        return outcome;
      }
    }
    return outcome;
  }

  std::atomic<int> stops{0};

 private:
  const int steps_;
  const std::chrono::milliseconds pause_;
  const std::function<void(int)> after_step_;
};

caviar::v1::Trial MakeTrial(int64_t id, int attempt = 1) {
  caviar::v1::Trial trial;
  trial.set_id(id);
  trial.set_study("s");
  trial.set_attempt(attempt);
  (*trial.mutable_parameters())["lr"].set_double_value(0.01);
  return trial;
}

class WorkerLoopTest : public ::testing::Test {
 protected:
  void SetUp() override {
    script_.spec.set_name("s");
    script_.spec.mutable_objective()->set_metric("acc");
    server_ = std::make_unique<TestServer>(&script_, 0);
    ASSERT_TRUE(server_->ok());
    options_.worker_id = "w1";
    options_.study = "s";
    options_.rpc_timeout = absl::Seconds(2);
    options_.min_backoff = absl::Milliseconds(10);
    options_.max_backoff = absl::Milliseconds(100);
    options_.shutdown_complete_timeout = absl::Seconds(1);
  }

  std::unique_ptr<WorkerLoop> MakeLoop(ObjectiveFactory factory) {
    return std::make_unique<WorkerLoop>(
        grpc::CreateChannel(absl::StrCat("127.0.0.1:", server_->port()),
                            grpc::InsecureChannelCredentials()),
        std::move(factory), options_);
  }

  // A factory handing out `objective` (owned by the test).
  static ObjectiveFactory Share(Objective* objective) {
    return [objective](const caviar::v1::StudySpec&) -> absl::StatusOr<Objective*> {
      return objective;
    };
  }

  Script script_;
  std::unique_ptr<TestServer> server_;
  WorkerOptions options_;
};

TEST_F(WorkerLoopTest, RunsTrialsUntilTheStudyHasNoMoreWork) {
  script_.trials = {MakeTrial(1), MakeTrial(2, /*attempt=*/3)};
  SteppingObjective objective(3, std::chrono::milliseconds(0));
  auto loop = MakeLoop(Share(&objective));
  absl::StatusOr<ExitReason> result = loop->Run();
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(*result, ExitReason::kNoMoreWork);
  EXPECT_EQ(loop->trials_run(), 2);
  std::lock_guard<std::mutex> lock(script_.mu);
  ASSERT_EQ(script_.reports.size(), 6);
  EXPECT_EQ(script_.reports[0].trial_id(), 1);
  EXPECT_EQ(script_.reports[0].worker_id(), "w1");
  EXPECT_EQ(script_.reports[0].attempt(), 1);
  EXPECT_EQ(script_.reports[2].measurement().step(), 3);
  EXPECT_EQ(script_.reports[3].trial_id(), 2);
  EXPECT_EQ(script_.reports[3].attempt(), 3);
  ASSERT_EQ(script_.completions.size(), 2);
  const CompleteTrialRequest& done = script_.completions[1];
  EXPECT_EQ(done.trial_id(), 2);
  EXPECT_EQ(done.worker_id(), "w1");
  EXPECT_EQ(done.attempt(), 3);
  EXPECT_FALSE(done.stopped());
  EXPECT_EQ(done.failure_kind(), caviar::v1::FAILURE_KIND_UNSPECIFIED);
  EXPECT_DOUBLE_EQ(done.final_measurement().metrics().at("acc"), 0.3);
}

TEST_F(WorkerLoopTest, WithoutAStudyItKeepsAskingUntilIdleTooLong) {
  options_.study.clear();
  options_.exit_when_idle = absl::Milliseconds(300);
  SteppingObjective objective(1, std::chrono::milliseconds(0));
  auto loop = MakeLoop(Share(&objective));
  const auto start = Steady::now();
  absl::StatusOr<ExitReason> result = loop->Run();
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(*result, ExitReason::kIdle);
  EXPECT_GE(Steady::now() - start, std::chrono::milliseconds(300));
  std::lock_guard<std::mutex> lock(script_.mu);
  EXPECT_GE(script_.suggest_calls, 3);  // retry_after_seconds apart
}

TEST_F(WorkerLoopTest, StopsAfterMaxTrials) {
  for (int id = 1; id <= 5; ++id) script_.trials.push_back(MakeTrial(id));
  options_.max_trials = 2;
  SteppingObjective objective(1, std::chrono::milliseconds(0));
  auto loop = MakeLoop(Share(&objective));
  absl::StatusOr<ExitReason> result = loop->Run();
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(*result, ExitReason::kMaxTrials);
  std::lock_guard<std::mutex> lock(script_.mu);
  EXPECT_EQ(script_.completions.size(), 2);
  EXPECT_EQ(script_.trials.size(), 3);
}

TEST_F(WorkerLoopTest, StopDecisionEndsTheTrialAsStopped) {
  script_.trials = {MakeTrial(1)};
  script_.on_report = [](const ReportProgressRequest& req, ReportProgressResponse* resp) {
    if (req.measurement().step() >= 2) {
      resp->set_decision(caviar::v1::STOP);
      resp->set_reason("pruned by median rule");
    }
    return grpc::Status::OK;
  };
  SteppingObjective objective(10, std::chrono::milliseconds(0));
  auto loop = MakeLoop(Share(&objective));
  ASSERT_TRUE(loop->Run().ok());
  EXPECT_EQ(objective.stops.load(), 1);
  std::lock_guard<std::mutex> lock(script_.mu);
  ASSERT_EQ(script_.completions.size(), 1);
  EXPECT_TRUE(script_.completions[0].stopped());
  EXPECT_EQ(script_.completions[0].final_measurement().step(), 2);
}

TEST_F(WorkerLoopTest, LostLeaseStopsAndDropsTheTrial) {
  script_.trials = {MakeTrial(1), MakeTrial(2)};
  script_.on_report = [](const ReportProgressRequest& req, ReportProgressResponse*) {
    if (req.trial_id() == 1) {
      return grpc::Status(grpc::StatusCode::FAILED_PRECONDITION, "lease expired");
    }
    return grpc::Status::OK;
  };
  SteppingObjective objective(3, std::chrono::milliseconds(0));
  auto loop = MakeLoop(Share(&objective));
  absl::StatusOr<ExitReason> result = loop->Run();
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(*result, ExitReason::kNoMoreWork);
  EXPECT_EQ(objective.stops.load(), 1);
  std::lock_guard<std::mutex> lock(script_.mu);
  ASSERT_EQ(script_.completions.size(), 1);  // Trial 1 was dropped.
  EXPECT_EQ(script_.completions[0].trial_id(), 2);
  EXPECT_EQ(script_.complete_calls, 1);
}

TEST_F(WorkerLoopTest, TransientErrorsAreRetried) {
  script_.trials = {MakeTrial(1)};
  int report_failures = 0, complete_failures = 0;
  script_.on_report = [&](const ReportProgressRequest& req, ReportProgressResponse*) {
    if (req.measurement().step() == 2 && report_failures < 2) {
      ++report_failures;
      return grpc::Status(grpc::StatusCode::UNAVAILABLE, "busy");
    }
    return grpc::Status::OK;
  };
  script_.on_complete = [&](const CompleteTrialRequest&) {
    if (complete_failures < 3) {
      ++complete_failures;
      return grpc::Status(grpc::StatusCode::DEADLINE_EXCEEDED, "slow disk");
    }
    return grpc::Status::OK;
  };
  SteppingObjective objective(3, std::chrono::milliseconds(0));
  auto loop = MakeLoop(Share(&objective));
  ASSERT_TRUE(loop->Run().ok());
  std::lock_guard<std::mutex> lock(script_.mu);
  std::vector<int64_t> steps;
  for (const auto& r : script_.reports) steps.push_back(r.measurement().step());
  EXPECT_EQ(steps, (std::vector<int64_t>{1, 2, 2, 2, 3}));
  EXPECT_EQ(script_.complete_calls, 4);
  ASSERT_EQ(script_.completions.size(), 1);
  EXPECT_EQ(objective.stops.load(), 0);
}

TEST_F(WorkerLoopTest, FinishedResultSurvivesACoordinatorRestart) {
  script_.trials = {MakeTrial(7)};
  const int port = server_->port();
  std::atomic<bool> down{false};
  // After its last report the objective waits until the coordinator is gone,
  // so the completion meets a dead port.
  SteppingObjective objective(2, std::chrono::milliseconds(0), [&](int step) {
    if (step == 2) {
      while (!down.load()) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  });
  auto loop = MakeLoop(Share(&objective));
  absl::StatusOr<ExitReason> result;
  std::thread runner([&] { result = loop->Run(); });
  while (true) {
    {
      std::lock_guard<std::mutex> lock(script_.mu);
      if (script_.reports.size() == 2) break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  server_->Stop();
  down = true;
  std::this_thread::sleep_for(std::chrono::milliseconds(500));  // Retrying meanwhile.
  {
    std::lock_guard<std::mutex> lock(script_.mu);
    EXPECT_EQ(script_.completions.size(), 0);
  }
  server_ = std::make_unique<TestServer>(&script_, port);
  ASSERT_TRUE(server_->ok()) << "port " << port << " was taken meanwhile";
  runner.join();
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(*result, ExitReason::kNoMoreWork);
  std::lock_guard<std::mutex> lock(script_.mu);
  ASSERT_EQ(script_.completions.size(), 1);
  EXPECT_EQ(script_.completions[0].trial_id(), 7);
  EXPECT_DOUBLE_EQ(script_.completions[0].final_measurement().metrics().at("acc"), 0.2);
}

TEST_F(WorkerLoopTest, ShutdownReleasesTheRunningTrial) {
  script_.trials = {MakeTrial(1)};
  SteppingObjective objective(100000, std::chrono::milliseconds(5));
  auto loop = MakeLoop(Share(&objective));
  absl::StatusOr<ExitReason> result;
  std::thread runner([&] { result = loop->Run(); });
  while (true) {
    {
      std::lock_guard<std::mutex> lock(script_.mu);
      if (!script_.reports.empty()) break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  const auto start = Steady::now();
  loop->Shutdown();
  runner.join();
  EXPECT_LT(Steady::now() - start, std::chrono::seconds(1));
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(*result, ExitReason::kShutdown);
  EXPECT_EQ(objective.stops.load(), 1);
  std::lock_guard<std::mutex> lock(script_.mu);
  // The partial run is not a result: the trial is handed back, not completed.
  ASSERT_EQ(script_.completions.size(), 1);
  EXPECT_TRUE(script_.completions[0].release());
  EXPECT_EQ(script_.completions[0].trial_id(), 1);
  EXPECT_EQ(script_.completions[0].final_measurement().metrics_size(), 0);
}

TEST_F(WorkerLoopTest, HeartbeatsWhileTheObjectiveIsQuiet) {
  script_.trials = {MakeTrial(1)};
  script_.spec.mutable_trial_policy()->set_lease_seconds(1);  // Heartbeat every ~0.33 s.
  SteppingObjective objective(1, std::chrono::milliseconds(1200));
  auto loop = MakeLoop(Share(&objective));
  ASSERT_TRUE(loop->Run().ok());
  std::lock_guard<std::mutex> lock(script_.mu);
  int heartbeats = 0, measurements = 0;
  for (const auto& r : script_.reports) {
    if (r.has_measurement()) {
      ++measurements;
    } else {
      ++heartbeats;
      EXPECT_EQ(r.trial_id(), 1);
      EXPECT_EQ(r.worker_id(), "w1");
      EXPECT_EQ(r.attempt(), 1);
    }
  }
  EXPECT_EQ(measurements, 1);
  EXPECT_GE(heartbeats, 2);
  EXPECT_LE(heartbeats, 5);
}

TEST_F(WorkerLoopTest, StopInAHeartbeatReplyReachesTheObjective) {
  script_.trials = {MakeTrial(1)};
  script_.spec.mutable_trial_policy()->set_lease_seconds(1);
  script_.on_report = [](const ReportProgressRequest& req, ReportProgressResponse* resp) {
    if (!req.has_measurement()) {
      resp->set_decision(caviar::v1::STOP);
      resp->set_reason("study stopped");
    }
    return grpc::Status::OK;
  };
  // Reports every 20 ms would keep heartbeats away; make the objective quiet.
  SteppingObjective quiet(3, std::chrono::milliseconds(400));
  auto loop = MakeLoop(Share(&quiet));
  ASSERT_TRUE(loop->Run().ok());
  EXPECT_EQ(quiet.stops.load(), 1);
  std::lock_guard<std::mutex> lock(script_.mu);
  ASSERT_EQ(script_.completions.size(), 1);
  EXPECT_TRUE(script_.completions[0].stopped());
}

TEST_F(WorkerLoopTest, ObjectiveThatCannotBeBuiltFailsTheTrial) {
  script_.trials = {MakeTrial(1)};
  auto loop = MakeLoop([](const caviar::v1::StudySpec&) -> absl::StatusOr<Objective*> {
    return absl::UnimplementedError("no trainer in this build");
  });
  ASSERT_TRUE(loop->Run().ok());
  std::lock_guard<std::mutex> lock(script_.mu);
  ASSERT_EQ(script_.completions.size(), 1);
  EXPECT_EQ(script_.completions[0].failure_kind(), caviar::v1::CRASHED);
  EXPECT_THAT(script_.completions[0].failure_reason(),
              HasSubstr("worker w1 cannot run this trial: no trainer in this build"));
}

TEST_F(WorkerLoopTest, RejectedResultIsCompletedAsCrashed) {
  script_.trials = {MakeTrial(1)};
  script_.on_complete = [](const CompleteTrialRequest& req) {
    if (req.failure_kind() == caviar::v1::FAILURE_KIND_UNSPECIFIED) {
      return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                          "final_measurement lacks the objective metric");
    }
    return grpc::Status::OK;
  };
  SteppingObjective objective(1, std::chrono::milliseconds(0));
  auto loop = MakeLoop(Share(&objective));
  ASSERT_TRUE(loop->Run().ok());
  std::lock_guard<std::mutex> lock(script_.mu);
  EXPECT_EQ(script_.complete_calls, 2);
  ASSERT_EQ(script_.completions.size(), 1);
  EXPECT_EQ(script_.completions[0].failure_kind(), caviar::v1::CRASHED);
  EXPECT_THAT(script_.completions[0].failure_reason(),
              HasSubstr("coordinator refused the result: final_measurement lacks"));
}

TEST_F(WorkerLoopTest, RefusedSuggestionIsFatal) {
  script_.on_suggest = [] {
    return grpc::Status(grpc::StatusCode::PERMISSION_DENIED, "not a worker token");
  };
  SteppingObjective objective(1, std::chrono::milliseconds(0));
  auto loop = MakeLoop(Share(&objective));
  absl::StatusOr<ExitReason> result = loop->Run();
  EXPECT_EQ(result.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(result.status().message(), HasSubstr("not a worker token"));
}

TEST_F(WorkerLoopTest, UnreachableCoordinatorCountsAsIdle) {
  server_->Stop();
  options_.exit_when_idle = absl::Milliseconds(300);
  SteppingObjective objective(1, std::chrono::milliseconds(0));
  auto loop = MakeLoop(Share(&objective));
  absl::StatusOr<ExitReason> result = loop->Run();
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(*result, ExitReason::kIdle);
}

TEST_F(WorkerLoopTest, RunsARealCommandThroughTheObjectiveFactory) {
  const std::string dir =
      ::testing::TempDir() + "/caviar-loop-" + std::to_string(::getpid());
  std::filesystem::create_directories(dir);
  std::ofstream(dir + "/train.sh") << "#!/bin/sh\n"
                                      "echo \"caviar: acc=$CAVIAR_PARAM_LR\"\n"
                                      "echo \"caviar: acc=$(( $1 * 2 ))\"\n";
  script_.spec.mutable_command()->add_argv("/bin/sh");
  script_.spec.mutable_command()->add_argv(dir + "/train.sh");
  script_.spec.mutable_command()->add_argv("{layers}");
  caviar::v1::Trial trial = MakeTrial(3);
  (*trial.mutable_parameters())["layers"].set_int_value(4);
  script_.trials = {trial};
  auto loop = MakeLoop(MakeObjectiveFactory());
  ASSERT_TRUE(loop->Run().ok());
  std::filesystem::remove_all(dir);
  std::lock_guard<std::mutex> lock(script_.mu);
  ASSERT_EQ(script_.reports.size(), 2);
  EXPECT_DOUBLE_EQ(script_.reports[0].measurement().metrics().at("acc"), 0.01);
  ASSERT_EQ(script_.completions.size(), 1);
  EXPECT_EQ(script_.completions[0].failure_kind(), caviar::v1::FAILURE_KIND_UNSPECIFIED)
      << script_.completions[0].failure_reason();
  EXPECT_EQ(script_.completions[0].final_measurement().metrics().at("acc"), 8);
  EXPECT_EQ(script_.completions[0].final_measurement().step(), 2);
}

}  // namespace
}  // namespace caviar::worker
