#include "worker/worker_loop.h"

#include <algorithm>
#include <functional>
#include <thread>
#include <utility>

#include "absl/random/random.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/mutex.h"
#include "common/grpc_status/grpc_status.h"
#include "common/log.h"
#include "common/parameter_value/parameter_value.h"
#include "grpcpp/client_context.h"

namespace caviar::worker {
namespace {

using caviar::v1::CompleteTrialRequest;
using caviar::v1::ReportProgressRequest;
using caviar::v1::ReportProgressResponse;
using caviar::v1::SuggestTrialRequest;
using caviar::v1::SuggestTrialResponse;

constexpr absl::Duration kDefaultLease = absl::Seconds(30);
constexpr absl::Duration kMinHeartbeat = absl::Milliseconds(200);

bool IsTransient(absl::StatusCode code) {
  switch (code) {
    case absl::StatusCode::kUnavailable:
    case absl::StatusCode::kDeadlineExceeded:
    case absl::StatusCode::kResourceExhausted:
    case absl::StatusCode::kAborted:
    case absl::StatusCode::kInternal:
    case absl::StatusCode::kUnknown:
    case absl::StatusCode::kCancelled:
    case absl::StatusCode::kDataLoss:
      return true;
    default:
      return false;
  }
}

bool IsLeaseLost(absl::StatusCode code) {
  return code == absl::StatusCode::kFailedPrecondition ||
         code == absl::StatusCode::kNotFound;
}

// Exponential backoff with jitter: waits d/2 + U[0, d/2], d doubling from
// `min` up to `max`, so that workers a restarted coordinator lost do not
// all come back at the same instant.
class Backoff {
 public:
  Backoff(absl::Duration min, absl::Duration max) : min_(min), next_(min), max_(max) {}
  void Reset() { next_ = min_; }
  absl::Duration Next() {
    const absl::Duration d = next_;
    next_ = std::min(next_ * 2, max_);
    return d / 2 + absl::Uniform(gen_, 0.0, 1.0) * (d / 2);
  }

 private:
  absl::Duration min_;
  absl::Duration next_;
  absl::Duration max_;
  absl::BitGen gen_;
};

std::string DescribeParameters(const caviar::v1::Trial& trial) {
  std::vector<std::string> parts;
  for (const auto& [name, value] : trial.parameters()) {
    parts.push_back(absl::StrCat(name, "=", FormatParameterValue(value)));
  }
  std::sort(parts.begin(), parts.end());
  return absl::StrJoin(parts, " ");
}

}  // namespace

const char* ExitReasonName(ExitReason reason) {
  switch (reason) {
    case ExitReason::kMaxTrials:
      return "ran --max-trials trials";
    case ExitReason::kNoMoreWork:
      return "the study has no more work";
    case ExitReason::kIdle:
      return "idle for --exit-when-idle";
    case ExitReason::kShutdown:
      return "shut down";
  }
  return "?";
}

absl::Status WorkerLoop::Call(
    const std::function<grpc::Status(grpc::ClientContext*)>& rpc, bool wait_for_ready,
    absl::Time deadline) {
  grpc::ClientContext context;
  context.set_deadline(
      absl::ToChronoTime(std::min(absl::Now() + options_.rpc_timeout, deadline)));
  context.set_wait_for_ready(wait_for_ready);
  if (!options_.token.empty())
    context.AddMetadata("authorization", "Bearer " + options_.token);
  {
    absl::MutexLock lock(&calls_mu_);
    calls_.insert(&context);
  }
  const grpc::Status status = rpc(&context);
  {
    absl::MutexLock lock(&calls_mu_);
    calls_.erase(&context);
  }
  return FromGrpcStatus(status);
}

// The ProgressReporter of one leased trial: each Report is a ReportProgress
// call; a background thread sends heartbeats while the objective is quiet.
class WorkerLoop::TrialSession : public ProgressReporter {
 public:
  TrialSession(WorkerLoop* loop, const SuggestTrialResponse& suggestion)
      : loop_(loop), trial_(suggestion.trial()), initial_nudges_(suggestion.nudges()) {
    const int lease_seconds = suggestion.spec().trial_policy().lease_seconds();
    lease_ = lease_seconds > 0 ? absl::Seconds(lease_seconds) : kDefaultLease;
    last_contact_ = absl::Now();
    heartbeat_thread_ = std::thread([this] { HeartbeatLoop(); });
  }

