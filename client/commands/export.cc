// caviar export NAME [--format jsonl|csv] [-o FILE]
//
// Every trial of a study with its parameters, state, value and learning
// curve. It pages through the study by trial id (ListTrials with after_id,
// curves included), writing each page before asking for the next, so a
// study of any size streams in constant memory. CSV needs its columns
// (the metrics) before its first row: it reads the study twice, the first
// time only to learn the metric names, and exports the trials the first
// pass saw.
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <set>

#include "absl/strings/str_cat.h"
#include "client/commands/command.h"
#include "client/format.h"
#include "common/status_macros.h"

namespace caviar::cli {
namespace {

// Trials per ListTrials call: big enough that 100,000 trials take a few
// hundred calls, small enough that a page of long curves stays far below
// the reply size limit.
constexpr int kPageSize = 500;

struct ExportOptions {
  std::string study;
  std::string format = "jsonl";
  std::string output;  // Empty = stdout.
};

// Calls `each_page` with every page of the study's trials (curves
// included), in id order, up to and including `last_id` (0 = all).
template <typename EachPage>
absl::Status ForEachPage(client::CaviarClient* client, const std::string& study,
                         int64_t last_id, EachPage each_page) {
  caviar::v1::ListTrialsRequest request;
  request.set_study(study);
  request.set_order_by("id");
  request.set_include_measurements(true);
  request.set_page_size(kPageSize);
  while (true) {
    CAVIAR_ASSIGN_OR_RETURN(caviar::v1::ListTrialsResponse page,
                            client->ListTrials(request));
    auto* trials = page.mutable_trials();
    if (last_id > 0) {
      while (!trials->empty() && trials->at(trials->size() - 1).id() > last_id) {
        trials->RemoveLast();
      }
    }
    if (trials->empty()) return absl::OkStatus();
    CAVIAR_RETURN_IF_ERROR(each_page(*trials));
    if (last_id > 0 && trials->at(trials->size() - 1).id() >= last_id) {
      return absl::OkStatus();
    }
    request.set_after_id(trials->at(trials->size() - 1).id());
  }
}

using TrialPage = google::protobuf::RepeatedPtrField<caviar::v1::Trial>;

absl::Status WritePage(std::ostream& out, const std::string& where) {
  out.flush();
  if (!out) return absl::UnavailableError(absl::StrCat(where, ": write failed"));
  return absl::OkStatus();
}

absl::Status ExportJsonLines(client::CaviarClient* client, const std::string& study,
                             std::ostream& out, const std::string& where) {
  return ForEachPage(client, study, 0, [&](const TrialPage& trials) {
    for (const caviar::v1::Trial& trial : trials) {
      out << client::JsonLine(client::ToJson(trial));
    }
    return WritePage(out, where);
  });
}

// CSV: one row per measurement (a trial without any: one row, step empty).
absl::Status ExportCsv(client::CaviarClient* client, const caviar::v1::Study& study,
                       std::ostream& out, const std::string& where) {
  const std::string& name = study.spec().name();
  // First pass: the metric names, and the last trial to export.
  std::set<std::string> metric_set;
  int64_t last_id = 0;
  CAVIAR_RETURN_IF_ERROR(ForEachPage(client, name, 0, [&](const TrialPage& trials) {
    for (const caviar::v1::Trial& trial : trials) {
      for (const auto& m : trial.measurements()) {
        for (const auto& [metric, unused] : m.metrics()) metric_set.insert(metric);
      }
      last_id = trial.id();
    }
    return absl::OkStatus();
  }));
  std::vector<std::string> parameters;
  for (const auto& p : study.spec().parameters()) parameters.push_back(p.name());
  std::vector<std::string> metrics;
  const std::string& objective = study.spec().objective().metric();
  if (metric_set.erase(objective) > 0) metrics.push_back(objective);
  metrics.insert(metrics.end(), metric_set.begin(), metric_set.end());

  std::vector<std::string> header = {"trial_id", "state"};
  header.insert(header.end(), parameters.begin(), parameters.end());
  header.insert(header.end(), {"objective_value", "step", "elapsed_seconds", "attempt"});
  const std::set<std::string> taken(header.begin(), header.end());
  for (const std::string& metric : metrics) {
    // A metric named like a parameter (the trainer reports learning_rate)
    // or a fixed column keeps its column apart.
    header.push_back(taken.count(metric) ? "metric." + metric : metric);
  }
  out << client::CsvLine(header);
  if (last_id == 0) return WritePage(out, where);

  return ForEachPage(client, name, last_id, [&](const TrialPage& trials) {
    for (const caviar::v1::Trial& trial : trials) {
      std::vector<std::string> head = {absl::StrCat(trial.id()),
                                       caviar::v1::TrialState_Name(trial.state())};
      for (const std::string& parameter : parameters) {
        auto it = trial.parameters().find(parameter);
        head.push_back(it == trial.parameters().end()
                           ? ""
                           : client::FormatParameterValue(it->second, true));
      }
      head.push_back(
          trial.has_objective_value() ? client::CsvNumber(trial.objective_value()) : "");
      if (trial.measurements().empty()) {
        head.resize(header.size());
        out << client::CsvLine(head);
        continue;
      }
      for (const caviar::v1::Measurement& m : trial.measurements()) {
        std::vector<std::string> row = head;
        row.insert(row.end(),
                   {absl::StrCat(m.step()), client::CsvNumber(m.elapsed_seconds()),
                    m.attempt() != 0 ? absl::StrCat(m.attempt()) : ""});
        for (const std::string& metric : metrics) {
          auto it = m.metrics().find(metric);
          row.push_back(it == m.metrics().end() ? "" : client::CsvNumber(it->second));
        }
        out << client::CsvLine(row);
      }
    }
    return WritePage(out, where);
  });
}

absl::Status RunExport(Context& context, const ExportOptions& options) {
  CAVIAR_ASSIGN_OR_RETURN(client::CaviarClient * client, context.Client());
  CAVIAR_ASSIGN_OR_RETURN(caviar::v1::Study study, client->GetStudy(options.study));
  // A file is written whole or not at all: FILE.partial, renamed at the end.
  const std::string partial = options.output + ".partial";
  std::ofstream file;
  if (!options.output.empty()) {
    file.open(partial, std::ios::binary | std::ios::trunc);
    if (!file) {
      return absl::UnavailableError(absl::StrCat(partial, ": cannot create"));
    }
  }
  std::ostream& out = options.output.empty() ? std::cout : file;
  const std::string where = options.output.empty() ? "stdout" : partial;
  absl::Status status = options.format == "csv"
                            ? ExportCsv(client, study, out, where)
                            : ExportJsonLines(client, options.study, out, where);
  if (options.output.empty()) return status;
  file.close();
  if (status.ok() && !file) status = absl::UnavailableError(partial + ": write failed");
  if (status.ok() && std::rename(partial.c_str(), options.output.c_str()) != 0) {
    status = absl::UnavailableError(
        absl::StrCat("cannot rename ", partial, " to ", options.output));
  }
  if (!status.ok()) std::remove(partial.c_str());
  return status;
}

}  // namespace

void RegisterExport(CLI::App& app, Context& context) {
  auto options = std::make_shared<ExportOptions>();
  CLI::App* command = app.add_subcommand(
      "export",
      "Every trial of a study with its learning curve: JSON lines (one trial a line) "
      "or CSV (one row per measurement)");
  command->add_option("study", options->study, "Study name")->required();
  AddFormatOption(command, &options->format, {"jsonl", "csv"});
  command
      ->add_option("-o,--output", options->output,
                   "Write to FILE (replaced only once complete) instead of stdout")
      ->type_name("FILE");
  command->callback([&context, options] {
    context.action = [&context, options] { return RunExport(context, *options); };
  });
}

}  // namespace caviar::cli
