#include "server/http/json_api.h"

#include <algorithm>
#include <set>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "common/log.h"
#include "common/status_macros.h"
#include "server/http/proto_json.h"
#include "server/http/trial_columns.h"
#include "server/scheduling/study_runtime.h"

namespace caviar::http {
namespace {

using caviar::v1::ListTrialsRequest;
using caviar::v1::ListTrialsResponse;

constexpr int64_t kMaxId = INT64_MAX;

// Protobuf's JSON mapping with proto field names, on one line: the CLI's
// --format json objects (proto_json.h: the same JSON, faster).
std::string ToJson(const google::protobuf::Message& message) {
  return ProtoJson(message);
}

std::string JsonString(absl::string_view text) {
  std::string out;
  AppendJsonString(text, &out);
  return out;
}

std::string JsonNumber(double value) {
  std::string out;
  AppendJsonNumber(value, &out);
  return out;
}

// `object` (a JSON object's text) with `fields` ("\"k\":v" items) added.
std::string WithFields(std::string object, const std::vector<std::string>& fields) {
  if (fields.empty()) return object;
  object.pop_back();  // '}'
  if (object.size() > 1) object.push_back(',');
  object += absl::StrJoin(fields, ",");
  object.push_back('}');
  return object;
}

std::string TrialsArray(const std::vector<const caviar::v1::Trial*>& trials) {
  std::string out = "[";
  for (size_t i = 0; i < trials.size(); ++i) {
    if (i > 0) out.push_back(',');
    out += ToJson(*trials[i]);
  }
  return out + "]";
}

// ---- query parameters

absl::Status OnlyKnown(const QueryParams& params, std::vector<std::string> known) {
  for (const auto& [name, value] : params) {
    if (std::find(known.begin(), known.end(), name) != known.end()) continue;
    std::string name_shown = name.substr(0, 64);
    if (known.empty()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "unknown query parameter \"", name_shown, "\": this endpoint takes none"));
    }
    return absl::InvalidArgumentError(
        absl::StrCat("unknown query parameter \"", name_shown,
                     "\" (known: ", absl::StrJoin(known, ", "), ")"));
  }
  return absl::OkStatus();
}

// The one value of `name`, or nullptr; INVALID_ARGUMENT if it repeats.
absl::StatusOr<const std::string*> Single(const QueryParams& params,
                                          const std::string& name) {
  auto [first, last] = params.equal_range(name);
  if (first == last) return nullptr;
  if (std::next(first) != last)
    return absl::InvalidArgumentError(absl::StrCat(name, ": given more than once"));
  return &first->second;
}

// A decimal integer in [min, max], digits only.
absl::StatusOr<int64_t> ParseInteger(const std::string& name, const std::string& text,
                                     int64_t min, int64_t max) {
  auto bad = [&] {
    return absl::InvalidArgumentError(
        absl::StrCat(name, ": \"", text.substr(0, 64), text.size() > 64 ? "..." : "",
                     "\" is not an integer in [", min, ", ", max, "]"));
  };
  if (text.empty() || text.size() > 19) return bad();
  int64_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return bad();
    if (value > (kMaxId - (c - '0')) / 10) return bad();
    value = value * 10 + (c - '0');
  }
  if (value < min || value > max) return bad();
  return value;
}

absl::StatusOr<int64_t> IntegerParam(const QueryParams& params, const std::string& name,
                                     int64_t fallback, int64_t min, int64_t max) {
  CAVIAR_ASSIGN_OR_RETURN(const std::string* text, Single(params, name));
  if (text == nullptr) return fallback;
  return ParseInteger(name, *text, min, max);
}

absl::StatusOr<bool> BoolParam(const QueryParams& params, const std::string& name) {
  CAVIAR_ASSIGN_OR_RETURN(const std::string* text, Single(params, name));
  if (text == nullptr) return false;
  if (*text == "true" || *text == "1") return true;
  if (*text == "false" || *text == "0") return false;
  return absl::InvalidArgumentError(absl::StrCat(
      name, ": \"", text->substr(0, 64), "\" is not a boolean (true, false, 1 or 0)"));
}