  ~TrialSession() override { StopHeartbeats(); }

  void StopHeartbeats() {
    {
      absl::MutexLock lock(&mu_);
      done_ = true;
      cv_.SignalAll();
    }
    if (heartbeat_thread_.joinable()) heartbeat_thread_.join();
  }

  ProgressReply Report(const caviar::v1::Measurement& measurement) override {
    ReportProgressRequest request = MakeRequest();
    *request.mutable_measurement() = measurement;
    {
      absl::MutexLock lock(&mu_);
      for (int64_t id : acks_) request.add_nudge_acks(id);
    }
    Backoff backoff(loop_->options_.min_backoff, loop_->options_.max_backoff);
    for (int attempt = 1;; ++attempt) {
      {
        absl::MutexLock lock(&mu_);
        if (lease_lost_ || !fatal_.ok()) return StopReply(stop_reason_);
      }
      if (loop_->ShuttingDown()) return StopReply("worker shutting down");
      ReportProgressResponse response;
      const absl::Status status = Send(request, &response, /*wait_for_ready=*/true);
      if (status.ok()) {
        curve_.push_back(measurement);
        {
          absl::MutexLock lock(&mu_);
          acks_.erase(acks_.begin(), acks_.begin() + request.nudge_acks_size());
        }
        if (attempt > 1) {
          CAVIAR_LOG(INFO) << "trial " << trial_.id() << ": step " << measurement.step()
                           << " delivered after " << attempt << " attempts";
        }
        return Apply(response);
      }
      if (IsTransient(status.code())) {
        if (attempt == 1 || attempt % 10 == 0) {
          CAVIAR_LOG(WARNING) << "trial " << trial_.id() << ": ReportProgress step "
                              << measurement.step() << " failed (attempt " << attempt
                              << ", retrying): " << status;
        }
        loop_->SleepUnlessShutdown(backoff.Next());
        continue;
      }
      if (status.code() == absl::StatusCode::kInvalidArgument) {
        CAVIAR_LOG(ERROR) << "trial " << trial_.id() << ": coordinator rejected step "
                          << measurement.step() << " (dropped): " << status;
        return TakePendingUpdates(ProgressReply{});
      }
      OnRefused(status);
      return StopReply(stop_reason_);
    }
  }

  bool StopRequested() const override { return stop_.load() || loop_->ShuttingDown(); }

  const ResumePoint* resume() const override { return resume_; }
  void set_resume(const ResumePoint* resume) { resume_ = resume; }

  std::vector<caviar::v1::Nudge> initial_nudges() const override {
    return {initial_nudges_.begin(), initial_nudges_.end()};
  }
  std::vector<caviar::v1::Nudge> TakePendingNudges() override {
    absl::MutexLock lock(&mu_);
    return std::exchange(pending_nudges_, {});
  }
  void AcknowledgeNudge(int64_t id) override {
    absl::MutexLock lock(&mu_);
    acks_.push_back(id);
  }

