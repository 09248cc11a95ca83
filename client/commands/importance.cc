// caviar importance NAME [--format table|json|csv]
// caviar drift NAME [--format table|json|csv]
#include <cmath>
#include <iostream>
#include <map>

#include "client/commands/command.h"
#include "client/format.h"
#include "common/status_macros.h"

namespace caviar::cli {
namespace {

absl::Status RunImportance(Context& context, const StudyListingOptions& options) {
  CAVIAR_ASSIGN_OR_RETURN(client::OutputFormat format,
                          client::ParseOutputFormat(options.format));
  CAVIAR_ASSIGN_OR_RETURN(client::CaviarClient * client, context.Client());
  CAVIAR_ASSIGN_OR_RETURN(caviar::v1::GetImportanceResponse response,
                          client->GetImportance(options.study));
  std::cout << client::FormatImportance(response, format);
  return absl::OkStatus();
}

// Old result against re-test results, per re-tested configuration.
std::vector<client::DriftRow> DriftRows(const std::vector<caviar::v1::Trial>& trials) {
  std::map<int64_t, const caviar::v1::Trial*> by_id;
  std::map<int64_t, std::vector<const caviar::v1::Trial*>> retests;
  for (const auto& t : trials) {
    by_id[t.id()] = &t;
    if (t.origin() == caviar::v1::RETEST) retests[t.retest_of()].push_back(&t);
  }
  std::vector<client::DriftRow> rows;
  for (const auto& [original_id, runs] : retests) {
    client::DriftRow& row = rows.emplace_back();
    row.trial_id = original_id;
    row.retests = static_cast<int>(runs.size());
    auto original = by_id.find(original_id);
    if (original != by_id.end() && original->second->has_objective_value()) {
      row.old_value = original->second->objective_value();
    }
    double sum = 0, sum2 = 0;
    for (const auto* r : runs) {
      if (r->state() != caviar::v1::SUCCEEDED || !r->has_objective_value()) continue;
      sum += r->objective_value();
      sum2 += r->objective_value() * r->objective_value();
      ++row.done;
    }
    if (row.done == 0) continue;
    const double mean = sum / row.done;
    row.new_mean = mean;
    if (row.done > 1) {
      row.new_stddev =
          std::sqrt(std::max(0.0, (sum2 - row.done * mean * mean) / (row.done - 1)));
    }
    if (row.old_value) row.drift = mean - *row.old_value;
  }
  return rows;
}

absl::Status RunDrift(Context& context, const StudyListingOptions& options) {
  CAVIAR_ASSIGN_OR_RETURN(client::OutputFormat format,
                          client::ParseOutputFormat(options.format));
  CAVIAR_ASSIGN_OR_RETURN(client::CaviarClient * client, context.Client());
  CAVIAR_ASSIGN_OR_RETURN(caviar::v1::Study study, client->GetStudy(options.study));
  caviar::v1::ListTrialsRequest request;
  request.set_study(options.study);
  CAVIAR_ASSIGN_OR_RETURN(std::vector<caviar::v1::Trial> trials,
                          client->ListAllTrials(request));
  const std::vector<client::DriftRow> rows = DriftRows(trials);
  if (rows.empty() && format == client::OutputFormat::kTable) {
    std::cout << "no re-tests yet: caviar retest " << options.study << " --top K\n";
    return absl::OkStatus();
  }
  std::cout << client::FormatDrift(rows, study.spec().objective().metric(), format);
  return absl::OkStatus();
}

}  // namespace

void RegisterImportance(CLI::App& app, Context& context) {
  RegisterStudyListing(
      app, context, "importance",
      "Rank parameters by the share of the objective's variance they explain",
      RunImportance);
}

void RegisterDrift(CLI::App& app, Context& context) {
  RegisterStudyListing(app, context, "drift",
                       "Re-tested configurations: old result against the new runs",
                       RunDrift);
}

}  // namespace caviar::cli