// ?state=SUCCEEDED&state=FAILED or ?state=SUCCEEDED,FAILED.
absl::Status StatesParam(const QueryParams& params, ListTrialsRequest* request) {
  auto [first, last] = params.equal_range("state");
  for (auto it = first; it != last; ++it) {
    for (absl::string_view name : absl::StrSplit(it->second, ',')) {
      caviar::v1::TrialState state;
      if (!caviar::v1::TrialState_Parse(std::string(name), &state) ||
          state == caviar::v1::TRIAL_STATE_UNSPECIFIED) {
        return absl::InvalidArgumentError(
            absl::StrCat("state: unknown trial state \"", name.substr(0, 64),
                         "\" (one of PENDING, ACTIVE, SUCCEEDED, FAILED, STOPPED)"));
      }
      request->add_states(state);
    }
  }
  return absl::OkStatus();
}

// ---- trials after a cursor

struct TrialsPage {
  std::vector<caviar::v1::Trial> trials;
  int32_t total = 0;
  bool more = false;
};

// Up to `limit` trials of `base` with an id above `after`, by id: one
// ListTrials call (after_id), asking one trial more than `limit` (when the
// page size allows) to tell whether more are waiting.
absl::StatusOr<TrialsPage> TrialsAfter(scheduling::Coordinator& coordinator,
                                       const ListTrialsRequest& base, int64_t after,
                                       int64_t limit) {
  ListTrialsRequest request = base;
  request.set_after_id(after);
  request.set_page_size(static_cast<int32_t>(std::min<int64_t>(limit + 1, 10000)));
  CAVIAR_ASSIGN_OR_RETURN(ListTrialsResponse response, coordinator.ListTrials(request));
  TrialsPage page;
  page.total = response.total_size();
  page.more = !response.next_page_token().empty();
  for (caviar::v1::Trial& trial : *response.mutable_trials()) {
    if (static_cast<int64_t>(page.trials.size()) == limit) {
      page.more = true;
      break;
    }
    page.trials.push_back(std::move(trial));
  }
  return page;
}

// The study's identity (its create time: a study made again under its name
// has another) and its finished trials' counts, which a trial that
// finishes changes; with `unfinished`, also its pending and active counts,
// which a new trial changes.
std::string StudyKey(const caviar::v1::Study& study, bool unfinished) {
  std::string key =
      absl::StrCat(study.create_time().seconds(), ".", study.create_time().nanos(), " ");
  if (unfinished) {
    absl::StrAppend(&key, study.pending_trials(), " ", study.active_trials(), " ");
  }
  absl::StrAppend(&key, study.succeeded_trials(), " ", study.stopped_trials(), " ",
                  study.failed_trials());
  return key;
}

// An answer made of finished trials stays true while every count stays the
// same (json_api.h, Recall).
std::string CountsKey(const caviar::v1::Study& study) { return StudyKey(study, true); }

bool IsFinal(int state) {
  return scheduling::IsFinal(static_cast<caviar::v1::TrialState>(state));
}

JsonResponse Ok(std::string body) {
  JsonResponse response;
  response.body = std::move(body);
  return response;
}

// Runs `body` (returning StatusOr<std::string>), answering its error.
template <typename Body>
JsonResponse Answer(Body body) {
  absl::StatusOr<std::string> text = body();
  if (!text.ok()) return ErrorResponse(text.status());
  return Ok(*std::move(text));
}

}  // namespace

int HttpStatusOf(absl::StatusCode code) {
  switch (code) {
    case absl::StatusCode::kOk:
      return 200;
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kOutOfRange:
      return 400;
    case absl::StatusCode::kUnauthenticated:
      return 401;
    case absl::StatusCode::kPermissionDenied:
      return 403;
    case absl::StatusCode::kNotFound:
      return 404;
    case absl::StatusCode::kAlreadyExists:
    case absl::StatusCode::kFailedPrecondition:
    case absl::StatusCode::kAborted:
      return 409;
    case absl::StatusCode::kResourceExhausted:
      return 429;
    case absl::StatusCode::kUnimplemented:
      return 501;
    case absl::StatusCode::kUnavailable:
      return 503;
    case absl::StatusCode::kDeadlineExceeded:
      return 504;
    default:
      return 500;
  }
}

