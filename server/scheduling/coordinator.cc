#include "server/scheduling/coordinator.h"

#include <algorithm>
#include <cmath>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/log.h"
#include "common/status_macros.h"
#include "google/protobuf/util/message_differencer.h"
#include "server/scheduling/proto_util.h"
#include "server/scheduling/study_runtime.h"

namespace caviar::scheduling {
namespace {

using caviar::v1::Study;
using caviar::v1::StudySpec;
using caviar::v1::Trial;
using caviar::v1::TrialState;

int MaxFailedTrials(const StudySpec& spec) {
  if (spec.budget().max_failed_trials() > 0) return spec.budget().max_failed_trials();
  return std::max(10, spec.budget().max_trials());
}

// A trial cut short keeps its latest measurement that holds the objective as
// its result (final measurement and objective value, when finite).
void KeepLastResult(const StudySpec& spec, const Trial& current, Trial* updated) {
  for (int i = current.measurements_size() - 1; i >= 0; --i) {
    std::optional<double> v = ObjectiveIn(spec, current.measurements(i));
    if (!v.has_value()) continue;
    *updated->mutable_final_measurement() = current.measurements(i);
    if (std::isfinite(*v)) updated->set_objective_value(*v);
    return;
  }
}

absl::StatusOr<std::unique_ptr<StudyRuntime>> MakeRuntime(Study study) {
  CAVIAR_ASSIGN_OR_RETURN(search::SearchSpace space,
                          search::SearchSpace::Create(study.spec().parameters()));
  CAVIAR_ASSIGN_OR_RETURN(std::unique_ptr<search::Sampler> sampler,
                          search::CreateSampler(study.spec().algorithm(), space));
  CAVIAR_ASSIGN_OR_RETURN(std::unique_ptr<search::Pruner> pruner,
                          search::CreatePruner(study.spec().pruner()));
  return std::make_unique<StudyRuntime>(std::move(study), std::move(space),
                                        std::move(sampler), std::move(pruner));
}

}  // namespace

Coordinator::Coordinator(storage::Store* store, Clock* clock, CoordinatorOptions options)
    : store_(store), clock_(clock), options_(std::move(options)) {}

Coordinator::~Coordinator() = default;

absl::StatusOr<std::unique_ptr<Coordinator>> Coordinator::Create(
    storage::Store* store, Clock* clock, CoordinatorOptions options) {
  std::unique_ptr<Coordinator> coordinator(
      new Coordinator(store, clock, std::move(options)));
  CAVIAR_RETURN_IF_ERROR(coordinator->Load());
  return coordinator;
}

absl::Status Coordinator::Load() {
  absl::MutexLock lock(&mu_);
  CAVIAR_ASSIGN_OR_RETURN(last_trial_id_, store_->MaxTrialId());
  CAVIAR_ASSIGN_OR_RETURN(std::vector<Study> studies, store_->LoadStudies());
  const absl::Time now = clock_->Now();
  for (Study& study : studies) {
    const std::string name = study.spec().name();
    absl::StatusOr<std::unique_ptr<StudyRuntime>> runtime = MakeRuntime(std::move(study));
    if (!runtime.ok()) {
      return absl::InternalError(absl::StrCat(
          "stored study ", name, " no longer loads: ", runtime.status().message()));
    }
    StudyRuntime* rt = runtime->get();
    CAVIAR_ASSIGN_OR_RETURN(std::vector<Trial> trials, store_->LoadTrials(name));
    for (Trial& trial : trials) {
      // Only the latest attempt's learning curve is the trial's.
      auto* curve = trial.mutable_measurements();
      curve->erase(std::remove_if(curve->begin(), curve->end(),
                                  [&](const caviar::v1::Measurement& m) {
                                    return m.attempt() != 0 &&
                                           m.attempt() != trial.attempt();
                                  }),
                   curve->end());
      if (trial.state() == caviar::v1::ACTIVE) {
        *trial.mutable_lease_deadline() = ToProto(now + LeaseOf(*rt));
        trial_of_worker_[trial.worker_id()] = trial.id();
      }
      const size_t index = rt->Add(trial);
      trials_by_id_[trial.id()] = {rt, index};
      if (IsFinal(trial.state())) rt->pruner().OnTrialFinished(rt->trial(index));
    }
    studies_by_name_[name] = rt;
    studies_.push_back(*std::move(runtime));
  }
  CAVIAR_LOG(INFO) << "loaded " << studies_.size() << " studies, " << trials_by_id_.size()
                   << " trials";
  return absl::OkStatus();
}

absl::Duration Coordinator::LeaseOf(const StudyRuntime& study) const {
  const int seconds = study.spec().trial_policy().lease_seconds();
  return seconds > 0 ? absl::Seconds(seconds) : options_.default_lease;
}

int Coordinator::MaxRetriesOf(const StudyRuntime& study) const {
  const caviar::v1::TrialPolicy& policy = study.spec().trial_policy();
  return policy.max_retries() > 0 ? policy.max_retries() : options_.default_max_retries;
}

StudyRuntime* Coordinator::FindStudy(const std::string& name) {
  auto it = studies_by_name_.find(name);
  return it == studies_by_name_.end() ? nullptr : it->second;
}

absl::StatusOr<Trial*> Coordinator::FindTrial(int64_t id) {
  auto it = trials_by_id_.find(id);
  if (it == trials_by_id_.end())
    return absl::NotFoundError(absl::StrCat("trial ", id, " not found"));
  return &it->second.study->trial(it->second.index);
}

absl::StatusOr<Trial*> Coordinator::FindLeasedTrial(int64_t id, const std::string& worker,
                                                    int32_t attempt) {
  CAVIAR_ASSIGN_OR_RETURN(Trial * trial, FindTrial(id));
  if (trial->state() != caviar::v1::ACTIVE || trial->worker_id() != worker ||
      trial->attempt() != attempt) {
    return absl::FailedPreconditionError(absl::StrCat(
        "trial ", id, ": lease of worker \"", worker, "\" attempt ", attempt,
        " is no longer valid (trial is ", caviar::v1::TrialState_Name(trial->state()),
        ", attempt ", trial->attempt(),
        trial->worker_id().empty()
            ? ""
            : absl::StrCat(", worker \"", trial->worker_id(), "\""),
        ")"));
  }
  return trial;
}

Study Coordinator::StudyView(const StudyRuntime& study) const {
  Study view = study.study();
  view.set_pending_trials(study.Count(caviar::v1::PENDING));
  view.set_active_trials(study.Count(caviar::v1::ACTIVE));
  view.set_succeeded_trials(study.Count(caviar::v1::SUCCEEDED));
  view.set_failed_trials(study.Count(caviar::v1::FAILED));
  view.set_stopped_trials(study.Count(caviar::v1::STOPPED));
  return view;
}

// ------------------------------------------------------------------ users

absl::StatusOr<Study> Coordinator::CreateStudy(const StudySpec& spec) {
  CAVIAR_RETURN_IF_ERROR(ValidateStudySpec(spec, options_.objective_validator));
  Study study;
  *study.mutable_spec() = spec;
  if (study.spec().seed() == 0) {
    // A fixed seed per study makes its search reproducible from history.
    study.mutable_spec()->set_seed(search::MixSeed(
        absl::ToUnixNanos(clock_->Now()), std::hash<std::string>{}(spec.name())));
  }
  study.set_state(caviar::v1::STUDY_ACTIVE);
  *study.mutable_create_time() = ToProto(clock_->Now());

  absl::MutexLock lock(&mu_);
  if (FindStudy(spec.name()) != nullptr)
    return absl::AlreadyExistsError(
        absl::StrCat("study \"", spec.name(), "\" already exists"));
  CAVIAR_ASSIGN_OR_RETURN(std::unique_ptr<StudyRuntime> runtime, MakeRuntime(study));
  CAVIAR_RETURN_IF_ERROR(store_->CreateStudy(study));
  studies_by_name_[spec.name()] = runtime.get();
  studies_.push_back(std::move(runtime));
  CAVIAR_LOG(INFO) << "created study " << spec.name();
  return StudyView(*studies_.back());
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

absl::StatusOr<Study> Coordinator::StopStudy(const std::string& name,
                                             const std::string& reason) {
  absl::MutexLock lock(&mu_);
  StudyRuntime* study = FindStudy(name);
  if (study == nullptr)
    return absl::NotFoundError(absl::StrCat("study \"", name, "\" not found"));
  if (study->study().state() != caviar::v1::STUDY_ACTIVE) {
    return absl::FailedPreconditionError(
        absl::StrCat("study \"", name, "\" has already ended (",
                     caviar::v1::StudyState_Name(study->study().state()), ")"));
  }
  const absl::Time now = clock_->Now();
  Study updated = study->study();
  updated.set_state(caviar::v1::STUDY_STOPPED);
  updated.set_state_reason(reason.empty() ? "stopped by a user" : reason);
  *updated.mutable_end_time() = ToProto(now);
  // Trials waiting for a worker will not run; running ones hear STOP in
  // their next report.
  storage::WriteBatch batch;
  batch.UpdateStudy(updated);
  std::vector<std::pair<size_t, Trial>> changes;
  for (size_t i = 0; i < study->size(); ++i) {
    if (study->trial(i).state() != caviar::v1::PENDING) continue;
    Trial t = WithoutMeasurements(&study->trial(i));
    t.set_state(caviar::v1::STOPPED);
    t.set_stop_reason("study stopped before the trial ran");
    *t.mutable_end_time() = ToProto(now);
    batch.PutTrial(t);
    changes.emplace_back(i, std::move(t));
  }
  CAVIAR_RETURN_IF_ERROR(store_->Commit(batch));
  study->study() = std::move(updated);
  for (auto& [index, trial] : changes) study->Replace(index, std::move(trial));
  CAVIAR_LOG(INFO) << "stopped study " << name;
  return StudyView(*study);
}

absl::StatusOr<caviar::v1::ListTrialsResponse> Coordinator::ListTrials(
    const caviar::v1::ListTrialsRequest& request) {
  if (request.page_size() < 0 || request.page_size() > 10000)
    return absl::InvalidArgumentError("page_size: must be in [0, 10000]");
  if (!request.order_by().empty() && request.order_by() != "id" &&
      request.order_by() != "objective")
    return absl::InvalidArgumentError(absl::StrCat(
        "order_by: must be \"id\" or \"objective\", got \"", request.order_by(), "\""));
  int64_t offset = 0;
  if (!request.page_token().empty()) {
    if (!absl::SimpleAtoi(request.page_token(), &offset) || offset < 0)
      return absl::InvalidArgumentError(
          "page_token: not a token from a previous response");
  }
  absl::MutexLock lock(&mu_);
  StudyRuntime* study = FindStudy(request.study());
  if (study == nullptr)
    return absl::NotFoundError(absl::StrCat("study \"", request.study(), "\" not found"));
  std::vector<Trial*> matches;
  for (size_t i = 0; i < study->size(); ++i) {
    Trial& t = study->trial(i);
    if (!request.states().empty() &&
        std::find(request.states().begin(), request.states().end(), t.state()) ==
            request.states().end()) {
      continue;
    }
    matches.push_back(&t);
  }
  if (request.order_by() == "objective") {
    const StudySpec& spec = study->spec();
    std::stable_sort(matches.begin(), matches.end(), [&](const Trial* a, const Trial* b) {
      if (a->has_objective_value() != b->has_objective_value())
        return a->has_objective_value();
      if (!a->has_objective_value()) return false;
      return Better(spec, a->objective_value(), b->objective_value());
    });
  }
  const int64_t page_size = request.page_size() == 0 ? 100 : request.page_size();
  caviar::v1::ListTrialsResponse response;
  response.set_total_size(static_cast<int32_t>(matches.size()));
  const int64_t end = std::min<int64_t>(matches.size(), offset + page_size);
  for (int64_t i = offset; i < end; ++i) {
    Trial* out = response.add_trials();
    if (request.include_measurements()) {
      *out = *matches[i];
    } else {
      *out = WithoutMeasurements(matches[i]);
    }
  }
  if (end < static_cast<int64_t>(matches.size()))
    response.set_next_page_token(absl::StrCat(end));
  return response;
}

absl::StatusOr<Trial> Coordinator::GetTrial(int64_t id) {
  absl::MutexLock lock(&mu_);
  CAVIAR_ASSIGN_OR_RETURN(Trial * trial, FindTrial(id));
  return *trial;
}

absl::StatusOr<std::vector<Trial>> Coordinator::BestTrials(const std::string& name,
                                                           int top) {
  if (top < 0) return absl::InvalidArgumentError("top: must be >= 0");
  if (top == 0) top = 1;
  absl::MutexLock lock(&mu_);
  StudyRuntime* study = FindStudy(name);
  if (study == nullptr)
    return absl::NotFoundError(absl::StrCat("study \"", name, "\" not found"));
  std::vector<const Trial*> done;
  for (size_t i = 0; i < study->size(); ++i) {
    const Trial& t = study->trial(i);
    if (t.state() == caviar::v1::SUCCEEDED && t.has_objective_value()) done.push_back(&t);
  }
  const StudySpec& spec = study->spec();
  const size_t k = std::min<size_t>(top, done.size());
  std::partial_sort(done.begin(), done.begin() + k, done.end(),
                    [&](const Trial* a, const Trial* b) {
                      if (a->objective_value() == b->objective_value())
                        return a->id() < b->id();
                      return Better(spec, a->objective_value(), b->objective_value());
                    });
  std::vector<Trial> out;
  for (size_t i = 0; i < k; ++i) out.push_back(*done[i]);
  return out;
}

// ---------------------------------------------------------------- workers

absl::StatusOr<Trial*> Coordinator::LeaseFrom(StudyRuntime& study,
                                              const std::string& worker) {
  const StudySpec& spec = study.spec();
  if (study.study().state() != caviar::v1::STUDY_ACTIVE) return nullptr;
  if (spec.budget().max_parallel_trials() > 0 &&
      study.Count(caviar::v1::ACTIVE) >= spec.budget().max_parallel_trials()) {
    return nullptr;
  }
  const absl::Time now = clock_->Now();
  Trial leased;
  size_t index;
  bool is_new = false;
  std::optional<caviar::v1::Region> new_region;
  if (std::optional<int64_t> pending = study.FirstPending()) {
    index = trials_by_id_[*pending].index;
    leased = WithoutMeasurements(&study.trial(index));
  } else {
    if (study.sampler_exhausted || study.Committed() >= spec.budget().max_trials()) {
      return nullptr;
    }
    search::SampleContext context;
    context.space = &study.space();
    context.spec = &spec;
    context.trials = study.points();
    context.regions = &study.study().regions();
    context.trial_index = static_cast<int64_t>(study.size());
    context.seed = search::MixSeed(spec.seed(), context.trial_index);
    absl::StatusOr<search::Suggestion> suggestion = study.sampler().Suggest(context);
    if (!suggestion.ok()) {
      if (absl::IsOutOfRange(suggestion.status())) {
        study.sampler_exhausted = true;
        CAVIAR_RETURN_IF_ERROR(MaybeCompleteStudy(study));
      } else if (!absl::IsUnavailable(suggestion.status())) {
        CAVIAR_LOG(ERROR) << "sampler of study " << study.name()
                          << " failed: " << suggestion.status();
      }
      return nullptr;
    }
    if (suggestion->new_region.has_value()) {
      // The region becomes durable with the trial, in the same batch.
      new_region = *std::move(suggestion->new_region);
      *new_region->mutable_create_time() = ToProto(now);
    }
    leased.set_id(last_trial_id_ + 1);
    leased.set_study(study.name());
    *leased.mutable_parameters() = study.space().FromUnitPoint(suggestion->unit);
    leased.set_round(suggestion->round);
    leased.set_origin(caviar::v1::SAMPLED);
    leased.set_seed(search::MixSeed(spec.seed() ^ 0x5eed, leased.id()));
    *leased.mutable_create_time() = ToProto(now);
    is_new = true;
    index = study.size();
  }
  leased.set_state(caviar::v1::ACTIVE);
  leased.set_worker_id(worker);
  leased.set_attempt(leased.attempt() + 1);
  *leased.mutable_start_time() = ToProto(now);
  *leased.mutable_lease_deadline() = ToProto(now + LeaseOf(study));

  storage::WriteBatch batch;
  batch.PutTrial(leased);
  if (new_region.has_value()) {
    Study with_region = study.study();
    *with_region.add_regions() = *new_region;
    batch.UpdateStudy(with_region);
  }
  CAVIAR_RETURN_IF_ERROR(store_->Commit(batch));
  if (new_region.has_value()) *study.study().add_regions() = *std::move(new_region);
  if (is_new) {
    last_trial_id_ = leased.id();
    index = study.Add(leased);
    trials_by_id_[leased.id()] = {&study, index};
  } else {
    study.Replace(index, std::move(leased));
    // A new attempt starts from scratch (no checkpoints yet): so does its
    // curve. The earlier attempts' points stay in storage.
    study.trial(index).clear_measurements();
  }
  Trial* trial = &study.trial(index);
  trial_of_worker_[worker] = trial->id();
  return trial;
}

absl::StatusOr<caviar::v1::SuggestTrialResponse> Coordinator::SuggestTrial(
    const caviar::v1::SuggestTrialRequest& request) {
  if (request.worker_id().empty())
    return absl::InvalidArgumentError("worker_id: is empty");
  absl::MutexLock lock(&mu_);
  caviar::v1::SuggestTrialResponse response;
  StudyRuntime* only = nullptr;
  if (!request.study().empty()) {
    only = FindStudy(request.study());
    if (only == nullptr)
      return absl::NotFoundError(
          absl::StrCat("study \"", request.study(), "\" not found"));
  }
  // Idempotent retry: the worker already holds a live lease.
  auto held = trial_of_worker_.find(request.worker_id());
  if (held != trial_of_worker_.end()) {
    const TrialSlot& slot = trials_by_id_[held->second];
    Trial& trial = slot.study->trial(slot.index);
    if (trial.state() == caviar::v1::ACTIVE && trial.worker_id() == request.worker_id() &&
        (only == nullptr || only == slot.study)) {
      *response.mutable_trial() = WithoutMeasurements(&trial);
      *response.mutable_spec() = slot.study->spec();
      return response;
    }
  }
  Trial* leased = nullptr;
  if (only != nullptr) {
    CAVIAR_ASSIGN_OR_RETURN(leased, LeaseFrom(*only, request.worker_id()));
  } else {
    for (size_t n = 0; n < studies_.size() && leased == nullptr; ++n) {
      StudyRuntime& study = *studies_[(next_study_ + n) % studies_.size()];
      CAVIAR_ASSIGN_OR_RETURN(leased, LeaseFrom(study, request.worker_id()));
      if (leased != nullptr) next_study_ = (next_study_ + n + 1) % studies_.size();
    }
  }
  if (leased != nullptr) {
    *response.mutable_trial() = *leased;
    *response.mutable_spec() = studies_by_name_[leased->study()]->spec();
    return response;
  }
  response.set_retry_after_seconds(absl::ToDoubleSeconds(options_.idle_retry_after));
  if (only != nullptr && only->study().state() != caviar::v1::STUDY_ACTIVE) {
    response.set_no_more_work(true);
  }
  return response;
}

absl::StatusOr<caviar::v1::ReportProgressResponse> Coordinator::ReportProgress(
    const caviar::v1::ReportProgressRequest& request) {
  absl::MutexLock lock(&mu_);
  CAVIAR_ASSIGN_OR_RETURN(
      Trial * trial,
      FindLeasedTrial(request.trial_id(), request.worker_id(), request.attempt()));
  const TrialSlot slot = trials_by_id_[trial->id()];
  StudyRuntime& study = *slot.study;
  const absl::Time now = clock_->Now();
  if (FromProto(trial->lease_deadline()) < now) {
    // Expired but not yet reaped: the lease is gone all the same.
    return absl::FailedPreconditionError(
        absl::StrCat("trial ", trial->id(), ": lease expired"));
  }

  caviar::v1::ReportProgressResponse response;
  response.set_decision(caviar::v1::CONTINUE);
  response.set_lease_seconds(absl::ToDoubleSeconds(LeaseOf(study)));
  std::string stop_reason = trial->stop_reason();
  if (stop_reason.empty() && study.study().state() != caviar::v1::STUDY_ACTIVE) {
    stop_reason = "study ended";
  }
  // A report without a measurement is a heartbeat (the objective is busy);
  // a retried report whose first copy arrived is already stored.
  caviar::v1::Measurement measurement = request.measurement();
  measurement.set_attempt(trial->attempt());
  const bool record =
      request.has_measurement() && !(trial->measurements_size() > 0 &&
                                     google::protobuf::util::MessageDifferencer::Equals(
                                         *trial->measurements().rbegin(), measurement));
  if (record) {
    study.AddMeasurement(slot.index, measurement);
    if (stop_reason.empty()) {
      search::PruneContext context;
      context.spec = &study.spec();
      context.trial = trial;
      context.trials = study.trial_pointers();
      search::PruneDecision decision = study.pruner().OnReport(context);
      if (decision.stop)
        stop_reason = decision.reason.empty() ? "pruned" : decision.reason;
    }
  }
  const bool newly_stopped = !stop_reason.empty() && trial->stop_reason().empty();
  bool nudges_waiting = false;
  for (const caviar::v1::Nudge& nudge : trial->nudges()) {
    nudges_waiting |= !nudge.has_delivered_after_step();
  }
  const int64_t last_step =
      trial->measurements_size() > 0 ? trial->measurements().rbegin()->step() : 0;

  storage::WriteBatch batch;
  if (record) batch.AddMeasurement(trial->id(), measurement);
  if (newly_stopped || nudges_waiting) {
    Trial updated = WithoutMeasurements(trial);
    updated.set_stop_reason(stop_reason);
    for (caviar::v1::Nudge& nudge : *updated.mutable_nudges()) {
      if (!nudge.has_delivered_after_step()) nudge.set_delivered_after_step(last_step);
    }
    batch.PutTrial(updated);
  }
  if (!batch.empty()) {
    absl::Status committed = store_->Commit(batch);
    if (!committed.ok()) {
      if (record) trial->mutable_measurements()->RemoveLast();
      return committed;
    }
  }
  trial->set_stop_reason(stop_reason);
  for (caviar::v1::Nudge& nudge : *trial->mutable_nudges()) {
    if (nudge.has_delivered_after_step()) continue;
    nudge.set_delivered_after_step(last_step);
    for (const auto& [name, value] : nudge.parameters()) {
      (*response.mutable_parameter_updates())[name] = value;  // Later nudges win.
    }
  }
  *trial->mutable_lease_deadline() = ToProto(now + LeaseOf(study));
  if (!stop_reason.empty()) {
    response.set_decision(caviar::v1::STOP);
    response.set_reason(stop_reason);
  }
  return response;
}

absl::StatusOr<Trial> Coordinator::CompleteTrial(
    const caviar::v1::CompleteTrialRequest& request) {
  absl::MutexLock lock(&mu_);
  CAVIAR_ASSIGN_OR_RETURN(Trial * current, FindTrial(request.trial_id()));
  // Completing twice with the same lease returns the stored result.
  if (IsFinal(current->state()) && current->worker_id() == request.worker_id() &&
      current->attempt() == request.attempt() && current->end_time().seconds() != 0 &&
      current->failure_kind() != caviar::v1::LEASE_EXPIRED) {
    return *current;
  }
  CAVIAR_ASSIGN_OR_RETURN(
      Trial * trial,
      FindLeasedTrial(request.trial_id(), request.worker_id(), request.attempt()));
  const TrialSlot slot = trials_by_id_[trial->id()];
  StudyRuntime& study = *slot.study;
  const StudySpec& spec = study.spec();
  const absl::Time now = clock_->Now();

  if (request.release()) return ReleaseLocked(study, slot.index);

  Trial updated = WithoutMeasurements(trial);
  *updated.mutable_end_time() = ToProto(now);
  updated.clear_lease_deadline();
  *updated.mutable_final_measurement() = request.final_measurement();
  std::optional<double> objective = ObjectiveIn(spec, request.final_measurement());
  if (objective.has_value()) {
    updated.set_objective_value(*objective);
  } else if (request.stopped() || !trial->stop_reason().empty()) {
    KeepLastResult(spec, *trial, &updated);
    if (updated.has_objective_value()) objective = updated.objective_value();
  }

  if (request.failure_kind() != caviar::v1::FAILURE_KIND_UNSPECIFIED) {
    updated.set_state(caviar::v1::FAILED);
    updated.set_failure_kind(request.failure_kind());
    updated.set_failure_reason(request.failure_reason());
  } else if (request.stopped() || !trial->stop_reason().empty()) {
    updated.set_state(caviar::v1::STOPPED);
    if (updated.stop_reason().empty()) updated.set_stop_reason("stopped by the worker");
  } else if (!objective.has_value()) {
    updated.set_state(caviar::v1::FAILED);
    updated.set_failure_kind(caviar::v1::CRASHED);
    updated.set_failure_reason(
        absl::StrCat("finished without reporting the objective metric \"",
                     spec.objective().metric(), "\""));
  } else if (!std::isfinite(*objective)) {
    updated.set_state(caviar::v1::FAILED);
    updated.set_failure_kind(caviar::v1::DIVERGED);
    updated.set_failure_reason(
        absl::StrCat("objective ", spec.objective().metric(), " is ", *objective));
  } else {
    updated.set_state(caviar::v1::SUCCEEDED);
  }
  if (updated.has_objective_value() && !std::isfinite(updated.objective_value()))
    updated.clear_objective_value();

  storage::WriteBatch batch;
  batch.PutTrial(updated);
  CAVIAR_RETURN_IF_ERROR(store_->Commit(batch));
  study.Replace(slot.index, std::move(updated));
  trial_of_worker_.erase(request.worker_id());
  study.pruner().OnTrialFinished(study.trial(slot.index));
  CAVIAR_RETURN_IF_ERROR(MaybeCompleteStudy(study));
  return study.trial(slot.index);
}

absl::StatusOr<std::string> Coordinator::LeaseHolder(int64_t id) {
  absl::MutexLock lock(&mu_);
  CAVIAR_ASSIGN_OR_RETURN(Trial * trial, FindTrial(id));
  return trial->worker_id();
}

absl::StatusOr<Trial> Coordinator::ReleaseLocked(StudyRuntime& study, size_t index) {
  Trial updated = WithoutMeasurements(&study.trial(index));
  const Trial& current = study.trial(index);
  updated.clear_lease_deadline();
  updated.set_state(caviar::v1::PENDING);
  if (!current.stop_reason().empty()) {
    // It was told to stop anyway: it ends here, with its last measurement.
    updated.set_state(caviar::v1::STOPPED);
    *updated.mutable_end_time() = ToProto(clock_->Now());
    KeepLastResult(study.spec(), current, &updated);
  }
  storage::WriteBatch batch;
  batch.PutTrial(updated);
  CAVIAR_RETURN_IF_ERROR(store_->Commit(batch));
  trial_of_worker_.erase(current.worker_id());
  CAVIAR_LOG(INFO) << "trial " << current.id() << " of study " << study.name()
                   << " released by worker " << current.worker_id();
  study.Replace(index, std::move(updated));
  if (IsFinal(study.trial(index).state())) {
    study.pruner().OnTrialFinished(study.trial(index));
    CAVIAR_RETURN_IF_ERROR(MaybeCompleteStudy(study));
  }
  return study.trial(index);
}

absl::Status Coordinator::MaybeCompleteStudy(StudyRuntime& study) {
  if (study.study().state() != caviar::v1::STUDY_ACTIVE) return absl::OkStatus();
  const StudySpec& spec = study.spec();
  std::string reason;
  const bool idle =
      study.Count(caviar::v1::ACTIVE) == 0 && study.Count(caviar::v1::PENDING) == 0;
  if (study.Finished() >= spec.budget().max_trials()) {
    reason = absl::StrCat("budget spent: ", study.Finished(), " trials finished");
  } else if (study.sampler_exhausted && idle) {
    reason = "search space exhausted";
  } else if (study.Count(caviar::v1::FAILED) >= MaxFailedTrials(spec) && idle) {
    reason = absl::StrCat(study.Count(caviar::v1::FAILED),
                          " trials failed (budget.max_failed_trials)");
  } else {
    return absl::OkStatus();
  }
  Study updated = study.study();
  updated.set_state(caviar::v1::STUDY_COMPLETED);
  updated.set_state_reason(reason);
  *updated.mutable_end_time() = ToProto(clock_->Now());
  storage::WriteBatch batch;
  batch.UpdateStudy(updated);
  CAVIAR_RETURN_IF_ERROR(store_->Commit(batch));
  study.study() = std::move(updated);
  CAVIAR_LOG(INFO) << "study " << study.name() << " completed: " << reason;
  return absl::OkStatus();
}

// ------------------------------------------------------------ maintenance

absl::Status Coordinator::ExpireLeasesLocked(StudyRuntime& study, int* changed) {
  const absl::Time now = clock_->Now();
  std::vector<int64_t> expired;
  for (int64_t id : study.active()) {
    const Trial& t = study.trial(trials_by_id_[id].index);
    if (FromProto(t.lease_deadline()) <= now) expired.push_back(id);
  }
  for (int64_t id : expired) {
    const size_t index = trials_by_id_[id].index;
    Trial updated = WithoutMeasurements(&study.trial(index));
    const Trial& current = study.trial(index);
    updated.clear_lease_deadline();
    if (!current.stop_reason().empty()) {
      updated.set_state(caviar::v1::STOPPED);
      *updated.mutable_end_time() = ToProto(now);
      KeepLastResult(study.spec(), current, &updated);
    } else if (current.attempt() >= 1 + MaxRetriesOf(study)) {
      updated.set_state(caviar::v1::FAILED);
      updated.set_failure_kind(caviar::v1::LEASE_EXPIRED);
      updated.set_failure_reason(
          absl::StrCat("lease expired on each of ", current.attempt(),
                       " attempts (last worker \"", current.worker_id(), "\")"));
      *updated.mutable_end_time() = ToProto(now);
    } else {
      updated.set_state(caviar::v1::PENDING);
    }
    storage::WriteBatch batch;
    batch.PutTrial(updated);
    CAVIAR_RETURN_IF_ERROR(store_->Commit(batch));
    CAVIAR_LOG(WARNING) << "trial " << id << " of study " << study.name()
                        << ": lease of worker " << current.worker_id() << " expired -> "
                        << caviar::v1::TrialState_Name(updated.state());
    auto held = trial_of_worker_.find(current.worker_id());
    if (held != trial_of_worker_.end() && held->second == id)
      trial_of_worker_.erase(held);
    study.Replace(index, std::move(updated));
    if (IsFinal(study.trial(index).state()))
      study.pruner().OnTrialFinished(study.trial(index));
    ++*changed;
  }
  if (!expired.empty()) CAVIAR_RETURN_IF_ERROR(MaybeCompleteStudy(study));
  return absl::OkStatus();
}

absl::StatusOr<int> Coordinator::ExpireLeases() {
  absl::MutexLock lock(&mu_);
  int changed = 0;
  for (auto& study : studies_)
    CAVIAR_RETURN_IF_ERROR(ExpireLeasesLocked(*study, &changed));
  return changed;
}

}  // namespace caviar::scheduling
