// The coordinator's /metrics page: every series of metrics::Registry::
// Default() (RPCs, latencies, leases expired, commits: see
// common/metrics/coordinator_metrics.h, and the HTTP port's own requests)
// plus values read at scrape time:
//
//   caviar_studies{state}                 gauge  studies by state
//   caviar_trials{study,state}            gauge  trials by state, per study
//   caviar_database_bytes                 gauge  the database file and its WAL
//   process_resident_memory_bytes         gauge  resident set size
//   process_cpu_seconds_total             counter user + system CPU time
//   process_start_time_seconds            gauge  Unix time the process started
//
// In Prometheus's text exposition format 0.0.4 (`promtool check metrics`
// clean). A scrape costs one ListStudies (counts kept by the coordinator,
// no trial is read) and two stat calls.
//
// Thread-safety: a function of its arguments; safe to call concurrently.
#ifndef CAVIAR_SERVER_HTTP_METRICS_PAGE_H_
#define CAVIAR_SERVER_HTTP_METRICS_PAGE_H_

#include <string>

#include "server/scheduling/coordinator.h"

namespace caviar::http {

// `database_path` may be empty (no caviar_database_bytes).
std::string RenderMetricsPage(scheduling::Coordinator& coordinator,
                              const std::string& database_path);

}  // namespace caviar::http

#endif  // CAVIAR_SERVER_HTTP_METRICS_PAGE_H_