JsonResponse ErrorResponse(const absl::Status& status) {
  JsonResponse response;
  response.http_status = HttpStatusOf(status.code());
  response.status = status;
  response.body = absl::StrCat(
      "{\"error\":{\"code\":", JsonString(absl::StatusCodeToString(status.code())),
      ",\"message\":", JsonString(status.message()), "}}");
  return response;
}

// The study's JSON with its best trial (without its curve) and progress
// (finished trials over max_trials, when there is a budget).
absl::StatusOr<std::string> JsonApi::StudyJson(const caviar::v1::Study& study) {
  std::vector<std::string> fields;
  CAVIAR_ASSIGN_OR_RETURN(std::string best, BestTrialJson(study));
  if (!best.empty()) fields.push_back(absl::StrCat("\"best_trial\":", best));
  const int32_t max_trials = study.spec().budget().max_trials();
  if (max_trials > 0) {
    const double finished = study.succeeded_trials() + study.stopped_trials();
    fields.push_back(
        absl::StrCat("\"progress\":", JsonNumber(std::min(1.0, finished / max_trials))));
  }
  return WithFields(ToJson(study), fields);
}

absl::StatusOr<std::string> JsonApi::BestTrialJson(const caviar::v1::Study& study) {
  return WhileNoTrialFinishes("best", study, [&]() -> absl::StatusOr<std::string> {
    CAVIAR_ASSIGN_OR_RETURN(std::vector<caviar::v1::Trial> best,
                            coordinator_->BestTrials(study.spec().name(), 1));
    if (best.empty()) return std::string();
    best[0].clear_measurements();
    return ToJson(best[0]);
  });
}

absl::StatusOr<std::string> JsonApi::WhileNoTrialFinishes(
    const std::string& what, const caviar::v1::Study& study,
    absl::FunctionRef<absl::StatusOr<std::string>()> compute) {
  // A trial that finishes changes these counts; a study made again under
  // its name has another create time.
  const std::string name = absl::StrCat(what, " ", study.spec().name());
  const std::string key = StudyKey(study, /*unfinished=*/false);
  {
    absl::MutexLock lock(&remembered_mu_);
    auto it = remembered_.find(name);
    if (it != remembered_.end() && it->second.first == key) return it->second.second;
  }
  CAVIAR_ASSIGN_OR_RETURN(std::string json, compute());
  absl::MutexLock lock(&remembered_mu_);
  if (remembered_.size() > 1000) remembered_.clear();  // A bound; studies are few.
  remembered_[name] = {key, json};
  return json;
}

JsonResponse JsonApi::Studies(const QueryParams& params) {
  return Answer([&]() -> absl::StatusOr<std::string> {
    CAVIAR_RETURN_IF_ERROR(OnlyKnown(params, {}));
    std::string out = "{\"studies\":[";
    bool first = true;
    for (const caviar::v1::Study& study : coordinator_->ListStudies()) {
      absl::StatusOr<std::string> json = StudyJson(study);
      if (!json.ok()) continue;  // Deleted in between: not listed.
      if (!first) out.push_back(',');
      first = false;
      out += *json;
    }
    return out + "]}";
  });
}

JsonResponse JsonApi::Study(const std::string& name, const QueryParams& params) {
  return Answer([&]() -> absl::StatusOr<std::string> {
    CAVIAR_RETURN_IF_ERROR(OnlyKnown(params, {}));
    CAVIAR_ASSIGN_OR_RETURN(caviar::v1::Study study, coordinator_->GetStudy(name));
    return StudyJson(study);
  });
}

