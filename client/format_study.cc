// Formatters of a study's derived views (client/format.h): its regions in
// parameter values, parameter importance, and the drift of re-tests.
#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "client/format.h"
#include "client/regions.h"
#include "google/protobuf/util/time_util.h"

namespace caviar::client {
namespace {

// "0.001 .. 0.01", or one value when both ends show the same.
std::string ExtentText(const caviar::v1::ParameterValue& lo,
                       const caviar::v1::ParameterValue& hi) {
  const std::string a = FormatParameterValue(lo);
  const std::string b = FormatParameterValue(hi);
  return a == b ? a : absl::StrCat(a, " .. ", b);
}

Json RegionsJson(const std::vector<RegionValues>& regions,
                 const search::SearchSpace& space) {
  Json array = Json::array();
  for (const RegionValues& region : regions) {
    Json object = {{"round", region.round}, {"origin", region.origin}};
    if (region.create_time.seconds() != 0 || region.create_time.nanos() != 0) {
      object["create_time"] = ToJson(region.create_time);
    }
    Json parameters = Json::object();
    for (int i = 0; i < space.size(); ++i) {
      parameters[space.parameter(i).name()] = {{"lo", ToJson(region.lo[i])},
                                               {"hi", ToJson(region.hi[i])}};
    }
    object["parameters"] = std::move(parameters);
    array.push_back(std::move(object));
  }
  return array;
}

std::string OptionalCsv(const std::optional<double>& value) {
  return value ? CsvNumber(*value) : "";
}

Json OptionalJson(const std::optional<double>& value) {
  if (!value) return nullptr;
  if (!std::isfinite(*value)) return CsvNumber(*value);
  return *value;
}

// "-" when unknown.
std::string OptionalText(const std::optional<double>& value, int digits,
                         bool sign = false) {
  if (!value) return "-";
  return sign ? absl::StrFormat("%+.*g", digits, *value)
              : absl::StrFormat("%.*g", digits, *value);
}

}  // namespace

Json StudyToJson(const caviar::v1::Study& study) {
  Json json = ToJson(study);
  if (study.regions_size() == 0) return json;
  absl::StatusOr<search::SearchSpace> space =
      search::SearchSpace::Create(study.spec().parameters());
  if (space.ok()) json["regions"] = RegionsJson(RegionsInValues(study, *space), *space);
  return json;
}

absl::StatusOr<std::string> FormatRegions(const caviar::v1::Study& study,
                                          OutputFormat format) {
  absl::StatusOr<search::SearchSpace> space =
      search::SearchSpace::Create(study.spec().parameters());
  if (!space.ok()) return space.status();
  const std::vector<RegionValues> regions = RegionsInValues(study, *space);
  if (format == OutputFormat::kJson) return JsonText(RegionsJson(regions, *space));
  if (format == OutputFormat::kCsv) {
    std::vector<std::string> header = {"round", "origin"};
    for (int i = 0; i < space->size(); ++i) {
      header.push_back(space->parameter(i).name() + ".lo");
      header.push_back(space->parameter(i).name() + ".hi");
    }
    std::string out = CsvLine(header);
    for (const RegionValues& region : regions) {
      std::vector<std::string> row = {absl::StrCat(region.round), region.origin};
      for (int i = 0; i < space->size(); ++i) {
        row.push_back(FormatParameterValue(region.lo[i], /*full_precision=*/true));
        row.push_back(FormatParameterValue(region.hi[i], /*full_precision=*/true));
      }
      out += CsvLine(row);
    }
    return out;
  }
  std::vector<std::string> header = {"ROUND", "ORIGIN"};
  for (int i = 0; i < space->size(); ++i) header.push_back(space->parameter(i).name());
  TextTable table(header);
  for (const RegionValues& region : regions) {
    std::vector<std::string> row = {absl::StrCat(region.round), region.origin};
    for (int i = 0; i < space->size(); ++i) {
      row.push_back(ExtentText(region.lo[i], region.hi[i]));
    }
    table.AddRow(std::move(row));
  }
  return table.Render();
}

std::string FormatImportance(const caviar::v1::GetImportanceResponse& response,
                             OutputFormat format) {
  if (format == OutputFormat::kJson) return MessageToJson(response);
  if (format == OutputFormat::kCsv) {
    std::string out = CsvLine({"name", "importance", "stddev"});
    for (const auto& p : response.parameters()) {
      out += CsvLine({p.name(), CsvNumber(p.importance()), CsvNumber(p.stddev())});
    }
    return out;
  }
  TextTable table({"PARAMETER", "IMPORTANCE", "+/-", ""});
  for (const auto& p : response.parameters()) {
    const double bar = std::isfinite(p.importance()) ? p.importance() * 40 : 0;
    table.AddRow(
        {p.name(), absl::StrFormat("%.3f", p.importance()),
         absl::StrFormat("%.3f", p.stddev()),
         std::string(static_cast<size_t>(std::lround(std::clamp(bar, 0.0, 40.0))), '#')});
  }
  return absl::StrCat(table.Render(), response.trials_used(), " finished trials; ",
                      response.method(), "\n");
}

std::string FormatDrift(absl::Span<const DriftRow> rows, const std::string& metric,
                        OutputFormat format) {
  if (format == OutputFormat::kJson) {
    Json array = Json::array();
    for (const DriftRow& row : rows) {
      array.push_back({{"trial_id", row.trial_id},
                       {"old_value", OptionalJson(row.old_value)},
                       {"retests", row.retests},
                       {"done", row.done},
                       {"new_mean", OptionalJson(row.new_mean)},
                       {"new_stddev", OptionalJson(row.new_stddev)},
                       {"drift", OptionalJson(row.drift)}});
    }
    return JsonText(array);
  }
  if (format == OutputFormat::kCsv) {
    std::string out = CsvLine(
        {"trial_id", "old_value", "retests", "done", "new_mean", "new_stddev", "drift"});
    for (const DriftRow& row : rows) {
      out += CsvLine({absl::StrCat(row.trial_id), OptionalCsv(row.old_value),
                      absl::StrCat(row.retests), absl::StrCat(row.done),
                      OptionalCsv(row.new_mean), OptionalCsv(row.new_stddev),
                      OptionalCsv(row.drift)});
    }
    return out;
  }
  TextTable table(
      {"TRIAL", "OLD " + metric, "RETESTS", "DONE", "NEW MEAN", "NEW SD", "DRIFT"});
  for (const DriftRow& row : rows) {
    table.AddRow({absl::StrCat(row.trial_id), OptionalText(row.old_value, 6),
                  absl::StrCat(row.retests), absl::StrCat(row.done),
                  OptionalText(row.new_mean, 6), OptionalText(row.new_stddev, 3),
                  OptionalText(row.drift, 6, /*sign=*/true)});
  }
  return table.Render();
}

}  // namespace caviar::client
