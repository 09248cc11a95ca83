// caviar: the command line of the caviar hyperparameter tuning service.
// Exit status: 0 success, 1 the operation failed (message on stderr),
// 2 the command line is wrong (usage on stderr).
#include <iostream>
#include <string>

#include "CLI/CLI.hpp"
#include "client/client.h"
#include "client/commands/command.h"

int main(int argc, char** argv) {
  caviar::cli::Context context;
  context.options.coordinator = caviar::client::DefaultCoordinatorAddress();

  CLI::App app{"caviar: submit hyperparameter studies to a caviar coordinator and watch them."};
  app.name("caviar");
  app.require_subcommand(1);
  app.add_option("--coordinator", context.options.coordinator,
                 "Coordinator address HOST:PORT (env CAVIAR_COORDINATOR)")
      ->capture_default_str();
  app.add_option("--timeout", context.options.timeout_seconds,
                 "Deadline of each request to the coordinator, in seconds")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--tls-ca", context.options.tls_root_certificates_file,
                 "PEM root certificates: connect with TLS")
      ->check(CLI::ExistingFile);
  app.footer(
      "The bearer token, if the coordinator requires one, is read from CAVIAR_TOKEN.\n"
      "Run 'caviar COMMAND --help' for a command's options.");
  for (caviar::cli::Registrar registrar : caviar::cli::AllCommands()) {
    registrar(app, context);
  }

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? 0 : 2;
  }
  if (!context.action) return 0;
  absl::Status status = context.action();
  if (!status.ok()) {
    std::cout.flush();
    std::cerr << "error: " << status.message() << "\n";
    return 1;
  }
  return 0;
}
