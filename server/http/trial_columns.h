// TrialColumns: a study's trials as columns (one JSON array per field, one
// per parameter) for charts: GET /api/v1/studies/{name}/columns. Written
// straight from the Coordinator's pages of trials (ListTrials by id after a
// cursor), with no protobuf JSON per trial: a 100,000-trial study is a few
// requests and a few MB, where /trials is 100,000 JSON objects.
//
// The answer (server/http/README.md documents it):
//   {"count", "total", "next_after", "more",
//    "state_names", "failure_names", "workers",          dictionaries
//    "id", "state", "objective", "final_step", "worker",  one entry a trial
//    "start_ms", "end_ms", "failure", "reason",
//    "parameters": {NAME: [value, ...], ...}}            the spec's order
// Parameter values are in their own space (numbers, or strings for
// categorical ones); a value a trial lacks, a non-finite number or an unset
// time is null.
//
// Thread-safety: a function of the Coordinator's (thread-safe) queries.
#ifndef CAVIAR_SERVER_HTTP_TRIAL_COLUMNS_H_
#define CAVIAR_SERVER_HTTP_TRIAL_COLUMNS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "caviar/v1/study.pb.h"
#include "caviar/v1/trial.pb.h"
#include "server/scheduling/coordinator.h"

namespace caviar::http {

// Up to `limit` trials of `study` with an id above `after` (and a state in
// `states`, all when empty), by id, as the JSON above. NOT_FOUND for an
// unknown study; the Coordinator's errors otherwise.
absl::StatusOr<std::string> TrialColumnsJson(
    scheduling::Coordinator& coordinator, const caviar::v1::Study& study,
    const std::vector<caviar::v1::TrialState>& states, int64_t after, int64_t limit);

}  // namespace caviar::http

#endif  // CAVIAR_SERVER_HTTP_TRIAL_COLUMNS_H_
