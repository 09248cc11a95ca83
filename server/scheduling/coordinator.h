// Coordinator: the scheduling layer of caviar-coordinator. Owns every study's
// working state in memory (loaded from the Store at Create, written through
// on every change), hands out trial leases, takes progress reports and
// completions, expires leases, and ends studies. No gRPC here: server/rpc
// translates.
//
// Memory: live (PENDING, ACTIVE) trials in full; of a finished trial only
// its counts and, for samplers that read history, its point (unit cube,
// loss, state, round). Queries about finished trials read the Store.
//
// Durability: every method that changes state commits to the Store before
// it changes memory or returns; when it returns OK the change survives a
// kill -9. A failed commit changes nothing and returns the Store's error.
//
// Thread-safety: all methods are safe to call concurrently (one mutex; the
// hot paths are O(1) or O(running trials) in the size of a study's history).
//
// Status codes:
//   INVALID_ARGUMENT     bad spec (names the field) or bad request field.
//   ALREADY_EXISTS       CreateStudy with a taken name.
//   NOT_FOUND            unknown study or trial id.
//   FAILED_PRECONDITION  report/complete with a stale lease (expired, taken
//                        over, or not this worker's); StopStudy on an ended
//                        study.
//   INTERNAL/UNAVAILABLE from the Store.
#ifndef CAVIAR_SERVER_SCHEDULING_COORDINATOR_H_
#define CAVIAR_SERVER_SCHEDULING_COORDINATOR_H_

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "caviar/v1/service.pb.h"
#include "caviar/v1/study.pb.h"
#include "caviar/v1/trial.pb.h"
#include "common/clock.h"
#include "server/scheduling/spec_validation.h"
#include "server/search/sampler.h"
#include "server/scheduling/trial_transitions.h"
#include "server/watch/change_feed.h"
#include "storage/store.h"

namespace caviar::scheduling {

struct CoordinatorOptions {
  // Lease of a trial when its study's trial_policy.lease_seconds is 0.
  absl::Duration default_lease = absl::Seconds(60);
  // Retries after lost leases when trial_policy.max_retries is unset.
  int default_max_retries = 2;
  // What SuggestTrial tells an idle worker to wait before asking again.
  absl::Duration idle_retry_after = absl::Milliseconds(500);
  // A gap longer than this between two ExpireLeases calls means the
  // coordinator itself was stalled (SIGSTOP, a frozen VM, swap): its workers
  // could not be heard, so instead of expiring their leases it gives every
  // running trial a full lease from now. The server calls ExpireLeases every
  // second and sets this to a few seconds; infinite (off) for tests that
  // call ExpireLeases by hand.
  absl::Duration stall_threshold = absl::InfiniteDuration();
  ObjectiveValidator objective_validator;
};

class StudyRuntime;

class Coordinator {
 public:
  // Loads every study and trial from `store`. Trials found ACTIVE get a fresh
  // lease from now (their workers could not report while we were down), and
  // every study is decided again (one whose budget was spent by its last
  // stored trial ends now).
  // `store` and `clock` must outlive the coordinator.
  static absl::StatusOr<std::unique_ptr<Coordinator>> Create(storage::Store* store,
                                                             Clock* clock,
                                                             CoordinatorOptions options);
  ~Coordinator();

  // ---- users
  absl::StatusOr<caviar::v1::Study> CreateStudy(const caviar::v1::StudySpec& spec);
  absl::StatusOr<caviar::v1::Study> GetStudy(const std::string& name);
  std::vector<caviar::v1::Study> ListStudies();
  absl::StatusOr<caviar::v1::Study> StopStudy(const std::string& name,
                                              const std::string& reason);
  absl::StatusOr<caviar::v1::ListTrialsResponse> ListTrials(
      const caviar::v1::ListTrialsRequest& request);
  absl::StatusOr<caviar::v1::Trial> GetTrial(int64_t id);
  // Best finished (SUCCEEDED) trials by objective, best first.
  absl::StatusOr<std::vector<caviar::v1::Trial>> BestTrials(const std::string& study,
                                                            int top);

