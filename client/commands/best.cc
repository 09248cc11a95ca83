// caviar best NAME [--top K] [--format table|json|csv]
#include <iostream>

#include "client/commands/command.h"
#include "client/format.h"
#include "common/status_macros.h"

namespace caviar::cli {
namespace {

struct BestOptions {
  std::string study;
  int top = 1;
  std::string format = "table";
};

absl::Status RunBest(Context& context, const BestOptions& options) {
  CAVIAR_ASSIGN_OR_RETURN(client::OutputFormat format,
                          client::ParseOutputFormat(options.format));
  CAVIAR_ASSIGN_OR_RETURN(client::CaviarClient * client, context.Client());
  CAVIAR_ASSIGN_OR_RETURN(caviar::v1::Study study, client->GetStudy(options.study));
  CAVIAR_ASSIGN_OR_RETURN(std::vector<caviar::v1::Trial> trials,
                          client->BestTrials(options.study, options.top));
  std::cout << client::FormatTrials(trials, client::ColumnsForSpec(study.spec()), format);
  return absl::OkStatus();
}

}  // namespace

void RegisterBest(CLI::App& app, Context& context) {
  auto options = std::make_shared<BestOptions>();
  CLI::App* command = app.add_subcommand("best", "Show a study's best trials");
  command->add_option("study", options->study, "Study name")->required();
  command->add_option("--top", options->top, "How many")
      ->check(CLI::Range(1, 10000))
      ->capture_default_str();
  AddFormatOption(command, &options->format);
  command->callback([&context, options] {
    context.action = [&context, options] { return RunBest(context, *options); };
  });
}

}  // namespace caviar::cli
