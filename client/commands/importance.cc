// caviar importance NAME
// caviar drift NAME
#include <cmath>
#include <iostream>
#include <map>

#include "absl/strings/str_format.h"
#include "client/commands/command.h"
#include "client/format.h"
#include "common/status_macros.h"

namespace caviar::cli {
namespace {

absl::Status RunImportance(Context& context, const std::string& study) {
  CAVIAR_ASSIGN_OR_RETURN(client::CaviarClient * client, context.Client());
  CAVIAR_ASSIGN_OR_RETURN(caviar::v1::GetImportanceResponse response,
                          client->GetImportance(study));
  client::TextTable table({"PARAMETER", "IMPORTANCE", "+/-", ""});
  for (const auto& p : response.parameters()) {
    table.AddRow(
        {p.name(), absl::StrFormat("%.3f", p.importance()),
         absl::StrFormat("%.3f", p.stddev()),
         std::string(static_cast<size_t>(std::lround(p.importance() * 40)), '#')});
  }
  std::cout << table.Render() << response.trials_used() << " finished trials; "
            << response.method() << "\n";
  return absl::OkStatus();
}

// Old result against re-test results, per re-tested configuration.
absl::Status RunDrift(Context& context, const std::string& name) {
  CAVIAR_ASSIGN_OR_RETURN(client::CaviarClient * client, context.Client());
  CAVIAR_ASSIGN_OR_RETURN(caviar::v1::Study study, client->GetStudy(name));
  caviar::v1::ListTrialsRequest request;
  request.set_study(name);
  CAVIAR_ASSIGN_OR_RETURN(std::vector<caviar::v1::Trial> trials,
                          client->ListAllTrials(request));
  std::map<int64_t, const caviar::v1::Trial*> by_id;
  std::map<int64_t, std::vector<const caviar::v1::Trial*>> retests;
  for (const auto& t : trials) {
    by_id[t.id()] = &t;
    if (t.origin() == caviar::v1::RETEST) retests[t.retest_of()].push_back(&t);
  }
  if (retests.empty()) {
    std::cout << "no re-tests yet: caviar retest " << name << " --top K\n";
    return absl::OkStatus();
  }
  const std::string metric = study.spec().objective().metric();
  client::TextTable table(
      {"TRIAL", "OLD " + metric, "RETESTS", "DONE", "NEW MEAN", "NEW SD", "DRIFT"});
  for (const auto& [original_id, runs] : retests) {
    const caviar::v1::Trial* original =
        by_id.count(original_id) ? by_id[original_id] : nullptr;
    double sum = 0, sum2 = 0;
    int done = 0;
    for (const auto* r : runs) {
      if (r->state() != caviar::v1::SUCCEEDED || !r->has_objective_value()) continue;
      sum += r->objective_value();
      sum2 += r->objective_value() * r->objective_value();
      ++done;
    }
    const bool has_old = original != nullptr && original->has_objective_value();
    const double mean = done ? sum / done : 0;
    const double sd =
        done > 1 ? std::sqrt(std::max(0.0, (sum2 - done * mean * mean) / (done - 1))) : 0;
    table.AddRow({absl::StrCat(original_id),
                  has_old ? absl::StrFormat("%.6g", original->objective_value()) : "-",
                  absl::StrCat(runs.size()), absl::StrCat(done),
                  done ? absl::StrFormat("%.6g", mean) : "-",
                  done > 1 ? absl::StrFormat("%.3g", sd) : "-",
                  done && has_old
                      ? absl::StrFormat("%+.6g", mean - original->objective_value())
                      : "-"});
  }
  std::cout << table.Render();
  return absl::OkStatus();
}

}  // namespace

void RegisterImportance(CLI::App& app, Context& context) {
  auto study = std::make_shared<std::string>();
  CLI::App* command = app.add_subcommand(
      "importance",
      "Rank parameters by the share of the objective's variance they explain");
  command->add_option("study", *study, "Study name")->required();
  command->callback([&context, study] {
    context.action = [&context, study] { return RunImportance(context, *study); };
  });
}

void RegisterDrift(CLI::App& app, Context& context) {
  auto study = std::make_shared<std::string>();
  CLI::App* command = app.add_subcommand(
      "drift", "Re-tested configurations: old result against the new runs");
  command->add_option("study", *study, "Study name")->required();
  command->callback([&context, study] {
    context.action = [&context, study] { return RunDrift(context, *study); };
  });
}

}  // namespace caviar::cli
