#include "server/scheduling/study_runtime.h"

#include <cmath>
#include <utility>

namespace caviar::scheduling {

std::optional<double> ObjectiveIn(const caviar::v1::StudySpec& spec,
                                  const caviar::v1::Measurement& measurement) {
  auto it = measurement.metrics().find(spec.objective().metric());
  if (it == measurement.metrics().end()) return std::nullopt;
  return it->second;
}

bool Better(const caviar::v1::StudySpec& spec, double a, double b) {
  return spec.objective().goal() == caviar::v1::MAXIMIZE ? a > b : a < b;
}

bool IsFinal(caviar::v1::TrialState state) {
  return state == caviar::v1::SUCCEEDED || state == caviar::v1::FAILED ||
         state == caviar::v1::STOPPED;
}

StudyRuntime::StudyRuntime(caviar::v1::Study study, search::SearchSpace space,
                           std::unique_ptr<search::Sampler> sampler,
                           std::unique_ptr<search::Pruner> pruner)
    : study_(std::move(study)),
      space_(std::move(space)),
      sampler_(std::move(sampler)),
      pruner_(std::move(pruner)),
      keeps_points_(sampler_->UsesHistory()) {}

caviar::v1::Trial* StudyRuntime::FindLive(int64_t id) {
  auto it = live_.find(id);
  return it == live_.end() ? nullptr : it->second.trial.get();
}

caviar::v1::Trial StudyRuntime::Apply(caviar::v1::Trial trial) {
  const int64_t id = trial.id();
  auto it = live_.find(id);
  size_t point = points_.size();
  if (it == live_.end()) {
    ++size_;
    if (keeps_points_) points_.emplace_back();
  } else {
    caviar::v1::Trial& current = *it->second.trial;
    point = it->second.point;
    Count(current, -1);
    // A new attempt starts from scratch (no checkpoints yet): so does its
    // curve. The earlier attempts' points stay in storage.
    if (trial.attempt() == current.attempt())
      trial.mutable_measurements()->Swap(current.mutable_measurements());
  }
  Count(trial, +1);
  if (keeps_points_) points_[point] = PointOf(trial);
  if (IsFinal(trial.state())) {
    if (it != live_.end()) live_.erase(it);
    return trial;
  }
  if (it == live_.end()) {
    it = live_.emplace(id, Live{std::make_unique<caviar::v1::Trial>(std::move(trial)), point})
             .first;
  } else {
    *it->second.trial = std::move(trial);
  }
  return *it->second.trial;
}

void StudyRuntime::AddMeasurement(caviar::v1::Trial* live, const caviar::v1::Measurement& m) {
  *live->add_measurements() = m;
}

// Adds (sign +1) or removes (sign -1) a trial from the counts and queues.
void StudyRuntime::Count(const caviar::v1::Trial& trial, int sign) {
  counts_[trial.state()] += sign;
  std::set<int64_t>* queue = nullptr;
  if (trial.state() == caviar::v1::PENDING) queue = &pending_;
  if (trial.state() == caviar::v1::ACTIVE) queue = &active_;
  if (queue == nullptr) return;
  if (sign > 0)
    queue->insert(trial.id());
  else
    queue->erase(trial.id());
}

search::TrialPoint StudyRuntime::PointOf(const caviar::v1::Trial& trial) const {
  search::TrialPoint point;
  point.id = trial.id();
  // Parameters were validated against the space when the trial was made.
  auto unit = space_.ToUnitPoint(trial.parameters());
  if (unit.ok())
    point.unit = *std::move(unit);
  else
    point.unit.assign(space_.size(), 0.5);
  point.state = trial.state();
  point.round = trial.round();
  point.loss.reset();
  if ((trial.state() == caviar::v1::SUCCEEDED || trial.state() == caviar::v1::STOPPED) &&
      trial.has_objective_value()) {
    const double v = trial.objective_value();
    point.loss = spec().objective().goal() == caviar::v1::MAXIMIZE ? -v : v;
  }
  return point;
}

int StudyRuntime::Committed() const {
  return static_cast<int>(size_) - counts_[caviar::v1::FAILED];
}

int StudyRuntime::Finished() const {
  return counts_[caviar::v1::SUCCEEDED] + counts_[caviar::v1::STOPPED];
}

std::optional<int64_t> StudyRuntime::FirstPending() const {
  if (pending_.empty()) return std::nullopt;
  return *pending_.begin();
}

}  // namespace caviar::scheduling