JsonResponse JsonApi::Trials(const std::string& study, const QueryParams& params) {
  return Answer([&]() -> absl::StatusOr<std::string> {
    CAVIAR_RETURN_IF_ERROR(
        OnlyKnown(params, {"after", "last", "limit", "state", "measurements"}));
    CAVIAR_ASSIGN_OR_RETURN(int64_t after, IntegerParam(params, "after", 0, 0, kMaxId));
    CAVIAR_ASSIGN_OR_RETURN(int64_t last, IntegerParam(params, "last", 0, 1, kMaxLimit));
    if (last > 0 && (params.count("after") > 0 || params.count("limit") > 0))
      return absl::InvalidArgumentError("last: not with after or limit (it sets both)");
    CAVIAR_ASSIGN_OR_RETURN(int64_t limit,
                            IntegerParam(params, "limit", kDefaultLimit, 1, kMaxLimit));
    CAVIAR_ASSIGN_OR_RETURN(bool measurements, BoolParam(params, "measurements"));
    ListTrialsRequest base;
    base.set_study(study);
    base.set_include_measurements(measurements);
    CAVIAR_RETURN_IF_ERROR(StatesParam(params, &base));
    // (A study that cannot be read is left to ListTrials to answer.)
    const absl::StatusOr<caviar::v1::Study> current = coordinator_->GetStudy(study);
    const std::string states = absl::StrJoin(base.states(), ",");
    const std::string last_query =
        absl::StrCat("trials\n", study, "\nlast ", last, " ", measurements, " ", states);
    if (last > 0 && current.ok()) {
      if (std::optional<std::string> known = Recall(last_query, *current))
        return *std::move(known);
    }
    if (last > 0) {
      // The cursor before the last `last` trials: from the trials' ids
      // (the column cache's, then the store's after them). Warm reading
      // them into that cache: wait for it rather than read all of them too
      // (a cold study page's curves and columns arrive at once).
      AwaitWarm(&warming_curves_, study);
      std::vector<caviar::v1::TrialState> wanted;
      for (int state : base.states())
        wanted.push_back(static_cast<caviar::v1::TrialState>(state));
      std::vector<int64_t> ids;
      for (int64_t cursor = 0;;) {
        CAVIAR_ASSIGN_OR_RETURN(caviar::v1::Study now, coordinator_->GetStudy(study));
        CAVIAR_ASSIGN_OR_RETURN(ColumnsPage page,
                                ReadTrialColumns(*coordinator_, now, wanted, cursor,
                                                 kMaxColumnsLimit, &column_cache_));
        ids.insert(ids.end(), page.columns.id.begin(), page.columns.id.end());
        cursor = page.next_after;
        if (!page.more) break;
      }
      after = ids.size() > static_cast<size_t>(last) ? ids[ids.size() - last - 1] : 0;
      limit = last;
    }
    const std::string query = absl::StrCat("trials\n", study, "\n", after, " ", limit,
                                           " ", measurements, " ", states);
    if (current.ok()) {
      if (std::optional<std::string> known = Recall(query, *current)) {
        if (last > 0) Remember(last_query, *current, *known);
        return *std::move(known);
      }
    }
    CAVIAR_ASSIGN_OR_RETURN(TrialsPage page,
                            TrialsAfter(*coordinator_, base, after, limit));
    std::vector<const caviar::v1::Trial*> trials;
    bool all_final = true;
    for (const auto& trial : page.trials) {
      trials.push_back(&trial);
      all_final = all_final && IsFinal(trial.state());
    }
    const int64_t next = page.trials.empty() ? after : page.trials.back().id();
    std::string body = absl::StrCat("{\"trials\":", TrialsArray(trials),
                                    ",\"total\":", page.total, ",\"next_after\":", next,
                                    ",\"more\":", page.more ? "true" : "false", "}");
    if (current.ok() && all_final) {
      Remember(query, *current, body);
      if (last > 0) Remember(last_query, *current, body);
    }
    return body;
  });
}