  bool SaveCheckpoint(int64_t step, std::string_view bytes) override {
    if (!checkpoints_served_) return false;
    const absl::Time start = absl::Now();
    absl::StatusOr<caviar::v1::CheckpointInfo> stored = loop_->checkpoints_.Upload(
        {trial_.id(), loop_->options_.worker_id, trial_.attempt()}, step, bytes, curve_);
    if (!stored.ok()) {
      // A coordinator that keeps no checkpoints will not keep the next one.
      checkpoints_served_ = stored.status().code() != absl::StatusCode::kUnimplemented;
      CAVIAR_LOG(WARNING) << "trial " << trial_.id() << ": checkpoint at step " << step
                          << " not stored"
                          << (checkpoints_served_ ? "" : " (no more tried)") << ": "
                          << stored.status();
      return false;
    }
    CAVIAR_LOG(DEBUG) << "trial " << trial_.id() << ": checkpoint at step " << step
                      << " (" << bytes.size() << " bytes) stored in "
                      << (absl::Now() - start);
    return true;
  }

  // Updates that arrived while the loop reported a resumed curve: the
  // objective gets them with its first report.
  void KeepUpdates(const ProgressReply& reply) {
    absl::MutexLock lock(&mu_);
    for (const auto& [name, value] : reply.parameter_updates)
      pending_updates_[name] = value;
    pending_nudges_.insert(pending_nudges_.end(), reply.nudges.begin(), reply.nudges.end());
  }

  bool lease_lost() {
    absl::MutexLock lock(&mu_);
    return lease_lost_;
  }
  bool coordinator_stop() {
    absl::MutexLock lock(&mu_);
    return coordinator_stop_;
  }
  absl::Status fatal() {
    absl::MutexLock lock(&mu_);
    return fatal_;
  }

 private:
  ReportProgressRequest MakeRequest() const {
    ReportProgressRequest request;
    request.set_trial_id(trial_.id());
    request.set_worker_id(loop_->options_.worker_id);
    request.set_attempt(trial_.attempt());
    return request;
  }

  // A measurement waits for the connection (wait_for_ready); a heartbeat
  // does not: StopHeartbeats must not wait for a call to a dead coordinator.
  absl::Status Send(const ReportProgressRequest& request,
                    ReportProgressResponse* response, bool wait_for_ready) {
    const absl::Status status = loop_->Call(
        [&](grpc::ClientContext* context) {
          return loop_->stub_->ReportProgress(context, request, response);
        },
        wait_for_ready);
    absl::MutexLock lock(&mu_);
    last_contact_ = absl::Now();
    return status;
  }

  ProgressReply Apply(const ReportProgressResponse& response) {
    ProgressReply reply;
    reply.parameter_updates = response.parameter_updates();
    absl::MutexLock lock(&mu_);
    reply.nudges.swap(pending_nudges_);
    pending_nudges_.clear();
    reply.nudges.insert(reply.nudges.end(), response.nudges().begin(),
                        response.nudges().end());
    if (response.lease_seconds() > 0) lease_ = absl::Seconds(response.lease_seconds());
    if (response.decision() == caviar::v1::STOP) {
      coordinator_stop_ = true;
      stop_ = true;
      stop_reason_ = response.reason();
    } else if (response.decision() == caviar::v1::CHECKPOINT_AND_RELEASE) {
      // Not a coordinator stop: the trial is handed back, not completed.
      stop_ = true;
      stop_reason_ = response.reason();
      reply.checkpoint_and_release = true;
    }
    if (coordinator_stop_ || reply.checkpoint_and_release) {
      reply.stop = true;
      reply.reason = stop_reason_;
    }
    for (auto& [name, value] : pending_updates_) {
      reply.parameter_updates.insert({name, value});  // Newer values win.
    }
    pending_updates_.clear();
    return reply;
  }

  ProgressReply TakePendingUpdates(ProgressReply reply) {
    absl::MutexLock lock(&mu_);
    reply.parameter_updates.swap(pending_updates_);
    pending_updates_.clear();
    reply.nudges.swap(pending_nudges_);
    pending_nudges_.clear();
    reply.stop = coordinator_stop_;
    reply.reason = stop_reason_;
    return reply;
  }

  ProgressReply StopReply(std::string reason) {
    ProgressReply reply;
    reply.stop = true;
    reply.reason = std::move(reason);
    return reply;
  }

