// WorkerLoop: the stateless loop of caviar-worker. Ask the coordinator for a
// trial (SuggestTrial), run its objective, send each measurement
// (ReportProgress; its reply may say stop), complete it (CompleteTrial).
// Everything the worker knows lives in the coordinator: a worker can be
// killed at any moment and another one takes over after the lease expires.
//
// Behaviour on each RPC status (T = transient: UNAVAILABLE,
// DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED, ABORTED, INTERNAL, UNKNOWN,
// CANCELLED, DATA_LOSS; retried with exponential backoff from min_backoff
// doubling to max_backoff, each wait drawn in [d/2, d]; every call has a
// deadline of rpc_timeout):
//
//   SuggestTrial    OK with a trial: run it. OK without: wait
//                   retry_after_seconds (default_retry_after if 0) and ask
//                   again; with options.study set and no_more_work: Run
//                   returns kNoMoreWork. T and NOT_FOUND (study not created
//                   yet): retry. Fatal (Run returns the error):
//                   INVALID_ARGUMENT, UNAUTHENTICATED, PERMISSION_DENIED,
//                   UNIMPLEMENTED and the other codes.
//   ReportProgress  OK: the decision (STOP stops the objective) and any
//                   parameter updates go to the objective. T: retried while
//                   the objective waits; each attempt waits for the
//                   connection, like CompleteTrial (the report is the same step, so a
//                   retry of one that did arrive is a duplicate the
//                   coordinator already has). FAILED_PRECONDITION or
//                   NOT_FOUND: the lease is lost (expired, taken over):
//                   stop the objective and drop the trial without
//                   completing it. INVALID_ARGUMENT: that measurement is
//                   logged and dropped, the trial goes on. UNAUTHENTICATED,
//                   PERMISSION_DENIED, UNIMPLEMENTED: stop, drop, Run
//                   returns the error.
//   CompleteTrial   OK: done. T: retried until acknowledged or refused - a
//                   finished result is never dropped while the coordinator
//                   is merely down. The call waits for the connection
//                   (wait_for_ready), so a result reaches a restarted
//                   coordinator as soon as the channel reconnects. FAILED_PRECONDITION or
//                   NOT_FOUND: refused (the lease was lost meanwhile): dropped.
//                   INVALID_ARGUMENT on a successful result: completed again
//                   as CRASHED with the coordinator's message as the reason
//                   (so the trial does not wait for its lease to expire);
//                   on a failure: dropped. UNAUTHENTICATED,
//                   PERMISSION_DENIED, UNIMPLEMENTED: Run returns the error.
//
// Heartbeats: while an objective runs without reporting (an epoch longer
// than the lease), the loop sends ReportProgress without a measurement every
// third of the lease (the reply's lease_seconds; before the first reply the
// spec's trial_policy.lease_seconds, else 30 s). The coordinator treats a
// report without measurement as a heartbeat only; INVALID_ARGUMENT to one
// turns heartbeats off for that trial.
//
// Shutdown (Shutdown(), e.g. on SIGTERM/SIGINT): the running objective is
// told to stop (a command gets SIGTERM, then SIGKILL after its grace) and
// its partial result is NOT completed: completing it as failed would fail
// the trial for good, and as stopped would count a cut-short run as
// finished. The worker releases the trial instead (CompleteTrial with
// release set; retried like any completion): the coordinator makes it
// PENDING at once and hands it to another worker (attempt + 1); a worker
// that cannot reach the coordinator leaves it to lease expiry. A result that was already
// finished when the signal came is still completed, retrying for at most
// shutdown_complete_timeout. A command killed by a SIGTERM or SIGINT the
// worker did not send (a scheduler preempting the whole job step, a Ctrl-C
// of the job) is released the same way: it was interrupted, it did not fail.
//
// Checkpoints (worker/checkpoints.h): an objective saves its state through
// ProgressReporter::SaveCheckpoint; the loop uploads it with the curve
// reported so far. A lease that comes with SuggestTrialResponse.resume is
// resumed: the loop downloads that checkpoint (a checkpoint it cannot fetch
// or check is logged and the trial starts from scratch), reports its curve
// again for the new attempt (the curve is truncated back to the checkpoint:
// points the lost attempt reported after it are not part of the new one),
// and hands the state to the objective (ProgressReporter::resume). If one
// of those reports says stop, the objective does not run: the trial is
// completed as stopped with the checkpoint's last point.
//
// An objective the factory cannot build (e.g. a trainer study on a worker
// built without the trainer) is completed as failed (INFEASIBLE for an
// INVALID_ARGUMENT from the factory, CRASHED otherwise) with the reason.
//
// Thread-safety: Run is called once, from one thread; Shutdown may be called
// from any thread at any time.
#ifndef CAVIAR_WORKER_WORKER_LOOP_H_
#define CAVIAR_WORKER_WORKER_LOOP_H_