JsonResponse JsonApi::Columns(const std::string& study, const QueryParams& params) {
  bool binary = false;
  JsonResponse reply = Answer([&]() -> absl::StatusOr<std::string> {
    CAVIAR_RETURN_IF_ERROR(OnlyKnown(params, {"after", "limit", "state", "format"}));
    CAVIAR_ASSIGN_OR_RETURN(int64_t after, IntegerParam(params, "after", 0, 0, kMaxId));
    CAVIAR_ASSIGN_OR_RETURN(
        int64_t limit,
        IntegerParam(params, "limit", kDefaultColumnsLimit, 1, kMaxColumnsLimit));
    CAVIAR_ASSIGN_OR_RETURN(const std::string* format, Single(params, "format"));
    if (format != nullptr && *format != "json" && *format != "binary") {
      return absl::InvalidArgumentError(
          absl::StrCat("format: \"", format->substr(0, 64), "\" is not json or binary"));
    }
    binary = format != nullptr && *format == "binary";
    ListTrialsRequest filter;
    CAVIAR_RETURN_IF_ERROR(StatesParam(params, &filter));
    std::vector<caviar::v1::TrialState> states;
    for (int state : filter.states())
      states.push_back(static_cast<caviar::v1::TrialState>(state));
    // Warm reading these very trials: then read its answer or cache.
    AwaitWarm(&warming_, study);
    CAVIAR_ASSIGN_OR_RETURN(caviar::v1::Study current, coordinator_->GetStudy(study));
    const std::string query =
        absl::StrCat("columns\n", study, "\n", after, " ", limit, " ", binary, " ",
                     absl::StrJoin(filter.states(), ","));
    if (std::optional<std::string> known = Recall(query, current))
      return *std::move(known);
    CAVIAR_ASSIGN_OR_RETURN(
        ColumnsPage page,
        ReadTrialColumns(*coordinator_, current, states, after, limit, &column_cache_));
    std::string body = binary ? ColumnsBinary(page) : ColumnsJson(page);
    const std::vector<uint8_t>& rows = page.columns.state;
    if (std::all_of(rows.begin(), rows.end(), IsFinal)) Remember(query, current, body);
    return body;
  });
  if (binary && reply.http_status == 200) reply.content_type = kBinaryContentType;
  return reply;
}

JsonResponse JsonApi::Best(const std::string& study, const QueryParams& params) {
  return Answer([&]() -> absl::StatusOr<std::string> {
    CAVIAR_RETURN_IF_ERROR(OnlyKnown(params, {"top"}));
    CAVIAR_ASSIGN_OR_RETURN(int64_t top, IntegerParam(params, "top", 10, 1, kMaxLimit));
    CAVIAR_ASSIGN_OR_RETURN(std::vector<caviar::v1::Trial> best,
                            coordinator_->BestTrials(study, static_cast<int>(top)));
    std::vector<const caviar::v1::Trial*> trials;
    for (auto& trial : best) {
      trial.clear_measurements();
      trials.push_back(&trial);
    }
    return absl::StrCat("{\"trials\":", TrialsArray(trials), "}");
  });
}

JsonResponse JsonApi::Importance(const std::string& study, const QueryParams& params) {
  return Answer([&]() -> absl::StatusOr<std::string> {
    CAVIAR_RETURN_IF_ERROR(OnlyKnown(params, {}));
    CAVIAR_ASSIGN_OR_RETURN(caviar::v1::Study current, coordinator_->GetStudy(study));
    return WhileNoTrialFinishes(
        "importance", current, [&]() -> absl::StatusOr<std::string> {
          CAVIAR_ASSIGN_OR_RETURN(caviar::v1::GetImportanceResponse importance,
                                  coordinator_->GetImportance(study));
          return ToJson(importance);
        });
  });
}

