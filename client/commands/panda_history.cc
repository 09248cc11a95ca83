#include "client/commands/panda_history.h"

#include <algorithm>
#include <map>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/parameter_value/parameter_value.h"

namespace caviar::cli {
namespace {

std::string Settings(
    const google::protobuf::Map<std::string, caviar::v1::ParameterValue>& parameters) {
  std::vector<std::string> parts;
  for (const auto& [name, value] : parameters)
    parts.push_back(absl::StrCat(name, "=", FormatParameterValue(value)));
  std::sort(parts.begin(), parts.end());
  return absl::StrJoin(parts, " ");
}

std::string NudgeState(const caviar::v1::Nudge& nudge) {
  if (nudge.has_applied_at_step())
    return absl::StrCat("applied at step ", nudge.applied_at_step());
  if (nudge.has_delivered_after_step())
    return absl::StrCat("delivered after step ", nudge.delivered_after_step(),
                        ", not acknowledged");
  return "queued";
}

}  // namespace

std::string FormatExploit(const caviar::v1::Branch& branch, const std::string& metric) {
  const caviar::v1::Exploit& e = branch.exploit();
  auto value = [&](bool has, double v) {
    return has ? absl::StrCat(" (", metric, " ", v, ")") : std::string();
  };
  std::string out = absl::StrCat(
      "pbt: left step ", e.left_step(),
      value(e.has_objective_value(), e.objective_value()), " for trial ",
      e.parent_trial(), "'s checkpoint at step ", e.parent_step(),
      value(e.has_parent_objective_value(), e.parent_objective_value()), ", ",
      e.checkpoint_digest().substr(0, 19), "; was ", Settings(e.old_parameters()),
      "; parent ", Settings(e.parent_parameters()), "; now ",
      Settings(branch.parameters()));
  if (e.resampled_size() > 0)
    absl::StrAppend(&out, "; resampled ", absl::StrJoin(e.resampled(), ","));
  return out;
}

std::string FormatPandaHistory(const caviar::v1::Trial& trial,
                               const std::string& metric) {
  std::string out;
  if (trial.nudges_size() > 0) {
    absl::StrAppend(&out, "nudges:\n");
    for (const caviar::v1::Nudge& nudge : trial.nudges()) {
      absl::StrAppend(&out, "  #", nudge.id(), " branch ", nudge.branch(), ": ",
                      Settings(nudge.parameters()), "  ", NudgeState(nudge),
                      nudge.outside_range() ? "  (outside the search range)" : "",
                      nudge.from_rollback() ? "  (with a rollback)" : "",
                      nudge.from_exploit() ? "  (with a pbt exploit)" : "", "\n");
    }
  }
  if (trial.branches_size() > 0) {
    // Each branch's curve: its last step and last objective value.
    std::map<int32_t, const caviar::v1::Measurement*> last;
    std::map<int32_t, int> points;
    for (const caviar::v1::Measurement& m : trial.measurements()) {
      last[m.branch()] = &m;
      ++points[m.branch()];
    }
    auto curve = [&](int32_t branch) {
      auto it = last.find(branch);
      if (it == last.end()) return std::string("no steps yet");
      auto value = it->second->metrics().find(metric);
      return absl::StrCat(points[branch], " points, last step ", it->second->step(),
                          value == it->second->metrics().end()
                              ? ""
                              : absl::StrCat(", ", metric, " ", value->second));
    };
    absl::StrAppend(&out, "branches (current: ", trial.branch(), "):\n");
    absl::StrAppend(&out, "  0: the first run; ", curve(0), "\n");
    for (const caviar::v1::Branch& b : trial.branches()) {
      if (b.has_exploit()) {
        absl::StrAppend(&out, "  ", b.number(), ": ", FormatExploit(b, metric), "; ",
                        curve(b.number()), "\n");
        continue;
      }
      absl::StrAppend(
          &out, "  ", b.number(), ": rolled back from branch ", b.parent(), " to step ",
          b.from_step(),
          b.from_step() == b.requested_step()
              ? ""
              : absl::StrCat(" (asked ", b.requested_step(), ")"),
          b.parameters().empty() ? "" : absl::StrCat(" with ", Settings(b.parameters())),
          "; ", curve(b.number()), "\n");
    }
    if (trial.has_rollback_step())
      absl::StrAppend(&out, "  pending: the next worker resumes from step ",
                      trial.rollback_step(), "\n");
  }
  return out;
}

}  // namespace caviar::cli
