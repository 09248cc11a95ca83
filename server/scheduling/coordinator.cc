#include "server/scheduling/coordinator.h"

#include <algorithm>
#include <cmath>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/log.h"
#include "common/status_macros.h"
#include "google/protobuf/util/message_differencer.h"
#include "server/scheduling/nudges.h"
#include "server/scheduling/proto_util.h"
#include "server/scheduling/spec_validation.h"
#include "server/scheduling/study_runtime.h"
#include "server/search/panda_start.h"

namespace caviar::scheduling {
namespace {

using caviar::v1::Study;
using caviar::v1::StudySpec;
using caviar::v1::Trial;
using caviar::v1::TrialState;

// Longest worker id accepted (it is stored with every trial and echoed).
constexpr size_t kMaxWorkerIdBytes = 256;

absl::Status CheckWorkerId(const std::string& worker_id) {
  if (worker_id.empty()) return absl::InvalidArgumentError("worker_id: is empty");
  if (worker_id.size() > kMaxWorkerIdBytes)
    return absl::InvalidArgumentError(absl::StrCat("worker_id: ", worker_id.size(),
                                                   " bytes, more than the limit of ",
                                                   kMaxWorkerIdBytes));
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<StudyRuntime>> MakeRuntime(Study study) {
  CAVIAR_ASSIGN_OR_RETURN(search::SearchSpace space,
                          search::SearchSpace::Create(study.spec().parameters()));
  CAVIAR_ASSIGN_OR_RETURN(std::unique_ptr<search::Sampler> sampler,
                          search::CreateSampler(study.spec().algorithm(), space));
  CAVIAR_ASSIGN_OR_RETURN(
      std::unique_ptr<search::Pruner> pruner,
      search::CreatePruner(study.spec().pruner(), study.spec().objective()));
  return std::make_unique<StudyRuntime>(std::move(study), std::move(space),
                                        std::move(sampler), std::move(pruner));
}

// Trials read per Store query while loading a study: bounds the memory a
// start-up needs, whatever the size of the history.
constexpr int64_t kLoadPage = 4096;

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
  const absl::Time monotonic = clock_->Monotonic();
  int64_t loaded = 0;
  for (Study& study : studies) {
    const std::string name = study.spec().name();
    absl::StatusOr<std::unique_ptr<StudyRuntime>> runtime = MakeRuntime(std::move(study));
    if (!runtime.ok()) {
      return absl::InternalError(absl::StrCat(
          "stored study ", name, " no longer loads: ", runtime.status().message()));
    }
    StudyRuntime* rt = runtime->get();
    storage::TrialQuery query;
    query.study = name;
    query.limit = kLoadPage;
    query.with_measurements = true;
    for (;;) {
      CAVIAR_ASSIGN_OR_RETURN(storage::TrialPage page, store_->QueryTrials(query));
      for (Trial& trial : page.trials) {
        KeepCurrentAttemptCurve(trial);
        if (trial.state() == caviar::v1::ACTIVE) {
          // Its worker could not report while we were down: a full lease
          // from now (the wall-clock deadline shown stays as stored until
          // then).
          lease_expiry_[trial.id()] = monotonic + LeaseOf(*rt);
          trial_of_worker_[trial.worker_id()] = trial.id();
        }
        if (!IsFinal(trial.state())) {
          live_trials_[trial.id()] = rt;
          checkpointed_.insert(trial.id());  // Uploads before the restart are unknown.
        }
        rt->pruner().TakeIn(trial);
        ++loaded;
        query.after_id = trial.id();
        rt->Apply(std::move(trial));
      }
      if (static_cast<int64_t>(page.trials.size()) < kLoadPage) break;
    }
    studies_by_name_[name] = rt;
    studies_.push_back(*std::move(runtime));
    // Decided again: a process killed between a trial's last write and the
    // study's verdict (older versions wrote them apart) left it ACTIVE.
    if (rt->study().state() == caviar::v1::STUDY_ACTIVE &&
        StudyEndReason(rt->spec(), rt->tally()).has_value()) {
      CAVIAR_RETURN_IF_ERROR(CommitTransition(*rt, {}, {}, std::nullopt).status());
    }
  }
  CAVIAR_LOG(INFO) << "loaded " << studies_.size() << " studies, " << loaded
                   << " trials (" << live_trials_.size() << " live)";
  return absl::OkStatus();
}

absl::Duration Coordinator::LeaseOf(const StudyRuntime& study) const {
  const caviar::v1::TrialPolicy& policy = study.spec().trial_policy();
  return policy.has_lease_seconds() ? absl::Seconds(policy.lease_seconds())
                                    : options_.default_lease;
}

LeasePolicy Coordinator::PolicyOf(const StudyRuntime& study) const {
  const caviar::v1::TrialPolicy& policy = study.spec().trial_policy();
  // Zero is a value (no retries); only a field left out takes the default.
  return {LeaseOf(study),
          policy.has_max_retries() ? policy.max_retries() : options_.default_max_retries};
}

StudyRuntime* Coordinator::FindStudy(const std::string& name) {
  auto it = studies_by_name_.find(name);
  return it == studies_by_name_.end() ? nullptr : it->second;
}

std::optional<Coordinator::LiveTrial> Coordinator::FindLive(int64_t id) {
  auto it = live_trials_.find(id);
  if (it == live_trials_.end()) return std::nullopt;
  return LiveTrial{it->second, it->second->FindLive(id)};
}

absl::StatusOr<Trial> Coordinator::StoredTrial(int64_t id) {
  absl::StatusOr<Trial> trial = store_->LoadTrial(id);
  if (absl::IsNotFound(trial.status()))
    return absl::NotFoundError(absl::StrCat("trial ", id, " not found"));
  if (!trial.ok()) return trial.status();
  KeepBranchCurves(*trial);
  return trial;
}

absl::StatusOr<Trial> Coordinator::AnyTrial(int64_t id) {
  if (std::optional<LiveTrial> live = FindLive(id)) return *live->trial;
  return StoredTrial(id);
}

absl::StatusOr<Coordinator::LiveTrial> Coordinator::FindLeasedTrial(
    int64_t id, const std::string& worker, int32_t attempt) {
  std::optional<LiveTrial> live = FindLive(id);
  const Trial* trial = live.has_value() ? live->trial : nullptr;
  Trial stored;
  if (trial == nullptr) {
    CAVIAR_ASSIGN_OR_RETURN(stored, StoredTrial(id));
    trial = &stored;
  }
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
  // Held as stored but not live here: memory follows every commit, so only a
  // store changed behind our back gets here. Refuse rather than guess.
  if (!live.has_value())
    return absl::FailedPreconditionError(
        absl::StrCat("trial ", id, " is not running on this coordinator"));
  return *live;
}

absl::StatusOr<std::vector<Trial>> Coordinator::CommitTransition(
    StudyRuntime& study, storage::WriteBatch batch, std::vector<Trial> changes,
    std::optional<Study> updated_study) {
  const absl::Time now = clock_->Now();
  StudyTally tally = study.tally();
  for (const Trial& c : changes) {
    const Trial* current = study.FindLive(c.id());
    const TrialState from =
        current == nullptr ? caviar::v1::TRIAL_STATE_UNSPECIFIED : current->state();
    tally = tally.After(from, c.state());
  }
  const Study& base = updated_study.has_value() ? *updated_study : study.study();
  if (base.state() == caviar::v1::STUDY_ACTIVE) {
    if (std::optional<std::string> reason = StudyEndReason(base.spec(), tally)) {
      updated_study = EndStudy(base, *reason, now);
      CAVIAR_LOG(INFO) << "study " << study.name() << " completed: " << *reason;
    }
  }
  if (updated_study.has_value()) batch.UpdateStudy(*updated_study);
  for (const Trial& c : changes) batch.PutTrial(c);
  if (!batch.empty()) CAVIAR_RETURN_IF_ERROR(store_->Commit(batch));

  // Committed: now memory, leases, the pruner and watchers follow.
  const bool watched = feed_.Watched(study.name());
  std::vector<TrialBefore> before;
  if (watched) {
    for (const Trial& c : changes) before.push_back(Before(study.FindLive(c.id())));
  }
  const absl::Time monotonic = clock_->Monotonic();
  std::vector<Trial> applied;
  applied.reserve(changes.size());
  for (Trial& c : changes) {
    const int64_t id = c.id();
    last_trial_id_ = std::max(last_trial_id_, id);
    if (const Trial* current = study.FindLive(id)) {
      auto held = trial_of_worker_.find(current->worker_id());
      if (held != trial_of_worker_.end() && held->second == id)
        trial_of_worker_.erase(held);
    }
    const Trial& t = applied.emplace_back(study.Apply(std::move(c)));
    if (t.state() == caviar::v1::ACTIVE) {
      lease_expiry_[id] = monotonic + LeaseOf(study);
      trial_of_worker_[t.worker_id()] = id;
    } else {
      lease_expiry_.erase(id);
    }
    if (IsFinal(t.state())) {
      live_trials_.erase(id);
      checkpointed_.erase(id);
      study.pruner().OnTrialFinished(t);
    } else {
      live_trials_[id] = &study;
    }
  }
  const bool study_changed = updated_study.has_value();
  if (study_changed) study.study() = *std::move(updated_study);
  if (watched) {
    bool counts_changed = study_changed;
    for (size_t i = 0; i < applied.size(); ++i)
      counts_changed |= PublishTrial(study, before[i], applied[i]);
    if (counts_changed) PublishStudy(study);
  }
  return applied;
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
  // Trials waiting for a worker will not run; running ones hear STOP, with
  // the study's reason, in their next report.
  std::vector<Trial> changes;
  for (int64_t id : study->pending())
    changes.push_back(StopPending(*study->FindLive(id), now));
  CAVIAR_RETURN_IF_ERROR(
      CommitTransition(*study, {}, std::move(changes), std::move(updated)).status());
  CAVIAR_LOG(INFO) << "stopped study " << name;
  return StudyView(*study);
}

// ---------------------------------------------------------------- workers

absl::StatusOr<std::optional<Trial>> Coordinator::LeaseFrom(StudyRuntime& study,
                                                            const std::string& worker) {
  const StudySpec& spec = study.spec();
  if (study.study().state() != caviar::v1::STUDY_ACTIVE) return std::nullopt;
  if (spec.budget().max_parallel_trials() > 0 &&
      study.Count(caviar::v1::ACTIVE) >= spec.budget().max_parallel_trials()) {
    return std::nullopt;
  }
  const absl::Time now = clock_->Now();
  if (std::optional<int64_t> pending = study.FirstPending()) {
    CAVIAR_ASSIGN_OR_RETURN(
        std::vector<Trial> done,
        CommitTransition(study, {},
                         {Lease(*study.FindLive(*pending), worker, now, LeaseOf(study))},
                         std::nullopt));
    return std::move(done[0]);
  }
  if (study.sampler_exhausted || study.Committed() >= spec.budget().max_trials()) {
    return std::nullopt;
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
      // The sampler's answer is a function of the stored history, so this
      // flag needs no commit; the verdict it leads to does.
      study.sampler_exhausted = true;
      CAVIAR_RETURN_IF_ERROR(CommitTransition(study, {}, {}, std::nullopt).status());
    } else if (!absl::IsUnavailable(suggestion.status())) {
      CAVIAR_LOG(ERROR) << "sampler of study " << study.name()
                        << " failed: " << suggestion.status();
    }
    return std::nullopt;
  }
  Trial fresh;
  fresh.set_id(last_trial_id_ + 1);
  fresh.set_study(study.name());
  if (IsPandaStudy(study.spec())) {
    // Its starting values exactly as given (0.03, not 10^(its unit point)).
    CAVIAR_ASSIGN_OR_RETURN(
        *fresh.mutable_parameters(),
        search::PandaStart(study.space(), study.spec().algorithm().options()));
  } else {
    *fresh.mutable_parameters() = study.space().FromUnitPoint(suggestion->unit);
  }
  fresh.set_round(suggestion->round);
  fresh.set_origin(caviar::v1::SAMPLED);
  fresh.set_seed(search::MixSeed(spec.seed() ^ 0x5eed, fresh.id()));
  *fresh.mutable_create_time() = ToProto(now);
  std::optional<Study> with_region;
  if (suggestion->new_region.has_value()) {
    // The region becomes durable with the trial, in the same transaction.
    with_region = study.study();
    caviar::v1::Region* region = with_region->add_regions();
    *region = *std::move(suggestion->new_region);
    *region->mutable_create_time() = ToProto(now);
  }
  CAVIAR_ASSIGN_OR_RETURN(
      std::vector<Trial> done,
      CommitTransition(study, {}, {Lease(fresh, worker, now, LeaseOf(study))},
                       std::move(with_region)));
  return std::move(done[0]);
}

absl::StatusOr<caviar::v1::SuggestTrialResponse> Coordinator::SuggestTrial(
    const caviar::v1::SuggestTrialRequest& request) {
  CAVIAR_RETURN_IF_ERROR(CheckWorkerId(request.worker_id()));
  CAVIAR_RETURN_IF_ERROR(ValidateRunKinds(request.run_kinds()));
  absl::MutexLock lock(&mu_);
  caviar::v1::SuggestTrialResponse response;
  StudyRuntime* only = nullptr;
  if (!request.study().empty()) {
    only = FindStudy(request.study());
    if (only == nullptr)
      return absl::NotFoundError(
          absl::StrCat("study \"", request.study(), "\" not found"));
    if (!CanRun(request.run_kinds(), only->spec()))
      return absl::FailedPreconditionError(
          absl::StrCat("study \"", request.study(), "\" needs ",
                       caviar::v1::RunKind_Name(RunKindOf(only->spec())),
                       ", which the caller does not run (run_kinds)"));
  }
  // Idempotent retry: the worker already holds a live lease.
  auto held = trial_of_worker_.find(request.worker_id());
  if (held != trial_of_worker_.end()) {
    std::optional<LiveTrial> live = FindLive(held->second);
    if (live.has_value() && live->trial->state() == caviar::v1::ACTIVE &&
        live->trial->worker_id() == request.worker_id() &&
        (only == nullptr || only == live->study)) {
      *response.mutable_trial() = WithoutMeasurements(live->trial);
      *response.mutable_spec() = live->study->spec();
      return response;
    }
  }
  std::optional<Trial> leased;
  if (only != nullptr) {
    CAVIAR_ASSIGN_OR_RETURN(leased, LeaseFrom(*only, request.worker_id()));
  } else {
    for (size_t n = 0; n < studies_.size() && !leased.has_value(); ++n) {
      StudyRuntime& study = *studies_[(next_study_ + n) % studies_.size()];
      if (!CanRun(request.run_kinds(), study.spec())) continue;
      CAVIAR_ASSIGN_OR_RETURN(leased, LeaseFrom(study, request.worker_id()));
      if (leased.has_value()) next_study_ = (next_study_ + n + 1) % studies_.size();
    }
  }
  if (leased.has_value()) {
    *response.mutable_spec() = studies_by_name_[leased->study()]->spec();
    *response.mutable_trial() = *std::move(leased);
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
      const LiveTrial live,
      FindLeasedTrial(request.trial_id(), request.worker_id(), request.attempt()));
  Trial* trial = live.trial;
  StudyRuntime& study = *live.study;

  caviar::v1::ReportProgressResponse response;
  response.set_decision(caviar::v1::CONTINUE);
  response.set_lease_seconds(absl::ToDoubleSeconds(LeaseOf(study)));
  std::string stop_reason = trial->stop_reason();
  if (stop_reason.empty() && study.study().state() != caviar::v1::STUDY_ACTIVE) {
    stop_reason = study.study().state_reason().empty() ? "study ended"
                                                       : study.study().state_reason();
  }
  // A report without a measurement is a heartbeat (the objective is busy);
  // a retried report whose first copy arrived is already stored.
  caviar::v1::Measurement measurement = request.measurement();
  measurement.set_attempt(trial->attempt());
  measurement.set_branch(trial->branch());
  const bool record =
      request.has_measurement() && !(trial->measurements_size() > 0 &&
                                     google::protobuf::util::MessageDifferencer::Equals(
                                         *trial->measurements().rbegin(), measurement));
  search::PruneContext context;
  context.spec = &study.spec();
  context.trial = trial;
  const bool judge = record && stop_reason.empty();
  if (judge) {
    // The pruner judges the curve as it will be; it takes nothing in until
    // the report is stored, and the curve is as it was right after.
    *trial->add_measurements() = measurement;
    search::PruneDecision decision = study.pruner().OnReport(context);
    trial->mutable_measurements()->RemoveLast();
    if (decision.stop) stop_reason = decision.reason.empty() ? "pruned" : decision.reason;
  }
  const bool newly_stopped = !stop_reason.empty() && trial->stop_reason().empty();
  const int64_t last_step = record ? measurement.step()
                            : trial->measurements_size() > 0
                                ? trial->measurements().rbegin()->step()
                                : 0;
  // Nudges delivered now, acknowledged ones, a rollback's branch under way
  // (server/scheduling/nudges.h).
  const std::optional<int64_t> trained_step =
      record ? std::optional<int64_t>(measurement.step()) : std::nullopt;
  std::optional<Trial> updated;
  if (newly_stopped || NudgeProgressDue(*trial, request, trained_step)) {
    updated = WithoutMeasurements(trial);
    updated->set_stop_reason(stop_reason);
    NoteNudgeProgress(request, trained_step, last_step, &*updated, &response);
  }

  storage::WriteBatch batch;
  if (record) batch.AddMeasurement(trial->id(), measurement);
  if (updated.has_value()) batch.PutTrial(*updated);
  if (!batch.empty()) CAVIAR_RETURN_IF_ERROR(store_->Commit(batch));

  // Committed: now memory, the pruner and watchers follow.
  const bool watched = feed_.Watched(study.name());
  if (record) {
    study.AddMeasurement(trial, measurement);
    if (judge) study.pruner().OnReportCommitted(context);
    if (watched) PublishMeasurement(study, trial->id(), measurement);
  }
  if (updated.has_value()) {
    if (watched) PublishTrial(study, Before(trial), *updated);
    updated->mutable_measurements()->Swap(trial->mutable_measurements());
    *trial = *std::move(updated);
  }
  *trial->mutable_lease_deadline() = ToProto(clock_->Now() + LeaseOf(study));
  lease_expiry_[trial->id()] = clock_->Monotonic() + LeaseOf(study);
  if (!stop_reason.empty()) {
    response.set_decision(caviar::v1::STOP);
    response.set_reason(stop_reason);
  } else if (trial->pause_requested()) {
    response.set_decision(caviar::v1::CHECKPOINT_AND_RELEASE);
    response.set_reason("paused by a user");
  }
  return response;
}

absl::StatusOr<Trial> Coordinator::CompleteTrial(
    const caviar::v1::CompleteTrialRequest& request) {
  absl::MutexLock lock(&mu_);
  std::optional<LiveTrial> live = FindLive(request.trial_id());
  if (!live.has_value()) {
    // Finished (or unknown): completing twice with the same lease returns
    // the stored result; anything else is a stale lease.
    CAVIAR_ASSIGN_OR_RETURN(Trial stored, StoredTrial(request.trial_id()));
    if (stored.worker_id() == request.worker_id() &&
        stored.attempt() == request.attempt() && stored.end_time().seconds() != 0 &&
        stored.failure_kind() != caviar::v1::LEASE_EXPIRED) {
      return stored;
    }
    return FindLeasedTrial(request.trial_id(), request.worker_id(), request.attempt())
        .status();
  }
  const Trial& current = *live->trial;
  // The last holder of an expired lease that nobody took over since: its
  // result is as good as if it had arrived in time (e.g. it finished while
  // the coordinator was down or the network cut it off).
  const bool late_holder = current.state() == caviar::v1::PENDING &&
                           current.worker_id() == request.worker_id() &&
                           current.attempt() == request.attempt() &&
                           !request.worker_id().empty();
  if (late_holder && request.release()) return current;  // Already handed back.
  if (!late_holder) {
    CAVIAR_RETURN_IF_ERROR(
        FindLeasedTrial(request.trial_id(), request.worker_id(), request.attempt())
            .status());
  }
  StudyRuntime& study = *live->study;
  const absl::Time now = clock_->Now();
  Trial updated = request.release() ? Release(study.spec(), current, now)
                                    : Complete(study.spec(), current, request, now);
  CAVIAR_ASSIGN_OR_RETURN(
      std::vector<Trial> done,
      CommitTransition(study, {}, {std::move(updated)}, std::nullopt));
  if (request.release()) {
    CAVIAR_LOG(INFO) << "trial " << request.trial_id() << " of study " << study.name()
                     << " released by worker " << request.worker_id();
  } else if (late_holder) {
    CAVIAR_LOG(INFO) << "trial " << request.trial_id() << ": late result of worker "
                     << request.worker_id() << " accepted (nobody took it over)";
  }
  return std::move(done[0]);
}

// ------------------------------------------------------------ maintenance

absl::Status Coordinator::ExpireLeasesLocked(StudyRuntime& study,
                                             absl::Time monotonic_now, int* changed) {
  const absl::Time now = clock_->Now();
  std::vector<Trial> changes;
  for (int64_t id : study.active()) {
    auto expiry = lease_expiry_.find(id);
    if (expiry != lease_expiry_.end() && expiry->second > monotonic_now) continue;
    const Trial& current = *study.FindLive(id);
    Trial updated = Expire(study.spec(), current, PolicyOf(study), now);
    CAVIAR_LOG(WARNING) << "trial " << id << " of study " << study.name()
                        << ": lease of worker " << current.worker_id() << " expired -> "
                        << caviar::v1::TrialState_Name(updated.state());
    changes.push_back(std::move(updated));
  }
  if (changes.empty()) return absl::OkStatus();
  const int n = static_cast<int>(changes.size());
  CAVIAR_RETURN_IF_ERROR(
      CommitTransition(study, {}, std::move(changes), std::nullopt).status());
  *changed += n;
  return absl::OkStatus();
}

absl::StatusOr<int> Coordinator::ExpireLeases() {
  absl::MutexLock lock(&mu_);
  const absl::Time monotonic_now = clock_->Monotonic();
  const std::optional<absl::Time> last = last_reap_;
  last_reap_ = monotonic_now;
  if (last.has_value() && monotonic_now - *last > options_.stall_threshold) {
    // We were not running: nobody could reach us, so nobody lost a lease.
    CAVIAR_LOG(WARNING) << "coordinator stalled for " << (monotonic_now - *last)
                        << ": every running trial gets a full lease from now";
    for (auto& study : studies_) {
      for (int64_t id : study->active()) {
        absl::Time& expiry = lease_expiry_[id];
        expiry = std::max(expiry, monotonic_now + LeaseOf(*study));
      }
    }
    return 0;
  }
  int changed = 0;
  for (auto& study : studies_)
    CAVIAR_RETURN_IF_ERROR(ExpireLeasesLocked(*study, monotonic_now, &changed));
  return changed;
}

}  // namespace caviar::scheduling
