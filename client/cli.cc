// caviar: the command line of the caviar hyperparameter tuning service.
// Exit status: 0 success, 1 the operation failed (message on stderr),
// 2 the command line is wrong (usage on stderr).
#include "CLI/CLI.hpp"

#include <iostream>
#include <string>

#include "absl/strings/str_split.h"
#include "client/client.h"
#include "client/commands/command.h"

namespace {

// The first positional word when it names no subcommand (CLI11 would only say
// that a subcommand is required).
const char* UnknownCommand(CLI::App& app, int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    std::string word = argv[i];
    if (word == "--") return nullptr;
    if (word.rfind("-", 0) == 0) {
      // Global options that take a separate value.
      if (word == "--coordinator" || word == "--timeout" || word == "--tls-ca") ++i;
      continue;
    }
    for (const CLI::App* command : app.get_subcommands([](CLI::App*) { return true; })) {
      if (command->get_name() == word) return nullptr;
    }
    return argv[i];
  }
  return nullptr;
}

}  // namespace

int main(int argc, char** argv) {
  caviar::cli::Context context;
  context.options.coordinator = caviar::client::DefaultCoordinatorAddress();

  CLI::App app{
      "caviar: submit hyperparameter studies to a caviar coordinator and watch them."};
  app.name("caviar");
  app.require_subcommand(1);
  app.add_option("--coordinator", context.options.coordinator,
                 "Coordinator address HOST:PORT (env CAVIAR_COORDINATOR)")
      ->capture_default_str();
  app.add_option("--timeout", context.options.timeout_seconds,
                 "Deadline of each request to the coordinator, in seconds")
      ->check(CLI::Range(0.001, 1e6))
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
    if (const char* unknown = UnknownCommand(app, argc, argv)) {
      std::cerr << "error: unknown command '" << unknown << "'\nRun with --help for the "
                << "list of commands.\n";
      return 2;
    }
    const int code = app.exit(e);
    return code == 0 ? 0 : 2;
  }
  if (!context.action) return 0;
  absl::Status status = context.action();
  if (!status.ok()) {
    std::cout.flush();
    // One "error: " per line: a spec with several mistakes lists them all.
    for (absl::string_view line : absl::StrSplit(status.message(), '\n')) {
      std::cerr << "error: " << line << "\n";
    }
    return 1;
  }
  return 0;
}
