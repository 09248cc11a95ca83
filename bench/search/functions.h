// Test functions of the search-quality benchmark (search_quality.cc), the
// same ones as optuna_quality.py's (compare.py checks that both sides agree
// at sample points). A function takes its parameters' values in order: a
// double's value, an integer's value, a categorical's index, LOG1M's value.
#ifndef CAVIAR_BENCH_SEARCH_FUNCTIONS_H_
#define CAVIAR_BENCH_SEARCH_FUNCTIONS_H_

#include <functional>
#include <string>
#include <vector>

#include "caviar/v1/study.pb.h"

namespace caviar::search::bench {

struct TestFunction {
  std::string name;
  std::vector<caviar::v1::ParameterSpec> params;
  std::function<double(const std::vector<double>&)> f;
  double minimum;
};

// Every function of bench/search/README.md's table, tuning and held-out.
std::vector<TestFunction> Functions();

}  // namespace caviar::search::bench

#endif  // CAVIAR_BENCH_SEARCH_FUNCTIONS_H_
