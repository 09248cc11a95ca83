// Cost of the search layer's calls as a study's history grows: a sampler's
// Suggest (called under the study lock on every SuggestTrial) and
// ComputeImportance (on `caviar importance`). Histories are synthetic:
// points from a scrambled Halton sequence, a smooth loss, all finished
// except the last 4 (running).
#include <benchmark/benchmark.h>

#include <cmath>

#include "server/search/halton.h"
#include "server/search/importance.h"
#include "server/search/sampler.h"
#include "server/search/space.h"

namespace caviar::search {
namespace {

SearchSpace Space(int d) {
  google::protobuf::RepeatedPtrField<caviar::v1::ParameterSpec> params;
  for (int i = 0; i < d; ++i) {
    caviar::v1::ParameterSpec* p = params.Add();
    p->set_name("x" + std::to_string(i));
    p->mutable_double_()->set_min(0);
    p->mutable_double_()->set_max(1);
  }
  return *SearchSpace::Create(params);
}

std::vector<TrialPoint> History(int d, int n) {
  ScrambledHalton halton(d, 3);
  std::vector<TrialPoint> trials(n);
  for (int k = 0; k < n; ++k) {
    trials[k].id = k + 1;
    trials[k].unit.resize(d);
    halton.Point(k, absl::MakeSpan(trials[k].unit));
    double loss = 0;
    for (double u : trials[k].unit) loss += (u - 0.3) * (u - 0.3);
    trials[k].loss = loss;
    trials[k].state = k + 4 >= n ? caviar::v1::ACTIVE : caviar::v1::SUCCEEDED;
    if (k + 4 >= n) trials[k].loss.reset();
  }
  return trials;
}

// `name`'s Suggest over d parameters and a history of n trials.
void Suggest(benchmark::State& state, const std::string& name, int d, int n) {
  const SearchSpace space = Space(d);
  caviar::v1::Algorithm algorithm;
  algorithm.set_name(name);
  auto sampler = *CreateSampler(algorithm, space);
  const std::vector<TrialPoint> trials = History(d, n);
  caviar::v1::StudySpec spec;
  google::protobuf::RepeatedPtrField<caviar::v1::Region> regions;
  SampleContext c;
  c.space = &space;
  c.spec = &spec;
  c.trials = trials;
  c.regions = &regions;
  c.trial_index = n;
  uint64_t k = 0;
  for (auto _ : state) {
    c.seed = MixSeed(1, ++k);
    benchmark::DoNotOptimize(sampler->Suggest(c));
  }
}

void BM_Suggest(benchmark::State& state, const std::string& name) {
  Suggest(state, name, 6, static_cast<int>(state.range(0)));
}
BENCHMARK_CAPTURE(BM_Suggest, random, std::string("random"))->Arg(100)->Arg(10000);
BENCHMARK_CAPTURE(BM_Suggest, quasi_random, std::string("quasi_random"))
    ->Arg(100)
    ->Arg(10000);
BENCHMARK_CAPTURE(BM_Suggest, coarse_to_fine, std::string("coarse_to_fine"))
    ->Arg(100)
    ->Arg(10000);
BENCHMARK_CAPTURE(BM_Suggest, tpe, std::string("tpe"))->Arg(100)->Arg(1000)->Arg(10000);

// At the spec's limit of 1,000 parameters (100 trials of history): every
// call is O(parameters); mapping a point to parameter values and back (what
// the scheduler does for every new trial and every trial it loads) too.
void BM_SuggestAtParameterLimit(benchmark::State& state, const std::string& name) {
  Suggest(state, name, 1000, 100);
}
BENCHMARK_CAPTURE(BM_SuggestAtParameterLimit, random, std::string("random"));
BENCHMARK_CAPTURE(BM_SuggestAtParameterLimit, quasi_random, std::string("quasi_random"));
BENCHMARK_CAPTURE(BM_SuggestAtParameterLimit, coarse_to_fine,
                  std::string("coarse_to_fine"));
BENCHMARK_CAPTURE(BM_SuggestAtParameterLimit, tpe, std::string("tpe"));

void BM_PointRoundTrip(benchmark::State& state) {
  const SearchSpace space = Space(static_cast<int>(state.range(0)));
  const std::vector<double> unit(space.size(), 0.25);
  for (auto _ : state) {
    benchmark::DoNotOptimize(space.ToUnitPoint(space.FromUnitPoint(unit)));
  }
}
BENCHMARK(BM_PointRoundTrip)->Arg(1000)->Arg(10000);

// The suggestion that starts a round: coarse_to_fine computes the next
// region from the whole history (every trial finished, all in round 0).
void BM_CoarseToFineNextRound(benchmark::State& state) {
  const int d = 6, n = static_cast<int>(state.range(0));
  const SearchSpace space = Space(d);
  caviar::v1::Algorithm algorithm;
  algorithm.set_name("coarse_to_fine");
  (*algorithm.mutable_options()->mutable_fields())["trials_per_round"].set_number_value(n);
  auto sampler = *CreateSampler(algorithm, space);
  std::vector<TrialPoint> trials = History(d, n + 4);
  trials.resize(n);
  caviar::v1::StudySpec spec;
  google::protobuf::RepeatedPtrField<caviar::v1::Region> regions;
  SampleContext c;
  c.space = &space;
  c.spec = &spec;
  c.trials = trials;
  c.regions = &regions;
  c.trial_index = n;
  regions.Add()->set_round(0);  // The whole cube.
  for (auto _ : state) {
    absl::StatusOr<Suggestion> s = sampler->Suggest(c);
    if (!s.ok() || !s->new_region) state.SkipWithError("no new region");
    benchmark::DoNotOptimize(s);
  }
}
BENCHMARK(BM_CoarseToFineNextRound)->Arg(100)->Arg(10000);

void BM_Importance(benchmark::State& state) {
  const int d = 6, n = static_cast<int>(state.range(0));
  const SearchSpace space = Space(d);
  const std::vector<TrialPoint> trials = History(d, n);
  for (auto _ : state) benchmark::DoNotOptimize(ComputeImportance(space, trials));
}
BENCHMARK(BM_Importance)->Arg(100)->Arg(1000)->Arg(4096)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace caviar::search

BENCHMARK_MAIN();
