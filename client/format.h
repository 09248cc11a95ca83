// How the `caviar` command line shows studies and trials: aligned text
// tables (parameters as columns, then the objective), CSV (RFC 4180, full
// precision) and JSON (protobuf's JSON mapping with proto field names).
// Pure functions of their arguments; thread-safe.
#ifndef CAVIAR_CLIENT_FORMAT_H_
#define CAVIAR_CLIENT_FORMAT_H_

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "caviar/v1/study.pb.h"
#include "caviar/v1/trial.pb.h"
#include "google/protobuf/message.h"

namespace caviar::client {

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

// A study's summary: state, objective, algorithm, budget, counts, and its
// parameters with their domains and scales.
std::string FormatStudySummary(const caviar::v1::Study& study);

// Protobuf JSON with proto field names, indented by two spaces.
std::string MessageToJson(const google::protobuf::Message& message);

}  // namespace caviar::client

#endif  // CAVIAR_CLIENT_FORMAT_H_