  // ---- steering the search
  // A new round inside a smaller region (see RefineStudyRequest). Reopens an
  // ended study when additional_trials > 0. INVALID_ARGUMENT naming the range
  // or option; FAILED_PRECONDITION for a grid study or too few finished
  // trials for top_fraction.
  absl::StatusOr<caviar::v1::Study> RefineStudy(
      const caviar::v1::RefineStudyRequest& request);
  // Explicit configurations, PENDING, served before sampled ones. Each is
  // checked against the space first (INVALID_ARGUMENT "configurations[2]:
  // parameter lr: ..."); nothing is added unless all are valid.
  absl::StatusOr<std::vector<caviar::v1::Trial>> EnqueueTrials(
      const caviar::v1::EnqueueTrialsRequest& request);
  // The configurations of the best succeeded trials again, origin RETEST
  // with retest_of set. FAILED_PRECONDITION when nothing has succeeded.
  absl::StatusOr<std::vector<caviar::v1::Trial>> RetestTrials(
      const caviar::v1::RetestTrialsRequest& request);
  // ---- panda mode (server/scheduling/panda.cc)
  // Queues hyperparameter changes for an ACTIVE trial (see NudgeTrialRequest
  // and server/scheduling/nudges.h for what a study takes). INVALID_ARGUMENT
  // naming the parameter and the reason; FAILED_PRECONDITION if the trial is
  // not ACTIVE.
  absl::StatusOr<caviar::v1::Trial> NudgeTrial(
      const caviar::v1::NudgeTrialRequest& request);
  // Starts a new branch of a live trial (ACTIVE, PENDING or PAUSED) from its
  // checkpoint at `from_step` (the edge picked it: the largest stored step
  // <= request.to_step, 0 = from scratch), with the request's settings as a
  // nudge applied before its first new step. A running trial's worker loses
  // its lease (its next report is refused); the trial waits for a worker
  // (PENDING), or stays PAUSED. INVALID_ARGUMENT for a negative step or
  // settings the study does not take; FAILED_PRECONDITION for a finished
  // trial, one being stopped, or an ended study.
  absl::StatusOr<caviar::v1::Trial> RollbackTrial(
      const caviar::v1::RollbackTrialRequest& request, int64_t from_step);
  // PENDING -> PAUSED at once; ACTIVE: its worker is told to checkpoint and
  // hand it back (CHECKPOINT_AND_RELEASE), which makes it PAUSED.
  // FAILED_PRECONDITION for other states.
  absl::StatusOr<caviar::v1::Trial> PauseTrial(int64_t id);
  // PAUSED -> PENDING (the next lease resumes from its latest checkpoint);
  // an ACTIVE trial whose pause was not carried out yet keeps running.
  // FAILED_PRECONDITION for other states.
  absl::StatusOr<caviar::v1::Trial> ResumeTrial(int64_t id);
  // ---- population-based training (server/scheduling/pbt.cc, pbt.h)
  // For a trial of a pbt study that just reported `request.measurement()`
  // under this lease: the trial it should copy now (it is ready, and in the
  // bottom quantile of the live trials that reached that step, ranked by
  // their objective at it), or nullopt.
  std::optional<int64_t> PbtParent(const caviar::v1::ReportProgressRequest& request);
  // The exploit, one commit: the trial (still leased as in `request`)
  // starts a new branch from `parent_checkpoint` (of another trial of its
  // study; the edge copies it to this trial at the same step before a
  // worker resumes it) with the parent's settings explored, the lineage in
  // Branch.exploit, the settings as a nudge handed over with the next
  // lease; the old lease is gone (its next report is refused).
  // FAILED_PRECONDITION for a lease no longer held, an ended study, a
  // trial being stopped or paused, or a checkpoint older than the parent's
  // branch.
  absl::StatusOr<caviar::v1::Trial> PbtExploit(
      const caviar::v1::ReportProgressRequest& request,
      const caviar::v1::CheckpointInfo& parent_checkpoint);
  // fANOVA importance of each parameter (server/search/importance.h).
  absl::StatusOr<caviar::v1::GetImportanceResponse> GetImportance(
      const std::string& study);

