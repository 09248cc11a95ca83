// caviar-loadgen: plays N concurrent workers against a running
// caviar-coordinator (suggest -> report -> complete, trivial objective) and
// prints trial lifecycles per second and per-RPC latency percentiles as one
// final JSON line.
//
//   caviar-loadgen --coordinator 127.0.0.1:50051 --workers 8 --trials 20000
//
// Each worker has its own channel (its own TCP connection), as separate
// worker processes would, and runs as a chain of gRPC callbacks.
//
// Soak mode (bench/coordinator/soak.sh): --seconds S runs for S seconds
// instead of until the study's trials are done, and --interval I adds one
// JSON line per I seconds with that interval's lifecycles and p99 latencies.
#include <algorithm>
#include <array>
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
#include "absl/synchronization/blocking_counter.h"
#include "bench/coordinator/bench_spec.h"
#include "caviar/v1/service.grpc.pb.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"

namespace {

using Clock = std::chrono::steady_clock;

enum Rpc { kSuggest, kReport, kComplete };

struct Latencies {
  std::vector<double> suggest, report, complete;
  std::vector<double> suggest_tail;  // Suggestions of the last `window` trials.
  // With --interval: every call as (seconds since start, rpc, ms).
  struct Sample {
    float at;
    Rpc rpc;
    float ms;
  };
  std::vector<Sample> timeline;
};

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  const size_t k =
      std::min(v.size() - 1, static_cast<size_t>(std::ceil(p * v.size())) - 1);
  std::nth_element(v.begin(), v.begin() + k, v.end());
  return v[k];
}

double Ms(Clock::duration d) {
  return std::chrono::duration<double, std::milli>(d).count();
}

// One simulated worker: suggest -> `reports` progress reports -> complete,
// again and again, as a chain of gRPC callbacks (no thread of its own, so the
// load generator costs the machine little next to the coordinator).
class SimulatedWorker {
 public:
  SimulatedWorker(std::unique_ptr<caviar::v1::WorkerService::Stub> stub, std::string id,
                  std::string study, int reports, int64_t tail_from, Latencies* latencies,
                  std::atomic<int>* finished, std::atomic<int>* errors,
                  absl::BlockingCounter* done, Clock::time_point start,
                  Clock::time_point stop_at, bool timeline)
      : stub_(std::move(stub)),
        id_(std::move(id)),
        study_(std::move(study)),
        reports_(reports),
        tail_from_(tail_from),
        latencies_(latencies),
        finished_(finished),
        errors_(errors),
        done_(done),
        start_(start),
        stop_at_(stop_at),
        timeline_(timeline) {}

  void Start() { Suggest(); }

 private:
  grpc::ClientContext* NewCall() {
    context_ = std::make_unique<grpc::ClientContext>();
    context_->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    started_ = Clock::now();
    return context_.get();
  }
  double Elapsed() const { return Ms(Clock::now() - started_); }
  // Records the latency of the call that just ended.
  double Record(Rpc rpc, std::vector<double>* all) {
    const double ms = Elapsed();
    all->push_back(ms);
    if (timeline_) {
      latencies_->timeline.push_back(
          {static_cast<float>(std::chrono::duration<double>(started_ - start_).count()),
           rpc, static_cast<float>(ms)});
    }
    return ms;
  }
  void Fail() {
    ++*errors_;
    done_->DecrementCount();
  }

  void Suggest() {
    suggest_.set_worker_id(id_);
    suggest_.set_study(study_);
    stub_->async()->SuggestTrial(NewCall(), &suggest_, &suggestion_,
                                 [this](grpc::Status s) { OnSuggest(s); });
  }
  void OnSuggest(const grpc::Status& s) {
    const double ms = Record(kSuggest, &latencies_->suggest);
    if (!s.ok()) return Fail();
    if (!suggestion_.has_trial()) {
      if (suggestion_.no_more_work()) {
        done_->DecrementCount();
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));  // Budget all in flight.
      return Suggest();
    }
    if (suggestion_.trial().id() > tail_from_) latencies_->suggest_tail.push_back(ms);
    const double lr = suggestion_.trial().parameters().at("learning_rate").double_value();
    score_ = -std::pow(std::log10(lr) + 2, 2);
    Report(1);
  }

  void Report(int step) {
    if (step > reports_) return Complete();
    const auto& trial = suggestion_.trial();
    report_.set_trial_id(trial.id());
    report_.set_worker_id(id_);
    report_.set_attempt(trial.attempt());
    report_.mutable_measurement()->set_step(step);
    (*report_.mutable_measurement()->mutable_metrics())["score"] = score_;
    stub_->async()->ReportProgress(NewCall(), &report_, &reply_,
                                   [this, step](grpc::Status s) {
                                     Record(kReport, &latencies_->report);
                                     if (!s.ok()) return Fail();
                                     Report(step + 1);
                                   });
  }

  void Complete() {
    const auto& trial = suggestion_.trial();
    complete_.set_trial_id(trial.id());
    complete_.set_worker_id(id_);
    complete_.set_attempt(trial.attempt());
    (*complete_.mutable_final_measurement()->mutable_metrics())["score"] = score_;
    stub_->async()->CompleteTrial(NewCall(), &complete_, &done_trial_,
                                  [this](grpc::Status s) {
                                    Record(kComplete, &latencies_->complete);
                                    if (!s.ok()) return Fail();
                                    ++*finished_;
                                    if (Clock::now() >= stop_at_) {
                                      done_->DecrementCount();  // Soak over.
                                      return;
                                    }
                                    Suggest();
                                  });
  }

  const std::unique_ptr<caviar::v1::WorkerService::Stub> stub_;
  const std::string id_, study_;
  const int reports_;
  const int64_t tail_from_;
  Latencies* const latencies_;
  std::atomic<int>* const finished_;
  std::atomic<int>* const errors_;
  absl::BlockingCounter* const done_;
  const Clock::time_point start_, stop_at_;
  const bool timeline_;
  std::unique_ptr<grpc::ClientContext> context_;
  Clock::time_point started_;
  double score_ = 0;
  caviar::v1::SuggestTrialRequest suggest_;
  caviar::v1::SuggestTrialResponse suggestion_;
  caviar::v1::ReportProgressRequest report_;
  caviar::v1::ReportProgressResponse reply_;
  caviar::v1::CompleteTrialRequest complete_;
  caviar::v1::Trial done_trial_;
};