  // FAILED_PRECONDITION / NOT_FOUND: the lease is gone; auth and the like:
  // the worker cannot go on at all.
  void OnRefused(const absl::Status& status) {
    absl::MutexLock lock(&mu_);
    stop_ = true;
    if (IsLeaseLost(status.code())) {
      if (!lease_lost_) {
        CAVIAR_LOG(WARNING) << "trial " << trial_.id()
                            << ": lease lost, stopping and dropping the trial: "
                            << status;
      }
      lease_lost_ = true;
      stop_reason_ = absl::StrCat("lease lost: ", status.message());
    } else {
      CAVIAR_LOG(ERROR) << "trial " << trial_.id()
                        << ": ReportProgress refused: " << status;
      if (fatal_.ok()) fatal_ = status;
      stop_reason_ = absl::StrCat("coordinator refused the report: ", status.message());
    }
  }

  void HeartbeatLoop() {
    mu_.Lock();
    while (!done_ && !stop_.load() && heartbeats_enabled_) {
      const absl::Time due = last_contact_ + std::max(lease_ / 3, kMinHeartbeat);
      if (absl::Now() < due) {
        // Wake up at least every 100 ms to notice shutdown and `done_`.
        cv_.WaitWithDeadline(&mu_, std::min(due, absl::Now() + absl::Milliseconds(100)));
        continue;
      }
      last_contact_ = absl::Now();
      mu_.Unlock();
      ReportProgressResponse response;
      const absl::Status status =
          Send(MakeRequest(), &response, /*wait_for_ready=*/false);
      if (status.ok()) {
        // The objective sees stop via StopRequested, updates with its next
        // Report.
        absl::MutexLock lock(&mu_);
        if (response.lease_seconds() > 0)
          lease_ = absl::Seconds(response.lease_seconds());
        if (response.decision() == caviar::v1::STOP) {
          coordinator_stop_ = true;
          stop_ = true;
          stop_reason_ = response.reason();
        }
        for (const auto& [name, value] : response.parameter_updates()) {
          pending_updates_[name] = value;
        }
        pending_nudges_.insert(pending_nudges_.end(), response.nudges().begin(),
                               response.nudges().end());
      } else if (status.code() == absl::StatusCode::kInvalidArgument) {
        CAVIAR_LOG(WARNING) << "trial " << trial_.id()
                            << ": coordinator does not take heartbeats: " << status;
        absl::MutexLock lock(&mu_);
        heartbeats_enabled_ = false;
      } else if (!IsTransient(status.code())) {
        OnRefused(status);
      } else {
        CAVIAR_LOG(DEBUG) << "trial " << trial_.id() << ": heartbeat failed: " << status;
      }
      mu_.Lock();
    }
    mu_.Unlock();
  }

  WorkerLoop* const loop_;
  const caviar::v1::Trial& trial_;
  const ResumePoint* resume_ = nullptr;
  // Measurements the coordinator took, for the checkpoints' curves (used
  // from the objective's thread only).
  std::vector<caviar::v1::Measurement> curve_;
  bool checkpoints_served_ = true;
  std::atomic<bool> stop_{false};