  // ---- watching (server/scheduling/watch_events.cc)
  // Every committed change of a watched study is published to feed() after
  // its commit, under the coordinator's lock (see change_feed.h).
  watch::ChangeFeed& feed() { return feed_; }
  // A snapshot of the study (request.study) or trial (request.trial_id) to
  // watch, taken under the same lock as `*subscription`'s start: a new
  // subscription when it is null, else its queue is reset (a watcher that
  // fell behind), so the snapshot and the events that follow it neither
  // miss nor repeat a change. `wake` as ChangeFeed::Subscribe.
  // INVALID_ARGUMENT unless exactly one of study and trial_id is given;
  // NOT_FOUND for an unknown one.
  absl::StatusOr<caviar::v1::WatchEvent> WatchSnapshot(
      const caviar::v1::WatchRequest& request, std::function<void()> wake,
      std::shared_ptr<watch::Subscription>* subscription);

  // ---- workers
  // A worker that asks again while it holds an ACTIVE trial gets that trial
  // back (retries are idempotent). Otherwise: a PENDING trial (lost lease or
  // enqueued) if any, else a new sampled one, in an active study with room.
  absl::StatusOr<caviar::v1::SuggestTrialResponse> SuggestTrial(
      const caviar::v1::SuggestTrialRequest& request);
  // Refused (FAILED_PRECONDITION) unless `worker` holds the trial's lease
  // with this attempt. A lease past its deadline that was not yet reaped is
  // still held. The reply may say STOP (pruned, or the study ended: with the
  // reason the study was stopped for).
  absl::StatusOr<caviar::v1::ReportProgressResponse> ReportProgress(
      const caviar::v1::ReportProgressRequest& request);
  // Ends the trial with the worker's result, or hands it back (release).
  // Accepted from the lease's holder, and from its last holder after the
  // lease expired as long as nobody else took the trial since (PENDING with
  // the same worker and attempt): a result finished during an outage is not
  // thrown away. Completing twice with the same lease returns the stored
  // result.
  absl::StatusOr<caviar::v1::Trial> CompleteTrial(
      const caviar::v1::CompleteTrialRequest& request);
  // The worker_id that holds (or last held) trial `id`'s lease; empty for a
  // trial never leased. NOT_FOUND for an unknown id. For the RPC edge, which
  // binds leases to the credential that took them.
  absl::StatusOr<std::string> LeaseHolder(int64_t id);
  // False when trial `id` cannot have a checkpoint yet: a live trial on its
  // first attempt that has reported nothing and uploaded nothing since this
  // coordinator started (a fresh one). Lets the edge skip the checkpoint
  // index on most leases.
  bool MayHaveCheckpoint(int64_t id);
  // A checkpoint of trial `id` is about to be stored (called before it is).
  void NoteCheckpoint(int64_t id);

  // ---- maintenance
  // Expired leases (measured on the clock's monotonic reading): back to
  // PENDING (attempt kept; the next lease is attempt + 1), or FAILED once
  // attempts exceed 1 + max_retries; a trial already told to stop becomes
  // STOPPED. After a stall (see CoordinatorOptions::stall_threshold) it
  // expires nothing and gives every running trial a full lease instead.
  // Returns how many trials it changed. Called by the server every second,
  // and by tests with a FakeClock.
  absl::StatusOr<int> ExpireLeases();

 private:
  Coordinator(storage::Store* store, Clock* clock, CoordinatorOptions options);
  absl::Status Load();

  StudyRuntime* FindStudy(const std::string& name) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // A live trial and its study.
  struct LiveTrial {
    StudyRuntime* study;
    caviar::v1::Trial* trial;
  };
  // The live trial `id`, or nullopt (finished or unknown).
  std::optional<LiveTrial> FindLive(int64_t id) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Trial `id` as stored, with its current attempt's curve; NOT_FOUND.
  absl::StatusOr<caviar::v1::Trial> StoredTrial(int64_t id);
  // Trial `id` from memory if live, else from the Store.
  absl::StatusOr<caviar::v1::Trial> AnyTrial(int64_t id) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::StatusOr<LiveTrial> FindLeasedTrial(int64_t id, const std::string& worker,
                                            int32_t attempt)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The live trial `id`; a finished one is FAILED_PRECONDITION "trial 3 is
  // SUCCEEDED: <refusal>"; NOT_FOUND for an unknown id.
  absl::StatusOr<LiveTrial> LiveOrRefuse(int64_t id, const std::string& refusal)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The finished trials' points of `study` (unit point, loss) for steering
  // and importance: from memory when the study keeps them, else read from
  // the Store.
  absl::StatusOr<std::vector<search::TrialPoint>> FinishedPoints(StudyRuntime& study)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Duration LeaseOf(const StudyRuntime& study) const;
  LeasePolicy PolicyOf(const StudyRuntime& study) const;

