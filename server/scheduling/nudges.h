// Nudges (a running trial's settings changed by hand) as the scheduling
// layer keeps them: which values a study takes, a new nudge's record, and
// the bookkeeping of a progress report (delivered, acknowledged as
// applied, a rollback's branch under way). Pure functions over the proto
// messages; the Coordinator commits what they return.
//
// The rules (NudgeTrialRequest, RollbackTrialRequest):
//   - a built-in-trainer study takes any trainer setting that may change
//     while training (common/trainer_settings/nudge_rules.h), searched or
//     fixed; a searched one must stay inside the study's range unless
//     outside_range is set;
//   - another study takes its own parameters, inside their range, or of
//     the parameter's type anywhere with outside_range.
// Errors: INVALID_ARGUMENT "parameters[<name>]: <reason>".
//
// Thread-safety: pure functions.
#ifndef CAVIAR_SERVER_SCHEDULING_NUDGES_H_
#define CAVIAR_SERVER_SCHEDULING_NUDGES_H_

#include <cstdint>
#include <optional>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "caviar/v1/service.pb.h"
#include "caviar/v1/trial.pb.h"
#include "server/search/space.h"

namespace caviar::scheduling {

absl::Status CheckNudgeParameters(const caviar::v1::StudySpec& spec,
                                  const search::SearchSpace& space,
                                  const search::ParameterMap& parameters,
                                  bool outside_range);

// The next nudge of `trial` (id = its count + 1, on its current branch).
caviar::v1::Nudge NewNudge(const caviar::v1::Trial& trial,
                           const search::ParameterMap& parameters, bool outside_range,
                           absl::Time now);

// True when a progress report changes `trial`'s record: a nudge waits for
// delivery, the report acknowledges one not yet marked applied, or it
// trains past a pending rollback's checkpoint. `trained_step`: the step of
// the report's measurement (unset for a heartbeat; acks count only with a
// measurement).
bool NudgeProgressDue(const caviar::v1::Trial& trial,
                      const caviar::v1::ReportProgressRequest& request,
                      std::optional<int64_t> trained_step);

// Applies that change to `trial`: nudges waiting are delivered after
// `last_step` (and added to `response`, its parameter_updates and nudges),
// acknowledged ones applied at `trained_step`, a rollback past its
// checkpoint no longer pending.
void NoteNudgeProgress(const caviar::v1::ReportProgressRequest& request,
                       std::optional<int64_t> trained_step, int64_t last_step,
                       caviar::v1::Trial* trial,
                       caviar::v1::ReportProgressResponse* response);

// The trial as a new branch from its checkpoint at `from_step` makes it
// (a rollback, or a pbt exploit): waiting for a worker (or still paused),
// its lease's holder forgotten (a late result of the old branch is
// refused), `parameters` (if any) as a nudge handed over with the next
// lease. `requested_step`: the step asked for (Branch.requested_step).
caviar::v1::Trial Branched(const caviar::v1::Trial& current, int64_t requested_step,
                           int64_t from_step, const search::ParameterMap& parameters,
                           bool outside_range, absl::Time now);

// What a lease of `trial` that resumes after `resume_step` (0: from
// scratch) hands over to apply before its first new step: a rollback's
// settings not yet applied, and, when resuming from a checkpoint, the
// branch's nudges applied after that checkpoint was saved (its state lacks
// them).
std::vector<caviar::v1::Nudge> LeaseNudges(const caviar::v1::Trial& trial,
                                           int64_t resume_step);

}  // namespace caviar::scheduling

#endif  // CAVIAR_SERVER_SCHEDULING_NUDGES_H_
