// caviar-loadgen: plays N concurrent workers against a running
// caviar-coordinator (suggest -> report -> complete, trivial objective) and
// prints trial lifecycles per second and per-RPC latency percentiles as one
// final JSON line.
//
//   caviar-loadgen --coordinator 127.0.0.1:50051 --workers 8 --trials 20000
//
// Each worker has its own channel (its own TCP connection), as separate
// worker processes would.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "caviar/v1/service.grpc.pb.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"

namespace {

using Clock = std::chrono::steady_clock;

struct Latencies {
  std::vector<double> suggest, report, complete;
  std::vector<double> suggest_tail;  // Suggestions of the last `window` trials.
};

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  const size_t k = std::min(v.size() - 1, static_cast<size_t>(std::ceil(p * v.size())) - 1);
  std::nth_element(v.begin(), v.begin() + k, v.end());
  return v[k];
}

double Ms(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

caviar::v1::StudySpec BenchSpec(const std::string& name, int trials) {
  caviar::v1::StudySpec spec;
  spec.set_name(name);
  spec.mutable_objective()->set_metric("score");
  spec.mutable_objective()->set_goal(caviar::v1::MAXIMIZE);
  auto* lr = spec.add_parameters();
  lr->set_name("learning_rate");
  lr->mutable_double_()->set_min(1e-4);
  lr->mutable_double_()->set_max(1);
  lr->set_scale(caviar::v1::LOG);
  auto* units = spec.add_parameters();
  units->set_name("units");
  units->mutable_integer()->set_min(50);
  units->mutable_integer()->set_max(100);
  auto* opt = spec.add_parameters();
  opt->set_name("optimizer");
  opt->mutable_categorical()->add_values("adam");
  opt->mutable_categorical()->add_values("momentum");
  spec.mutable_algorithm()->set_name("random");
  spec.mutable_budget()->set_max_trials(trials);
  spec.mutable_command()->add_argv("true");
  return spec;
}

}  // namespace

