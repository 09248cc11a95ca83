// The Coordinator's side of StudyService.Watch: what each committed change
// tells a watcher, and the snapshot a watcher starts from.
#include <algorithm>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "google/protobuf/util/message_differencer.h"
#include "server/scheduling/coordinator.h"
#include "server/scheduling/proto_util.h"
#include "server/scheduling/study_runtime.h"

namespace caviar::scheduling {
namespace {

using caviar::v1::Trial;
using caviar::v1::WatchEvent;

// Finished trials a study snapshot lists (the watcher's "latest ended").
constexpr int64_t kRecentFinished = 8;

WatchEvent NewEvent(caviar::v1::WatchEventKind kind, absl::Time now) {
  WatchEvent event;
  event.set_kind(kind);
  *event.mutable_time() = ToProto(now);
  return event;
}

}  // namespace

Coordinator::TrialBefore Coordinator::Before(const Trial* current) {
  TrialBefore before;
  if (current == nullptr) return before;
  before.existed = true;
  before.state = current->state();
  before.pause_requested = current->pause_requested();
  before.stop_reason = current->stop_reason();
  before.branches = current->branches_size();
  before.nudges.assign(current->nudges().begin(), current->nudges().end());
  return before;
}

bool Coordinator::PublishTrial(const StudyRuntime& study, const TrialBefore& before,
                               const Trial& after) {
  const absl::Time now = clock_->Now();
  const bool state_changed = !before.existed || before.state != after.state();
  if (state_changed || before.pause_requested != after.pause_requested() ||
      before.stop_reason != after.stop_reason()) {
    WatchEvent event = NewEvent(caviar::v1::WATCH_TRIAL, now);
    Trial* t = event.add_trials();
    *t = after;
    t->clear_measurements();
    feed_.Publish(study.name(), after.id(), event);
  }
  for (int i = before.branches; i < after.branches_size(); ++i) {
    WatchEvent event = NewEvent(caviar::v1::WATCH_ROLLBACK, now);
    event.set_trial_id(after.id());
    *event.mutable_branch() = after.branches(i);
    feed_.Publish(study.name(), after.id(), event);
  }
  for (int i = 0; i < after.nudges_size(); ++i) {
    const caviar::v1::Nudge& nudge = after.nudges(i);
    if (i < static_cast<int>(before.nudges.size()) &&
        google::protobuf::util::MessageDifferencer::Equals(before.nudges[i], nudge))
      continue;
    WatchEvent event = NewEvent(caviar::v1::WATCH_NUDGE, now);
    event.set_trial_id(after.id());
    *event.mutable_nudge() = nudge;
    feed_.Publish(study.name(), after.id(), event);
  }
  return state_changed;
}

void Coordinator::PublishStudy(const StudyRuntime& study) {
  WatchEvent event = NewEvent(caviar::v1::WATCH_STUDY, clock_->Now());
  *event.mutable_study() = StudyView(study);
  feed_.Publish(study.name(), 0, event);
}

void Coordinator::PublishMeasurement(const StudyRuntime& study, int64_t trial_id,
                                     const caviar::v1::Measurement& measurement) {
  WatchEvent event = NewEvent(caviar::v1::WATCH_MEASUREMENT, clock_->Now());
  event.set_trial_id(trial_id);
  *event.mutable_measurement() = measurement;
  feed_.Publish(study.name(), trial_id, event);
}

absl::StatusOr<WatchEvent> Coordinator::WatchSnapshot(
    const caviar::v1::WatchRequest& request, std::function<void()> wake,
    std::shared_ptr<watch::Subscription>* subscription) {
  if (request.study().empty() == (request.trial_id() == 0))
    return absl::InvalidArgumentError(
        "study, trial_id: give exactly one (a study's name or a trial id)");
  if (request.trial_id() < 0)
    return absl::InvalidArgumentError(
        absl::StrCat("trial_id: must be > 0, got ", request.trial_id()));
  absl::MutexLock lock(&mu_);
  WatchEvent snapshot = NewEvent(caviar::v1::WATCH_SNAPSHOT, clock_->Now());
  std::string name = request.study();
  if (request.trial_id() != 0) {
    CAVIAR_ASSIGN_OR_RETURN(Trial trial, AnyTrial(request.trial_id()));
    name = trial.study();
    *snapshot.add_trials() = std::move(trial);
  }
  StudyRuntime* study = FindStudy(name);
  if (study == nullptr)
    return absl::NotFoundError(absl::StrCat("study \"", name, "\" not found"));
  if (*subscription == nullptr) {
    *subscription = feed_.Subscribe(name, request.trial_id(), std::move(wake));
  } else {
    (*subscription)->Reset();
  }
  *snapshot.mutable_study() = StudyView(*study);

  storage::TrialQuery best;
  best.study = name;
  best.states = {caviar::v1::SUCCEEDED};
  best.order = study->spec().objective().goal() == caviar::v1::MAXIMIZE
                   ? storage::TrialQuery::Order::kObjectiveDescending
                   : storage::TrialQuery::Order::kObjectiveAscending;
  best.limit = 1;
  best.with_measurements = request.trial_id() == 0;
  CAVIAR_ASSIGN_OR_RETURN(storage::TrialPage best_page, store_->QueryTrials(best));
  Trial* best_trial = nullptr;
  if (!best_page.trials.empty() && best_page.trials[0].has_objective_value()) {
    best_trial = &best_page.trials[0];
    snapshot.set_best_trial_id(best_trial->id());
  }
  if (request.trial_id() != 0) return snapshot;

  // The unfinished trials with their curves, by id.
  std::vector<const Trial*> live;
  for (const auto& [id, owner] : live_trials_) {
    if (owner != study) continue;
    if (const Trial* t = study->FindLive(id)) live.push_back(t);
  }
  std::sort(live.begin(), live.end(),
            [](const Trial* a, const Trial* b) { return a->id() < b->id(); });
  for (const Trial* t : live) *snapshot.add_trials() = *t;
  // The latest finished ones, without curves; the best with its curve.
  storage::TrialQuery finished;
  finished.study = name;
  finished.states = {caviar::v1::SUCCEEDED, caviar::v1::FAILED, caviar::v1::STOPPED};
  finished.limit = 0;
  finished.count_total = true;
  CAVIAR_ASSIGN_OR_RETURN(storage::TrialPage counted, store_->QueryTrials(finished));
  finished.count_total = false;
  finished.offset = std::max<int64_t>(0, counted.total - kRecentFinished);
  finished.limit = kRecentFinished;
  CAVIAR_ASSIGN_OR_RETURN(storage::TrialPage recent, store_->QueryTrials(finished));
  for (Trial& t : recent.trials) {
    if (best_trial != nullptr && t.id() == best_trial->id()) continue;
    *snapshot.add_trials() = std::move(t);
  }
  if (best_trial != nullptr) {
    KeepBranchCurves(*best_trial);
    *snapshot.add_trials() = std::move(*best_trial);
  }
  return snapshot;
}

}  // namespace caviar::scheduling
