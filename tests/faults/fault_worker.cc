// fault_worker: N workers in one process (one thread and one channel each)
// that speak the worker protocol like caviar-worker (suggest -> report ->
// complete) with a trivial objective, survive a coordinator that dies and
// comes back (every call is retried on UNAVAILABLE / DEADLINE_EXCEEDED, as
// caviar-worker does, so no finished result is dropped), and log every
// acknowledged completion, one line each, flushed before the next call:
//
//   ack TRIAL_ID ATTEMPT WORKER_ID SCORE
//
// The fault tests (faults.py) check that log against the database after the
// run: what a client was told is stored must be there, exactly once.
//
//   fault_worker --coordinator 127.0.0.1:PORT --study S --workers 16 --acks acks.log
//
// Exits 0 when the study has no more work for any worker; prints one JSON
// line of counts. The score of a trial is a function of its id, so the
// checker knows what each stored objective must be.
#include <atomic>
#include <chrono>
#include <cstdio>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "caviar/v1/service.grpc.pb.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"

namespace {

struct Counts {
  std::atomic<int> acked{0};      // Completions the coordinator acknowledged.
  std::atomic<int> refused{0};    // Reports/completions refused (lease lost).
  std::atomic<int> retries{0};    // Calls retried after UNAVAILABLE & co.
  std::atomic<int> errors{0};     // Anything else: a failure of the run.
};

class AckLog {
 public:
  explicit AckLog(const std::string& path) : file_(std::fopen(path.c_str(), "a")) {}
  ~AckLog() {
    if (file_ != nullptr) std::fclose(file_);
  }
  bool ok() const { return file_ != nullptr; }
  void Ack(const caviar::v1::Trial& trial, const std::string& worker, double score) {
    absl::MutexLock lock(&mu_);
    std::fprintf(file_, "ack %lld %d %s %.17g\n", static_cast<long long>(trial.id()),
                 trial.attempt(), worker.c_str(), score);
    std::fflush(file_);
  }

