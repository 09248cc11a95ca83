// caviar trial ID [--format table|json|csv]
#include <iostream>

#include "client/commands/command.h"
#include "client/commands/panda_history.h"
#include "client/format.h"
#include "common/status_macros.h"

namespace caviar::cli {
namespace {

struct TrialOptions {
  int64_t id = 0;
  std::string format = "table";
};

absl::Status RunTrial(Context& context, const TrialOptions& options) {
  CAVIAR_ASSIGN_OR_RETURN(client::OutputFormat format,
                          client::ParseOutputFormat(options.format));
  CAVIAR_ASSIGN_OR_RETURN(client::CaviarClient * client, context.Client());
  CAVIAR_ASSIGN_OR_RETURN(caviar::v1::Trial trial, client->GetTrial(options.id));
  std::string metric = "objective";
  // The study names the objective's metric; a trial is still worth showing
  // without it.
  absl::StatusOr<caviar::v1::Study> study = client->GetStudy(trial.study());
  if (study.ok() && !study->spec().objective().metric().empty()) {
    metric = study->spec().objective().metric();
  }
  std::cout << client::FormatTrialDetail(trial, metric, format);
  if (format == client::OutputFormat::kTable) std::cout << FormatPandaHistory(trial, metric);
  return absl::OkStatus();
}

}  // namespace

void RegisterTrial(CLI::App& app, Context& context) {
  auto options = std::make_shared<TrialOptions>();
  CLI::App* command = app.add_subcommand(
      "trial", "Show one trial and its learning curve (--format csv: the curve only)");
  command->add_option("id", options->id, "Trial id")
      ->required()
      ->type_name("ID")
      ->check(TrialIdValidator());
  AddFormatOption(command, &options->format);
  command->callback([&context, options] {
    context.action = [&context, options] { return RunTrial(context, *options); };
  });
}

}  // namespace caviar::cli
