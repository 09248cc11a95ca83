// caviar studies [--format table|json|csv]
#include <iostream>

#include "client/commands/command.h"
#include "client/format.h"
#include "common/status_macros.h"

namespace caviar::cli {

void RegisterStudies(CLI::App& app, Context& context) {
  auto format = std::make_shared<std::string>("table");
  CLI::App* command = app.add_subcommand("studies", "List the studies");
  AddFormatOption(command, format.get());
  command->callback([&context, format] {
    context.action = [&context, format]() -> absl::Status {
      CAVIAR_ASSIGN_OR_RETURN(client::OutputFormat output,
                              client::ParseOutputFormat(*format));
      CAVIAR_ASSIGN_OR_RETURN(client::CaviarClient * client, context.Client());
      CAVIAR_ASSIGN_OR_RETURN(std::vector<caviar::v1::Study> studies,
                              client->ListStudies());
      std::cout << client::FormatStudies(studies, output);
      return absl::OkStatus();
    };
  });
}

}  // namespace caviar::cli
