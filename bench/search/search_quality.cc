// Search-quality benchmark: regret after a budget of trials of caviar's
// samplers on the test functions of functions.h, one record per seed, with
// simulated parallel workers. compare.py runs it next to Optuna
// (optuna_quality.py) on the same functions, budget and seeds, and prints
// the tables of bench/search/README.md (medians, quartiles, A12).
//
// Output (tab-separated, one record a line):
//   seed   FUNCTION SAMPLER PARALLEL SEED REGRET
//   time   FUNCTION SAMPLER PARALLEL MICROSECONDS_PER_SUGGESTION
//   probe  FUNCTION VALUE... F      (with --probe: values at sample points)
// Regret = best objective among the trials minus the function's minimum.
// Every sampler runs with its default options; the study's
// budget.max_trials is the budget (coarse_to_fine plans its rounds from it).
//
// Usage: search_quality [--seeds N] [--first-seed S] [--max-trials N]
//                       [--only SAMPLER] [--parallel N] [--option KEY=VALUE]...
//                       [--functions NAME,NAME] [--probe]
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <deque>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_split.h"
#include "bench/search/functions.h"
#include "server/search/sampler.h"
#include "server/search/space.h"

namespace caviar::search {
namespace {

using bench::TestFunction;

// The function's arguments from a point: values, category indices.
std::vector<double> Arguments(const SearchSpace& space, absl::Span<const double> unit) {
  std::vector<double> x;
  for (int i = 0; i < space.size(); ++i) {
    const caviar::v1::ParameterValue v = space.FromUnit(i, unit[i]);
    const auto& p = space.parameter(i);
    if (p.has_categorical()) {
      x.push_back(static_cast<double>(space.BinIndex(i, unit[i])));
    } else if (v.has_int_value()) {
      x.push_back(static_cast<double>(v.int_value()));
    } else {
      x.push_back(v.double_value());
    }
  }
  return x;
}

struct RunResult {
  double best = INFINITY;
  double suggest_seconds = 0;
  int suggestions = 0;
};

// One study: up to `parallel` trials run at once; when that many run, or
// the sampler asks to wait, the oldest finishes (equal trial durations:
// completion order is the order they were asked).
RunResult Run(const TestFunction& fn, const SearchSpace& space, Sampler& sampler,
              uint64_t seed, int max_trials, int parallel) {
  caviar::v1::StudySpec spec;
  spec.set_seed(seed);
  spec.mutable_budget()->set_max_trials(max_trials);
  spec.mutable_budget()->set_max_parallel_trials(parallel);
  std::vector<TrialPoint> trials;
  google::protobuf::RepeatedPtrField<caviar::v1::Region> regions;
  std::deque<int> running;
  RunResult result;
  auto finish_oldest = [&] {
    TrialPoint& t = trials[running.front()];
    running.pop_front();
    t.loss = fn.f(Arguments(space, t.unit));
    t.state = caviar::v1::SUCCEEDED;
    result.best = std::min(result.best, *t.loss);
  };
  while (static_cast<int>(trials.size()) < max_trials) {
    if (static_cast<int>(running.size()) >= parallel) {
      finish_oldest();
      continue;
    }
    SampleContext c;
    c.space = &space;
    c.spec = &spec;
    c.trials = trials;
    c.regions = &regions;
    c.trial_index = static_cast<int64_t>(trials.size());
    c.seed = MixSeed(seed, static_cast<uint64_t>(c.trial_index));
    const auto start = std::chrono::steady_clock::now();
    absl::StatusOr<Suggestion> s = sampler.Suggest(c);
    result.suggest_seconds +=
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    ++result.suggestions;
    if (!s.ok()) {
      if (absl::IsUnavailable(s.status()) && !running.empty()) {
        finish_oldest();
        continue;
      }
      break;  // OUT_OF_RANGE: the sampler is done.
    }
    if (s->new_region) *regions.Add() = *s->new_region;
    TrialPoint t;
    t.id = static_cast<int64_t>(trials.size()) + 1;
    t.unit = *space.ToUnitPoint(space.FromUnitPoint(s->unit));
    t.state = caviar::v1::ACTIVE;
    t.round = s->round;
    trials.push_back(std::move(t));
    running.push_back(static_cast<int>(trials.size()) - 1);
  }
  while (!running.empty()) finish_oldest();
  return result;
}

// --option values: a number, true/false, or a string.
google::protobuf::Struct Options(const std::map<std::string, std::string>& fields) {
  google::protobuf::Struct s;
  for (const auto& [k, v] : fields) {
    char* end = nullptr;
    const double x = std::strtod(v.c_str(), &end);
    if (v == "true" || v == "false") {
      (*s.mutable_fields())[k].set_bool_value(v == "true");
    } else if (!v.empty() && end != nullptr && *end == '\0') {
      (*s.mutable_fields())[k].set_number_value(x);
    } else {
      (*s.mutable_fields())[k].set_string_value(v);
    }
  }
  return s;
}

// Values and f at a few fixed points, for compare.py's check that the
// Python functions are the same.
void Probe(const TestFunction& fn, const SearchSpace& space) {
  for (double u0 : {0.13, 0.5, 0.77, 0.91}) {
    std::vector<double> unit(space.size());
    for (int i = 0; i < space.size(); ++i) unit[i] = std::fmod(u0 + 0.37 * i, 1.0);
    const std::vector<double> x = Arguments(space, unit);
    std::printf("probe\t%s", fn.name.c_str());
    for (double v : x) std::printf("\t%.17g", v);
    std::printf("\t%.17g\n", fn.f(x));
  }
}

}  // namespace
}  // namespace caviar::search

