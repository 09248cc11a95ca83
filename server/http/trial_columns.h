// TrialColumns: a study's trials as columns for charts,
// GET /api/v1/studies/{name}/columns, as JSON (one array per field) or as
// little-endian binary arrays a browser maps into typed arrays with no
// parsing (`?format=binary`). server/http/README.md documents both answers.
//
// Finished trials (SUCCEEDED, FAILED, STOPPED) never change again, so a
// ColumnCache keeps, per study, the columns of its longest run of finished
// trials from its first id on: a request reads those from memory and asks
// the Coordinator only for the trials after them. The run grows as requests
// see more finished trials after it (new trials get larger ids, as the
// API's `after=` cursor already assumes); a trial still open ends it.
//
// Thread-safety: TrialColumns is a value (not synchronized); ColumnCache and
// ReadTrialColumns may be called concurrently.
#ifndef CAVIAR_SERVER_HTTP_TRIAL_COLUMNS_H_
#define CAVIAR_SERVER_HTTP_TRIAL_COLUMNS_H_

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "caviar/v1/study.pb.h"
#include "caviar/v1/trial.pb.h"
#include "server/scheduling/coordinator.h"

namespace caviar::http {

// Trials of one study as columns, row i = the i-th trial added (by id).
// Missing numbers (no objective, no end time, a parameter the trial lacks)
// are NaN.
struct TrialColumns {
  struct Parameter {
    std::string name;
    enum Kind { kNumber, kInteger, kCategory } kind = kNumber;
    // kCategory: the spec's values first, then any other value seen.
    std::vector<std::string> categories;
    // The value, or for kCategory the index into `categories`.
    std::vector<double> values;
  };

  explicit TrialColumns(const caviar::v1::StudySpec& spec);

  size_t size() const { return id.size(); }
  void Add(const caviar::v1::Trial& trial);
  // Rows [begin, end) of `from` (columns of the same spec) appended.
  void AppendRows(const TrialColumns& from, size_t begin, size_t end);

  std::vector<int64_t> id;
  std::vector<uint8_t> state;    // caviar.v1.TrialState.
  std::vector<uint8_t> failure;  // caviar.v1.FailureKind.
  std::vector<double> objective, final_step, start_ms, end_ms;
  std::vector<int32_t> worker;  // Index into `workers`; -1: none.
  std::vector<std::string> workers;
  std::vector<std::string> reason;  // Failure reason, else stop reason.
  std::vector<Parameter> parameters;  // The spec's order.

 private:
  int32_t WorkerIndex(const std::string& name);
  double CategoryIndex(Parameter& parameter, const std::string& value);
};

// One answer: rows of a study after a cursor, with the envelope.
struct ColumnsPage {
  explicit ColumnsPage(const caviar::v1::StudySpec& spec) : columns(spec) {}
  TrialColumns columns;
  int64_t total = 0;       // Trials matching the state filter.
  int64_t next_after = 0;  // Last id returned (or the cursor).
  bool more = false;
};

// Per-study columns of the leading finished trials (see the file comment),
// for at most `max_studies` studies (the least recently used one goes).
class ColumnCache {
 public:
  explicit ColumnCache(int max_studies = 4) : max_studies_(max_studies) {}

  // Rows of `study` with id > after (at most `limit`), appended to `page`;
  // returns the id of the last row held (0 when none). Takes the cursor
  // through which the cache is complete: `*through`.
  int64_t Read(const caviar::v1::Study& study, int64_t after, int64_t limit,
               TrialColumns* page, int64_t* through);
  // Rows [begin, end) of `page`, the trials that follow `through` in id
  // order, become cached as far as they are finished, if the cache still
  // ends at `through`.
  void Extend(const caviar::v1::Study& study, int64_t through, const TrialColumns& page,
              size_t begin, size_t end);

 private:
  struct Entry {
    explicit Entry(const caviar::v1::StudySpec& spec) : columns(spec) {}
    TrialColumns columns;
    int64_t last_use = 0;
  };
  // The study's entry (made, and another evicted, if needed).
  Entry& EntryOf(const caviar::v1::Study& study) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const int max_studies_;
  absl::Mutex mu_;
  std::map<std::string, std::unique_ptr<Entry>> entries_ ABSL_GUARDED_BY(mu_);
  int64_t uses_ ABSL_GUARDED_BY(mu_) = 0;
};

// Up to `limit` trials of `study` with an id above `after` (and a state in
// `states`, all when empty), by id. `cache` (may be null) serves and learns
// the finished ones when `states` is empty. The Coordinator's errors.
absl::StatusOr<ColumnsPage> ReadTrialColumns(
    scheduling::Coordinator& coordinator, const caviar::v1::Study& study,
    const std::vector<caviar::v1::TrialState>& states, int64_t after, int64_t limit,
    ColumnCache* cache);

// The page as JSON:
//   {"count", "total", "next_after", "more",
//    "state_names", "failure_names", "workers",          dictionaries
//    "id", "state", "objective", "final_step", "worker",  one entry a trial
//    "start_ms", "end_ms", "failure", "reason",
//    "parameters": {NAME: [value, ...], ...}}            the spec's order
// (numbers, or strings for categories; null for NaN).
std::string ColumnsJson(const ColumnsPage& page);

// The page as binary: a little-endian uint32 N, N bytes of JSON (the
// envelope, the dictionaries, the non-empty reasons as {"row": [...],
// "text": [...]}, and "columns": [{"name", "type" (f64, i32, u8),
// "offset"}] with "parameters": [{"name", "column", "categories"?}]), then
// each column's `count` values at its offset (a multiple of 8). Ids, final
// steps and times are i32 when they fit (else f64), each value an offset
// from the column's "base" (0 when absent), its "none" standing for NaN.
std::string ColumnsBinary(const ColumnsPage& page);

}  // namespace caviar::http

#endif  // CAVIAR_SERVER_HTTP_TRIAL_COLUMNS_H_