  // Commits one transition of `study` as one transaction: `batch` (other
  // writes, e.g. a measurement), the new states of trials in `changes` (new
  // trials or live ones), the study as it becomes (`updated_study`, if it
  // changes) and its verdict (ended if these changes spend its budget). Only
  // once that committed: applies the trials and the study to memory, the
  // lease table and the pruner (the caller applies what else it put in
  // `batch`). On error nothing changed. Returns the changed trials as they
  // now are (with curves), in the order of `changes`.
  absl::StatusOr<std::vector<caviar::v1::Trial>> CommitTransition(
      StudyRuntime& study, storage::WriteBatch batch,
      std::vector<caviar::v1::Trial> changes,
      std::optional<caviar::v1::Study> updated_study) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  // Hands a trial of `study` to `worker` if it has room; nullopt otherwise.
  absl::StatusOr<std::optional<caviar::v1::Trial>> LeaseFrom(StudyRuntime& study,
                                                             const std::string& worker)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  caviar::v1::Study StudyView(const StudyRuntime& study) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status ExpireLeasesLocked(StudyRuntime& study, absl::Time monotonic_now,
                                  int* changed) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Adds PENDING trials with these parameters in one commit, growing the
  // budget to fit them and reopening an ended study.
  absl::StatusOr<std::vector<caviar::v1::Trial>> AddPendingTrials(
      StudyRuntime& study, std::vector<caviar::v1::Trial> trials)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  // What a watcher must be told about a trial's change: its state before
  // (watch_events.cc). Captured only while someone watches the study.
  struct TrialBefore {
    bool existed = false;
    caviar::v1::TrialState state = caviar::v1::TRIAL_STATE_UNSPECIFIED;
    bool pause_requested = false;
    std::string stop_reason;
    int branches = 0;
    std::vector<caviar::v1::Nudge> nudges;
  };
  static TrialBefore Before(const caviar::v1::Trial* current);
  // Publishes what changed from `before` to `after` (the trial, its new
  // nudges and branches); true when its state changed (the study's counts).
  bool PublishTrial(const StudyRuntime& study, const TrialBefore& before,
                    const caviar::v1::Trial& after) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void PublishStudy(const StudyRuntime& study) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void PublishMeasurement(const StudyRuntime& study, int64_t trial_id,
                          const caviar::v1::Measurement& measurement)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  storage::Store* const store_;
  Clock* const clock_;
  const CoordinatorOptions options_;

  absl::Mutex mu_;
  std::vector<std::unique_ptr<StudyRuntime>> studies_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, StudyRuntime*> studies_by_name_ ABSL_GUARDED_BY(mu_);
  // The study of each live trial (finished ones are looked up in the Store).
  absl::flat_hash_map<int64_t, StudyRuntime*> live_trials_ ABSL_GUARDED_BY(mu_);
  // The trial each worker holds, for idempotent SuggestTrial.
  absl::flat_hash_map<std::string, int64_t> trial_of_worker_ ABSL_GUARDED_BY(mu_);
  // When each ACTIVE trial's lease runs out, on the clock's monotonic
  // reading (a wall-clock step moves no lease).
  absl::flat_hash_map<int64_t, absl::Time> lease_expiry_ ABSL_GUARDED_BY(mu_);
  // Live trials that may have a checkpoint (see MayHaveCheckpoint): every
  // live one at start, then those that uploaded one.
  absl::flat_hash_set<int64_t> checkpointed_ ABSL_GUARDED_BY(mu_);
  // Monotonic time of the last ExpireLeases call, to tell a stall.
  std::optional<absl::Time> last_reap_ ABSL_GUARDED_BY(mu_);
  int64_t last_trial_id_ ABSL_GUARDED_BY(mu_) = 0;
  size_t next_study_ ABSL_GUARDED_BY(mu_) = 0;  // Round-robin over studies.
  watch::ChangeFeed feed_;
};

}  // namespace caviar::scheduling

#endif  // CAVIAR_SERVER_SCHEDULING_COORDINATOR_H_
