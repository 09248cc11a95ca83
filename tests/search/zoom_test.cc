#include "server/search/zoom.h"

#include <cmath>
#include <functional>

#include "gtest/gtest.h"
#include "tests/search/study_loop.h"

namespace caviar::search {
namespace {

using ::caviar::search::testing::DoubleParam;
using ::caviar::search::testing::IntParam;
using ::caviar::search::testing::MakeSpace;

// A finished trial at every point of an n x n grid (cell centres) of the
// unit square, with loss f.
std::vector<TrialPoint> GridHistory(int n,
                                    const std::function<double(double, double)>& f) {
  std::vector<TrialPoint> trials;
  for (int i = 0; i < n; ++i) {
    for (int j = 0; j < n; ++j) {
      TrialPoint t;
      t.id = static_cast<int64_t>(trials.size()) + 1;
      t.unit = {(i + 0.5) / n, (j + 0.5) / n};
      t.loss = f(t.unit[0], t.unit[1]);
      t.state = caviar::v1::SUCCEEDED;
      trials.push_back(t);
    }
  }
  return trials;
}

bool Contains(const Box& box, double x, double y) {
  return box.lo[0] <= x && x <= box.hi[0] && box.lo[1] <= y && y <= box.hi[1];
}

const SearchSpace& Square() {
  static const SearchSpace* space =
      new SearchSpace(MakeSpace({DoubleParam("x", 0, 1), DoubleParam("y", 0, 1)}));
  return *space;
}

// Two wells at (0.2, 0.2) and (0.8, 0.8), the first a little deeper, with
// a hill between them.
double TwoWells(double x, double y) {
  const double a = (x - 0.2) * (x - 0.2) + (y - 0.2) * (y - 0.2);
  const double b = (x - 0.8) * (x - 0.8) + (y - 0.8) * (y - 0.8);
  return std::min(a, b + 0.002);
}

TEST(ZoomTest, KeepsTheBestBasinOfTwo) {
  const std::vector<TrialPoint> trials = GridHistory(10, TwoWells);
  ZoomOptions options;
  options.top_fraction = 0.1;  // 10 trials: the 4 around each well, and 2 more.
  options.margin = 0.1;
  options.max_volume = 1;  // Only the basin decides.
  const Box next = NextRegion(Square(), FullBox(2), trials, options);
  EXPECT_TRUE(Contains(next, 0.2, 0.2));
  EXPECT_FALSE(Contains(next, 0.8, 0.8));
  EXPECT_LT((next.hi[0] - next.lo[0]) * (next.hi[1] - next.lo[1]), 0.25);
}

TEST(ZoomTest, AParameterThatHardlyMattersDoesNotSplitTheBasin) {
  // Loss depends on x; y moves it by at most 0.001: the 20 best trials are
  // the two columns next to x = 0.3, at every y.
  const std::vector<TrialPoint> trials = GridHistory(10, [](double x, double y) {
    return (x - 0.3) * (x - 0.3) + 0.001 * (y - 0.5) * (y - 0.5);
  });
  ZoomOptions options;
  options.top_fraction = 0.2;
  options.margin = 0;
  options.max_volume = 1;
  const Box next = NextRegion(Square(), FullBox(2), trials, options);
  EXPECT_NEAR(next.lo[0], 0.25, 1e-9);
  EXPECT_NEAR(next.hi[0], 0.35, 1e-9);
  EXPECT_NEAR(next.lo[1], 0.05, 1e-9);
  EXPECT_NEAR(next.hi[1], 0.95, 1e-9);
}

TEST(ZoomTest, ZoomsAtLeastToMaxVolumeAboutTheBestTrial) {
  // Every trial a candidate and no hill: the basin spans the square, so
  // only the cap makes the round zoom.
  const std::vector<TrialPoint> trials = GridHistory(6, [](double x, double y) {
    return (x - 0.5) * (x - 0.5) + (y - 0.5) * (y - 0.5);
  });
  ZoomOptions options;
  options.top_fraction = 1;
  options.margin = 0.25;
  options.max_volume = 0.25;
  const Box next = NextRegion(Square(), FullBox(2), trials, options);
  // Half as wide on each side of the best trial (the first of the four at
  // distance 1/12 from the centre: (5/12, 5/12)) as the square.
  EXPECT_NEAR(next.lo[0], 5.0 / 24, 1e-9);
  EXPECT_NEAR(next.hi[0], 17.0 / 24, 1e-9);
  EXPECT_NEAR(next.lo[1], 5.0 / 24, 1e-9);
  EXPECT_NEAR(next.hi[1], 17.0 / 24, 1e-9);

  options.max_volume = 1;  // No cap: the basin's box with its margins.
  const Box uncapped = NextRegion(Square(), FullBox(2), trials, options);
  EXPECT_EQ(uncapped.lo, std::vector<double>({0.0, 0.0}));
  EXPECT_EQ(uncapped.hi, std::vector<double>({1.0, 1.0}));
}

TEST(ZoomTest, StaysInTheCurrentRegionAndUsesOnlyItsFinishedTrials) {
  std::vector<TrialPoint> trials = GridHistory(10, TwoWells);
  TrialPoint& running = trials[9 * 10 + 5];  // (0.95, 0.55)
  running.state = caviar::v1::ACTIVE;        // Running trials have no say.
  running.loss = -1;
  const Box current = {{0.5, 0.5}, {1.0, 1.0}};
  ZoomOptions options;
  const Box next = NextRegion(Square(), current, trials, options);
  for (int i = 0; i < 2; ++i) {
    EXPECT_GE(next.lo[i], current.lo[i]);
    EXPECT_LE(next.hi[i], current.hi[i]);
  }
  EXPECT_TRUE(Contains(next, 0.8, 0.8));
  EXPECT_FALSE(Contains(next, 0.95, 0.55));
  const double area = (next.hi[0] - next.lo[0]) * (next.hi[1] - next.lo[1]);
  EXPECT_LE(area, 0.25 * 0.25 + 1e-12);

  const Box empty_region = {{0.0, 0.0}, {0.01, 0.01}};  // No trial inside.
  const Box same = NextRegion(Square(), empty_region, trials, options);
  EXPECT_EQ(same.lo, empty_region.lo);
  EXPECT_EQ(same.hi, empty_region.hi);
}

TEST(ZoomTest, DiscreteParametersGetWholeBins) {
  const SearchSpace space = MakeSpace({IntParam("layers", 1, 5), DoubleParam("y", 0, 1)});
  std::vector<TrialPoint> trials = GridHistory(10, [](double x, double y) {
    return (x - 0.52) * (x - 0.52) + (y - 0.3) * (y - 0.3);
  });
  ZoomOptions options;
  options.margin = 0;
  options.max_volume = 0.01;  // Much less than one bin of `layers`.
  const Box next = NextRegion(space, FullBox(2), trials, options);
  EXPECT_NEAR(next.lo[0], 0.4, 1e-9);  // layers = 3 is the bin [0.4, 0.6].
  EXPECT_NEAR(next.hi[0], 0.6, 1e-9);
}

}  // namespace
}  // namespace caviar::search
