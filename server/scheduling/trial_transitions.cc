#include "server/scheduling/trial_transitions.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "server/scheduling/proto_util.h"
#include "server/scheduling/study_runtime.h"

namespace caviar::scheduling {
namespace {

using caviar::v1::StudySpec;
using caviar::v1::Trial;

Trial WithoutCurve(const Trial& trial) {
  Trial copy = trial;
  copy.clear_measurements();
  return copy;
}

void MarkDiverged(const StudySpec& spec, double value, Trial* t) {
  const std::string why = absl::StrCat("objective ", spec.objective().metric(), " is ", value);
  t->set_state(caviar::v1::FAILED);
  t->set_failure_kind(caviar::v1::DIVERGED);
  t->set_failure_reason(t->stop_reason().empty() ? why
                                                 : absl::StrCat(why, " (", t->stop_reason(), ")"));
}

// A trial cut short ends with its latest measurement that holds the
// objective as its result: STOPPED, or FAILED/DIVERGED if that value is NaN
// or infinite.
void EndCutShort(const StudySpec& spec, const Trial& current, absl::Time now, Trial* t) {
  t->set_state(caviar::v1::STOPPED);
  *t->mutable_end_time() = ToProto(now);
  for (int i = current.measurements_size() - 1; i >= 0; --i) {
    std::optional<double> v = ObjectiveIn(spec, current.measurements(i));
    if (!v.has_value()) continue;
    *t->mutable_final_measurement() = current.measurements(i);
    if (std::isfinite(*v)) {
      t->set_objective_value(*v);
    } else {
      MarkDiverged(spec, *v, t);
    }
    return;
  }
}

}  // namespace

Trial Lease(const Trial& trial, const std::string& worker, absl::Time now,
            absl::Duration lease) {
  Trial leased = WithoutCurve(trial);
  leased.set_state(caviar::v1::ACTIVE);
  leased.set_worker_id(worker);
  leased.set_attempt(trial.attempt() + 1);
  *leased.mutable_start_time() = ToProto(now);
  *leased.mutable_lease_deadline() = ToProto(now + lease);
  return leased;
}

Trial Complete(const StudySpec& spec, const Trial& current,
               const caviar::v1::CompleteTrialRequest& request, absl::Time now) {
  Trial t = WithoutCurve(current);
  t.clear_lease_deadline();
  const bool stopped = request.stopped() || !current.stop_reason().empty();
  std::optional<double> objective = ObjectiveIn(spec, request.final_measurement());
  if (request.failure_kind() != caviar::v1::FAILURE_KIND_UNSPECIFIED) {
    *t.mutable_end_time() = ToProto(now);
    *t.mutable_final_measurement() = request.final_measurement();
    if (objective.has_value() && std::isfinite(*objective)) t.set_objective_value(*objective);
    t.set_state(caviar::v1::FAILED);
    t.set_failure_kind(request.failure_kind());
    t.set_failure_reason(request.failure_reason());
    return t;
  }
  if (!objective.has_value() && stopped) {
    if (t.stop_reason().empty()) t.set_stop_reason("stopped by the worker");
    EndCutShort(spec, current, now, &t);
    return t;
  }
  *t.mutable_end_time() = ToProto(now);
  *t.mutable_final_measurement() = request.final_measurement();
  if (!objective.has_value()) {
    t.set_state(caviar::v1::FAILED);
    t.set_failure_kind(caviar::v1::CRASHED);
    t.set_failure_reason(absl::StrCat("finished without reporting the objective metric \"",
                                      spec.objective().metric(), "\""));
  } else if (!std::isfinite(*objective)) {
    MarkDiverged(spec, *objective, &t);
  } else {
    t.set_objective_value(*objective);
    if (stopped) {
      t.set_state(caviar::v1::STOPPED);
      if (t.stop_reason().empty()) t.set_stop_reason("stopped by the worker");
    } else {
      t.set_state(caviar::v1::SUCCEEDED);
    }
  }
  return t;
}

Trial Release(const StudySpec& spec, const Trial& current, absl::Time now) {
  Trial t = WithoutCurve(current);
  t.clear_lease_deadline();
  t.set_state(caviar::v1::PENDING);
  // It was told to stop anyway: it ends here, with its last measurement.
  if (!current.stop_reason().empty()) {
    EndCutShort(spec, current, now, &t);
  } else if (current.pause_requested()) {
    t.set_state(caviar::v1::PAUSED);  // A user paused it: it waits for resume.
    t.set_pause_requested(false);
  }
  return t;
}

Trial Expire(const StudySpec& spec, const Trial& current, const LeasePolicy& policy,
             absl::Time now) {
  Trial t = WithoutCurve(current);
  t.clear_lease_deadline();
  if (!current.stop_reason().empty()) {
    EndCutShort(spec, current, now, &t);
  } else if (current.attempt() >= 1 + policy.max_retries) {
    t.set_state(caviar::v1::FAILED);
    t.set_failure_kind(caviar::v1::LEASE_EXPIRED);
    t.set_failure_reason(absl::StrCat("lease expired on each of ", current.attempt(),
                                      " attempts (last worker \"", current.worker_id(),
                                      "\")"));
    *t.mutable_end_time() = ToProto(now);
  } else if (current.pause_requested()) {
    t.set_state(caviar::v1::PAUSED);  // Lost while pausing: it waits all the same.
    t.set_pause_requested(false);
  } else {
    t.set_state(caviar::v1::PENDING);
  }
  return t;
}

Trial StopPending(const Trial& current, absl::Time now) {
  Trial t = WithoutCurve(current);
  t.set_state(caviar::v1::STOPPED);
  t.set_stop_reason("study stopped before the trial ran");
  *t.mutable_end_time() = ToProto(now);
  return t;
}

StudyTally StudyTally::After(caviar::v1::TrialState from, caviar::v1::TrialState to) const {
  StudyTally after = *this;
  if (from != caviar::v1::TRIAL_STATE_UNSPECIFIED) --after.counts[from];
  ++after.counts[to];
  return after;
}

int MaxFailedTrials(const StudySpec& spec) {
  if (spec.budget().max_failed_trials() > 0) return spec.budget().max_failed_trials();
  return std::max(10, spec.budget().max_trials());
}

std::optional<std::string> StudyEndReason(const StudySpec& spec, const StudyTally& tally) {
  const bool idle =
      tally.count(caviar::v1::ACTIVE) == 0 && tally.count(caviar::v1::PENDING) == 0;
  if (tally.Finished() >= spec.budget().max_trials())
    return absl::StrCat("budget spent: ", tally.Finished(), " trials finished");
  if (tally.sampler_exhausted && idle) return "search space exhausted";
  if (tally.count(caviar::v1::FAILED) >= MaxFailedTrials(spec) && idle) {
    return absl::StrCat(tally.count(caviar::v1::FAILED),
                        " trials failed (budget.max_failed_trials)");
  }
  return std::nullopt;
}

caviar::v1::Study EndStudy(const caviar::v1::Study& study, const std::string& reason,
                           absl::Time now) {
  caviar::v1::Study ended = study;
  ended.set_state(caviar::v1::STUDY_COMPLETED);
  ended.set_state_reason(reason);
  *ended.mutable_end_time() = ToProto(now);
  return ended;
}

}  // namespace caviar::scheduling
