// Search-quality benchmark: median regret vs number of trials for caviar's
// samplers on standard test functions, over many seeds, with simulated
// parallel workers. compare.py runs it next to Optuna on the same functions,
// budgets and seeds, and prints the table of bench/search/README.md.
//
// Output (tab-separated, one record a line):
//   curve  FUNCTION SAMPLER PARALLEL TRIAL MEDIAN Q25 Q75
//   point  FUNCTION SAMPLER PARALLEL BUDGET MEDIAN Q25 Q75
//   time   FUNCTION SAMPLER PARALLEL MICROSECONDS_PER_SUGGESTION
// Regret = best objective among the first TRIAL (or BUDGET) trials minus
// the function's minimum. grid and coarse_to_fine plan for a budget, so
// their "point" records come from one run per budget (grid: floor(B^(1/d))
// points per parameter; coarse_to_fine: 6 rounds of B / 6 trials); curves
// come from the run planned for the largest budget.
//
// Usage: search_quality [--seeds N] [--first-seed S] [--max-trials N] [--only SAMPLER]
//                       [--option KEY=VALUE]... (options for --only)
//                       [--parallel N]          (instead of the default)
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <deque>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/str_format.h"
#include "server/search/sampler.h"
#include "server/search/space.h"

namespace caviar::search {
namespace {

struct TestFunction {
  std::string name;
  std::vector<caviar::v1::ParameterSpec> params;
  std::function<double(const std::vector<double>&)> f;  // On parameter values.
  double minimum;
};

caviar::v1::ParameterSpec Param(const std::string& name, double min, double max,
                                caviar::v1::Scale scale = caviar::v1::LINEAR) {
  caviar::v1::ParameterSpec p;
  p.set_name(name);
  p.mutable_double_()->set_min(min);
  p.mutable_double_()->set_max(max);
  p.set_scale(scale);
  return p;
}

double Branin(const std::vector<double>& x) {
  const double pi = 3.14159265358979323846;
  const double b = 5.1 / (4 * pi * pi), c = 5 / pi, t = 1 / (8 * pi);
  const double u = x[1] - b * x[0] * x[0] + c * x[0] - 6;
  return u * u + 10 * (1 - t) * std::cos(x[0]) + 10;
}

double Hartmann6(const std::vector<double>& x) {
  static const double alpha[4] = {1.0, 1.2, 3.0, 3.2};
  static const double a[4][6] = {{10, 3, 17, 3.5, 1.7, 8},
                                 {0.05, 10, 17, 0.1, 8, 14},
                                 {3, 3.5, 1.7, 10, 17, 8},
                                 {17, 8, 0.05, 10, 0.1, 14}};
  static const double p[4][6] = {{0.1312, 0.1696, 0.5569, 0.0124, 0.8283, 0.5886},
                                 {0.2329, 0.4135, 0.8307, 0.3736, 0.1004, 0.9991},
                                 {0.2348, 0.1451, 0.3522, 0.2883, 0.3047, 0.6650},
                                 {0.4047, 0.8828, 0.8732, 0.5743, 0.1091, 0.0381}};
  double sum = 0;
  for (int i = 0; i < 4; ++i) {
    double inner = 0;
    for (int j = 0; j < 6; ++j) inner += a[i][j] * (x[j] - p[i][j]) * (x[j] - p[i][j]);
    sum += alpha[i] * std::exp(-inner);
  }
  return -sum;
}

// The course notes' example: the learning rate matters, Adam's epsilon
// hardly does. Optimum at learning_rate = 10^-1.7, epsilon = 1e-8.
double AlphaEpsilon(const std::vector<double>& x) {
  const double a = std::log10(x[0]) + 1.7, e = std::log10(x[1]) + 8;
  return a * a + 0.001 * e * e;
}

std::vector<TestFunction> Functions() {
  std::vector<TestFunction> fs;
  fs.push_back({"alpha_epsilon",
                {Param("learning_rate", 1e-4, 1, caviar::v1::LOG),
                 Param("epsilon", 1e-10, 1e-6, caviar::v1::LOG)},
                AlphaEpsilon,
                0.0});
  fs.push_back(
      {"branin", {Param("x1", -5, 10), Param("x2", 0, 15)}, Branin, 0.397887357729739});
  std::vector<caviar::v1::ParameterSpec> six;
  for (int i = 0; i < 6; ++i) six.push_back(Param("x" + std::to_string(i + 1), 0, 1));
  fs.push_back({"hartmann6", six, Hartmann6, -3.32236801141551});
  return fs;
}

struct RunResult {
  std::vector<double> losses;  // By trial id.
  double suggest_seconds = 0;
  int suggestions = 0;
};

// One study: up to `parallel` trials run at once; when that many run, or
// the sampler asks to wait, the oldest finishes.
RunResult Run(const TestFunction& fn, const SearchSpace& space, Sampler& sampler,
              uint64_t seed, int max_trials, int parallel) {
  caviar::v1::StudySpec spec;
  spec.set_seed(seed);
  std::vector<TrialPoint> trials;
  google::protobuf::RepeatedPtrField<caviar::v1::Region> regions;
  std::deque<int> running;
  RunResult result;
  auto finish_oldest = [&] {
    TrialPoint& t = trials[running.front()];
    running.pop_front();
    ParameterMap values = space.FromUnitPoint(t.unit);
    std::vector<double> x;
    for (int i = 0; i < space.size(); ++i)
      x.push_back(values[space.parameter(i).name()].double_value());
    t.loss = fn.f(x);
    t.state = caviar::v1::SUCCEEDED;
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
      break;  // OUT_OF_RANGE: the sampler is done (a finished grid).
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
  for (const TrialPoint& t : trials) result.losses.push_back(*t.loss);
  return result;
}

struct Quartiles {
  double q25, median, q75;
};

Quartiles Summarize(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  auto at = [&](double q) {
    const double pos = q * (v.size() - 1);
    const size_t lo = static_cast<size_t>(std::floor(pos));
    const size_t hi = std::min(v.size() - 1, lo + 1);
    return v[lo] + (pos - lo) * (v[hi] - v[lo]);
  };
  return {at(0.25), at(0.5), at(0.75)};
}

// Regret of the best of the first n trials (all of them if fewer ran).
double RegretAt(const std::vector<double>& losses, int n, double minimum) {
  double best = INFINITY;
  for (int k = 0; k < std::min<int>(n, static_cast<int>(losses.size())); ++k) {
    best = std::min(best, losses[k]);
  }
  return std::max(0.0, best - minimum);
}

google::protobuf::Struct Options(const std::map<std::string, double>& fields) {
  google::protobuf::Struct s;
  for (const auto& [k, v] : fields) (*s.mutable_fields())[k].set_number_value(v);
  return s;
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

// Options of a sampler that plans for `budget` trials in d dimensions.
std::map<std::string, std::string>* extra_options = nullptr;

google::protobuf::Struct PlannedOptions(const std::string& name, int budget, int d) {
  if (extra_options != nullptr && !extra_options->empty()) {
    std::map<std::string, std::string> fields = *extra_options;
    if (name == "coarse_to_fine" && !fields.count("trials_per_round")) {
      const double rounds =
          fields.count("rounds") ? std::atof(fields["rounds"].c_str()) : 6;
      fields["trials_per_round"] =
          std::to_string(static_cast<int>(std::ceil(budget / rounds)));
    }
    return Options(fields);
  }
  if (name == "grid") {
    int points = static_cast<int>(std::floor(std::pow(budget, 1.0 / d) + 1e-9));
    return Options({{"points", std::max(points, 1)}});
  }
  if (name == "coarse_to_fine") {  // The default options, rounds fitted to the budget.
    return Options({{"rounds", 6}, {"trials_per_round", std::ceil(budget / 6.0)}});
  }
  return {};
}

}  // namespace
}  // namespace caviar::search

int main(int argc, char** argv) {
  using namespace caviar::search;
  int seeds = 30, max_trials = 100, first_seed = 1;
  std::string only;
  int parallel_override = 0;
  std::map<std::string, std::string> extra;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--seeds")) seeds = std::atoi(argv[i + 1]);
    if (!std::strcmp(argv[i], "--first-seed")) first_seed = std::atoi(argv[i + 1]);
    if (!std::strcmp(argv[i], "--max-trials")) max_trials = std::atoi(argv[i + 1]);
    if (!std::strcmp(argv[i], "--only")) only = argv[i + 1];
    if (!std::strcmp(argv[i], "--parallel")) parallel_override = std::atoi(argv[i + 1]);
    if (!std::strcmp(argv[i], "--option")) {
      const char* eq = std::strchr(argv[i + 1], '=');
      if (eq != nullptr)
        extra[std::string(static_cast<const char*>(argv[i + 1]), eq)] = eq + 1;
    }
  }
  extra_options = &extra;
  const std::vector<int> budgets = {10, 25, 50, 100};
  struct Config {
    std::string sampler;
    int parallel;
  };
  std::vector<Config> configs = {{"grid", 1},         {"random", 1},
                                 {"quasi_random", 1}, {"coarse_to_fine", 4},
                                 {"tpe", 1},          {"tpe", 4}};
  for (const TestFunction& fn : Functions()) {
    google::protobuf::RepeatedPtrField<caviar::v1::ParameterSpec> field(fn.params.begin(),
                                                                        fn.params.end());
    const SearchSpace space = *SearchSpace::Create(field);
    for (Config config : configs) {
      if (!only.empty() && config.sampler != only) continue;
      if (parallel_override > 0) {
        if (config.parallel != 1) continue;  // One run per sampler.
        config.parallel = parallel_override;
      }
      const bool planned = config.sampler == "grid" || config.sampler == "coarse_to_fine";
      std::map<int, std::vector<double>> at_budget;
      std::vector<std::vector<double>> curves;
      double seconds = 0;
      int suggestions = 0;
      for (int seed = first_seed; seed < first_seed + seeds; ++seed) {
        caviar::v1::Algorithm algorithm;
        algorithm.set_name(config.sampler);
        *algorithm.mutable_options() =
            PlannedOptions(config.sampler, max_trials, space.size());
        auto sampler = CreateSampler(algorithm, space);
        if (!sampler.ok()) {
          std::fprintf(stderr, "%s\n", sampler.status().ToString().c_str());
          return 1;
        }
        RunResult run = Run(fn, space, **sampler, seed, max_trials, config.parallel);
        seconds += run.suggest_seconds;
        suggestions += run.suggestions;
        std::vector<double> curve;
        for (int n = 1; n <= max_trials; ++n)
          curve.push_back(RegretAt(run.losses, n, fn.minimum));
        curves.push_back(curve);
        for (int b : budgets) {
          if (b > max_trials) continue;
          if (!planned) {
            at_budget[b].push_back(RegretAt(run.losses, b, fn.minimum));
            continue;
          }
          *algorithm.mutable_options() = PlannedOptions(config.sampler, b, space.size());
          auto for_budget = CreateSampler(algorithm, space);
          RunResult r = Run(fn, space, **for_budget, seed, b, config.parallel);
          at_budget[b].push_back(RegretAt(r.losses, b, fn.minimum));
        }
      }
      for (int n = 1; n <= max_trials; ++n) {
        std::vector<double> column;
        for (const auto& c : curves) column.push_back(c[n - 1]);
        Quartiles q = Summarize(column);
        std::printf("curve\t%s\t%s\t%d\t%d\t%.6g\t%.6g\t%.6g\n", fn.name.c_str(),
                    config.sampler.c_str(), config.parallel, n, q.median, q.q25, q.q75);
      }
      for (const auto& [b, values] : at_budget) {
        Quartiles q = Summarize(values);
        std::printf("point\t%s\t%s\t%d\t%d\t%.6g\t%.6g\t%.6g\n", fn.name.c_str(),
                    config.sampler.c_str(), config.parallel, b, q.median, q.q25, q.q75);
      }
      std::printf("time\t%s\t%s\t%d\t%.3f\n", fn.name.c_str(), config.sampler.c_str(),
                  config.parallel, 1e6 * seconds / std::max(1, suggestions));
      std::fflush(stdout);
    }
  }
  return 0;
}
