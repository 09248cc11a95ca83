#include "client/watch_view.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "client/format.h"
#include "client/progress.h"

namespace caviar::client {
namespace {

using caviar::v1::Trial;
using caviar::v1::WatchEvent;

constexpr size_t kEventsKept = 50;
constexpr size_t kFinishedKept = 8;  // Finished trials kept besides the best.

bool Final(caviar::v1::TrialState state) {
  return state == caviar::v1::SUCCEEDED || state == caviar::v1::FAILED ||
         state == caviar::v1::STOPPED;
}

std::string StateName(const Trial& trial) {
  if (trial.state() == caviar::v1::ACTIVE && trial.pause_requested()) return "PAUSING";
  return caviar::v1::TrialState_Name(trial.state());
}

// "✂ pruned", "✗ diverged", "✗ failed": how a finished trial is marked.
std::string Mark(const Trial& trial) {
  if (trial.state() == caviar::v1::STOPPED) return "✂ pruned";
  if (trial.state() == caviar::v1::FAILED)
    return trial.failure_kind() == caviar::v1::DIVERGED ? "✗ diverged" : "✗ failed";
  return "";
}

std::string Parameters(
    const google::protobuf::Map<std::string, caviar::v1::ParameterValue>& parameters) {
  std::vector<std::pair<std::string, std::string>> sorted;
  for (const auto& [name, value] : parameters)
    sorted.emplace_back(name, FormatParameterValue(value));
  std::sort(sorted.begin(), sorted.end());
  return absl::StrJoin(sorted, " ", [](std::string* out, const auto& p) {
    absl::StrAppend(out, p.first, "=", p.second);
  });
}

std::string Clock(const google::protobuf::Timestamp& time) {
  if (time.seconds() == 0) return "--:--:--";
  return absl::FormatTime("%H:%M:%S", absl::FromUnixSeconds(time.seconds()),
                          absl::LocalTimeZone());
}

// Cuts `line` to `width` columns (UTF-8 aware: a multi-byte character is one).
std::string Cut(const std::string& line, int width) {
  int columns = 0;
  for (size_t i = 0; i < line.size(); ++i) {
    if ((static_cast<unsigned char>(line[i]) & 0xC0) == 0x80) continue;
    if (columns == width) return line.substr(0, i);
    ++columns;
  }
  return line;
}

std::string Number(double value) { return absl::StrFormat("%.4g", value); }

}  // namespace

std::string Sparkline(const std::vector<double>& values, int width) {
  static const char* const kBars[] = {"▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"};
  if (width <= 0 || values.empty()) return "";
  const size_t first =
      values.size() > static_cast<size_t>(width) ? values.size() - width : 0;
  double lo = INFINITY, hi = -INFINITY;
  for (size_t i = first; i < values.size(); ++i) {
    if (!std::isfinite(values[i])) continue;
    lo = std::min(lo, values[i]);
    hi = std::max(hi, values[i]);
  }
  std::string out;
  for (size_t i = first; i < values.size(); ++i) {
    if (!std::isfinite(values[i])) {
      out += "!";
    } else if (hi <= lo) {
      out += kBars[3];
    } else {
      out += kBars[std::clamp(static_cast<int>((values[i] - lo) / (hi - lo) * 7 + 0.5), 0,
                              7)];
    }
  }
  return out;
}

std::optional<double> WatchView::ObjectiveOf(const Trial& trial) const {
  if (trial.has_objective_value()) return trial.objective_value();
  const std::string& metric = study_.spec().objective().metric();
  for (int i = trial.measurements_size() - 1; i >= 0; --i) {
    auto it = trial.measurements(i).metrics().find(metric);
    if (it != trial.measurements(i).metrics().end()) return it->second;
  }
  return std::nullopt;
}

std::vector<double> WatchView::Curve(const Trial& trial) const {
  const std::string& metric = study_.spec().objective().metric();
  std::vector<double> curve;
  for (const caviar::v1::Measurement& m : trial.measurements()) {
    auto it = m.metrics().find(metric);
    if (it != m.metrics().end()) curve.push_back(it->second);
  }
  return curve;
}

void WatchView::AddMeasurement(Trial& trial, const caviar::v1::Measurement& m) {
  // A resumed or rolled-back run reports from an earlier step again: its
  // curve continues from there.
  auto* curve = trial.mutable_measurements();
  while (!curve->empty() && curve->rbegin()->step() >= m.step()) curve->RemoveLast();
  *curve->Add() = m;
}

void WatchView::ConsiderBest(const Trial& trial) {
  if (trial.state() != caviar::v1::SUCCEEDED || !trial.has_objective_value()) return;
  auto best = trials_.find(best_id_);
  if (best != trials_.end() && best->second.has_objective_value()) {
    const bool maximize = study_.spec().objective().goal() == caviar::v1::MAXIMIZE;
    const double a = trial.objective_value(), b = best->second.objective_value();
    if (maximize ? !(a > b) : !(a < b)) return;
  }
  best_id_ = trial.id();
}

void WatchView::NoteEvent(const std::string& line) {
  events_.push_back(line);
  while (events_.size() > kEventsKept) events_.pop_front();
}

std::string WatchView::TrialLine(const Trial& trial, int curve_width) const {
  std::optional<double> value = ObjectiveOf(trial);
  const int64_t step =
      trial.measurements_size() > 0 ? trial.measurements().rbegin()->step() : 0;
  std::string line =
      absl::StrFormat("%6d  %-9s %5d  %-10s %s", trial.id(), StateName(trial), step,
                      value ? Number(*value) : "-", Sparkline(Curve(trial), curve_width));
  if (trial.branch() > 0) absl::StrAppend(&line, "  branch ", trial.branch());
  const std::string mark = Mark(trial);
  if (!mark.empty()) absl::StrAppend(&line, "  ", mark);
  return line;
}

std::string WatchView::SnapshotLine(const Trial& trial) const {
  std::string line = absl::StrCat("trial ", trial.id(), " ", StateName(trial));
  if (trial.measurements_size() > 0) {
    absl::StrAppend(&line, " step ", trial.measurements().rbegin()->step());
    if (std::optional<double> value = ObjectiveOf(trial))
      absl::StrAppend(&line, " ", study_.spec().objective().metric(), "=",
                      Number(*value));
    absl::StrAppend(&line, " ", Sparkline(Curve(trial), 20));
  }
  if (trial.branch() > 0) absl::StrAppend(&line, " (branch ", trial.branch(), ")");
  return line;
}

std::string WatchView::Describe(const WatchEvent& event) const {
  const std::string& metric = study_.spec().objective().metric();
  switch (event.kind()) {
    case caviar::v1::WATCH_STUDY:
      return ProgressLine(study_, Best());
    case caviar::v1::WATCH_TRIAL: {
      const Trial& t = event.trials(0);
      std::string line = absl::StrCat("trial ", t.id(), " ", StateName(t));
      if (t.state() == caviar::v1::PENDING && t.attempt() == 0)
        absl::StrAppend(&line, " (new: ", Parameters(t.parameters()), ")");
      if (t.state() == caviar::v1::ACTIVE && !t.worker_id().empty())
        absl::StrAppend(&line, " on ", t.worker_id(), " (attempt ", t.attempt(), ")");
      if (t.state() == caviar::v1::SUCCEEDED && t.has_objective_value())
        absl::StrAppend(&line, " ", metric, "=", Number(t.objective_value()));
      const std::string mark = Mark(t);
      if (!mark.empty()) absl::StrAppend(&line, " ", mark);
      if (!t.stop_reason().empty()) absl::StrAppend(&line, ": ", t.stop_reason());
      if (!t.failure_reason().empty()) absl::StrAppend(&line, ": ", t.failure_reason());
      return line;
    }
    case caviar::v1::WATCH_MEASUREMENT: {
      const caviar::v1::Measurement& m = event.measurement();
      std::string line = absl::StrCat("trial ", event.trial_id(), " step ", m.step());
      auto it = m.metrics().find(metric);
      if (it != m.metrics().end())
        absl::StrAppend(&line, " ", metric, "=", Number(it->second));
      if (m.branch() > 0) absl::StrAppend(&line, " (branch ", m.branch(), ")");
      return line;
    }
    case caviar::v1::WATCH_NUDGE: {
      const caviar::v1::Nudge& n = event.nudge();
      std::string line = absl::StrCat("trial ", event.trial_id(), " nudge ", n.id(), " ",
                                      Parameters(n.parameters()));
      if (n.has_applied_at_step()) {
        absl::StrAppend(&line, ": applied at step ", n.applied_at_step());
      } else if (n.has_delivered_after_step()) {
        absl::StrAppend(&line, ": delivered after step ", n.delivered_after_step());
      } else {
        absl::StrAppend(&line, n.from_rollback() ? ": with the rollback" : ": given");
      }
      return line;
    }
    case caviar::v1::WATCH_ROLLBACK: {
      const caviar::v1::Branch& b = event.branch();
      std::string line =
          absl::StrCat("trial ", event.trial_id(), " rolled back to step ", b.from_step(),
                       " (asked ", b.requested_step(), ") as branch ", b.number());
      if (!b.parameters().empty())
        absl::StrAppend(&line, ": ", Parameters(b.parameters()));
      return line;
    }
    default:
      return "";
  }
}

std::optional<double> WatchView::Best() const {
  auto best = trials_.find(best_id_);
  if (best == trials_.end() || !best->second.has_objective_value()) return std::nullopt;
  return best->second.objective_value();
}

std::vector<std::string> WatchView::Apply(const WatchEvent& event) {
  std::vector<std::string> lines;
  const std::string at = Clock(event.time());
  auto emit = [&](const std::string& line) {
    if (!line.empty()) lines.push_back(absl::StrCat(at, " ", line));
  };
  switch (event.kind()) {
    case caviar::v1::WATCH_SNAPSHOT: {
      trials_.clear();
      study_ = event.study();
      for (const Trial& t : event.trials()) trials_[t.id()] = t;
      best_id_ = event.best_trial_id();
      if (has_snapshot_ || event.dropped_events() > 0) {
        emit(absl::StrCat("resynced", event.dropped_events() > 0
                                          ? absl::StrCat(" (", event.dropped_events(),
                                                         " events missed)")
                                          : ""));
        NoteEvent(lines.back());
      }
      has_snapshot_ = true;
      emit(absl::StrCat("watching ", ProgressLine(study_, Best())));
      for (const auto& [id, t] : trials_) {
        if (!Final(t.state()) || id == trial_id_) emit(SnapshotLine(t));
      }
      return lines;
    }
    case caviar::v1::WATCH_STUDY:
      study_ = event.study();
      break;
    case caviar::v1::WATCH_TRIAL: {
      if (event.trials_size() == 0) return lines;
      Trial& slot = trials_[event.trials(0).id()];
      google::protobuf::RepeatedPtrField<caviar::v1::Measurement> curve;
      curve.Swap(slot.mutable_measurements());
      slot = event.trials(0);
      slot.mutable_measurements()->Swap(&curve);
      ConsiderBest(slot);
      // Keep the live trials, the best and the latest finished ones.
      std::vector<int64_t> finished;
      for (const auto& [id, t] : trials_) {
        if (Final(t.state()) && id != best_id_ && id != trial_id_) finished.push_back(id);
      }
      for (size_t i = 0; i + kFinishedKept < finished.size(); ++i)
        trials_.erase(finished[i]);
      break;
    }
    case caviar::v1::WATCH_MEASUREMENT: {
      auto it = trials_.find(event.trial_id());
      if (it != trials_.end()) AddMeasurement(it->second, event.measurement());
      break;
    }
    case caviar::v1::WATCH_NUDGE: {
      auto it = trials_.find(event.trial_id());
      if (it != trials_.end()) {
        auto* nudges = it->second.mutable_nudges();
        auto same = std::find_if(nudges->begin(), nudges->end(), [&](const auto& n) {
          return n.id() == event.nudge().id();
        });
        if (same != nudges->end()) {
          *same = event.nudge();
        } else {
          *nudges->Add() = event.nudge();
        }
      }
      break;
    }
    case caviar::v1::WATCH_ROLLBACK: {
      auto it = trials_.find(event.trial_id());
      if (it != trials_.end()) {
        Trial& t = it->second;
        *t.add_branches() = event.branch();
        t.set_branch(event.branch().number());
        auto* curve = t.mutable_measurements();
        while (!curve->empty() && curve->rbegin()->step() > event.branch().from_step())
          curve->RemoveLast();
      }
      break;
    }
    default:
      return lines;
  }
  emit(Describe(event));
  if (!lines.empty() && event.kind() != caviar::v1::WATCH_MEASUREMENT &&
      event.kind() != caviar::v1::WATCH_STUDY)
    NoteEvent(lines.back());
  return lines;
}

bool WatchView::ended() const {
  if (!has_snapshot_) return false;
  if (StudyEnded(study_)) return true;
  if (trial_id_ == 0) return false;
  auto it = trials_.find(trial_id_);
  return it != trials_.end() && Final(it->second.state());
}

std::string WatchView::Summary() const {
  std::string line = ProgressLine(study_, Best());
  if (best_id_ != 0) absl::StrAppend(&line, " (trial ", best_id_, ")");
  return line;
}

std::vector<std::string> WatchView::Frame(int width, int height) const {
  std::vector<std::string> lines;
  const int curve_width = std::clamp(width - 50, 8, 60);
  lines.push_back(absl::StrCat("caviar watch ", study_.spec().name(),
                               trial_id_ != 0 ? absl::StrCat(" --trial ", trial_id_) : "",
                               "  ", StudyStateName(study_.state())));
  lines.push_back(ProgressBar(study_, Best(), 20));
  lines.push_back(absl::StrCat(
      "trials: ", study_.pending_trials(), " pending, ", study_.active_trials(),
      " active, ", study_.succeeded_trials(), " succeeded, ", study_.stopped_trials(),
      " stopped, ", study_.failed_trials(), " failed of ",
      study_.spec().budget().max_trials()));
  lines.push_back("");
  lines.push_back(absl::StrFormat("%6s  %-9s %5s  %-10s %s", "trial", "state", "step",
                                  Cut(study_.spec().objective().metric(), 10), "curve"));
  for (const auto& [id, t] : trials_) {
    if (!Final(t.state()) || (trial_id_ != 0 && id == trial_id_))
      lines.push_back(TrialLine(t, curve_width));
  }
  if (trial_id_ != 0) {
    auto it = trials_.find(trial_id_);
    if (it != trials_.end()) {
      lines.push_back(absl::StrCat("  settings: ", Parameters(it->second.parameters())));
      for (const caviar::v1::Nudge& n : it->second.nudges()) {
        lines.push_back(absl::StrCat(
            "  nudge ", n.id(), ": ", Parameters(n.parameters()),
            n.has_applied_at_step()
                ? absl::StrCat(" (applied at step ", n.applied_at_step(), ")")
                : " (waiting)"));
      }
    }
  }
  auto best = trials_.find(best_id_);
  if (best != trials_.end() && trial_id_ == 0)
    lines.push_back(absl::StrCat(TrialLine(best->second, curve_width), "  ★ best"));
  for (const auto& [id, t] : trials_) {
    if (Final(t.state()) && id != best_id_ && id != trial_id_ && trial_id_ == 0)
      lines.push_back(TrialLine(t, curve_width));
  }
  lines.push_back("");
  lines.push_back("events:");
  const int room = std::max(0, height - static_cast<int>(lines.size()));
  const size_t shown = std::min(events_.size(), static_cast<size_t>(room));
  for (size_t i = events_.size() - shown; i < events_.size(); ++i)
    lines.push_back(absl::StrCat("  ", events_[i]));
  if (static_cast<int>(lines.size()) > height) lines.resize(std::max(height, 0));
  for (std::string& line : lines) line = Cut(line, width);
  return lines;
}

}  // namespace caviar::client
