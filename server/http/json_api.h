// JsonApi: the read-only JSON API of the coordinator's HTTP port, one call
// per endpoint, over the Coordinator's public query methods. Transport-free
// (http_server.cc routes requests here), so each endpoint is a function of
// its path parameters and query string. The endpoints, their parameters and
// their answers are documented in server/http/README.md; in short:
//
//   GET /api/v1/studies                           every study, with best value
//   GET /api/v1/studies/{name}                    one study (spec, regions)
//   GET /api/v1/studies/{name}/trials?after=&limit=&state=&measurements=
//   GET /api/v1/studies/{name}/columns?after=&limit=&state=&format=
//                                                 trials as columns (JSON or
//                                                 binary arrays)
//   GET /api/v1/studies/{name}/best?top=
//   GET /api/v1/studies/{name}/importance
//   GET /api/v1/studies/{name}/changes?after=&watch=&measurements=
//   GET /api/v1/trials/{id}                       one trial, its learning curve
//                                                 and its checkpoints
//
// Studies and trials are protobuf's JSON mapping of caviar.v1.Study and
// caviar.v1.Trial with proto field names: the same objects as the CLI's
// `--format json` (int64 fields such as ids are strings; fields at their
// default value are left out). Envelope fields (cursors, totals) are plain
// JSON numbers.
//
// Errors: {"error": {"code": "NOT_FOUND", "message": "..."}} with HTTP 400
// (a bad parameter, named with the reason), 404 (unknown study or trial),
// 409 (FAILED_PRECONDITION), 503 (storage unavailable), 500 otherwise.
//
// Thread-safety: all methods may be called concurrently.
#ifndef CAVIAR_SERVER_HTTP_JSON_API_H_
#define CAVIAR_SERVER_HTTP_JSON_API_H_

#include <atomic>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "server/checkpoints/checkpoint_store.h"
#include "server/http/trial_columns.h"
#include "server/scheduling/coordinator.h"

namespace caviar::http {

// A request's query parameters (a name may repeat, as in ?state=A&state=B).
using QueryParams = std::multimap<std::string, std::string>;

// The Content-Type of /columns?format=binary.
inline constexpr char kBinaryContentType[] = "application/octet-stream";

struct JsonResponse {
  int http_status = 200;
  std::string body;          // JSON (unless content_type says otherwise).
  std::string content_type;  // Empty: the route's (JSON).
  absl::Status status;       // Why, when not 200 (for the audit log).
};

// The error answer for a non-OK status.
JsonResponse ErrorResponse(const absl::Status& status);
// HTTP status of an absl status code.
int HttpStatusOf(absl::StatusCode code);

class JsonApi {
 public:
  // `coordinator` and `checkpoints` (nullptr: trials list none) must outlive
  // the api.
  JsonApi(scheduling::Coordinator* coordinator, checkpoints::CheckpointStore* checkpoints)
      : coordinator_(coordinator), checkpoints_(checkpoints) {}

  // Largest `limit` of /trials and /changes, and its default.
  static constexpr int kMaxLimit = 10000;
  static constexpr int kDefaultLimit = 1000;
  // Largest `limit` of /columns (a 100,000-trial study in one request),
  // and its default.
  static constexpr int kMaxColumnsLimit = 100000;
  static constexpr int kDefaultColumnsLimit = 10000;
  // Most ids in one `watch`.
  static constexpr int kMaxWatch = 1000;

  JsonResponse Studies(const QueryParams& params);
  JsonResponse Study(const std::string& name, const QueryParams& params);
  JsonResponse Trials(const std::string& study, const QueryParams& params);
  JsonResponse Columns(const std::string& study, const QueryParams& params);
  JsonResponse Best(const std::string& study, const QueryParams& params);
  JsonResponse Importance(const std::string& study, const QueryParams& params);
  JsonResponse Changes(const std::string& study, const QueryParams& params);
  JsonResponse Trial(const std::string& id, const QueryParams& params);

  // What a dashboard's study page asks for first (dashboard/app.js: the
  // study, its binary columns in one page, the learning curves of its
  // latest 2,000 trials, then the importance), read and remembered for
  // the most recently created studies the column cache holds, so that the
  // first page after a start is not the one that reads 100,000 trials
  // from the store (~1.5 s idle, 6 s on a loaded machine). Returns early
  // once `*stop` is set (checked between pages of 10,000 trials). Run on
  // a thread of its own (HttpServer does at start).
  void Warm(const std::atomic<bool>* stop);
  // The studies Warm reads (the column cache's capacity).
  static constexpr int kWarmStudies = 4;

 private:
  // A study's JSON with best_trial and progress (README).
  absl::StatusOr<std::string> StudyJson(const caviar::v1::Study& study);
  // Its best trial's JSON ("" for none).
  absl::StatusOr<std::string> BestTrialJson(const caviar::v1::Study& study);
  // `compute()`'s answer about `study` (`what`: which one), remembered
  // while none of the study's trials finishes: the best trial and the
  // importance read every finished trial (~0.3 s and ~3 s for 100,000), and
  // a dashboard asks for the study with every poll.
  absl::StatusOr<std::string> WhileNoTrialFinishes(
      const std::string& what, const caviar::v1::Study& study,
      absl::FunctionRef<absl::StatusOr<std::string>()> compute);

  // Answers made of finished trials only (/columns, /trials), remembered
  // under their query while the study's trial counts stay the same: a
  // finished trial never changes, and a new trial (the only other way such
  // an answer changes) changes the counts. A dashboard's first request of
  // a 100,000-trial study then copies 7 MB instead of building it
  // (~0.2 s idle). `query`: the endpoint and its parsed parameters.
  std::optional<std::string> Recall(const std::string& query,
                                    const caviar::v1::Study& study);
  void Remember(const std::string& query, const caviar::v1::Study& study,
                const std::string& body);

  scheduling::Coordinator* const coordinator_;
  checkpoints::CheckpointStore* const checkpoints_;
  // /columns' finished trials, per study (trial_columns.h).
  ColumnCache column_cache_;
  absl::Mutex remembered_mu_;
  // "what study" -> (the study's create time and finished counts, answer).
  std::map<std::string, std::pair<std::string, std::string>> remembered_
      ABSL_GUARDED_BY(remembered_mu_);
  absl::Mutex answers_mu_;
  // query -> (the study's create time and trial counts, answer).
  std::map<std::string, std::pair<std::string, std::shared_ptr<const std::string>>>
      answers_ ABSL_GUARDED_BY(answers_mu_);
  size_t answers_bytes_ ABSL_GUARDED_BY(answers_mu_) = 0;
  // The study whose columns Warm is reading ("" when none): a request for
  // them waits for it rather than reading the same trials at once.
  // Then its binary columns answer, then its latest curves (`warming_` is
  // cleared once the columns answer is remembered, `warming_curves_` once
  // the curves' is), and a request for either waits for that answer.
  absl::Mutex warm_mu_;
  std::string warming_ ABSL_GUARDED_BY(warm_mu_);
  std::string warming_curves_ ABSL_GUARDED_BY(warm_mu_);
  std::thread::id warm_thread_ ABSL_GUARDED_BY(warm_mu_);
  // Returns once Warm is done with `*warming` (warming_ or
  // warming_curves_) for `study`: at once if it is another study, or if
  // Warm itself asks.
  void AwaitWarm(const std::string* warming, const std::string& study);
};

}  // namespace caviar::http

#endif  // CAVIAR_SERVER_HTTP_JSON_API_H_
