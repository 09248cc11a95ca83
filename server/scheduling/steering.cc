// The Coordinator's steering calls: refine (zoom into a region), enqueue
// explicit configurations, re-test winners, and parameter importance.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>

#include "absl/strings/str_cat.h"
#include "common/log.h"
#include "common/status_macros.h"
#include "server/scheduling/coordinator.h"
#include "server/scheduling/proto_util.h"
#include "server/scheduling/study_runtime.h"
#include "server/search/importance.h"
#include "server/search/region.h"

namespace caviar::scheduling {
namespace {

using caviar::v1::Study;
using caviar::v1::Trial;

// Enqueue and retest add trials; a panda study has exactly one.
absl::Status RefusePanda(const caviar::v1::StudySpec& spec) {
  if (!IsPandaStudy(spec)) return absl::OkStatus();
  return absl::FailedPreconditionError(absl::StrCat(
      "study \"", spec.name(),
      "\" is a panda study: it has one trial, babysat with nudge, rollback, pause and "
      "resume; no trials can be added"));
}

absl::Status NotFound(const std::string& name) {
  return absl::NotFoundError(absl::StrCat("study \"", name, "\" not found"));
}

// Widens [lo, hi] of a finite parameter to whole bins, so that every value
// whose bin it touches can be drawn.
void SnapToBins(const search::SearchSpace& space, int i, double* lo, double* hi) {
  if (space.Cardinality(i) == 0) return;
  const double k = static_cast<double>(space.Cardinality(i));
  *lo = std::floor(*lo * k + 1e-9) / k;
  *hi = std::min(1.0, std::ceil(*hi * k - 1e-9) / k);
  if (*hi <= *lo) *hi = std::min(1.0, *lo + 1.0 / k);
}

// budget.max_trials is an int32: growing it by `added` trials from `base` is
// refused (naming `field`) rather than wrapped negative, which would end or
// wedge the study.
absl::StatusOr<int32_t> GrownBudget(int64_t base, int64_t added,
                                    const std::string& field) {
  constexpr int64_t kLimit = std::numeric_limits<int32_t>::max();
  if (added < 0 || base + added > kLimit)
    return absl::InvalidArgumentError(absl::StrCat(field, ": ", base, " + ", added,
                                                   " trials exceed the limit of ", kLimit,
                                                   " (budget.max_trials)"));
  return static_cast<int32_t>(base + added);
}

}  // namespace

absl::StatusOr<std::vector<Trial>> Coordinator::AddPendingTrials(
    StudyRuntime& study, std::vector<Trial> trials) {
  const absl::Time now = clock_->Now();
  Study updated = study.study();
  CAVIAR_ASSIGN_OR_RETURN(
      const int32_t needed,
      GrownBudget(study.Committed(), static_cast<int64_t>(trials.size()), "trials"));
  if (needed > updated.spec().budget().max_trials()) {
    updated.mutable_spec()->mutable_budget()->set_max_trials(needed);
  }
  if (updated.state() != caviar::v1::STUDY_ACTIVE) {
    updated.set_state(caviar::v1::STUDY_ACTIVE);
    updated.set_state_reason("reopened for new trials");
    updated.clear_end_time();
  }
  storage::WriteBatch batch;
  batch.UpdateStudy(updated);
  int64_t id = last_trial_id_;
  for (Trial& t : trials) {
    t.set_id(++id);
    t.set_study(study.name());
    t.set_state(caviar::v1::PENDING);
    t.set_seed(search::MixSeed(study.spec().seed() ^ 0x5eed, t.id()));
    *t.mutable_create_time() = ToProto(now);
    batch.PutTrial(t);
  }
  CAVIAR_RETURN_IF_ERROR(store_->Commit(batch));
  study.study() = std::move(updated);
  last_trial_id_ = id;
  const bool watched = feed_.Watched(study.name());
  for (const Trial& t : trials) {
    study.Apply(t);
    live_trials_[t.id()] = &study;
    if (watched) PublishTrial(study, TrialBefore(), t);
  }
  if (watched) PublishStudy(study);
  return trials;
}

absl::StatusOr<Study> Coordinator::RefineStudy(
    const caviar::v1::RefineStudyRequest& request) {
  if (request.additional_trials() < 0)
    return absl::InvalidArgumentError("additional_trials: must be >= 0");
  if (request.margin() < 0 || request.margin() > 1)
    return absl::InvalidArgumentError("margin: must be in [0, 1]");
  if (request.ranges().empty() &&
      !(request.top_fraction() > 0 && request.top_fraction() <= 1))
    return absl::InvalidArgumentError(
        "top_fraction: must be in (0, 1] when no parameter ranges are given");
  absl::MutexLock lock(&mu_);
  StudyRuntime* study = FindStudy(request.study());
  if (study == nullptr) return NotFound(request.study());
  if (study->spec().algorithm().name() == "grid")
    return absl::FailedPreconditionError(
        "refine: a grid study has a fixed grid; refine works with random, quasi_random, "
        "coarse_to_fine and tpe");
  if (IsPandaStudy(study->spec()))
    return absl::FailedPreconditionError(
        "refine: a panda study has one trial and no search to refine; nudge or roll "
        "it back instead");
  const search::SearchSpace& space = study->space();
  search::Box box = search::LatestRegion(space, &study->study().regions());
  std::vector<double>& lo = box.lo;
  std::vector<double>& hi = box.hi;

  if (!request.ranges().empty()) {
    for (const auto& [name, range] : request.ranges()) {
      const int i = space.IndexOf(name);
      const std::string field = absl::StrCat("ranges[", search::EchoForError(name), "]");
      if (i < 0)
        return absl::InvalidArgumentError(absl::StrCat(field, ": unknown parameter"));
      auto u_lo = space.ToUnit(i, range.lo());
      if (!u_lo.ok())
        return absl::InvalidArgumentError(
            absl::StrCat(field, ".lo: ", u_lo.status().message()));
      auto u_hi = space.ToUnit(i, range.hi());
      if (!u_hi.ok())
        return absl::InvalidArgumentError(
            absl::StrCat(field, ".hi: ", u_hi.status().message()));
      if (*u_lo > *u_hi) std::swap(*u_lo, *u_hi);
      if (*u_lo == *u_hi && space.Cardinality(i) == 0)
        return absl::InvalidArgumentError(absl::StrCat(field, ": lo and hi are equal"));
      lo[i] = *u_lo;
      hi[i] = *u_hi;
      SnapToBins(space, i, &lo[i], &hi[i]);
    }
  } else {
    CAVIAR_ASSIGN_OR_RETURN(const std::vector<search::TrialPoint> points,
                            FinishedPoints(*study));
    std::vector<const search::TrialPoint*> finished;
    for (const search::TrialPoint& p : points) finished.push_back(&p);
    const size_t keep =
        static_cast<size_t>(std::ceil(request.top_fraction() * finished.size()));
    if (finished.size() < 2 || keep < 1)
      return absl::FailedPreconditionError(
          absl::StrCat("refine --top needs at least 2 finished trials with an objective "
                       "value, the study "
                       "has ",
                       finished.size()));
    std::sort(finished.begin(), finished.end(),
              [](const auto* a, const auto* b) { return *a->loss < *b->loss; });
    for (int i = 0; i < space.size(); ++i) {
      double box_lo = 1.0, box_hi = 0.0;
      for (size_t k = 0; k < keep; ++k) {
        box_lo = std::min(box_lo, finished[k]->unit[i]);
        box_hi = std::max(box_hi, finished[k]->unit[i]);
      }
      const double width = box_hi - box_lo;
      box_lo = std::max(0.0, box_lo - request.margin() * std::max(width, 1e-3));
      box_hi = std::min(1.0, box_hi + request.margin() * std::max(width, 1e-3));
      if (box_hi <= box_lo) box_hi = std::min(1.0, box_lo + 1e-3);
      lo[i] = box_lo;
      hi[i] = box_hi;
      SnapToBins(space, i, &lo[i], &hi[i]);
    }
  }

  // Trials take their round from a recorded region, so the regions hold the
  // highest round so far.
  int round = 1;
  for (const auto& r : study->study().regions()) round = std::max(round, r.round() + 1);
  Study updated = study->study();
  caviar::v1::Region* region = updated.add_regions();
  *region = search::ToRegion(space, box, round, "refine");
  *region->mutable_create_time() = ToProto(clock_->Now());
  if (request.additional_trials() > 0) {
    auto* budget = updated.mutable_spec()->mutable_budget();
    CAVIAR_ASSIGN_OR_RETURN(
        const int32_t max_trials,
        GrownBudget(std::max(budget->max_trials(), study->Committed()),
                    request.additional_trials(), "additional_trials"));
    budget->set_max_trials(max_trials);
    if (updated.state() != caviar::v1::STUDY_ACTIVE) {
      updated.set_state(caviar::v1::STUDY_ACTIVE);
      updated.set_state_reason(absl::StrCat("refined: round ", round));
      updated.clear_end_time();
    }
  }
  storage::WriteBatch batch;
  batch.UpdateStudy(updated);
  CAVIAR_RETURN_IF_ERROR(store_->Commit(batch));
  study->study() = std::move(updated);
  study->sampler_exhausted = false;
  if (feed_.Watched(study->name())) PublishStudy(*study);
  CAVIAR_LOG(INFO) << "study " << study->name() << " refined: round " << round;
  return StudyView(*study);
}

absl::StatusOr<std::vector<Trial>> Coordinator::EnqueueTrials(
    const caviar::v1::EnqueueTrialsRequest& request) {
  if (request.configurations().empty())
    return absl::InvalidArgumentError("configurations: give at least one");
  absl::MutexLock lock(&mu_);
  StudyRuntime* study = FindStudy(request.study());
  if (study == nullptr) return NotFound(request.study());
  CAVIAR_RETURN_IF_ERROR(RefusePanda(study->spec()));
  std::vector<Trial> trials;
  for (int i = 0; i < request.configurations_size(); ++i) {
    const auto& params = request.configurations(i).parameters();
    absl::Status valid = study->space().ToUnitPoint(params).status();
    if (!valid.ok())
      return absl::InvalidArgumentError(
          absl::StrCat("configurations[", i, "]: ", valid.message()));
    Trial t;
    *t.mutable_parameters() = params;
    t.set_origin(caviar::v1::ENQUEUED);
    trials.push_back(std::move(t));
  }
  return AddPendingTrials(*study, std::move(trials));
}

absl::StatusOr<std::vector<Trial>> Coordinator::RetestTrials(
    const caviar::v1::RetestTrialsRequest& request) {
  if (request.top() < 0 || request.top() > 1000)
    return absl::InvalidArgumentError("top: must be in [0, 1000]");
  if (request.repeats() < 0 || request.repeats() > 100)
    return absl::InvalidArgumentError("repeats: must be in [0, 100]");
  const int top = request.top() == 0 ? 1 : request.top();
  const int repeats = request.repeats() == 0 ? 1 : request.repeats();
  absl::MutexLock lock(&mu_);
  StudyRuntime* study = FindStudy(request.study());
  if (study == nullptr) return NotFound(request.study());
  CAVIAR_RETURN_IF_ERROR(RefusePanda(study->spec()));
  // The best original configurations (a re-test stands for its original),
  // read from the Store best first.
  std::vector<Trial> originals;
  storage::TrialQuery query;
  query.study = request.study();
  query.states = {caviar::v1::SUCCEEDED};
  query.order = study->spec().objective().goal() == caviar::v1::MAXIMIZE
                    ? storage::TrialQuery::Order::kObjectiveDescending
                    : storage::TrialQuery::Order::kObjectiveAscending;
  query.limit = 256;
  for (bool more = true; more && static_cast<int>(originals.size()) < top;) {
    CAVIAR_ASSIGN_OR_RETURN(storage::TrialPage page, store_->QueryTrials(query));
    more = static_cast<int64_t>(page.trials.size()) == query.limit;
    query.offset += query.limit;
    for (Trial& t : page.trials) {
      if (!t.has_objective_value() || std::isnan(t.objective_value())) {
        more = false;  // Trials without a value come last.
        break;
      }
      if (t.origin() == caviar::v1::RETEST) continue;
      originals.push_back(std::move(t));
      if (static_cast<int>(originals.size()) == top) break;
    }
  }
  if (originals.empty())
    return absl::FailedPreconditionError(absl::StrCat(
        "study \"", request.study(), "\" has no succeeded trial to re-test"));
  std::vector<Trial> trials;
  for (const Trial& o : originals) {
    const Trial* original = &o;
    for (int r = 0; r < repeats; ++r) {
      Trial t;
      *t.mutable_parameters() = original->parameters();
      t.set_origin(caviar::v1::RETEST);
      t.set_retest_of(original->id());
      t.set_round(original->round());
      trials.push_back(std::move(t));
    }
  }
  return AddPendingTrials(*study, std::move(trials));
}

absl::StatusOr<caviar::v1::GetImportanceResponse> Coordinator::GetImportance(
    const std::string& name) {
  // The forest takes a while to grow: copy what it needs and let go of the
  // lock, so workers are not held up.
  std::optional<search::SearchSpace> space;
  std::vector<search::TrialPoint> finished;
  {
    absl::MutexLock lock(&mu_);
    StudyRuntime* study = FindStudy(name);
    if (study == nullptr) return NotFound(name);
    space = study->space();
    CAVIAR_ASSIGN_OR_RETURN(finished, FinishedPoints(*study));
  }
  CAVIAR_ASSIGN_OR_RETURN(std::vector<search::ParameterImportance> importance,
                          search::ComputeImportance(*space, finished));
  caviar::v1::GetImportanceResponse response;
  const int used = static_cast<int>(finished.size());
  response.set_trials_used(used);
  response.set_method("fANOVA on a random forest over the unit cube (scaled parameters)");
  for (const auto& p : importance) {
    caviar::v1::ParameterImportance* out = response.add_parameters();
    out->set_name(p.name);
    out->set_importance(p.importance);
    out->set_stddev(p.stddev);
  }
  return response;
}

}  // namespace caviar::scheduling
