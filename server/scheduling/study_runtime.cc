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
      pruner_(std::move(pruner)) {}

size_t StudyRuntime::Add(const caviar::v1::Trial& trial) {
  const size_t index = trials_.size();
  trials_.push_back(std::make_unique<caviar::v1::Trial>(trial));
  trial_pointers_.push_back(trials_.back().get());
  search::TrialPoint point;
  point.id = trial.id();
  // Parameters were validated against the space when the trial was made.
  auto unit = space_.ToUnitPoint(trial.parameters());
  if (unit.ok())
    point.unit = *std::move(unit);
  else
    point.unit.assign(space_.size(), 0.5);
  points_.push_back(std::move(point));
  Index(index, +1);
  return index;
}

void StudyRuntime::Replace(size_t index, caviar::v1::Trial updated) {
  Index(index, -1);
  caviar::v1::Trial& trial = *trials_[index];
  updated.mutable_measurements()->Swap(trial.mutable_measurements());
  trial = std::move(updated);
  Index(index, +1);
}

void StudyRuntime::AddMeasurement(size_t index, const caviar::v1::Measurement& m) {
  *trials_[index]->add_measurements() = m;
}

// Adds (sign +1) or removes (sign -1) trial `index` from the counts and
// queues, and refreshes what the sampler sees of it.
void StudyRuntime::Index(size_t index, int sign) {
  const caviar::v1::Trial& trial = *trials_[index];
  counts_[trial.state()] += sign;
  std::set<int64_t>* queue = nullptr;
  if (trial.state() == caviar::v1::PENDING) queue = &pending_;
  if (trial.state() == caviar::v1::ACTIVE) queue = &active_;
  if (queue != nullptr) {
    if (sign > 0)
      queue->insert(trial.id());
    else
      queue->erase(trial.id());
  }
  if (sign > 0) {
    search::TrialPoint& point = points_[index];
    point.state = trial.state();
    point.round = trial.round();
    point.loss.reset();
    if ((trial.state() == caviar::v1::SUCCEEDED ||
         trial.state() == caviar::v1::STOPPED) &&
        trial.has_objective_value()) {
      const double v = trial.objective_value();
      point.loss = spec().objective().goal() == caviar::v1::MAXIMIZE ? -v : v;
    }
  }
}

int StudyRuntime::Committed() const {
  return static_cast<int>(trials_.size()) - counts_[caviar::v1::FAILED];
}

int StudyRuntime::Finished() const {
  return counts_[caviar::v1::SUCCEEDED] + counts_[caviar::v1::STOPPED];
}

std::optional<int64_t> StudyRuntime::FirstPending() const {
  if (pending_.empty()) return std::nullopt;
  return *pending_.begin();
}

}  // namespace caviar::scheduling
