// The coordinator's own series, recorded where things happen (the RPC edge,
// the lease reaper, storage) into metrics::Registry::Default() and served on
// its HTTP port's /metrics (server/http):
//
//   caviar_rpc_requests_total{service,method,code}   counter
//   caviar_rpc_duration_seconds{service,method}      histogram
//   caviar_leases_expired_total                      counter
//   caviar_store_commit_duration_seconds             histogram
//
// Thread-safety: every function may be called concurrently.
#ifndef CAVIAR_COMMON_METRICS_COORDINATOR_METRICS_H_
#define CAVIAR_COMMON_METRICS_COORDINATOR_METRICS_H_

#include <cstdint>
#include <string_view>

#include "absl/time/time.h"

namespace caviar::metrics {

// One RPC answered: `full_method` as gRPC names it
// ("/caviar.v1.StudyService/GetStudy"), `code` a gRPC/absl status code
// number (0 = OK), `latency` from the request to the answer.
void RecordRpc(std::string_view full_method, int code, absl::Duration latency);

// Trials whose lease ran out and were changed (requeued, failed, stopped).
void RecordLeasesExpired(int64_t trials);

// One Store commit, as long as its caller waited (group commit included).
void RecordCommit(absl::Duration latency);

}  // namespace caviar::metrics

#endif  // CAVIAR_COMMON_METRICS_COORDINATOR_METRICS_H_
