// The rules of a trial's life, as pure functions: given the trial as it is
// (with its learning curve where a rule needs it), an event and the time,
// each returns the trial as it must become. No I/O, no locks, no memory of
// their own: the Coordinator commits what they return (with the study's
// verdict, in the same transaction) and only then applies it to memory.
//
//   event                 from      to
//   Lease                 PENDING   ACTIVE (attempt + 1)        or a new trial
//   Complete (result)     ACTIVE    SUCCEEDED | FAILED | STOPPED
//   Release (handed back) ACTIVE    PENDING, or STOPPED if told to stop,
//                                   or PAUSED if a user paused it
//   Expire (lease lost)   ACTIVE    PENDING, FAILED (out of retries) or STOPPED,
//                                   or PAUSED if a user paused it
//   StopPending           PENDING   STOPPED (its study was stopped)
//
// One meaning of a NaN or infinite objective everywhere: the trial DIVERGED.
// It is FAILED with failure_kind DIVERGED, whether the worker reported it,
// a pruner stopped it for it, or it was cut short with it as its last value;
// like every FAILED trial it does not count against max_trials and counts
// against max_failed_trials.
//
// The returned trials carry no measurements (the curve is stored apart).
// Thread-safety: pure functions.
#ifndef CAVIAR_SERVER_SCHEDULING_TRIAL_TRANSITIONS_H_
#define CAVIAR_SERVER_SCHEDULING_TRIAL_TRANSITIONS_H_

#include <array>
#include <optional>
#include <string>

#include "absl/time/time.h"
#include "caviar/v1/service.pb.h"
#include "caviar/v1/study.pb.h"
#include "caviar/v1/trial.pb.h"

namespace caviar::scheduling {

// What a study's trial_policy resolves to (defaults filled in).
struct LeasePolicy {
  absl::Duration lease;
  int max_retries;
};

// PENDING (or new) -> ACTIVE for `worker`, attempt + 1, with a lease whose
// wall-clock deadline is now + lease (shown to users; the coordinator
// measures the lease itself on its monotonic clock).
caviar::v1::Trial Lease(const caviar::v1::Trial& trial, const std::string& worker,
                        absl::Time now, absl::Duration lease);

// ACTIVE -> final, from the worker's completion. `current` holds the curve
// (a stopped trial without a final objective keeps its last one).
caviar::v1::Trial Complete(const caviar::v1::StudySpec& spec,
                           const caviar::v1::Trial& current,
                           const caviar::v1::CompleteTrialRequest& request, absl::Time now);

// ACTIVE -> PENDING (the worker handed it back), or STOPPED with its last
// result if it had been told to stop.
caviar::v1::Trial Release(const caviar::v1::StudySpec& spec,
                          const caviar::v1::Trial& current, absl::Time now);

// ACTIVE -> PENDING, or FAILED (LEASE_EXPIRED) once attempts exceed
// 1 + max_retries, or STOPPED with its last result if it had been told to stop.
caviar::v1::Trial Expire(const caviar::v1::StudySpec& spec,
                         const caviar::v1::Trial& current, const LeasePolicy& policy,
                         absl::Time now);

// PENDING -> STOPPED: its study was stopped before it ran.
caviar::v1::Trial StopPending(const caviar::v1::Trial& current, absl::Time now);

// How many trials of a study are in each state, and whether its sampler has
// run out: all a study's verdict depends on.
struct StudyTally {
  std::array<int, 8> counts{};
  bool sampler_exhausted = false;

  int count(caviar::v1::TrialState s) const { return counts[s]; }
  int Finished() const { return counts[caviar::v1::SUCCEEDED] + counts[caviar::v1::STOPPED]; }
  // The tally once a trial moved from `from` to `to` (from = UNSPECIFIED
  // for a new trial).
  StudyTally After(caviar::v1::TrialState from, caviar::v1::TrialState to) const;
};

// max_failed_trials with its default (max(10, max_trials)).
int MaxFailedTrials(const caviar::v1::StudySpec& spec);

// Why an ACTIVE study must end now (budget spent, space exhausted, too many
// failures), or nullopt if it goes on. Only for STUDY_ACTIVE studies.
std::optional<std::string> StudyEndReason(const caviar::v1::StudySpec& spec,
                                          const StudyTally& tally);

// The study as it is once ended for `reason`.
caviar::v1::Study EndStudy(const caviar::v1::Study& study, const std::string& reason,
                           absl::Time now);

}  // namespace caviar::scheduling

#endif  // CAVIAR_SERVER_SCHEDULING_TRIAL_TRANSITIONS_H_