JsonResponse JsonApi::Changes(const std::string& study, const QueryParams& params) {
  return Answer([&]() -> absl::StatusOr<std::string> {
    CAVIAR_RETURN_IF_ERROR(
        OnlyKnown(params, {"after", "limit", "watch", "measurements"}));
    CAVIAR_ASSIGN_OR_RETURN(int64_t after, IntegerParam(params, "after", 0, 0, kMaxId));
    CAVIAR_ASSIGN_OR_RETURN(int64_t limit,
                            IntegerParam(params, "limit", kDefaultLimit, 1, kMaxLimit));
    CAVIAR_ASSIGN_OR_RETURN(bool measurements, BoolParam(params, "measurements"));
    std::vector<int64_t> watch;
    auto [first, last] = params.equal_range("watch");
    for (auto it = first; it != last; ++it) {
      for (absl::string_view id : absl::StrSplit(it->second, ',', absl::SkipEmpty())) {
        CAVIAR_ASSIGN_OR_RETURN(int64_t value,
                                ParseInteger("watch", std::string(id), 1, kMaxId));
        watch.push_back(value);
        if (watch.size() > kMaxWatch)
          return absl::InvalidArgumentError(
              absl::StrCat("watch: more than ", kMaxWatch, " trial ids"));
      }
    }
    CAVIAR_ASSIGN_OR_RETURN(caviar::v1::Study current, coordinator_->GetStudy(study));

    // New trials, then the open ones the client already has, then the
    // watched ones (which it holds as open and may have finished since).
    ListTrialsRequest base;
    base.set_study(study);
    base.set_include_measurements(measurements);
    CAVIAR_ASSIGN_OR_RETURN(TrialsPage page,
                            TrialsAfter(*coordinator_, base, after, limit));
    ListTrialsRequest open = base;
    open.add_states(caviar::v1::PENDING);
    open.add_states(caviar::v1::ACTIVE);
    open.set_page_size(kMaxLimit);
    CAVIAR_ASSIGN_OR_RETURN(ListTrialsResponse running, coordinator_->ListTrials(open));
    std::vector<const caviar::v1::Trial*> trials;
    std::set<int64_t> sent;
    for (const auto& trial : page.trials) {
      trials.push_back(&trial);
      sent.insert(trial.id());
    }
    for (const auto& trial : running.trials()) {
      if (trial.id() > after || !sent.insert(trial.id()).second) continue;
      trials.push_back(&trial);
    }
    std::vector<caviar::v1::Trial> watched;
    watched.reserve(watch.size());
    for (int64_t id : watch) {
      if (sent.count(id) > 0) continue;
      absl::StatusOr<caviar::v1::Trial> trial = coordinator_->GetTrial(id);
      if (!trial.ok() && trial.status().code() == absl::StatusCode::kNotFound)
        return absl::InvalidArgumentError(
            absl::StrCat("watch: trial ", id, " not found"));
      if (!trial.ok()) return trial.status();
      if (trial->study() != study) {
        return absl::InvalidArgumentError(
            absl::StrCat("watch: trial ", id, " belongs to study \"",
                         trial->study().substr(0, 64), "\", not to this one"));
      }
      if (!measurements) trial->clear_measurements();
      sent.insert(id);
      watched.push_back(*std::move(trial));
    }
    for (const auto& trial : watched) trials.push_back(&trial);
    const int64_t next = page.trials.empty() ? after : page.trials.back().id();
    CAVIAR_ASSIGN_OR_RETURN(std::string study_json, StudyJson(current));
    return absl::StrCat("{\"study\":", study_json, ",\"trials\":", TrialsArray(trials),
                        ",\"next_after\":", next,
                        ",\"more\":", page.more ? "true" : "false", "}");
  });
}

JsonResponse JsonApi::Trial(const std::string& id, const QueryParams& params) {
  return Answer([&]() -> absl::StatusOr<std::string> {
    CAVIAR_RETURN_IF_ERROR(OnlyKnown(params, {}));
    CAVIAR_ASSIGN_OR_RETURN(int64_t value, ParseInteger("trial id", id, 1, kMaxId));
    CAVIAR_ASSIGN_OR_RETURN(caviar::v1::Trial trial, coordinator_->GetTrial(value));
    if (checkpoints_ == nullptr) return ToJson(trial);
    CAVIAR_ASSIGN_OR_RETURN(std::vector<caviar::v1::CheckpointInfo> kept,
                            checkpoints_->List(value));
    std::string list = "[";
    for (size_t i = 0; i < kept.size(); ++i) {
      if (i > 0) list.push_back(',');
      kept[i].clear_curve();  // The trial's own curve is in `measurements`.
      AppendProtoJson(kept[i], &list);
    }
    return WithFields(ToJson(trial), {absl::StrCat("\"checkpoints\":", list, "]")});
  });
}

