// The Coordinator's read-only calls: studies, trials, best trials. They
// change nothing; each takes the lock only to copy out what it answers.
#include <algorithm>
#include <cmath>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "server/scheduling/coordinator.h"
#include "server/scheduling/proto_util.h"
#include "server/scheduling/study_runtime.h"

namespace caviar::scheduling {

using caviar::v1::Study;
using caviar::v1::StudySpec;
using caviar::v1::Trial;

Study Coordinator::StudyView(const StudyRuntime& study) const {
  Study view = study.study();
  view.set_pending_trials(study.Count(caviar::v1::PENDING));
  view.set_active_trials(study.Count(caviar::v1::ACTIVE));
  view.set_succeeded_trials(study.Count(caviar::v1::SUCCEEDED));
  view.set_failed_trials(study.Count(caviar::v1::FAILED));
  view.set_stopped_trials(study.Count(caviar::v1::STOPPED));
  return view;
}

absl::StatusOr<Study> Coordinator::GetStudy(const std::string& name) {
  absl::MutexLock lock(&mu_);
  StudyRuntime* study = FindStudy(name);
  if (study == nullptr)
    return absl::NotFoundError(absl::StrCat("study \"", name, "\" not found"));
  return StudyView(*study);
}

std::vector<Study> Coordinator::ListStudies() {
  absl::MutexLock lock(&mu_);
  std::vector<Study> out;
  out.reserve(studies_.size());
  for (const auto& study : studies_) out.push_back(StudyView(*study));
  return out;
}

absl::StatusOr<caviar::v1::ListTrialsResponse> Coordinator::ListTrials(
    const caviar::v1::ListTrialsRequest& request) {
  if (request.page_size() < 0 || request.page_size() > 10000)
    return absl::InvalidArgumentError("page_size: must be in [0, 10000]");
  if (!request.order_by().empty() && request.order_by() != "id" &&
      request.order_by() != "objective")
    return absl::InvalidArgumentError(absl::StrCat(
        "order_by: must be \"id\" or \"objective\", got \"", request.order_by(), "\""));
  if (request.after_id() < 0)
    return absl::InvalidArgumentError("after_id: must be >= 0");
  int64_t offset = 0;
  if (!request.page_token().empty()) {
    if (!absl::SimpleAtoi(request.page_token(), &offset) || offset < 0)
      return absl::InvalidArgumentError(
          "page_token: not a token from a previous response");
  }
  storage::TrialQuery query;
  {
    absl::MutexLock lock(&mu_);
    StudyRuntime* study = FindStudy(request.study());
    if (study == nullptr)
      return absl::NotFoundError(
          absl::StrCat("study \"", request.study(), "\" not found"));
    if (request.order_by() == "objective")
      query.order = study->spec().objective().goal() == caviar::v1::MAXIMIZE
                        ? storage::TrialQuery::Order::kObjectiveDescending
                        : storage::TrialQuery::Order::kObjectiveAscending;
  }
  // The Store holds every committed change (memory follows it), so it
  // answers without the lock: workers are not held up by a long listing.
  query.study = request.study();
  for (int state : request.states())
    query.states.push_back(static_cast<caviar::v1::TrialState>(state));
  query.after_id = request.after_id();
  query.offset = offset;
  query.limit = request.page_size() == 0 ? 100 : request.page_size();
  query.with_measurements = request.include_measurements();
  query.count_total = true;
  CAVIAR_ASSIGN_OR_RETURN(storage::TrialPage page, store_->QueryTrials(query));
  caviar::v1::ListTrialsResponse response;
  response.set_total_size(static_cast<int32_t>(page.total));
  for (Trial& t : page.trials) {
    KeepBranchCurves(t);
    *response.add_trials() = std::move(t);
  }
  // A token past the end (or forged and huge) is an empty last page. After
  // an id, total counts what lies before it too: a full page may have more.
  const int64_t end = std::min(page.total, offset + query.limit);
  const bool full = static_cast<int64_t>(response.trials_size()) == query.limit;
  if (request.after_id() > 0 ? full : end < page.total)
    response.set_next_page_token(absl::StrCat(offset + query.limit));
  return response;
}

absl::StatusOr<Trial> Coordinator::GetTrial(int64_t id) {
  absl::MutexLock lock(&mu_);
  std::optional<LiveTrial> live = FindLive(id);
  // Memory holds the current branch's curve; a rolled-back trial's other
  // branches are in the Store (which holds every committed change).
  if (live.has_value() && live->trial->branches().empty()) return *live->trial;
  return StoredTrial(id);
}

absl::StatusOr<std::vector<Trial>> Coordinator::BestTrials(const std::string& name,
                                                           int top) {
  if (top < 0) return absl::InvalidArgumentError("top: must be >= 0");
  if (top == 0) top = 1;
  storage::TrialQuery query;
  {
    absl::MutexLock lock(&mu_);
    StudyRuntime* study = FindStudy(name);
    if (study == nullptr)
      return absl::NotFoundError(absl::StrCat("study \"", name, "\" not found"));
    query.order = study->spec().objective().goal() == caviar::v1::MAXIMIZE
                      ? storage::TrialQuery::Order::kObjectiveDescending
                      : storage::TrialQuery::Order::kObjectiveAscending;
  }
  query.study = name;
  query.states = {caviar::v1::SUCCEEDED};
  query.limit = top;
  query.with_measurements = true;
  CAVIAR_ASSIGN_OR_RETURN(storage::TrialPage page, store_->QueryTrials(query));
  std::vector<Trial> out;
  for (Trial& t : page.trials) {
    if (!t.has_objective_value() || std::isnan(t.objective_value())) break;
    KeepBranchCurves(t);
    out.push_back(std::move(t));
  }
  return out;
}

absl::StatusOr<std::string> Coordinator::LeaseHolder(int64_t id) {
  absl::MutexLock lock(&mu_);
  if (std::optional<LiveTrial> live = FindLive(id)) return live->trial->worker_id();
  CAVIAR_ASSIGN_OR_RETURN(const Trial stored, StoredTrial(id));
  return stored.worker_id();
}

bool Coordinator::MayHaveCheckpoint(int64_t id) {
  absl::MutexLock lock(&mu_);
  std::optional<LiveTrial> live = FindLive(id);
  return !live.has_value() || live->trial->attempt() > 1 ||
         live->trial->measurements_size() > 0 || checkpointed_.contains(id);
}

void Coordinator::NoteCheckpoint(int64_t id) {
  absl::MutexLock lock(&mu_);
  if (live_trials_.contains(id)) checkpointed_.insert(id);
}

absl::StatusOr<std::vector<search::TrialPoint>> Coordinator::FinishedPoints(
    StudyRuntime& study) {
  std::vector<search::TrialPoint> out;
  if (study.keeps_points()) {
    for (const search::TrialPoint& p : study.points()) {
      if (p.loss.has_value()) out.push_back(p);
    }
    return out;
  }
  storage::TrialQuery query;
  query.study = study.name();
  query.states = {caviar::v1::SUCCEEDED, caviar::v1::STOPPED};
  query.limit = 4096;
  for (;;) {
    CAVIAR_ASSIGN_OR_RETURN(storage::TrialPage page, store_->QueryTrials(query));
    for (const Trial& t : page.trials) {
      query.after_id = t.id();
      search::TrialPoint p = study.PointOf(t);
      if (p.loss.has_value()) out.push_back(std::move(p));
    }
    if (static_cast<int64_t>(page.trials.size()) < query.limit) break;
  }
  return out;
}

}  // namespace caviar::scheduling