int main(int argc, char** argv) {
  using namespace caviar::search;
  int seeds = 30, max_trials = 50, first_seed = 1;
  std::string only;
  std::set<std::string> functions;
  bool probe = false;
  int parallel_override = 0;
  std::map<std::string, std::string> extra;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--probe")) {
      probe = true;
      continue;
    }
    if (i + 1 >= argc) break;
    const char* value = argv[++i];
    if (!std::strcmp(argv[i - 1], "--seeds")) seeds = std::atoi(value);
    if (!std::strcmp(argv[i - 1], "--first-seed")) first_seed = std::atoi(value);
    if (!std::strcmp(argv[i - 1], "--max-trials")) max_trials = std::atoi(value);
    if (!std::strcmp(argv[i - 1], "--only")) only = value;
    if (!std::strcmp(argv[i - 1], "--parallel")) parallel_override = std::atoi(value);
    if (!std::strcmp(argv[i - 1], "--functions")) {
      for (absl::string_view f : absl::StrSplit(value, ',')) functions.emplace(f);
    }
    if (!std::strcmp(argv[i - 1], "--option")) {
      const char* eq = std::strchr(value, '=');
      if (eq != nullptr) extra[std::string(value, eq)] = eq + 1;
    }
  }
  struct Config {
    std::string sampler;
    int parallel;
  };
  std::vector<Config> configs = {
      {"random", 1}, {"coarse_to_fine", 4}, {"tpe", 1}, {"tpe", 4}, {"tpe", 16}};
  if (parallel_override > 0) {  // One run per sampler.
    configs = {{"random", parallel_override},
               {"coarse_to_fine", parallel_override},
               {"tpe", parallel_override}};
  }
  for (const bench::TestFunction& fn : bench::Functions()) {
    if (!functions.empty() && !functions.count(fn.name)) continue;
    google::protobuf::RepeatedPtrField<caviar::v1::ParameterSpec> field(fn.params.begin(),
                                                                        fn.params.end());
    const SearchSpace space = *SearchSpace::Create(field);
    if (probe) {
      Probe(fn, space);
      continue;
    }
    for (const Config& config : configs) {
      if (!only.empty() && config.sampler != only) continue;
      double seconds = 0;
      int suggestions = 0;
      for (int seed = first_seed; seed < first_seed + seeds; ++seed) {
        caviar::v1::Algorithm algorithm;
        algorithm.set_name(config.sampler);
        if (!only.empty()) *algorithm.mutable_options() = Options(extra);
        auto sampler = CreateSampler(algorithm, space);
        if (!sampler.ok()) {
          std::fprintf(stderr, "%s\n", sampler.status().ToString().c_str());
          return 1;
        }
        RunResult run = Run(fn, space, **sampler, seed, max_trials, config.parallel);
        seconds += run.suggest_seconds;
        suggestions += run.suggestions;
        std::printf("seed\t%s\t%s\t%d\t%d\t%.9g\n", fn.name.c_str(), config.sampler.c_str(),
                    config.parallel, seed, std::max(0.0, run.best - fn.minimum));
      }
      std::printf("time\t%s\t%s\t%d\t%.3f\n", fn.name.c_str(), config.sampler.c_str(),
                  config.parallel, 1e6 * seconds / std::max(1, suggestions));
      std::fflush(stdout);
    }
  }
  return 0;
}
