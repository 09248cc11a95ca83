// How the `caviar` command line shows studies and trials: aligned text
// tables (parameters as columns, then the objective), CSV (RFC 4180, full
// precision) and JSON in one style for every command (ToJson below).
// Pure functions of their arguments; thread-safe.
#ifndef CAVIAR_CLIENT_FORMAT_H_
#define CAVIAR_CLIENT_FORMAT_H_

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "caviar/v1/service.pb.h"
#include "caviar/v1/study.pb.h"
#include "caviar/v1/trial.pb.h"
#include "google/protobuf/message.h"
#include "nlohmann/json.hpp"

namespace caviar::client {

// JSON objects keep their keys in insertion (field-number) order.
using Json = nlohmann::ordered_json;

enum class OutputFormat { kTable, kJson, kCsv };

// "table", "json", "csv"; INVALID_ARGUMENT naming the choices otherwise.
absl::StatusOr<OutputFormat> ParseOutputFormat(std::string_view text);

// A text table: columns padded to their widest cell, numbers right-aligned.
class TextTable {
 public:
  explicit TextTable(std::vector<std::string> header);
  void AddRow(std::vector<std::string> cells);
  std::string Render() const;  // Ends with a newline; header only if no rows.

 private:
  std::vector<std::string> header_;
  std::vector<std::vector<std::string>> rows_;
};

// One CSV field, quoted when it holds a comma, quote or line break.
std::string CsvField(std::string_view text);
// A CSV record: the fields quoted as needed, joined by commas, "\n" ended.
std::string CsvLine(const std::vector<std::string>& fields);
// A number for CSV: the shortest text that reads back exactly; nan, inf, -inf.
std::string CsvNumber(double value);

// "ACTIVE", "COMPLETED", "STOPPED" (the enum's name without "STUDY_").
std::string StudyStateName(caviar::v1::StudyState state);

// A parameter value for a table ("0.001234", "64", "adam"): 4 significant
// digits for doubles unless `full_precision` (then round-trip exact).
std::string FormatParameterValue(const caviar::v1::ParameterValue& value,
                                 bool full_precision = false);

// Which columns a trial listing shows.
struct TrialColumns {
  // Parameter columns, in this order (normally the spec's); empty = the
  // sorted union of the trials' parameter names.
  std::vector<std::string> parameters;
  // Objective metric name; its column shows Trial.objective_value.
  std::string objective_metric = "objective";
};

// The columns for trials of `spec`.
TrialColumns ColumnsForSpec(const caviar::v1::StudySpec& spec);

// Table: ID STATE <params...> <metric> STEPS NOTE (failure or stop reason).
// CSV: id,state,<params...>,<metric>,steps,attempt,worker_id,note.
// JSON: an array of Trial objects.
std::string FormatTrials(absl::Span<const caviar::v1::Trial> trials,
                         const TrialColumns& columns, OutputFormat format);

// One trial: its fields, then its learning curve (step, elapsed, metrics;
// the objective metric first) as a table. JSON: the Trial object.
std::string FormatTrialDetail(const caviar::v1::Trial& trial,
                              const std::string& objective_metric, OutputFormat format);

// Table: NAME STATE DONE/MAX ACTIVE FAILED ALGORITHM CREATED.
std::string FormatStudies(absl::Span<const caviar::v1::Study> studies,
                          OutputFormat format);

// A study's summary: state, objective, algorithm, budget, counts, what runs
// its trials (a command, the built-in trainer, or external clients), its
// parameters with their domains and scales, and its coarse-to-fine regions
// in parameter values.
std::string FormatStudySummary(const caviar::v1::Study& study);

// A study as JSON (ToJson) with its regions in parameter values, as
// `caviar regions --format json` gives them.
Json StudyToJson(const caviar::v1::Study& study);

// The regions of a coarse-to-fine search, round 0 once (client/regions.h),
// in parameter values. Table: ROUND ORIGIN <one column per parameter: "lo ..
// hi">. CSV: round,origin,<param>.lo,<param>.hi,... JSON: an array of
// {"round", "origin", "create_time", "parameters": {NAME: {"lo", "hi"}}}.
// INVALID_ARGUMENT if the study's parameters do not form a search space.
absl::StatusOr<std::string> FormatRegions(const caviar::v1::Study& study,
                                          OutputFormat format);

// Table: PARAMETER IMPORTANCE +/- BAR, then the trials used and the method.
// CSV: name,importance,stddev. JSON: the response object.
std::string FormatImportance(const caviar::v1::GetImportanceResponse& response,
                             OutputFormat format);

// A re-tested configuration: the original trial's result against its re-runs.
struct DriftRow {
  int64_t trial_id = 0;
  std::optional<double> old_value;  // The original trial's objective value.
  int retests = 0;                  // Re-runs queued.
  int done = 0;                     // Re-runs succeeded with a value.
  std::optional<double> new_mean, new_stddev, drift;  // drift = new_mean - old.
};

// Table: TRIAL OLD <metric> RETESTS DONE NEW MEAN NEW SD DRIFT. CSV and JSON:
// trial_id, old_value, retests, done, new_mean, new_stddev, drift (empty or
// null when unknown).
std::string FormatDrift(absl::Span<const DriftRow> rows, const std::string& metric,
                        OutputFormat format);

// ---- JSON, one style for every command (`--format json`, `caviar export`).
//
// A message is an object with proto field names in field-number order; a
// field is left out when unset (as protobuf's JSON mapping does). Values:
// parameter values (caviar.v1.ParameterValue) as plain JSON values (0.001,
// 64, "adam"; null if unset), not oneof wrappers; every integer, 64-bit ones
// included, as a JSON number (ids are 1, 2, ..., not "1"); doubles as
// numbers, NaN and the infinities as the strings "NaN", "Infinity",
// "-Infinity"; enums by name; timestamps as RFC 3339 strings; Struct
// (algorithm options) as plain JSON; maps as objects (keys sorted); bytes in
// base64.

Json ToJson(const google::protobuf::Message& message);

// `json` indented by two spaces, ending with a newline (invalid UTF-8 in
// strings replaced by U+FFFD).
std::string JsonText(const Json& json);
// `json` on one line, ending with a newline (JSON lines).
std::string JsonLine(const Json& json);

// JsonText(ToJson(message)).
std::string MessageToJson(const google::protobuf::Message& message);

// A JSON array of ToJson(message) for each, indented.
template <typename M>
std::string JsonArrayText(absl::Span<const M> messages) {
  Json array = Json::array();
  for (const M& message : messages) array.push_back(ToJson(message));
  return JsonText(array);
}

}  // namespace caviar::client

#endif  // CAVIAR_CLIENT_FORMAT_H_
