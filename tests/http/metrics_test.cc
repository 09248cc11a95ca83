// metrics::Registry's text exposition format (Prometheus 0.0.4): series,
// label escaping, cumulative histogram buckets, value formatting.
#include "common/metrics/metrics.h"

#include <cmath>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace caviar::metrics {
namespace {

using ::testing::HasSubstr;

TEST(MetricsTest, CountersRenderOneSamplePerLabelValuesWithEscapedValues) {
  Registry registry;
  CounterFamily& calls =
      registry.Counter("calls_total", "Calls \\ made.\nTwo lines.", {"method", "code"});
  calls.With({"Get", "OK"}).Increment();
  calls.With({"Get", "OK"}).Increment(2);
  calls.With({"a\"b\\c\nd", "NOT_FOUND"}).Increment();
  EXPECT_EQ(&registry.Counter("calls_total", "ignored", {}), &calls);
  EXPECT_EQ(registry.Render(),
            "# HELP calls_total Calls \\\\ made.\\nTwo lines.\n"
            "# TYPE calls_total counter\n"
            "calls_total{method=\"Get\",code=\"OK\"} 3\n"
            "calls_total{method=\"a\\\"b\\\\c\\nd\",code=\"NOT_FOUND\"} 1\n");
}

TEST(MetricsTest, HistogramBucketsAreCumulativeWithSumAndCount) {
  Registry registry;
  Histogram& latency =
      registry.Histogram("latency_seconds", "Latency.", {}, {0.1, 1}).With({});
  latency.Observe(0.05);
  latency.Observe(0.1);  // On a bound: that bucket (le is inclusive).
  latency.Observe(0.5);
  latency.Observe(7);
  EXPECT_EQ(registry.Render(),
            "# HELP latency_seconds Latency.\n"
            "# TYPE latency_seconds histogram\n"
            "latency_seconds_bucket{le=\"0.1\"} 2\n"
            "latency_seconds_bucket{le=\"1\"} 3\n"
            "latency_seconds_bucket{le=\"+Inf\"} 4\n"
            "latency_seconds_sum 7.65\n"
            "latency_seconds_count 4\n");
}

TEST(MetricsTest, ValuesAreShortestExactIntegersPlainAndSpecialsNamed) {
  EXPECT_EQ(FormatValue(3), "3");
  EXPECT_EQ(FormatValue(0.00025), "0.00025");
  EXPECT_EQ(FormatValue(0.1 + 0.2), "0.30000000000000004");
  EXPECT_EQ(FormatValue(1e20), "1e+20");
  EXPECT_EQ(FormatValue(INFINITY), "+Inf");
  EXPECT_EQ(FormatValue(-INFINITY), "-Inf");
  EXPECT_EQ(FormatValue(NAN), "NaN");
}

}  // namespace
}  // namespace caviar::metrics