int main(int argc, char** argv) {
  std::string address = "127.0.0.1:50051";
  int workers = 8;
  int trials = 10000;
  int reports = 1;
  int window = 1000;
  std::string study = absl::StrCat("loadgen-", ::getpid(), "-", time(nullptr));
  CLI::App app{"caviar-loadgen: load generator for caviar-coordinator"};
  app.add_option("--coordinator", address, "HOST:PORT")->capture_default_str();
  app.add_option("--workers", workers, "Concurrent simulated workers")->capture_default_str();
  app.add_option("--trials", trials, "Trials in the study")->capture_default_str();
  app.add_option("--reports", reports, "Progress reports per trial")->capture_default_str();
  app.add_option("--window", window,
                 "Also report suggestion p99 over the last N trials of the study")
      ->capture_default_str();
  app.add_option("--study", study, "Study name")->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  {
    auto channel = grpc::CreateChannel(address, grpc::InsecureChannelCredentials());
    auto stub = caviar::v1::StudyService::NewStub(channel);
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    caviar::v1::CreateStudyRequest request;
    *request.mutable_spec() = BenchSpec(study, trials);
    caviar::v1::Study created;
    grpc::Status status = stub->CreateStudy(&context, request, &created);
    if (!status.ok()) {
      std::fprintf(stderr, "CreateStudy: %s\n", status.error_message().c_str());
      return 1;
    }
  }

  std::atomic<int> finished{0};
  std::atomic<int> errors{0};
  std::vector<Latencies> latencies(workers);
  const auto start = Clock::now();
  std::vector<std::thread> threads;
  for (int w = 0; w < workers; ++w) {
    threads.emplace_back([&, w] {
      grpc::ChannelArguments args;
      args.SetInt("caviar.loadgen.worker", w);  // Distinct channel per worker.
      auto channel =
          grpc::CreateCustomChannel(address, grpc::InsecureChannelCredentials(), args);
      auto stub = caviar::v1::WorkerService::NewStub(channel);
      const std::string worker_id = absl::StrCat("loadgen-", w);
      Latencies& lat = latencies[w];
      while (true) {
        caviar::v1::SuggestTrialRequest suggest;
        suggest.set_worker_id(worker_id);
        suggest.set_study(study);
        caviar::v1::SuggestTrialResponse suggestion;
        grpc::ClientContext c1;
        auto t0 = Clock::now();
        grpc::Status s = stub->SuggestTrial(&c1, suggest, &suggestion);
        const double suggest_ms = Ms(Clock::now() - t0);
        lat.suggest.push_back(suggest_ms);
        if (!s.ok()) {
          ++errors;
          return;
        }
        if (!suggestion.has_trial()) {
          if (suggestion.no_more_work()) return;
          std::this_thread::sleep_for(std::chrono::milliseconds(5));
          continue;
        }
        const auto& trial = suggestion.trial();
        if (trial.id() > trials - window) lat.suggest_tail.push_back(suggest_ms);
        const double lr = trial.parameters().at("learning_rate").double_value();
        const double score = -std::pow(std::log10(lr) + 2, 2);
        for (int step = 1; step <= reports; ++step) {
          caviar::v1::ReportProgressRequest report;
          report.set_trial_id(trial.id());
          report.set_worker_id(worker_id);
          report.set_attempt(trial.attempt());
          report.mutable_measurement()->set_step(step);
          (*report.mutable_measurement()->mutable_metrics())["score"] = score;
          caviar::v1::ReportProgressResponse reply;
          grpc::ClientContext c2;
          t0 = Clock::now();
          s = stub->ReportProgress(&c2, report, &reply);
          lat.report.push_back(Ms(Clock::now() - t0));
          if (!s.ok()) ++errors;
        }
        caviar::v1::CompleteTrialRequest complete;
        complete.set_trial_id(trial.id());
        complete.set_worker_id(worker_id);
        complete.set_attempt(trial.attempt());
        (*complete.mutable_final_measurement()->mutable_metrics())["score"] = score;
        caviar::v1::Trial done;
        grpc::ClientContext c3;
        t0 = Clock::now();
        s = stub->CompleteTrial(&c3, complete, &done);
        lat.complete.push_back(Ms(Clock::now() - t0));
        if (!s.ok()) ++errors;
        else ++finished;
      }
    });
  }
  for (auto& t : threads) t.join();
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  Latencies all;
  for (auto& l : latencies) {
    all.suggest.insert(all.suggest.end(), l.suggest.begin(), l.suggest.end());
    all.report.insert(all.report.end(), l.report.begin(), l.report.end());
    all.complete.insert(all.complete.end(), l.complete.begin(), l.complete.end());
    all.suggest_tail.insert(all.suggest_tail.end(), l.suggest_tail.begin(),
                            l.suggest_tail.end());
  }
  std::printf(
      "{\"system\":\"caviar\",\"workers\":%d,\"trials\":%d,\"finished\":%d,\"errors\":%d,"
      "\"seconds\":%.3f,\"trials_per_second\":%.1f,"
      "\"suggest_p50_ms\":%.3f,\"suggest_p99_ms\":%.3f,"
      "\"report_p50_ms\":%.3f,\"report_p99_ms\":%.3f,"
      "\"complete_p50_ms\":%.3f,\"complete_p99_ms\":%.3f,"
      "\"suggest_p99_last_window_ms\":%.3f,\"window\":%d}\n",
      workers, trials, finished.load(), errors.load(), seconds, finished.load() / seconds,
      Percentile(all.suggest, 0.5), Percentile(all.suggest, 0.99),
      Percentile(all.report, 0.5), Percentile(all.report, 0.99),
      Percentile(all.complete, 0.5), Percentile(all.complete, 0.99),
      Percentile(all.suggest_tail, 0.99), window);
  return errors.load() == 0 && finished.load() == trials ? 0 : 1;
}