// One JSON line per interval: lifecycles completed in it and p99 of each RPC.
void PrintIntervals(const std::vector<Latencies>& latencies, double interval,
                    double seconds) {
  const int n = static_cast<int>(std::ceil(seconds / interval));
  std::vector<std::array<std::vector<double>, 3>> by_interval(n);
  for (const auto& l : latencies) {
    for (const auto& s : l.timeline) {
      const int i = std::min(n - 1, static_cast<int>(s.at / interval));
      by_interval[i][s.rpc].push_back(s.ms);
    }
  }
  for (int i = 0; i < n; ++i) {
    auto& [suggest, report, complete] = by_interval[i];
    std::printf(
        "{\"interval\":%d,\"from_s\":%.0f,\"lifecycles\":%zu,\"suggest_p99_ms\":%.3f,"
        "\"report_p99_ms\":%.3f,\"complete_p99_ms\":%.3f}\n",
        i, i * interval, complete.size(), Percentile(suggest, 0.99),
        Percentile(report, 0.99), Percentile(complete, 0.99));
  }
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
  app.add_option("--workers", workers, "Concurrent simulated workers")
      ->capture_default_str();
  app.add_option("--trials", trials, "Trials in the study")->capture_default_str();
  app.add_option("--reports", reports, "Progress reports per trial")
      ->capture_default_str();
  app.add_option("--window", window,
                 "Also report suggestion p99 over the last N trials of the study")
      ->capture_default_str();
  app.add_option("--study", study, "Study name")->capture_default_str();
  double run_seconds = 0;
  double interval = 0;
  app.add_option("--seconds", run_seconds,
                 "Stop after this long instead of when the trials are done (soak)");
  app.add_option("--interval", interval,
                 "Also print lifecycles and p99 latencies per interval of this many seconds");
  CLI11_PARSE(app, argc, argv);

  {
    auto channel = grpc::CreateChannel(address, grpc::InsecureChannelCredentials());
    auto stub = caviar::v1::StudyService::NewStub(channel);
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    caviar::v1::CreateStudyRequest request;
    *request.mutable_spec() = caviar::bench::BenchSpec(study, trials);
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
  std::vector<std::unique_ptr<SimulatedWorker>> sims;
  absl::BlockingCounter done(workers);
  const auto start = Clock::now();
  const auto stop_at =
      run_seconds > 0
          ? start + std::chrono::duration_cast<Clock::duration>(
                        std::chrono::duration<double>(run_seconds))
          : Clock::time_point::max();
  for (int w = 0; w < workers; ++w) {
    grpc::ChannelArguments args;
    args.SetInt("caviar.loadgen.worker", w);   // Distinct channel per worker.
    args.SetInt(GRPC_ARG_HTTP2_BDP_PROBE, 0);  // As caviar-worker does.
    auto channel =
        grpc::CreateCustomChannel(address, grpc::InsecureChannelCredentials(), args);
    sims.push_back(std::make_unique<SimulatedWorker>(
        caviar::v1::WorkerService::NewStub(channel), absl::StrCat("loadgen-", w), study,
        reports, trials - window, &latencies[w], &finished, &errors, &done, start, stop_at,
        interval > 0));
  }
  for (auto& sim : sims) sim->Start();
  done.Wait();
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  if (interval > 0) PrintIntervals(latencies, interval, seconds);
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
  return errors.load() == 0 && (run_seconds > 0 || finished.load() == trials) ? 0 : 1;
}
