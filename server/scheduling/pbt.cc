// Population-based training: the spec rules, readiness, and the
// Coordinator's two calls (which trial to copy; the exploit committed as
// one transition of the trial: a new branch from the copied checkpoint,
// its lineage and the explored settings).
#include "server/scheduling/pbt.h"

#include <algorithm>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/log.h"
#include "common/status_macros.h"
#include "server/scheduling/coordinator.h"
#include "server/scheduling/nudges.h"
#include "server/scheduling/proto_util.h"
#include "server/scheduling/study_runtime.h"
#include "server/search/pbt.h"

namespace caviar::scheduling {
namespace {

using caviar::v1::Trial;

absl::Status Invalid(const std::string& field, const std::string& why) {
  return absl::InvalidArgumentError(absl::StrCat(field, ": ", why));
}

// A live trial's objective value at `step` (its last one at or before it),
// if its curve reached `step`; the latest one with no step given.
std::optional<search::PbtStanding> StandingOf(
    const caviar::v1::StudySpec& spec, const Trial& trial,
    std::optional<int64_t> step = std::nullopt) {
  if (step.has_value() &&
      (trial.measurements_size() == 0 || trial.measurements().rbegin()->step() < *step))
    return std::nullopt;
  for (int i = trial.measurements_size() - 1; i >= 0; --i) {
    const caviar::v1::Measurement& m = trial.measurements(i);
    if (step.has_value() && m.step() > *step) continue;
    if (std::optional<double> value = ObjectiveIn(spec, m)) {
      search::PbtStanding s;
      s.trial_id = trial.id();
      s.loss = spec.objective().goal() == caviar::v1::MAXIMIZE ? -*value : *value;
      s.step = m.step();
      return s;
    }
  }
  return std::nullopt;
}

uint64_t ExploitSeed(const caviar::v1::StudySpec& spec, const Trial& trial,
                     int64_t step) {
  return search::MixSeed(search::MixSeed(spec.seed(), uint64_t(trial.id())),
                         uint64_t(step) * 1024 + uint64_t(trial.branches_size()));
}

// A pbt study still running, and a trial not being stopped or paused: what
// both picking a parent and exploiting need.
bool MayExploit(const StudyRuntime& study, const Trial& trial) {
  return IsPbt(study.spec()) && study.study().state() == caviar::v1::STUDY_ACTIVE &&
         trial.stop_reason().empty() && !trial.pause_requested();
}

}  // namespace

bool IsPbt(const caviar::v1::StudySpec& spec) {
  return spec.algorithm().name() == search::kPbtAlgorithm;
}

absl::Status ValidatePbtSpec(const caviar::v1::StudySpec& spec,
                             const search::SearchSpace& space) {
  if (!IsPbt(spec)) return absl::OkStatus();
  CAVIAR_RETURN_IF_ERROR(search::ParsePbtOptions(spec.algorithm().options()).status());
  if (spec.has_external())
    return Invalid("algorithm.name",
                   "pbt copies checkpoints between trials: it needs a command or trainer "
                   "objective, not an external one");
  if (spec.checkpoint().has_every_steps() && spec.checkpoint().every_steps() == 0)
    return Invalid(
        "checkpoint.every_steps",
        "pbt exploits at checkpoints: give an interval >= 1 (0 turns them off)");
  if (!spec.has_trainer()) return absl::OkStatus();
  for (int i = 0; i < space.size(); ++i) {
    search::ParameterMap one;
    one[space.parameter(i).name()] = space.FromUnit(i, 0.5);
    if (absl::Status s = CheckNudgeParameters(spec, space, one, false); !s.ok())
      return Invalid("algorithm.name",
                     absl::StrCat("pbt changes the searched settings of a copied "
                                  "checkpoint, and ",
                                  s.message()));
  }
  return absl::OkStatus();
}

int64_t PbtInterval(const caviar::v1::StudySpec& spec) {
  return spec.checkpoint().has_every_steps() ? spec.checkpoint().every_steps() : 1;
}

const caviar::v1::Branch* CurrentBranch(const Trial& trial) {
  for (const caviar::v1::Branch& b : trial.branches())
    if (b.number() == trial.branch()) return &b;
  return nullptr;
}

bool PbtReady(const caviar::v1::StudySpec& spec, const Trial& trial, int64_t step) {
  const int64_t interval = PbtInterval(spec);
  if (interval < 1 || step < 1 || step % interval != 0) return false;
  if (trial.has_rollback_step()) return false;  // Still catching up.
  const caviar::v1::Branch* branch = CurrentBranch(trial);
  if (branch != nullptr && step <= branch->from_step()) return false;
  if (spec.has_trainer() && step >= spec.trainer().epochs()) return false;
  return true;
}

std::optional<int64_t> Coordinator::PbtParent(
    const caviar::v1::ReportProgressRequest& request) {
  if (!request.has_measurement()) return std::nullopt;
  absl::MutexLock lock(&mu_);
  absl::StatusOr<LiveTrial> live =
      FindLeasedTrial(request.trial_id(), request.worker_id(), request.attempt());
  if (!live.ok()) return std::nullopt;
  StudyRuntime& study = *live->study;
  const Trial& trial = *live->trial;
  const caviar::v1::StudySpec& spec = study.spec();
  if (!MayExploit(study, trial) || !PbtReady(spec, trial, request.measurement().step()))
    return std::nullopt;
  absl::StatusOr<search::PbtOptions> options =
      search::ParsePbtOptions(spec.algorithm().options());
  if (!options.ok()) return std::nullopt;
  // Ranked at the same step: trials that got there, by their value at it
  // (one that started later is not behind for being younger).
  const int64_t step = request.measurement().step();
  std::vector<search::PbtStanding> standings;
  for (const std::set<int64_t>* ids : {&study.active(), &study.pending()}) {
    for (int64_t id : *ids) {
      const Trial* member = study.FindLive(id);
      if (member == nullptr || member->has_rollback_step()) continue;
      if (std::optional<search::PbtStanding> s = StandingOf(spec, *member, step))
        standings.push_back(*s);
    }
  }
  const bool ranked = std::any_of(standings.begin(), standings.end(), [&](const auto& s) {
    return s.trial_id == trial.id();
  });
  if (!ranked) return std::nullopt;
  return search::PbtPickParent(*options, trial.id(), standings,
                               ExploitSeed(spec, trial, step));
}

absl::StatusOr<Trial> Coordinator::PbtExploit(
    const caviar::v1::ReportProgressRequest& request,
    const caviar::v1::CheckpointInfo& parent_checkpoint) {
  absl::MutexLock lock(&mu_);
  CAVIAR_ASSIGN_OR_RETURN(
      const LiveTrial live,
      FindLeasedTrial(request.trial_id(), request.worker_id(), request.attempt()));
  StudyRuntime& study = *live.study;
  const Trial& current = *live.trial;
  const caviar::v1::StudySpec& spec = study.spec();
  if (!MayExploit(study, current))
    return absl::FailedPreconditionError(
        absl::StrCat("trial ", current.id(), " cannot exploit now"));
  CAVIAR_ASSIGN_OR_RETURN(const Trial parent, AnyTrial(parent_checkpoint.trial_id()));
  if (parent.study() != study.name() || parent.id() == current.id())
    return absl::InvalidArgumentError(absl::StrCat(
        "trial ", parent.id(), " is not another trial of study ", study.name()));
  // The checkpoint must hold the parent's current settings: saved by its
  // current branch (an earlier branch's had other ones).
  const caviar::v1::Branch* parent_branch = CurrentBranch(parent);
  if (parent_branch != nullptr && parent_checkpoint.step() <= parent_branch->from_step())
    return absl::FailedPreconditionError(absl::StrCat(
        "trial ", parent.id(), "'s checkpoint at step ", parent_checkpoint.step(),
        " is older than its branch ", parent.branch()));
  CAVIAR_ASSIGN_OR_RETURN(const search::PbtOptions options,
                          search::ParsePbtOptions(spec.algorithm().options()));
  const int64_t step = request.measurement().step();
  CAVIAR_ASSIGN_OR_RETURN(
      search::PbtExplored explored,
      search::PbtExplore(study.space(), parent.parameters(), options.resample_probability,
                         ExploitSeed(spec, current, step) ^ 0x5bd1e995));
  CAVIAR_RETURN_IF_ERROR(CheckNudgeParameters(spec, study.space(), explored.parameters,
                                              /*outside_range=*/false));

  const int64_t from = parent_checkpoint.step();
  if (spec.has_trainer() && from >= spec.trainer().epochs())
    return absl::FailedPreconditionError(
        absl::StrCat("trial ", parent.id(), "'s checkpoint at step ", from,
                     " is its last: nothing is left to train from it"));
  Trial updated = Branched(current, from, from, explored.parameters,
                           /*outside_range=*/false, clock_->Now());
  *updated.mutable_parameters() = explored.parameters;
  caviar::v1::Nudge* nudge = updated.mutable_nudges(updated.nudges_size() - 1);
  nudge->set_from_rollback(false);
  nudge->set_from_exploit(true);
  caviar::v1::Exploit* exploit =
      updated.mutable_branches(updated.branches_size() - 1)->mutable_exploit();
  exploit->set_parent_trial(parent.id());
  exploit->set_parent_step(from);
  exploit->set_parent_branch(parent.branch());
  exploit->set_checkpoint_digest(parent_checkpoint.digest());
  exploit->set_left_step(step);
  if (std::optional<search::PbtStanding> own = StandingOf(spec, current))
    exploit->set_objective_value(
        spec.objective().goal() == caviar::v1::MAXIMIZE ? -own->loss : own->loss);
  if (parent_checkpoint.has_objective_value())
    exploit->set_parent_objective_value(parent_checkpoint.objective_value());
  *exploit->mutable_old_parameters() = current.parameters();
  *exploit->mutable_parent_parameters() = parent.parameters();
  for (std::string& name : explored.resampled) exploit->add_resampled(std::move(name));

  CAVIAR_ASSIGN_OR_RETURN(
      std::vector<Trial> done,
      CommitTransition(study, {}, {std::move(updated)}, std::nullopt));
  CAVIAR_LOG(INFO) << "trial " << current.id() << " (step " << step << ") exploits trial "
                   << parent.id() << "'s checkpoint at step " << from << ": branch "
                   << done[0].branch();
  return std::move(done[0]);
}

}  // namespace caviar::scheduling
