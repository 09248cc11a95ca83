#include "common/metrics/coordinator_metrics.h"

#include <string>

#include "absl/status/status.h"
#include "common/metrics/metrics.h"

namespace caviar::metrics {
namespace {

CounterFamily& Requests() {
  static CounterFamily& family = Registry::Default().Counter(
      "caviar_rpc_requests_total", "gRPC calls answered, by method and status code.",
      {"service", "method", "code"});
  return family;
}

HistogramFamily& Durations() {
  static HistogramFamily& family = Registry::Default().Histogram(
      "caviar_rpc_duration_seconds",
      "Time from a gRPC request to its answer, by method (refused calls included).",
      {"service", "method"}, LatencyBuckets());
  return family;
}

}  // namespace

void RecordRpc(std::string_view full_method, int code, absl::Duration latency) {
  // "/package.Service/Method" -> service, method.
  std::string_view service = full_method;
  std::string_view method;
  if (!service.empty() && service.front() == '/') service.remove_prefix(1);
  if (const size_t slash = service.rfind('/'); slash != std::string_view::npos) {
    method = service.substr(slash + 1);
    service = service.substr(0, slash);
  }
  std::string code_name = absl::StatusCodeToString(static_cast<absl::StatusCode>(code));
  if (code_name.empty()) code_name = std::to_string(code);
  Requests()
      .With({std::string(service), std::string(method), std::move(code_name)})
      .Increment();
  Durations()
      .With({std::string(service), std::string(method)})
      .Observe(absl::ToDoubleSeconds(latency));
}

void RecordLeasesExpired(int64_t trials) {
  static Counter& counter =
      Registry::Default()
          .Counter("caviar_leases_expired_total",
                   "Trials whose lease ran out (requeued, failed or stopped).")
          .With({});
  counter.Increment(trials);
}

void RecordCommit(absl::Duration latency) {
  static Histogram& histogram =
      Registry::Default()
          .Histogram("caviar_store_commit_duration_seconds",
                     "Time a commit to the database took, as its caller waited "
                     "(group commit included).",
                     {}, LatencyBuckets())
          .With({});
  histogram.Observe(absl::ToDoubleSeconds(latency));
}

}  // namespace caviar::metrics