  absl::Mutex mu_;
  absl::CondVar cv_;
  bool done_ ABSL_GUARDED_BY(mu_) = false;
  bool heartbeats_enabled_ ABSL_GUARDED_BY(mu_) = true;
  bool lease_lost_ ABSL_GUARDED_BY(mu_) = false;
  bool coordinator_stop_ ABSL_GUARDED_BY(mu_) = false;
  std::string stop_reason_ ABSL_GUARDED_BY(mu_);
  absl::Status fatal_ ABSL_GUARDED_BY(mu_);
  absl::Duration lease_ ABSL_GUARDED_BY(mu_);
  absl::Time last_contact_ ABSL_GUARDED_BY(mu_);
  ParameterMap pending_updates_ ABSL_GUARDED_BY(mu_);
  std::vector<caviar::v1::Nudge> pending_nudges_ ABSL_GUARDED_BY(mu_);
  // Nudge ids the objective applied, sent with its next measurement.
  std::vector<int64_t> acks_ ABSL_GUARDED_BY(mu_);
  const google::protobuf::RepeatedPtrField<caviar::v1::Nudge> initial_nudges_;
  std::thread heartbeat_thread_;
};

WorkerLoop::WorkerLoop(std::unique_ptr<caviar::v1::WorkerService::StubInterface> stub,
                       ObjectiveFactory factory, WorkerOptions options)
    : stub_(std::move(stub)),
      checkpoints_(stub_.get(),
                   [this](const std::function<grpc::Status(grpc::ClientContext*)>& rpc) {
                     return Call(rpc);
                   }),
      factory_(std::move(factory)),
      options_(std::move(options)) {}

WorkerLoop::WorkerLoop(const std::shared_ptr<grpc::Channel>& channel,
                       ObjectiveFactory factory, WorkerOptions options)
    : WorkerLoop(caviar::v1::WorkerService::NewStub(channel), std::move(factory),
                 std::move(options)) {}

WorkerLoop::~WorkerLoop() = default;

void WorkerLoop::Shutdown() {
  if (shutdown_.HasBeenNotified()) return;
  shutdown_at_nanos_.store(absl::ToUnixNanos(absl::Now()));
  shutdown_.Notify();
  // Calls waiting for a coordinator that is down end now (CANCELLED, which
  // the callers treat as transient, and then see the shutdown).
  absl::MutexLock lock(&calls_mu_);
  for (grpc::ClientContext* context : calls_) context->TryCancel();
}

void WorkerLoop::SleepUnlessShutdown(absl::Duration d) {
  shutdown_.WaitForNotificationWithTimeout(d);
}

absl::StatusOr<ExitReason> WorkerLoop::Run() {
  if (options_.worker_id.empty()) {
    return absl::InvalidArgumentError("worker id is empty");
  }
  CAVIAR_LOG(INFO) << "worker " << options_.worker_id << " starting"
                   << (options_.study.empty() ? "" : " on study " + options_.study);
  absl::Time idle_since = absl::Now();
  auto idle_too_long = [&] {
    return options_.exit_when_idle > absl::ZeroDuration() &&
           absl::Now() - idle_since >= options_.exit_when_idle;
  };
  Backoff backoff(options_.min_backoff, options_.max_backoff);
  int failures = 0;
  while (true) {
    if (ShuttingDown()) return ExitReason::kShutdown;
    if (options_.max_trials > 0 && trials_run_.load() >= options_.max_trials) {
      return ExitReason::kMaxTrials;
    }
    if (idle_too_long()) return ExitReason::kIdle;

    SuggestTrialRequest request;
    request.set_worker_id(options_.worker_id);
    request.set_study(options_.study);
    for (caviar::v1::RunKind kind : options_.run_kinds) request.add_run_kinds(kind);
    SuggestTrialResponse response;
    const absl::Status status = Call([&](grpc::ClientContext* c) {
      return stub_->SuggestTrial(c, request, &response);
    });
    if (!status.ok()) {
      if (!IsTransient(status.code()) && status.code() != absl::StatusCode::kNotFound) {
        CAVIAR_LOG(ERROR) << "SuggestTrial refused: " << status;
        return status;
      }
      ++failures;
      if (failures == 1 || failures % 10 == 0) {
        CAVIAR_LOG(WARNING) << "SuggestTrial failed (attempt " << failures
                            << ", retrying): " << status;
      }
      SleepUnlessShutdown(backoff.Next());
      continue;
    }
    if (failures > 0) CAVIAR_LOG(INFO) << "coordinator reachable again";
    failures = 0;
    backoff.Reset();

    if (!response.has_trial()) {
      if (response.no_more_work() && !options_.study.empty()) {
        return ExitReason::kNoMoreWork;
      }
      const absl::Duration wait = response.retry_after_seconds() > 0
                                      ? absl::Seconds(response.retry_after_seconds())
                                      : options_.default_retry_after;
      CAVIAR_LOG(DEBUG) << "no trial; asking again in " << wait;
      SleepUnlessShutdown(wait);
      continue;
    }
    ++trials_run_;
    CAVIAR_LOG(INFO) << "trial " << response.trial().id() << " of study "
                     << response.trial().study() << " (attempt "
                     << response.trial().attempt()
                     << "): " << DescribeParameters(response.trial());
    if (absl::Status fatal = RunTrial(response); !fatal.ok()) return fatal;
    idle_since = absl::Now();
  }
}

absl::Status WorkerLoop::RunTrial(const SuggestTrialResponse& suggestion) {
  const caviar::v1::Trial& trial = suggestion.trial();
  CompleteTrialRequest request;
  request.set_trial_id(trial.id());
  request.set_worker_id(options_.worker_id);
  request.set_attempt(trial.attempt());

  absl::StatusOr<Objective*> objective = factory_(suggestion.spec());
  if (!objective.ok()) {
    CAVIAR_LOG(ERROR) << "trial " << trial.id() << ": cannot run: " << objective.status();
    request.set_failure_kind(objective.status().code() ==
                                     absl::StatusCode::kInvalidArgument
                                 ? caviar::v1::INFEASIBLE
                                 : caviar::v1::CRASHED);
    request.set_failure_reason(
        absl::StrCat("worker ", options_.worker_id,
                     " cannot run this trial: ", objective.status().message()));
    return Complete(request);
  }

  TrialSession session(this, suggestion);
  std::optional<ResumePoint> resume;
  if (suggestion.has_resume()) resume = FetchResume(suggestion);
  TrialOutcome outcome;
  bool stopped_while_resuming = false;
  if (resume.has_value()) {
    ProgressReply reply;
    for (const caviar::v1::Measurement& point : resume->curve) {
      reply = session.Report(point);
      session.KeepUpdates(reply);
      if (reply.stop) break;
    }
    stopped_while_resuming = reply.stop;
    if (stopped_while_resuming) {
      outcome.stopped = true;
      if (!resume->curve.empty()) outcome.final_measurement = resume->curve.back();
    }
    session.set_resume(&*resume);
  }
  if (!stopped_while_resuming) {
    outcome = (*objective)->Run(suggestion.spec(), trial, &session);
  }
  session.StopHeartbeats();

  if (absl::Status fatal = session.fatal(); !fatal.ok()) return fatal;
  if (session.lease_lost()) {
    CAVIAR_LOG(WARNING) << "trial " << trial.id() << ": dropped (lease lost)";
    return absl::OkStatus();
  }
  if (outcome.stopped && !session.coordinator_stop()) {
    // Not a result: give the trial back so another worker runs it now
    // rather than after the lease expires.
    CAVIAR_LOG(WARNING)
        << "trial " << trial.id()
        << ": interrupted (the worker's shutdown, or a SIGTERM/SIGINT from outside "
           "such as a scheduler's preemption); released to the coordinator";
    CompleteTrialRequest release;
    release.set_trial_id(trial.id());
    release.set_worker_id(options_.worker_id);
    release.set_attempt(trial.attempt());
    release.set_release(true);
    return Complete(release);
  }
  *request.mutable_final_measurement() = std::move(outcome.final_measurement);
  request.set_failure_kind(outcome.failure_kind);
  request.set_failure_reason(outcome.failure_reason);
  request.set_stopped(outcome.stopped);
  return Complete(request);
}

std::optional<ResumePoint> WorkerLoop::FetchResume(
    const SuggestTrialResponse& suggestion) {
  const caviar::v1::Trial& trial = suggestion.trial();
  const caviar::v1::CheckpointInfo& info = suggestion.resume();
  const absl::Time start = absl::Now();
  absl::StatusOr<ResumePoint> point =
      checkpoints_.Download({trial.id(), options_.worker_id, trial.attempt()}, info);
  if (!point.ok()) {
    CAVIAR_LOG(WARNING) << "trial " << trial.id() << ": checkpoint at step "
                        << info.step() << " cannot be fetched, starting from scratch: "
                        << point.status();
    return std::nullopt;
  }
  CAVIAR_LOG(INFO) << "trial " << trial.id() << ": resuming after step " << info.step()
                   << " (checkpoint of attempt " << info.attempt() << ", "
                   << info.size_bytes() << " bytes, fetched in " << (absl::Now() - start)
                   << ")";
  return *std::move(point);
}

absl::Status WorkerLoop::Complete(const CompleteTrialRequest& original) {
  CompleteTrialRequest request = original;
  Backoff backoff(options_.min_backoff, options_.max_backoff);
  for (int attempt = 1;; ++attempt) {
    caviar::v1::Trial response;
    // A finished result waits for the coordinator rather than polling it;
    // during shutdown no longer than the shutdown allows.
    const absl::Time deadline = ShuttingDown()
                                    ? absl::FromUnixNanos(shutdown_at_nanos_.load()) +
                                          options_.shutdown_complete_timeout
                                    : absl::InfiniteFuture();
    const absl::Status status = Call(
        [&](grpc::ClientContext* c) {
          return stub_->CompleteTrial(c, request, &response);
        },
        /*wait_for_ready=*/true, deadline);
    if (status.ok()) {
      CAVIAR_LOG(INFO) << "trial " << request.trial_id()
                       << " completed: " << caviar::v1::TrialState_Name(response.state())
                       << (request.failure_reason().empty()
                               ? ""
                               : " (" + request.failure_reason().substr(0, 200) + ")");
      return absl::OkStatus();
    }
    if (IsTransient(status.code())) {
      absl::Duration wait = backoff.Next();
      if (ShuttingDown()) {
        const absl::Time deadline = absl::FromUnixNanos(shutdown_at_nanos_.load()) +
                                    options_.shutdown_complete_timeout;
        if (absl::Now() >= deadline) {
          CAVIAR_LOG(ERROR) << "trial " << request.trial_id()
                            << ": result not delivered before shutdown: " << status;
          return absl::OkStatus();
        }
        absl::SleepFor(std::min(wait, deadline - absl::Now()));
      } else {
        if (attempt == 1 || attempt % 10 == 0) {
          CAVIAR_LOG(WARNING) << "trial " << request.trial_id()
                              << ": CompleteTrial failed (attempt " << attempt
                              << ", retrying until acknowledged): " << status;
        }
        SleepUnlessShutdown(wait);
      }
      continue;
    }
    if (IsLeaseLost(status.code())) {
      CAVIAR_LOG(WARNING) << "trial " << request.trial_id()
                          << ": completion refused, result dropped: " << status;
      return absl::OkStatus();
    }
    if (status.code() == absl::StatusCode::kInvalidArgument) {
      if (request.failure_kind() == caviar::v1::FAILURE_KIND_UNSPECIFIED &&
          !request.stopped()) {
        CAVIAR_LOG(ERROR) << "trial " << request.trial_id()
                          << ": coordinator rejected the result, completing as crashed: "
                          << status;
        request.set_failure_kind(caviar::v1::CRASHED);
        request.set_failure_reason(
            absl::StrCat("coordinator refused the result: ", status.message()));
        continue;
      }
      CAVIAR_LOG(ERROR) << "trial " << request.trial_id()
                        << ": coordinator rejected the completion, dropped: " << status;
      return absl::OkStatus();
    }
    CAVIAR_LOG(ERROR) << "trial " << request.trial_id()
                      << ": CompleteTrial refused: " << status;
    return status;
  }
}

}  // namespace caviar::worker
