// StudyRuntime: one study's in-memory state inside the Coordinator: its spec
// and search objects, every trial (with its learning curve), the points the
// sampler sees, the queue of PENDING trials and the set of ACTIVE ones.
// Updated incrementally so a suggestion costs the same at trial 100,000 as at
// trial 10.
//
// Not thread-safe: guarded by the Coordinator's mutex.
#ifndef CAVIAR_SERVER_SCHEDULING_STUDY_RUNTIME_H_
#define CAVIAR_SERVER_SCHEDULING_STUDY_RUNTIME_H_

#include <array>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <set>
#include <vector>

#include "caviar/v1/study.pb.h"
#include "caviar/v1/trial.pb.h"
#include "server/search/pruner.h"
#include "server/search/sampler.h"
#include "server/search/space.h"
#include "server/scheduling/trial_transitions.h"

namespace caviar::scheduling {

// The objective value in a measurement, if the metric is there.
std::optional<double> ObjectiveIn(const caviar::v1::StudySpec& spec,
                                  const caviar::v1::Measurement& measurement);

// True if `a` is a better objective value than `b` under the study's goal.
bool Better(const caviar::v1::StudySpec& spec, double a, double b);

bool IsFinal(caviar::v1::TrialState state);

class StudyRuntime {
 public:
  StudyRuntime(caviar::v1::Study study, search::SearchSpace space,
               std::unique_ptr<search::Sampler> sampler,
               std::unique_ptr<search::Pruner> pruner);

  const caviar::v1::StudySpec& spec() const { return study_.spec(); }
  const std::string& name() const { return study_.spec().name(); }
  caviar::v1::Study& study() { return study_; }
  const caviar::v1::Study& study() const { return study_; }
  const search::SearchSpace& space() const { return space_; }
  search::Sampler& sampler() { return *sampler_; }
  search::Pruner& pruner() { return *pruner_; }

  size_t size() const { return trials_.size(); }
  caviar::v1::Trial& trial(size_t index) { return *trials_[index]; }
  const caviar::v1::Trial& trial(size_t index) const { return *trials_[index]; }
  absl::Span<const caviar::v1::Trial* const> trial_pointers() const {
    return trial_pointers_;
  }
  absl::Span<const search::TrialPoint> points() const { return points_; }

  // Appends a trial (any state); returns its index.
  size_t Add(const caviar::v1::Trial& trial);
  // Replaces trial `index` with `updated` (same id), keeping the counts,
  // queues and sampler points in step. Measurements of `updated` are kept.
  void Replace(size_t index, caviar::v1::Trial updated);
  // Appends a point to trial `index`'s learning curve.
  void AddMeasurement(size_t index, const caviar::v1::Measurement& m);

  int Count(caviar::v1::TrialState state) const { return counts_[state]; }
  // Trials that count against max_trials: all but FAILED ones.
  int Committed() const;
  int Finished() const;  // SUCCEEDED + STOPPED.
  // The counts and sampler state a verdict on the study depends on.
  StudyTally tally() const {
    StudyTally t;
    t.counts = counts_;
    t.sampler_exhausted = sampler_exhausted;
    return t;
  }

  // Oldest PENDING trial, if any.
  std::optional<int64_t> FirstPending() const;
  const std::set<int64_t>& active() const { return active_; }

  bool sampler_exhausted = false;

 private:
  void Index(size_t index, int sign);

  caviar::v1::Study study_;
  search::SearchSpace space_;
  std::unique_ptr<search::Sampler> sampler_;
  std::unique_ptr<search::Pruner> pruner_;
  std::vector<std::unique_ptr<caviar::v1::Trial>> trials_;
  std::vector<const caviar::v1::Trial*> trial_pointers_;
  std::vector<search::TrialPoint> points_;
  std::array<int, 8> counts_{};
  std::set<int64_t> pending_;  // Ordered by id: retried and enqueued first-come.
  std::set<int64_t> active_;
};

}  // namespace caviar::scheduling

#endif  // CAVIAR_SERVER_SCHEDULING_STUDY_RUNTIME_H_