#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "caviar/v1/service.grpc.pb.h"
#include "grpcpp/channel.h"
#include "grpcpp/client_context.h"
#include "worker/checkpoints.h"
#include "worker/objective_factory.h"

namespace caviar::worker {

struct WorkerOptions {
  std::string worker_id;  // Required.
  std::string study;      // Empty: work on any active study.
  // What this worker can run (SuggestTrialRequest.run_kinds; caviar-worker:
  // RunnableKinds()): the coordinator offers only studies of these kinds.
  // Empty = command and trainer, as for workers that say nothing.
  std::vector<caviar::v1::RunKind> run_kinds;
  int max_trials = 0;     // Trials to run before returning; 0 = no limit.
  // Return after this long without a trial (no work, or no coordinator);
  // zero = never.
  absl::Duration exit_when_idle = absl::ZeroDuration();
  absl::Duration rpc_timeout = absl::Seconds(10);
  // Bearer token sent with every call (the coordinator's worker or admin
  // token); empty for an open coordinator.
  std::string token;
  // Retries of a failed call wait up to max_backoff: short, so that a
  // restarted coordinator hears from its workers within about a second
  // (the channel's reconnect backoff is capped the same way, see
  // worker/coordinator_channel.h).
  absl::Duration min_backoff = absl::Milliseconds(100);
  absl::Duration max_backoff = absl::Seconds(1);
  absl::Duration default_retry_after = absl::Seconds(1);
  absl::Duration shutdown_complete_timeout = absl::Seconds(10);
};

enum class ExitReason { kMaxTrials, kNoMoreWork, kIdle, kShutdown };
const char* ExitReasonName(ExitReason reason);

class WorkerLoop {
 public:
  WorkerLoop(std::unique_ptr<caviar::v1::WorkerService::StubInterface> stub,
             ObjectiveFactory factory, WorkerOptions options);
  WorkerLoop(const std::shared_ptr<grpc::Channel>& channel, ObjectiveFactory factory,
             WorkerOptions options);
  ~WorkerLoop();

  // Runs until one of ExitReason happens, or returns a fatal RPC error.
  absl::StatusOr<ExitReason> Run();
  void Shutdown();

  // Trials taken from the coordinator so far.
  int trials_run() const { return trials_run_.load(); }

 private:
  class TrialSession;
  friend class TrialSession;

  // Runs one leased trial to completion (or drops it); returns a fatal error.
  absl::Status RunTrial(const caviar::v1::SuggestTrialResponse& suggestion);
  // The checkpoint a lease resumes from, or nullopt (logged) if it cannot
  // be fetched.
  std::optional<ResumePoint> FetchResume(
      const caviar::v1::SuggestTrialResponse& suggestion);
  // Sends the completion, retrying transient failures.
  absl::Status Complete(const caviar::v1::CompleteTrialRequest& request);
  bool ShuttingDown() const { return shutdown_.HasBeenNotified(); }
  // One RPC with the options' token and deadline (or `deadline`, when
  // earlier). With `wait_for_ready`, a call made while the channel is
  // reconnecting waits for the connection instead of failing at once, so it
  // goes out the moment a restarted coordinator accepts connections;
  // Shutdown() cancels calls in flight.
  absl::Status Call(const std::function<grpc::Status(grpc::ClientContext*)>& rpc,
                    bool wait_for_ready = false,
                    absl::Time deadline = absl::InfiniteFuture());
  // Sleeps `d`, or less if Shutdown() is called.
  void SleepUnlessShutdown(absl::Duration d);

  const std::unique_ptr<caviar::v1::WorkerService::StubInterface> stub_;
  CheckpointClient checkpoints_;
  const ObjectiveFactory factory_;
  const WorkerOptions options_;
  absl::Notification shutdown_;
  absl::Mutex calls_mu_;
  std::set<grpc::ClientContext*> calls_ ABSL_GUARDED_BY(calls_mu_);
  std::atomic<int64_t> shutdown_at_nanos_{0};
  std::atomic<int> trials_run_{0};
};

}  // namespace caviar::worker

#endif  // CAVIAR_WORKER_WORKER_LOOP_H_
