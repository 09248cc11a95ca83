// StudyRuntime: one study's in-memory state inside the Coordinator: its spec
// and search objects, its live (PENDING and ACTIVE) trials with their
// learning curves, the points the sampler sees (none for samplers that do not
// read history), per-state counts, the queue of PENDING trials and the set of
// ACTIVE ones. A finished trial leaves nothing else here: its record and
// curve are in the Store. Updated incrementally so a suggestion costs the
// same at trial 100,000 as at trial 10, and memory does not grow with
// finished trials beyond their points.
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

#include "absl/container/flat_hash_map.h"
#include "absl/types/span.h"
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

  // Trials of the study so far, in any state.
  int64_t size() const { return size_; }
  // A PENDING or ACTIVE trial, with its current attempt's learning curve;
  // nullptr for an unknown or finished one (those live in the Store).
  caviar::v1::Trial* FindLive(int64_t id);
  // Every trial of the study by id, as the sampler sees it, when the
  // sampler uses history (Sampler::UsesHistory); otherwise empty.
  absl::Span<const search::TrialPoint> points() const { return points_; }
  bool keeps_points() const { return keeps_points_; }
  // What the sampler sees of `trial`.
  search::TrialPoint PointOf(const caviar::v1::Trial& trial) const;

  // Takes in a trial's new state once it is stored: a trial new to the
  // study (stored ones arrive at load in id order), or a live one (then a
  // new attempt starts a new, empty curve; otherwise the curve is kept).
  // A final trial leaves memory: only its counts and point stay. Returns
  // the trial as it now is, with its curve.
  caviar::v1::Trial Apply(caviar::v1::Trial trial);
  // Appends a point to a live trial's learning curve.
  void AddMeasurement(caviar::v1::Trial* live, const caviar::v1::Measurement& m);

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
  const std::set<int64_t>& pending() const { return pending_; }
  const std::set<int64_t>& active() const { return active_; }

  bool sampler_exhausted = false;

 private:
  void Count(const caviar::v1::Trial& trial, int sign);

  caviar::v1::Study study_;
  search::SearchSpace space_;
  std::unique_ptr<search::Sampler> sampler_;
  std::unique_ptr<search::Pruner> pruner_;
  const bool keeps_points_;
  int64_t size_ = 0;
  struct Live {
    std::unique_ptr<caviar::v1::Trial> trial;
    size_t point = 0;  // Index in points_, when keeps_points_.
  };
  absl::flat_hash_map<int64_t, Live> live_;
  std::vector<search::TrialPoint> points_;
  std::array<int, 8> counts_{};
  std::set<int64_t> pending_;  // Ordered by id: retried and enqueued first-come.
  std::set<int64_t> active_;
};

}  // namespace caviar::scheduling

#endif  // CAVIAR_SERVER_SCHEDULING_STUDY_RUNTIME_H_