std::optional<std::string> JsonApi::Recall(const std::string& query,
                                           const caviar::v1::Study& study) {
  std::shared_ptr<const std::string> body;
  {
    absl::MutexLock lock(&answers_mu_);
    auto it = answers_.find(query);
    if (it == answers_.end() || it->second.first != CountsKey(study)) return std::nullopt;
    body = it->second.second;
  }
  return *body;  // Copied outside the lock.
}

void JsonApi::Remember(const std::string& query, const caviar::v1::Study& study,
                       const std::string& body) {
  // Bounds: a 100,000-trial study's columns are 7 MB, its curves 1.4 MB.
  constexpr size_t kMaxBytes = 64 << 20;
  constexpr size_t kMaxAnswers = 256;
  auto shared = std::make_shared<const std::string>(body);
  absl::MutexLock lock(&answers_mu_);
  auto it = answers_.find(query);
  if (it != answers_.end()) {
    answers_bytes_ -= it->second.second->size();
    answers_.erase(it);
  }
  if (answers_bytes_ + body.size() > kMaxBytes || answers_.size() >= kMaxAnswers) {
    answers_.clear();
    answers_bytes_ = 0;
  }
  if (body.size() > kMaxBytes) return;
  answers_bytes_ += body.size();
  answers_.emplace(query, std::make_pair(CountsKey(study), std::move(shared)));
}

void JsonApi::AwaitWarm(const std::string* warming, const std::string& study) {
  struct NotWarming {
    const std::string* warming;
    const std::string* study;
    bool Check() const { return *warming != *study; }
  } not_warming{warming, &study};
  absl::MutexLock lock(&warm_mu_);
  if (std::this_thread::get_id() == warm_thread_) return;
  warm_mu_.Await(absl::Condition(&not_warming, &NotWarming::Check));
}

void JsonApi::Warm(const std::atomic<bool>* stop) {
  std::vector<caviar::v1::Study> studies = coordinator_->ListStudies();
  std::sort(studies.begin(), studies.end(), [](const auto& a, const auto& b) {
    return std::make_pair(a.create_time().seconds(), a.create_time().nanos()) >
           std::make_pair(b.create_time().seconds(), b.create_time().nanos());
  });
  if (studies.size() > static_cast<size_t>(kWarmStudies)) studies.resize(kWarmStudies);
  for (const caviar::v1::Study& listed : studies) {
    const std::string& name = listed.spec().name();
    const absl::Time start = absl::Now();
    // Its columns into the cache, a page at a time.
    size_t trials = 0;
    {
      absl::MutexLock lock(&warm_mu_);
      warm_thread_ = std::this_thread::get_id();
      warming_ = warming_curves_ = name;
    }
    int64_t after = 0;
    while (!stop->load()) {
      absl::StatusOr<caviar::v1::Study> current = coordinator_->GetStudy(name);
      if (!current.ok()) break;
      absl::StatusOr<ColumnsPage> page =
          ReadTrialColumns(*coordinator_, *current, {}, after, 10000, &column_cache_);
      if (!page.ok()) break;
      trials += page->columns.size();
      after = page->next_after;
      if (!page->more) break;
    }
    // The study page's first requests (dashboard/app.js: studyPage,
    // COLUMNS_PAGE, loadCurves and CURVES_KEPT), remembered.
    if (!stop->load()) {
      Study(name, {});
      Columns(name, {{"after", "0"},
                     {"format", "binary"},
                     {"limit", absl::StrCat(kMaxColumnsLimit)}});
    }
    {
      absl::MutexLock lock(&warm_mu_);
      warming_.clear();
    }
    if (!stop->load()) Trials(name, {{"last", "2000"}, {"measurements", "true"}});
    {
      absl::MutexLock lock(&warm_mu_);
      warming_curves_.clear();
    }
    if (stop->load()) return;
    CAVIAR_LOG(INFO) << "dashboard: study " << name << " read (" << trials
                     << " trials) in " << absl::ToDoubleSeconds(absl::Now() - start)
                     << " s";
  }
}

}  // namespace caviar::http
