// caviar stop NAME [--reason TEXT]
#include <iostream>

#include "client/commands/command.h"
#include "client/format.h"
#include "common/status_macros.h"

namespace caviar::cli {
namespace {

struct StopOptions {
  std::string name;
  std::string reason = "stopped by a user";
};

}  // namespace

void RegisterStop(CLI::App& app, Context& context) {
  auto options = std::make_shared<StopOptions>();
  CLI::App* command = app.add_subcommand(
      "stop", "Stop a study: no new trials; running trials are told to stop");
  command->add_option("name", options->name, "Study name")->required();
  command->add_option("--reason", options->reason, "Recorded with the study")
      ->capture_default_str();
  command->callback([&context, options] {
    context.action = [&context, options]() -> absl::Status {
      CAVIAR_ASSIGN_OR_RETURN(client::CaviarClient * client, context.Client());
      CAVIAR_ASSIGN_OR_RETURN(caviar::v1::Study study,
                              client->StopStudy(options->name, options->reason));
      std::cout << study.spec().name() << ": " << client::StudyStateName(study.state())
                << "\n";
      return absl::OkStatus();
    };
  });
}

}  // namespace caviar::cli
