// caviar study NAME [--format text|yaml|json]
#include <iostream>

#include "client/commands/command.h"
#include "client/format.h"
#include "client/spec_loader.h"
#include "common/status_macros.h"

namespace caviar::cli {
namespace {

struct StudyOptions {
  std::string name;
  std::string format = "text";
};

absl::Status RunStudy(Context& context, const StudyOptions& options) {
  CAVIAR_ASSIGN_OR_RETURN(client::CaviarClient * client, context.Client());
  CAVIAR_ASSIGN_OR_RETURN(caviar::v1::Study study, client->GetStudy(options.name));
  if (options.format == "yaml") {
    std::cout << client::SpecToYaml(study.spec());
  } else if (options.format == "json") {
    std::cout << client::JsonText(client::StudyToJson(study));
  } else {
    std::cout << client::FormatStudySummary(study);
  }
  return absl::OkStatus();
}

}  // namespace

void RegisterStudy(CLI::App& app, Context& context) {
  auto options = std::make_shared<StudyOptions>();
  CLI::App* command = app.add_subcommand(
      "study", "Show a study: state, counts, parameters (--format yaml: its spec)");
  command->add_option("name", options->name, "Study name")->required();
  command
      ->add_option("--format", options->format,
                   "text (summary), yaml (the spec, re-submittable) or json (everything)")
      ->check(CLI::IsMember({"text", "yaml", "json"}))
      ->capture_default_str();
  command->callback([&context, options] {
    context.action = [&context, options] { return RunStudy(context, *options); };
  });
}

}  // namespace caviar::cli
