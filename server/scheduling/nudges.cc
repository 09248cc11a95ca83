#include "server/scheduling/nudges.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "common/trainer_settings/nudge_rules.h"
#include "server/scheduling/proto_util.h"

namespace caviar::scheduling {
namespace {

using caviar::v1::Nudge;
using caviar::v1::ParameterSpec;
using caviar::v1::ParameterValue;
using caviar::v1::Trial;

absl::Status Invalid(const std::string& name, absl::string_view reason) {
  return absl::InvalidArgumentError(
      absl::StrCat("parameters[", search::EchoForError(name), "]: ", reason));
}

// Whether `value` has the type of `parameter` (whatever its range).
bool OfItsType(const ParameterSpec& parameter, const ParameterValue& value) {
  switch (parameter.domain_case()) {
    case ParameterSpec::kDouble:
    case ParameterSpec::kDiscrete:
      return (value.has_double_value() && std::isfinite(value.double_value())) ||
             value.has_int_value();
    case ParameterSpec::kInteger:
      return value.has_int_value() ||
             (value.has_double_value() &&
              value.double_value() == std::floor(value.double_value()));
    case ParameterSpec::kCategorical:
      return value.has_string_value();
    default:
      return false;
  }
}

// `s` with its "parameter <name>: " prefix (SearchSpace's errors) dropped.
std::string Reason(const absl::Status& s) {
  std::string reason(s.message());
  const size_t colon = reason.find(": ");
  return colon == std::string::npos ? reason : reason.substr(colon + 2);
}

bool Acknowledged(const caviar::v1::ReportProgressRequest& request, int64_t id) {
  return std::find(request.nudge_acks().begin(), request.nudge_acks().end(), id) !=
         request.nudge_acks().end();
}

}  // namespace

absl::Status CheckNudgeParameters(const caviar::v1::StudySpec& spec,
                                  const search::SearchSpace& space,
                                  const search::ParameterMap& parameters,
                                  bool outside_range) {
  if (parameters.empty())
    return absl::InvalidArgumentError("parameters: give at least one");
  const bool trainer = spec.has_trainer();
  for (const auto& [name, value] : parameters) {
    if (trainer) {
      search::ParameterMap one;
      one[name] = value;
      CAVIAR_RETURN_IF_ERROR(trainer_settings::CheckNudgedSettings(one));
    }
    const int i = space.IndexOf(name);
    if (i < 0) {
      if (trainer) continue;  // A fixed setting: no range to stay inside.
      return Invalid(name,
                     absl::StrCat("study \"", spec.name(), "\" has no such parameter"));
    }
    const absl::Status in_range = space.ToUnit(i, value).status();
    if (in_range.ok()) continue;
    if (!OfItsType(space.parameter(i), value)) return Invalid(name, Reason(in_range));
    if (!outside_range) {
      return Invalid(name,
                     absl::StrCat(Reason(in_range),
                                  " (outside the study's search range: allow it "
                                  "with outside_range, caviar nudge --outside-range)"));
    }
  }
  return absl::OkStatus();
}

Nudge NewNudge(const caviar::v1::Trial& trial, const search::ParameterMap& parameters,
               bool outside_range, absl::Time now) {
  Nudge nudge;
  nudge.set_id(trial.nudges_size() + 1);
  *nudge.mutable_parameters() = parameters;
  *nudge.mutable_create_time() = ToProto(now);
  nudge.set_outside_range(outside_range);
  nudge.set_branch(trial.branch());
  return nudge;
}

bool NudgeProgressDue(const caviar::v1::Trial& trial,
                      const caviar::v1::ReportProgressRequest& request,
                      std::optional<int64_t> trained_step) {
  for (const Nudge& nudge : trial.nudges()) {
    if (!nudge.has_delivered_after_step()) return true;
    if (trained_step.has_value() && !nudge.has_applied_at_step() &&
        Acknowledged(request, nudge.id()))
      return true;
  }
  return trained_step.has_value() && trial.has_rollback_step() &&
         *trained_step > trial.rollback_step();
}

void NoteNudgeProgress(const caviar::v1::ReportProgressRequest& request,
                       std::optional<int64_t> trained_step, int64_t last_step,
                       caviar::v1::Trial* trial,
                       caviar::v1::ReportProgressResponse* response) {
  for (Nudge& nudge : *trial->mutable_nudges()) {
    if (!nudge.has_delivered_after_step()) {
      nudge.set_delivered_after_step(last_step);
      for (const auto& [name, value] : nudge.parameters()) {
        (*response->mutable_parameter_updates())[name] = value;  // Later nudges win.
      }
      *response->add_nudges() = nudge;
    }
    if (trained_step.has_value() && !nudge.has_applied_at_step() &&
        Acknowledged(request, nudge.id())) {
      nudge.set_applied_at_step(*trained_step);
    }
  }
  if (trained_step.has_value() && trial->has_rollback_step() &&
      *trained_step > trial->rollback_step()) {
    trial->clear_rollback_step();
  }
}

std::vector<Nudge> LeaseNudges(const caviar::v1::Trial& trial, int64_t resume_step) {
  std::vector<Nudge> out;
  for (const Nudge& nudge : trial.nudges()) {
    if (nudge.branch() != trial.branch()) continue;
    // A branch's own settings (a rollback's --set, a pbt exploit's).
    const bool rollback_settings =
        (nudge.from_rollback() || nudge.from_exploit()) && !nudge.has_applied_at_step();
    // A checkpoint saved after step C holds the nudges applied from step
    // C + 1 on (the trainer applies one right after a report, before saving).
    const bool after_checkpoint = resume_step > 0 && nudge.has_applied_at_step() &&
                                  nudge.applied_at_step() > resume_step + 1;
    if (rollback_settings || after_checkpoint) out.push_back(nudge);
  }
  return out;
}

Trial Branched(const Trial& current, int64_t requested_step, int64_t from_step,
               const search::ParameterMap& parameters, bool outside_range,
               absl::Time now) {
  Trial t = current;
  t.clear_measurements();
  if (t.state() != caviar::v1::PAUSED) t.set_state(caviar::v1::PENDING);
  t.clear_lease_deadline();
  t.clear_worker_id();
  caviar::v1::Branch* branch = t.add_branches();
  branch->set_number(t.branches_size());
  branch->set_parent(current.branch());
  branch->set_requested_step(requested_step);
  branch->set_from_step(from_step);
  *branch->mutable_parameters() = parameters;
  *branch->mutable_create_time() = ToProto(now);
  branch->set_first_attempt(current.attempt() + 1);
  t.set_branch(branch->number());
  t.set_rollback_step(from_step);
  if (!parameters.empty()) {
    Nudge nudge = NewNudge(t, parameters, outside_range, now);
    nudge.set_from_rollback(true);
    nudge.set_delivered_after_step(from_step);  // With the lease (LeaseNudges).
    *t.add_nudges() = std::move(nudge);
  }
  return t;
}

}  // namespace caviar::scheduling
