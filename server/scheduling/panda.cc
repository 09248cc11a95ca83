// The Coordinator's panda-mode calls: babysit one trial by hand (nudge its
// settings, roll it back to an earlier checkpoint, pause and resume it).
// Each is one transition committed before memory changes.
#include <optional>
#include <string>

#include "absl/strings/str_cat.h"
#include "common/log.h"
#include "common/status_macros.h"
#include "server/scheduling/coordinator.h"
#include "server/scheduling/nudges.h"
#include "server/scheduling/proto_util.h"
#include "server/scheduling/study_runtime.h"

namespace caviar::scheduling {
namespace {

using caviar::v1::Trial;

absl::Status NotLive(const Trial& trial, absl::string_view what) {
  return absl::FailedPreconditionError(
      absl::StrCat("trial ", trial.id(), " is ",
                   caviar::v1::TrialState_Name(trial.state()), ": ", what));
}

Trial RolledBack(const Trial& current, const caviar::v1::RollbackTrialRequest& request,
                 int64_t from_step, absl::Time now) {
  return Branched(current, request.to_step(), from_step, request.parameters(),
                  request.outside_range(), now);
}

}  // namespace

absl::StatusOr<Coordinator::LiveTrial> Coordinator::LiveOrRefuse(
    int64_t id, const std::string& refusal) {
  std::optional<LiveTrial> live = FindLive(id);
  if (live.has_value()) return *live;
  CAVIAR_ASSIGN_OR_RETURN(const Trial stored, StoredTrial(id));
  return NotLive(stored, refusal);
}

absl::StatusOr<Trial> Coordinator::NudgeTrial(
    const caviar::v1::NudgeTrialRequest& request) {
  if (request.parameters().empty())
    return absl::InvalidArgumentError("parameters: give at least one");
  absl::MutexLock lock(&mu_);
  CAVIAR_ASSIGN_OR_RETURN(
      const LiveTrial live,
      LiveOrRefuse(request.trial_id(), "only a running trial can be nudged"));
  Trial* trial = live.trial;
  StudyRuntime& study = *live.study;
  CAVIAR_RETURN_IF_ERROR(CheckNudgeParameters(
      study.spec(), study.space(), request.parameters(), request.outside_range()));
  if (trial->state() != caviar::v1::ACTIVE)
    return NotLive(*trial, "only a running trial can be nudged");
  Trial updated = WithoutMeasurements(trial);
  const caviar::v1::Nudge nudge =
      NewNudge(*trial, request.parameters(), request.outside_range(), clock_->Now());
  *updated.add_nudges() = nudge;
  storage::WriteBatch batch;
  batch.PutTrial(updated);
  CAVIAR_RETURN_IF_ERROR(store_->Commit(batch));
  if (feed_.Watched(study.name())) PublishTrial(study, Before(trial), updated);
  *trial->add_nudges() = nudge;
  CAVIAR_LOG(INFO) << "trial " << trial->id() << " nudged (nudge " << nudge.id() << ")";
  return *trial;
}

absl::StatusOr<Trial> Coordinator::RollbackTrial(
    const caviar::v1::RollbackTrialRequest& request, int64_t from_step) {
  if (request.to_step() < 0)
    return absl::InvalidArgumentError(
        absl::StrCat("to_step: must be >= 0, got ", request.to_step()));
  absl::MutexLock lock(&mu_);
  CAVIAR_ASSIGN_OR_RETURN(
      const LiveTrial live,
      LiveOrRefuse(request.trial_id(),
                   "only a running, waiting or paused trial can be rolled back"));
  const Trial& current = *live.trial;
  StudyRuntime& study = *live.study;
  if (!request.parameters().empty()) {
    CAVIAR_RETURN_IF_ERROR(CheckNudgeParameters(
        study.spec(), study.space(), request.parameters(), request.outside_range()));
  }
  if (!current.stop_reason().empty())
    return absl::FailedPreconditionError(
        absl::StrCat("trial ", current.id(), " is being stopped (", current.stop_reason(),
                     "): it cannot be rolled back"));
  if (study.study().state() != caviar::v1::STUDY_ACTIVE)
    return absl::FailedPreconditionError(
        absl::StrCat("study \"", study.name(), "\" has ended (",
                     caviar::v1::StudyState_Name(study.study().state()),
                     "): its trials cannot be rolled back"));
  CAVIAR_ASSIGN_OR_RETURN(
      std::vector<Trial> done,
      CommitTransition(study, {},
                       {RolledBack(current, request, from_step, clock_->Now())},
                       std::nullopt));
  CAVIAR_LOG(INFO) << "trial " << request.trial_id() << " rolled back to step "
                   << from_step << " (asked " << request.to_step() << "): branch "
                   << done[0].branch();
  return std::move(done[0]);
}

absl::StatusOr<Trial> Coordinator::PauseTrial(int64_t id) {
  absl::MutexLock lock(&mu_);
  CAVIAR_ASSIGN_OR_RETURN(
      const LiveTrial live,
      LiveOrRefuse(id, "only a running or waiting trial can be paused"));
  const Trial& current = *live.trial;
  if (current.state() == caviar::v1::PAUSED || current.pause_requested())
    return current;  // Already paused, or on its way.
  Trial updated = current;
  updated.clear_measurements();
  if (current.state() == caviar::v1::PENDING) {
    updated.set_state(caviar::v1::PAUSED);
  } else {
    updated.set_pause_requested(true);  // Its worker hears it in its next report.
  }
  CAVIAR_ASSIGN_OR_RETURN(
      std::vector<Trial> done,
      CommitTransition(*live.study, {}, {std::move(updated)}, std::nullopt));
  CAVIAR_LOG(INFO) << "trial " << id << ": "
                   << (done[0].state() == caviar::v1::PAUSED ? "paused"
                                                             : "pause requested");
  return std::move(done[0]);
}

absl::StatusOr<Trial> Coordinator::ResumeTrial(int64_t id) {
  absl::MutexLock lock(&mu_);
  CAVIAR_ASSIGN_OR_RETURN(const LiveTrial live,
                          LiveOrRefuse(id, "only a paused trial can be resumed"));
  const Trial& current = *live.trial;
  if (current.state() != caviar::v1::PAUSED && !current.pause_requested())
    return NotLive(current, "only a paused trial can be resumed");
  Trial updated = current;
  updated.clear_measurements();
  updated.set_pause_requested(false);
  if (current.state() == caviar::v1::PAUSED) updated.set_state(caviar::v1::PENDING);
  CAVIAR_ASSIGN_OR_RETURN(
      std::vector<Trial> done,
      CommitTransition(*live.study, {}, {std::move(updated)}, std::nullopt));
  CAVIAR_LOG(INFO) << "trial " << id << " resumed";
  return std::move(done[0]);
}

}  // namespace caviar::scheduling
