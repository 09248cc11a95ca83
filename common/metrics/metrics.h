// Metrics: counters and histograms kept in process, rendered in Prometheus's
// text exposition format (version 0.0.4) by whoever serves them (the
// coordinator's HTTP port, server/http). No HTTP here, so any layer (the RPC
// edge, storage) can count without depending on a server.
//
//   metrics::CounterFamily& calls = metrics::Registry::Default().Counter(
//       "caviar_rpc_requests_total", "RPCs served.", {"method", "code"});
//   calls.With({"GetStudy", "OK"}).Increment();
//
// Families are created once and live as long as their registry; a series
// (one combination of label values) is created on first use and never
// removed, so callers keep label values to a bounded set (method names,
// status codes), never ids or user input.
//
// Values computed at scrape time (gauges read from elsewhere: trials per
// study, file sizes, memory) are written with the Append* helpers by the
// renderer itself.
//
// Thread-safety: everything may be called concurrently. Increment and
// Observe take one short lock (a series lookup) or none (a held series).
#ifndef CAVIAR_COMMON_METRICS_METRICS_H_
#define CAVIAR_COMMON_METRICS_METRICS_H_

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace caviar::metrics {

using LabelValues = std::vector<std::string>;

// A monotonically increasing count.
class Counter {
 public:
  void Increment(int64_t by = 1) { value_.fetch_add(by, std::memory_order_relaxed); }
  int64_t value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<int64_t> value_{0};
};

// Observations counted in buckets with fixed upper bounds (cumulative when
// rendered, plus +Inf), with their sum.
class Histogram {
 public:
  explicit Histogram(std::vector<double> upper_bounds);
  void Observe(double value);

  struct Snapshot {
    std::vector<double> upper_bounds;
    std::vector<uint64_t> cumulative;  // One per bound, then +Inf (= count).
    double sum = 0;
  };
  Snapshot Read() const;

 private:
  const std::vector<double> upper_bounds_;
  mutable absl::Mutex mu_;
  std::vector<uint64_t> counts_ ABSL_GUARDED_BY(mu_);  // Per bucket, +Inf last.
  double sum_ ABSL_GUARDED_BY(mu_) = 0;
};

// Bounds in seconds from 100 µs to 10 s, for call and commit latencies.
std::vector<double> LatencyBuckets();

// A named metric with labels: one Counter or Histogram per label values.
template <typename Series>
class Family {
 public:
  // The series for `values` (one per label name), created on first use.
  Series& With(const LabelValues& values);

  const std::string& name() const { return name_; }

 private:
  friend class Registry;
  Family(std::string name, std::string help, std::vector<std::string> labels,
         std::vector<double> bounds)
      : name_(std::move(name)),
        help_(std::move(help)),
        labels_(std::move(labels)),
        bounds_(std::move(bounds)) {}
  void Render(std::string* out) const;

  const std::string name_;
  const std::string help_;
  const std::vector<std::string> labels_;
  const std::vector<double> bounds_;  // Histograms only.
  mutable absl::Mutex mu_;
  std::map<LabelValues, std::unique_ptr<Series>> series_ ABSL_GUARDED_BY(mu_);
};
using CounterFamily = Family<Counter>;
using HistogramFamily = Family<Histogram>;

class Registry {
 public:
  // The process's registry (the coordinator's series live here).
  static Registry& Default();

  Registry() = default;
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  // The family of this name, created on first call; later calls with the
  // same name return it (their help and labels are ignored).
  CounterFamily& Counter(const std::string& name, const std::string& help,
                         std::vector<std::string> labels = {});
  HistogramFamily& Histogram(const std::string& name, const std::string& help,
                             std::vector<std::string> labels,
                             std::vector<double> upper_bounds);

  // Every family, by name, in the text exposition format.
  std::string Render() const;

 private:
  mutable absl::Mutex mu_;
  std::map<std::string, std::unique_ptr<CounterFamily>> counters_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, std::unique_ptr<HistogramFamily>> histograms_
      ABSL_GUARDED_BY(mu_);
};

// ---- the text format, for values computed at scrape time

// "# HELP name help\n# TYPE name type\n" (type: counter, gauge, histogram).
void AppendHeader(std::string* out, std::string_view name, std::string_view help,
                  std::string_view type);
// "name{l1="v1",...} value\n", label values escaped (\\, \", \n), so any
// text (a study name) is safe.
void AppendSample(std::string* out, std::string_view name,
                  const std::vector<std::string>& labels, const LabelValues& values,
                  double value);
// A sample value: integers without exponent, +Inf, -Inf, NaN.
std::string FormatValue(double value);

}  // namespace caviar::metrics

#endif  // CAVIAR_COMMON_METRICS_METRICS_H_
