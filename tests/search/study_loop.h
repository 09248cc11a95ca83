// Test helpers: build search spaces, and play a study's loop against a
// sampler the way the scheduler does (ask, record the trial as ACTIVE with
// its point read back from its parameter values, finish it later, record the
// regions the sampler starts).
#ifndef CAVIAR_TESTS_SEARCH_STUDY_LOOP_H_
#define CAVIAR_TESTS_SEARCH_STUDY_LOOP_H_

#include <deque>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "caviar/v1/study.pb.h"
#include "gtest/gtest.h"
#include "server/search/sampler.h"
#include "server/search/space.h"

namespace caviar::search::testing {

inline caviar::v1::ParameterSpec DoubleParam(
    const std::string& name, double min, double max,
    caviar::v1::Scale scale = caviar::v1::LINEAR) {
  caviar::v1::ParameterSpec p;
  p.set_name(name);
  p.mutable_double_()->set_min(min);
  p.mutable_double_()->set_max(max);
  p.set_scale(scale);
  return p;
}

inline caviar::v1::ParameterSpec IntParam(const std::string& name, int64_t min,
                                          int64_t max) {
  caviar::v1::ParameterSpec p;
  p.set_name(name);
  p.mutable_integer()->set_min(min);
  p.mutable_integer()->set_max(max);
  return p;
}

inline caviar::v1::ParameterSpec CategoricalParam(
    const std::string& name, const std::vector<std::string>& values) {
  caviar::v1::ParameterSpec p;
  p.set_name(name);
  for (const auto& v : values) p.mutable_categorical()->add_values(v);
  return p;
}

inline caviar::v1::ParameterSpec DiscreteParam(const std::string& name,
                                               const std::vector<double>& values) {
  caviar::v1::ParameterSpec p;
  p.set_name(name);
  for (double v : values) p.mutable_discrete()->add_values(v);
  return p;
}

inline SearchSpace MakeSpace(const std::vector<caviar::v1::ParameterSpec>& params) {
  google::protobuf::RepeatedPtrField<caviar::v1::ParameterSpec> field(params.begin(),
                                                                      params.end());
  absl::StatusOr<SearchSpace> space = SearchSpace::Create(field);
  EXPECT_TRUE(space.ok()) << space.status();
  return *space;
}

class SimStudy {
 public:
  SimStudy(const SearchSpace& space, uint64_t seed) : space_(space) {
    spec_.set_seed(seed);
  }

  SampleContext Context() const {
    SampleContext c;
    c.space = &space_;
    c.spec = &spec_;
    c.trials = trials_;
    c.regions = &regions_;
    c.trial_index = static_cast<int64_t>(trials_.size());
    c.seed = MixSeed(spec_.seed(), static_cast<uint64_t>(c.trial_index));
    return c;
  }

  // Asks for a trial; on success records it (ACTIVE) and returns its id.
  absl::StatusOr<int64_t> Ask(Sampler& sampler) {
    absl::StatusOr<Suggestion> s = sampler.Suggest(Context());
    if (!s.ok()) return s.status();
    last_ = *s;
    if (s->new_region) *regions_.Add() = *s->new_region;
    return Add(s->unit, s->round);
  }

  // Adds a trial at `unit` (as an enqueued trial would be).
  int64_t Add(const std::vector<double>& unit, int round = 0) {
    TrialPoint t;
    t.id = static_cast<int64_t>(trials_.size()) + 1;
    absl::StatusOr<std::vector<double>> canonical =
        space_.ToUnitPoint(space_.FromUnitPoint(unit));
    EXPECT_TRUE(canonical.ok()) << canonical.status();
    t.unit = *canonical;
    t.state = caviar::v1::ACTIVE;
    t.round = round;
    trials_.push_back(t);
    return t.id;
  }

  void Finish(int64_t id, std::optional<double> loss,
              caviar::v1::TrialState state = caviar::v1::SUCCEEDED) {
    TrialPoint& t = trials_[id - 1];
    t.state = state;
    t.loss = loss;
  }

  // Plays the loop: keeps up to `parallel` trials running, finishing the
  // oldest one (with loss f(unit)) when that many run or the sampler asks to
  // wait. Stops after `max_trials` trials or when the sampler has nothing
  // left (OUT_OF_RANGE), returning that status; other errors fail the test.
  absl::Status Run(Sampler& sampler,
                   const std::function<double(const std::vector<double>&)>& f,
                   int max_trials, int parallel) {
    std::deque<int64_t> running;
    while (static_cast<int>(trials_.size()) < max_trials) {
      if (static_cast<int>(running.size()) >= parallel) {
        FinishOldest(running, f);
        continue;
      }
      absl::StatusOr<int64_t> id = Ask(sampler);
      if (id.ok()) {
        running.push_back(*id);
      } else if (absl::IsUnavailable(id.status()) && !running.empty()) {
        FinishOldest(running, f);
      } else {
        while (!running.empty()) FinishOldest(running, f);
        return id.status();
      }
    }
    while (!running.empty()) FinishOldest(running, f);
    return absl::OkStatus();
  }

  std::optional<double> BestLoss() const {
    std::optional<double> best;
    for (const TrialPoint& t : trials_) {
      if (t.loss && (!best || *t.loss < *best)) best = t.loss;
    }
    return best;
  }

  const SearchSpace& space() const { return space_; }
  // The spec the sampler sees (seed, budget).
  caviar::v1::StudySpec& spec() { return spec_; }
  std::vector<TrialPoint>& trials() { return trials_; }
  google::protobuf::RepeatedPtrField<caviar::v1::Region>& regions() { return regions_; }
  const Suggestion& last() const { return last_; }

 private:
  void FinishOldest(std::deque<int64_t>& running,
                    const std::function<double(const std::vector<double>&)>& f) {
    const int64_t id = running.front();
    running.pop_front();
    Finish(id, f(trials_[id - 1].unit));
  }

  SearchSpace space_;
  caviar::v1::StudySpec spec_;
  std::vector<TrialPoint> trials_;
  google::protobuf::RepeatedPtrField<caviar::v1::Region> regions_;
  Suggestion last_;
};

inline std::unique_ptr<Sampler> MakeSampler(
    const std::string& name, const SearchSpace& space,
    const google::protobuf::Struct& options = {}) {
  caviar::v1::Algorithm algorithm;
  algorithm.set_name(name);
  *algorithm.mutable_options() = options;
  absl::StatusOr<std::unique_ptr<Sampler>> sampler = CreateSampler(algorithm, space);
  EXPECT_TRUE(sampler.ok()) << name << ": " << sampler.status();
  return sampler.ok() ? std::move(*sampler) : nullptr;
}

inline google::protobuf::Struct Struct(
    const std::vector<std::pair<std::string, google::protobuf::Value>>& fields) {
  google::protobuf::Struct s;
  for (const auto& [k, v] : fields) (*s.mutable_fields())[k] = v;
  return s;
}

inline google::protobuf::Value Number(double x) {
  google::protobuf::Value v;
  v.set_number_value(x);
  return v;
}

inline google::protobuf::Value Text(const std::string& x) {
  google::protobuf::Value v;
  v.set_string_value(x);
  return v;
}

}  // namespace caviar::search::testing

#endif  // CAVIAR_TESTS_SEARCH_STUDY_LOOP_H_
