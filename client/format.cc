#include "client/format.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "client/yaml_scalars.h"
#include "google/protobuf/util/json_util.h"
#include "google/protobuf/util/time_util.h"
#include "nlohmann/json.hpp"

namespace caviar::client {
namespace {

using caviar::v1::ParameterSpec;
using caviar::v1::Study;
using caviar::v1::Trial;

bool LooksNumeric(const std::string& cell) {
  return yaml_scalars::IsInt(cell) || yaml_scalars::IsFloat(cell) || cell == "nan" ||
         cell == "inf" || cell == "-inf";
}

std::string Short(double value) { return absl::StrFormat("%.6g", value); }

std::string TimestampText(const google::protobuf::Timestamp& time) {
  if (time.seconds() == 0 && time.nanos() == 0) return "";
  google::protobuf::Timestamp whole = time;
  whole.set_nanos(0);  // Seconds are enough to read.
  return google::protobuf::util::TimeUtil::ToString(whole);
}

std::string TrialStateName(caviar::v1::TrialState state) {
  return caviar::v1::TrialState_Name(state);
}

std::string OneLine(std::string text, size_t max_length) {
  absl::StrReplaceAll({{"\r", " "}, {"\n", " "}, {"\t", " "}}, &text);
  text = std::string(absl::StripAsciiWhitespace(text));
  if (max_length > 0 && text.size() > max_length)
    text = text.substr(0, max_length - 3) + "...";
  return text;
}

// The reason a trial did not simply succeed.
std::string Note(const Trial& trial) {
  if (!trial.failure_reason().empty() ||
      trial.failure_kind() != caviar::v1::FAILURE_KIND_UNSPECIFIED) {
    std::string kind = trial.failure_kind() == caviar::v1::FAILURE_KIND_UNSPECIFIED
                           ? ""
                           : caviar::v1::FailureKind_Name(trial.failure_kind());
    if (trial.failure_reason().empty()) return kind;
    if (kind.empty()) return trial.failure_reason();
    return absl::StrCat(kind, ": ", trial.failure_reason());
  }
  return trial.stop_reason();
}

std::string LastStep(const Trial& trial) {
  if (trial.has_final_measurement())
    return absl::StrCat(trial.final_measurement().step());
  if (trial.measurements_size() > 0) {
    return absl::StrCat(trial.measurements(trial.measurements_size() - 1).step());
  }
  return "";
}

std::vector<std::string> ParameterNames(absl::Span<const Trial> trials,
                                        const TrialColumns& columns) {
  if (!columns.parameters.empty()) return columns.parameters;
  std::set<std::string> names;
  for (const Trial& trial : trials) {
    for (const auto& [name, unused] : trial.parameters()) names.insert(name);
  }
  return std::vector<std::string>(names.begin(), names.end());
}

std::string ParameterCell(const Trial& trial, const std::string& name, bool full) {
  auto it = trial.parameters().find(name);
  if (it == trial.parameters().end()) return "";
  return FormatParameterValue(it->second, full);
}

std::string DomainText(const ParameterSpec& parameter) {
  std::string scale = parameter.scale() == caviar::v1::SCALE_UNSPECIFIED
                          ? ""
                          : absl::StrCat(" ", caviar::v1::Scale_Name(parameter.scale()));
  switch (parameter.domain_case()) {
    case ParameterSpec::kDouble:
      return absl::StrCat("double [", Short(parameter.double_().min()), ", ",
                          Short(parameter.double_().max()), "]", scale);
    case ParameterSpec::kInteger:
      return absl::StrCat("integer [", parameter.integer().min(), ", ",
                          parameter.integer().max(), "]", scale);
    case ParameterSpec::kDiscrete: {
      std::vector<std::string> values;
      for (double value : parameter.discrete().values()) values.push_back(Short(value));
      return absl::StrCat("discrete {", absl::StrJoin(values, ", "), "}", scale);
    }
    case ParameterSpec::kCategorical:
      return absl::StrCat("categorical {",
                          absl::StrJoin(parameter.categorical().values(), ", "), "}");
    default:
      return "(no domain)";
  }
}

// A table indented by two spaces, under a "name:" line.
std::string Indented(const std::string& table, bool skip_header) {
  std::string out;
  bool first = true;
  for (absl::string_view line : absl::StrSplit(table, '\n', absl::SkipEmpty())) {
    if (!(first && skip_header)) absl::StrAppend(&out, "  ", line, "\n");
    first = false;
  }
  return out;
}

}  // namespace

absl::StatusOr<OutputFormat> ParseOutputFormat(std::string_view text) {
  if (text == "table") return OutputFormat::kTable;
  if (text == "json") return OutputFormat::kJson;
  if (text == "csv") return OutputFormat::kCsv;
  return absl::InvalidArgumentError(absl::StrCat("--format: unknown format '",
                                                 std::string(text),
                                                 "' (expected table, json or csv)"));
}

TextTable::TextTable(std::vector<std::string> header) : header_(std::move(header)) {}

void TextTable::AddRow(std::vector<std::string> cells) {
  cells.resize(header_.size());
  rows_.push_back(std::move(cells));
}

std::string TextTable::Render() const {
  const size_t columns = header_.size();
  std::vector<size_t> width(columns);
  std::vector<bool> numeric(columns, true);
  for (size_t c = 0; c < columns; ++c) {
    width[c] = header_[c].size();
    bool any = false;
    for (const auto& row : rows_) {
      width[c] = std::max(width[c], row[c].size());
      if (row[c].empty()) continue;
      any = true;
      if (!LooksNumeric(row[c])) numeric[c] = false;
    }
    if (!any) numeric[c] = false;
  }
  std::string out;
  auto append_row = [&](const std::vector<std::string>& cells) {
    std::string line;
    for (size_t c = 0; c < columns; ++c) {
      if (c > 0) line += "  ";
      const size_t pad = width[c] - cells[c].size();
      if (numeric[c]) {
        line.append(pad, ' ');
        line += cells[c];
      } else {
        line += cells[c];
        line.append(pad, ' ');
      }
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out += line;
    out += '\n';
  };
  append_row(header_);
  for (const auto& row : rows_) append_row(row);
  return out;
}

std::string CsvField(std::string_view text) {
  if (text.find_first_of(",\"\r\n") == std::string_view::npos) return std::string(text);
  return absl::StrCat("\"", absl::StrReplaceAll(std::string(text), {{"\"", "\"\""}}),
                      "\"");
}

std::string StudyStateName(caviar::v1::StudyState state) {
  std::string name = caviar::v1::StudyState_Name(state);
  if (absl::StartsWith(name, "STUDY_")) name = name.substr(6);
  return name;
}

std::string CsvLine(const std::vector<std::string>& fields) {
  std::vector<std::string> quoted;
  for (const std::string& field : fields) quoted.push_back(CsvField(field));
  return absl::StrCat(absl::StrJoin(quoted, ","), "\n");
}

std::string CsvNumber(double value) {
  if (std::isnan(value)) return "nan";
  if (std::isinf(value)) return value > 0 ? "inf" : "-inf";
  return yaml_scalars::FormatDouble(value);
}

std::string FormatParameterValue(const caviar::v1::ParameterValue& value,
                                 bool full_precision) {
  switch (value.value_case()) {
    case caviar::v1::ParameterValue::kDoubleValue:
      return full_precision ? yaml_scalars::FormatDouble(value.double_value())
                            : absl::StrFormat("%.4g", value.double_value());
    case caviar::v1::ParameterValue::kIntValue:
      return absl::StrCat(value.int_value());
    case caviar::v1::ParameterValue::kStringValue:
      return value.string_value();
    default:
      return "";
  }
}

TrialColumns ColumnsForSpec(const caviar::v1::StudySpec& spec) {
  TrialColumns columns;
  for (const ParameterSpec& parameter : spec.parameters()) {
    columns.parameters.push_back(parameter.name());
  }
  if (!spec.objective().metric().empty())
    columns.objective_metric = spec.objective().metric();
  return columns;
}

std::string FormatTrials(absl::Span<const Trial> trials, const TrialColumns& columns,
                         OutputFormat format) {
  if (format == OutputFormat::kJson) return JsonArrayText(trials);
  const std::vector<std::string> parameters = ParameterNames(trials, columns);
  const bool csv = format == OutputFormat::kCsv;
  std::vector<std::string> header = {csv ? "id" : "ID", csv ? "state" : "STATE"};
  header.insert(header.end(), parameters.begin(), parameters.end());
  header.push_back(columns.objective_metric);
  if (csv) {
    header.insert(header.end(), {"step", "attempt", "worker_id", "note"});
  } else {
    header.insert(header.end(), {"STEP", "NOTE"});
  }
  TextTable table(header);
  std::string out = csv ? CsvLine(header) : "";
  for (const Trial& trial : trials) {
    std::vector<std::string> row = {absl::StrCat(trial.id()),
                                    TrialStateName(trial.state())};
    for (const std::string& name : parameters)
      row.push_back(ParameterCell(trial, name, csv));
    if (trial.has_objective_value()) {
      row.push_back(csv ? CsvNumber(trial.objective_value())
                        : Short(trial.objective_value()));
    } else {
      row.push_back("");
    }
    row.push_back(LastStep(trial));
    if (csv) {
      row.insert(row.end(), {absl::StrCat(trial.attempt()), trial.worker_id(),
                             OneLine(Note(trial), 0)});
      out += CsvLine(row);
    } else {
      row.push_back(OneLine(Note(trial), 60));
      table.AddRow(std::move(row));
    }
  }
  return csv ? out : table.Render();
}

std::string FormatTrialDetail(const Trial& trial, const std::string& objective_metric,
                              OutputFormat format) {
  if (format == OutputFormat::kJson) return MessageToJson(trial);
  std::set<std::string> metric_set;
  for (const auto& measurement : trial.measurements()) {
    for (const auto& [name, unused] : measurement.metrics()) metric_set.insert(name);
  }
  std::vector<std::string> metrics;
  if (metric_set.erase(objective_metric) > 0) metrics.push_back(objective_metric);
  metrics.insert(metrics.end(), metric_set.begin(), metric_set.end());

  if (format == OutputFormat::kCsv) {  // The learning curve.
    std::vector<std::string> header = {"step", "elapsed_seconds"};
    header.insert(header.end(), metrics.begin(), metrics.end());
    std::string out = CsvLine(header);
    for (const auto& measurement : trial.measurements()) {
      std::vector<std::string> row = {absl::StrCat(measurement.step()),
                                      CsvNumber(measurement.elapsed_seconds())};
      for (const std::string& name : metrics) {
        auto it = measurement.metrics().find(name);
        row.push_back(it == measurement.metrics().end() ? "" : CsvNumber(it->second));
      }
      out += CsvLine(row);
    }
    return out;
  }

  std::vector<std::pair<std::string, std::string>> fields = {
      {"trial", absl::StrCat(trial.id())},
      {"study", trial.study()},
      {"state", TrialStateName(trial.state())},
      {objective_metric,
       trial.has_objective_value() ? Short(trial.objective_value()) : ""},
      {"origin", trial.origin() == caviar::v1::TRIAL_ORIGIN_UNSPECIFIED
                     ? ""
                     : caviar::v1::TrialOrigin_Name(trial.origin())},
      {"retest of", trial.retest_of() != 0 ? absl::StrCat(trial.retest_of()) : ""},
      {"round", trial.round() != 0 ? absl::StrCat(trial.round()) : ""},
      {"worker", trial.worker_id()},
      {"attempt", trial.attempt() != 0 ? absl::StrCat(trial.attempt()) : ""},
      {"created", TimestampText(trial.create_time())},
      {"started", TimestampText(trial.start_time())},
      {"ended", TimestampText(trial.end_time())},
      {"note", Note(trial)},
  };
  size_t key_width = 0;
  for (const auto& [key, value] : fields) key_width = std::max(key_width, key.size());
  std::string out;
  for (const auto& [key, value] : fields) {
    if (value.empty()) continue;
    absl::StrAppend(&out, key, ":", std::string(key_width + 2 - key.size(), ' '), value,
                    "\n");
  }
  std::vector<std::string> names;
  for (const auto& [name, unused] : trial.parameters()) names.push_back(name);
  std::sort(names.begin(), names.end());
  if (!names.empty()) {
    out += "parameters:\n";
    size_t name_width = 0;
    for (const std::string& name : names) name_width = std::max(name_width, name.size());
    for (const std::string& name : names) {
      absl::StrAppend(&out, "  ", name, std::string(name_width + 2 - name.size(), ' '),
                      FormatParameterValue(trial.parameters().at(name), true), "\n");
    }
  }
  if (trial.measurements_size() > 0) {
    out += "learning curve:\n";
    std::vector<std::string> header = {"STEP", "ELAPSED_S"};
    header.insert(header.end(), metrics.begin(), metrics.end());
    TextTable table(header);
    for (const auto& measurement : trial.measurements()) {
      std::vector<std::string> row = {
          absl::StrCat(measurement.step()),
          absl::StrFormat("%.2f", measurement.elapsed_seconds())};
      for (const std::string& name : metrics) {
        auto it = measurement.metrics().find(name);
        row.push_back(it == measurement.metrics().end() ? "" : Short(it->second));
      }
      table.AddRow(std::move(row));
    }
    out += table.Render();
  } else {
    out += "learning curve: (no measurements yet)\n";
  }
  return out;
}

std::string FormatStudies(absl::Span<const Study> studies, OutputFormat format) {
  if (format == OutputFormat::kJson) {
    Json array = Json::array();
    for (const Study& study : studies) array.push_back(StudyToJson(study));
    return JsonText(array);
  }
  if (format == OutputFormat::kCsv) {
    std::string out =
        CsvLine({"name", "state", "succeeded", "stopped", "failed", "active", "pending",
                 "max_trials", "algorithm", "create_time"});
    for (const Study& study : studies) {
      out += CsvLine(
          {study.spec().name(), StudyStateName(study.state()),
           absl::StrCat(study.succeeded_trials()), absl::StrCat(study.stopped_trials()),
           absl::StrCat(study.failed_trials()), absl::StrCat(study.active_trials()),
           absl::StrCat(study.pending_trials()),
           absl::StrCat(study.spec().budget().max_trials()),
           study.spec().algorithm().name(), TimestampText(study.create_time())});
    }
    return out;
  }
  TextTable table({"NAME", "STATE", "DONE", "ACTIVE", "FAILED", "ALGORITHM", "CREATED"});
  for (const Study& study : studies) {
    table.AddRow(
        {study.spec().name(), StudyStateName(study.state()),
         absl::StrCat(study.succeeded_trials() + study.stopped_trials(), "/",
                      study.spec().budget().max_trials()),
         absl::StrCat(study.active_trials()), absl::StrCat(study.failed_trials()),
         study.spec().algorithm().name().empty() ? "random"
                                                 : study.spec().algorithm().name(),
         TimestampText(study.create_time())});
  }
  return table.Render();
}

std::string FormatStudySummary(const Study& study) {
  const caviar::v1::StudySpec& spec = study.spec();
  std::string out;
  absl::StrAppend(&out, "study:      ", spec.name(), "\n");
  if (!spec.description().empty())
    absl::StrAppend(&out, "about:      ", spec.description(), "\n");
  absl::StrAppend(&out, "state:      ", StudyStateName(study.state()));
  if (!study.state_reason().empty())
    absl::StrAppend(&out, " (", study.state_reason(), ")");
  out += "\n";
  absl::StrAppend(
      &out, "objective:  ",
      spec.objective().goal() == caviar::v1::MINIMIZE ? "minimize " : "maximize ",
      spec.objective().metric(), "\n");
  absl::StrAppend(&out, "algorithm:  ",
                  spec.algorithm().name().empty() ? "random" : spec.algorithm().name());
  if (spec.has_pruner() && !spec.pruner().name().empty()) {
    absl::StrAppend(&out, ", pruner ", spec.pruner().name());
  }
  out += "\n";
  absl::StrAppend(&out, "budget:     ", spec.budget().max_trials(), " trials, ",
                  spec.budget().max_parallel_trials() == 0
                      ? std::string("unlimited")
                      : absl::StrCat(spec.budget().max_parallel_trials()),
                  " in parallel\n");
  absl::StrAppend(&out, "trials:     ", study.succeeded_trials(), " succeeded, ",
                  study.stopped_trials(), " stopped, ", study.failed_trials(),
                  " failed, ", study.active_trials(), " active, ", study.pending_trials(),
                  " pending\n");
  absl::StrAppend(&out, "created:    ", TimestampText(study.create_time()), "\n");
  if (!TimestampText(study.end_time()).empty()) {
    absl::StrAppend(&out, "ended:      ", TimestampText(study.end_time()), "\n");
  }
  if (spec.has_command()) {
    absl::StrAppend(&out, "runs:       ", absl::StrJoin(spec.command().argv(), " "),
                    "\n");
    if (!spec.command().working_dir().empty()) {
      absl::StrAppend(&out, "in:         ", spec.command().working_dir(), "\n");
    }
  } else if (spec.has_trainer()) {
    absl::StrAppend(&out, "runs:       built-in trainer, ", spec.trainer().epochs(),
                    " epochs\n");
  } else if (spec.has_external()) {
    out +=
        "runs:       external: trials are asked for and told by clients (the Python "
        "SDK, any gRPC client); caviar-worker takes none\n";
  }
  if (spec.parameters_size() > 0) {
    out += "parameters:\n";
    TextTable table({"NAME", "DOMAIN"});
    for (const ParameterSpec& parameter : spec.parameters()) {
      table.AddRow({parameter.name(), DomainText(parameter)});
    }
    out += Indented(table.Render(), /*skip_header=*/true);
  }
  if (study.regions_size() > 0) {
    if (absl::StatusOr<std::string> regions = FormatRegions(study, OutputFormat::kTable);
        regions.ok()) {
      out += "regions:\n";
      out += Indented(*regions, /*skip_header=*/false);
    }
  }
  return out;
}

}  // namespace caviar::client