 private:
  absl::Mutex mu_;
  FILE* file_;
};

bool Retryable(const grpc::Status& s) {
  return s.error_code() == grpc::StatusCode::UNAVAILABLE ||
         s.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED;
}

class Worker {
 public:
  Worker(const std::string& address, std::string token, std::string id, std::string study,
         int reports, int trial_ms, AckLog* acks, Counts* counts)
      : token_(std::move(token)),
        id_(std::move(id)),
        study_(std::move(study)),
        reports_(reports),
        trial_ms_(trial_ms),
        acks_(acks),
        counts_(counts) {
    grpc::ChannelArguments args;
    args.SetString("caviar.fault_worker", id_);  // One connection per worker.
    args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 50);
    args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 500);
    stub_ = caviar::v1::WorkerService::NewStub(
        grpc::CreateCustomChannel(address, grpc::InsecureChannelCredentials(), args));
  }

  void Run() {
    while (true) {
      caviar::v1::SuggestTrialRequest request;
      request.set_worker_id(id_);
      request.set_study(study_);
      caviar::v1::SuggestTrialResponse suggestion;
      if (!Call([&](grpc::ClientContext* c) {
            return stub_->SuggestTrial(c, request, &suggestion);
          })) {
        return;
      }
      if (!suggestion.has_trial()) {
        if (suggestion.no_more_work()) return;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        continue;
      }
      RunTrial(suggestion.trial());
    }
  }

 private:
  void RunTrial(const caviar::v1::Trial& trial) {
    const double score = static_cast<double>(trial.id()) / 1000.0;
    for (int step = 1; step <= reports_; ++step) {
      std::this_thread::sleep_for(std::chrono::milliseconds(trial_ms_ / reports_));
      caviar::v1::ReportProgressRequest report;
      report.set_trial_id(trial.id());
      report.set_worker_id(id_);
      report.set_attempt(trial.attempt());
      report.mutable_measurement()->set_step(step);
      (*report.mutable_measurement()->mutable_metrics())["score"] = score;
      caviar::v1::ReportProgressResponse reply;
      grpc::Status status;
      if (!Call(
              [&](grpc::ClientContext* c) {
                return status = stub_->ReportProgress(c, report, &reply);
              },
              /*refusal_ok=*/true)) {
        return;
      }
      if (!status.ok() || reply.decision() == caviar::v1::STOP) return;
    }
    caviar::v1::CompleteTrialRequest complete;
    complete.set_trial_id(trial.id());
    complete.set_worker_id(id_);
    complete.set_attempt(trial.attempt());
    complete.mutable_final_measurement()->set_step(reports_);
    (*complete.mutable_final_measurement()->mutable_metrics())["score"] = score;
    caviar::v1::Trial done;
    grpc::Status status;
    if (!Call(
            [&](grpc::ClientContext* c) {
              return status = stub_->CompleteTrial(c, complete, &done);
            },
            /*refusal_ok=*/true)) {
      return;
    }
    if (status.ok()) {
      acks_->Ack(trial, id_, score);
      ++counts_->acked;
    }
  }

  // Runs `call` until it is not retryable. True when it succeeded, or was
  // refused as a lost lease and `refusal_ok`.
  bool Call(const std::function<grpc::Status(grpc::ClientContext*)>& call,
            bool refusal_ok = false) {
    auto backoff = std::chrono::milliseconds(20);
    for (int attempt = 0;; ++attempt) {
      grpc::ClientContext context;
      context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
      context.set_wait_for_ready(attempt > 0);
      if (!token_.empty()) context.AddMetadata("authorization", "Bearer " + token_);
      const grpc::Status status = call(&context);
      if (status.ok()) return true;
      if (Retryable(status) && attempt < 600) {
        ++counts_->retries;
        std::this_thread::sleep_for(backoff);
        backoff = std::min(backoff * 2, std::chrono::milliseconds(500));
        continue;
      }
      if (refusal_ok && (status.error_code() == grpc::StatusCode::FAILED_PRECONDITION ||
                         status.error_code() == grpc::StatusCode::NOT_FOUND)) {
        ++counts_->refused;
        return true;
      }
      std::fprintf(stderr, "fault_worker %s: %d %s\n", id_.c_str(), status.error_code(),
                   status.error_message().c_str());
      ++counts_->errors;
      return false;
    }
  }

  const std::string token_, id_, study_;
  const int reports_;
  const int trial_ms_;
  AckLog* const acks_;
  Counts* const counts_;
  std::unique_ptr<caviar::v1::WorkerService::Stub> stub_;
};

}  // namespace

int main(int argc, char** argv) {
  std::string address, study, acks_path;
  int workers = 16;
  int reports = 2;
  int trial_ms = 0;
  CLI::App app{"fault_worker: workers that log every acknowledged completion"};
  app.add_option("--coordinator", address, "HOST:PORT")->required();
  app.add_option("--study", study, "Study name")->required();
  app.add_option("--acks", acks_path, "Append acknowledged completions here")->required();
  app.add_option("--workers", workers, "Concurrent workers")->capture_default_str();
  app.add_option("--trial-ms", trial_ms, "Work per trial (spread over its reports)")
      ->capture_default_str();
  app.add_option("--reports", reports, "Progress reports per trial (>= 1)")
      ->capture_default_str()
      ->check(CLI::Range(1, 1000));
  CLI11_PARSE(app, argc, argv);
  const char* token = std::getenv("CAVIAR_TOKEN");

  AckLog acks(acks_path);
  if (!acks.ok()) {
    std::fprintf(stderr, "fault_worker: cannot open %s\n", acks_path.c_str());
    return 2;
  }
  Counts counts;
  std::vector<std::unique_ptr<Worker>> pool;
  std::vector<std::thread> threads;
  for (int w = 0; w < workers; ++w) {
    pool.push_back(std::make_unique<Worker>(address, token ? token : "",
                                            absl::StrCat("fault-", w), study, reports,
                                            trial_ms, &acks, &counts));
  }
  for (auto& worker : pool) threads.emplace_back([&worker] { worker->Run(); });
  for (auto& t : threads) t.join();
  std::printf("{\"acked\":%d,\"refused\":%d,\"retries\":%d,\"errors\":%d}\n",
              counts.acked.load(), counts.refused.load(), counts.retries.load(),
              counts.errors.load());
  return counts.errors.load() == 0 ? 0 : 1;
}
