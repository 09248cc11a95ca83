// Cost per parameter: mapping points and values must stay linear in the
// number of parameters and of values (name and value lookups used to scan,
// making a suggestion O(parameters^2): 10 s each at 80,000 parameters), and
// every sampler must suggest quickly at the spec limit of 1,000 parameters.
#include <ctime>
#include <iostream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "server/search/sampler.h"
#include "server/search/space.h"
#include "tests/search/study_loop.h"

namespace caviar::search {
namespace {

// The bound is a guard against a sampler going quadratic, not a benchmark:
// under ASan (scripts/sanitize.sh) every allocation costs several times more.
#if defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define CAVIAR_SANITIZED_BUILD 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define CAVIAR_SANITIZED_BUILD 1
#endif
#ifdef CAVIAR_SANITIZED_BUILD
constexpr double kSanitizerSlowdown = 5;
#else
constexpr double kSanitizerSlowdown = 1;
#endif

using ::caviar::search::testing::CategoricalParam;
using ::caviar::search::testing::DiscreteParam;
using ::caviar::search::testing::DoubleParam;
using ::caviar::search::testing::IntParam;
using ::caviar::search::testing::MakeSampler;
using ::caviar::search::testing::MakeSpace;
using ::caviar::search::testing::SimStudy;

constexpr int kParameterLimit = 1000;  // spec_validation's limit.

// Processor time of this process: unlike wall time it does not grow when the
// machine is shared (the bounds below are 10x or more what it takes).
double CpuSeconds() { return static_cast<double>(std::clock()) / CLOCKS_PER_SEC; }

// Far beyond the spec limit, so that a quadratic path would take minutes
// while a linear one takes milliseconds.
TEST(ScalingTest, PointsMapBothWaysInTimeLinearInTheParameterCount) {
  std::vector<caviar::v1::ParameterSpec> params;
  for (int i = 0; i < 40000; ++i)
    params.push_back(DoubleParam(absl::StrCat("p", i), 0, 1));
  const SearchSpace space = MakeSpace(params);
  std::vector<double> unit(space.size(), 0.25);
  const double start = CpuSeconds();
  for (int round = 0; round < 10; ++round) {
    absl::StatusOr<std::vector<double>> back =
        space.ToUnitPoint(space.FromUnitPoint(unit));
    ASSERT_TRUE(back.ok()) << back.status();
    ASSERT_EQ((*back)[space.size() - 1], 0.25);
  }
  const double seconds = CpuSeconds() - start;
  std::cout << "10 round trips of 40,000 parameters: " << seconds
            << " s of processor time\n";
  // ~0.5 s; quadratic lookups took 80 s.
  EXPECT_LT(seconds, 8.0);
  EXPECT_EQ(space.IndexOf("p39999"), 39999);
  EXPECT_EQ(space.IndexOf("q"), -1);
}

TEST(ScalingTest, ValuesMapToUnitsInTimeLinearInTheValueCount) {
  std::vector<std::string> names;
  std::vector<double> numbers;
  for (int k = 0; k < 50000; ++k) {
    names.push_back(absl::StrCat("v", k));
    numbers.push_back(50000 - k);
  }
  const SearchSpace space =
      MakeSpace({CategoricalParam("c", names), DiscreteParam("d", numbers)});
  const double start = CpuSeconds();
  for (int k = 0; k < 50000; ++k) {
    caviar::v1::ParameterValue name, number;
    name.set_string_value(names[k]);
    number.set_double_value(numbers[k]);
    absl::StatusOr<double> u = space.ToUnit(0, name);
    ASSERT_TRUE(u.ok()) << u.status();
    ASSERT_EQ(space.FromUnit(0, *u).string_value(), names[k]);
    absl::StatusOr<double> w = space.ToUnit(1, number);
    ASSERT_TRUE(w.ok()) << w.status();
    ASSERT_EQ(space.FromUnit(1, *w).double_value(), numbers[k]);
  }
  // ~0.1 s; scanning the values took 18 s.
  EXPECT_LT(CpuSeconds() - start, 3.0);
  caviar::v1::ParameterValue missing;
  missing.set_double_value(0.5);
  EXPECT_FALSE(space.ToUnit(1, missing).ok());
}

TEST(ScalingTest, EverySamplerSuggestsQuicklyAtTheParameterLimit) {
  std::vector<caviar::v1::ParameterSpec> mixed, finite;
  for (int i = 0; i < kParameterLimit; ++i) {
    const std::string name = absl::StrCat("p", i);
    switch (i % 4) {
      case 0:
        mixed.push_back(DoubleParam(name, 1e-4, 1, caviar::v1::LOG));
        break;
      case 1:
        mixed.push_back(IntParam(name, 1, 100));
        break;
      case 2:
        mixed.push_back(CategoricalParam(name, {"a", "b", "c"}));
        break;
      default:
        mixed.push_back(DoubleParam(name, -1, 1));
        break;
    }
    // A grid needs fewer than 2^63 cells: 60 two-valued parameters, the
    // rest fixed.
    finite.push_back(i < 60 ? IntParam(name, 0, 1) : IntParam(name, 5, 5));
  }
  const SearchSpace mixed_space = MakeSpace(mixed);
  const SearchSpace finite_space = MakeSpace(finite);
  for (const std::string& name : SamplerNames()) {
    const SearchSpace& space = name == "grid" ? finite_space : mixed_space;
    auto sampler = MakeSampler(name, space);
    ASSERT_NE(sampler, nullptr) << name;
    SimStudy study(space, 5);
    study.spec().mutable_budget()->set_max_trials(60);
    const double start = CpuSeconds();
    absl::Status run = study.Run(
        *sampler, [](const std::vector<double>& u) { return u[0] + u[1]; }, 60, 4);
    EXPECT_TRUE(run.ok()) << name << ": " << run;
    EXPECT_EQ(study.trials().size(), 60u) << name;
    const double seconds = CpuSeconds() - start;
    std::cout << name << ": 60 trials of " << kParameterLimit << " parameters in "
              << seconds << " s of processor time\n";
    EXPECT_LT(seconds, 5.0 * kSanitizerSlowdown) << name;
  }
}

}  // namespace
}  // namespace caviar::search
