// The `caviar` command line's subcommands. Each lives in its own file as a
// Register<Name> function that adds a CLI11 subcommand; registry.cc lists
// them. A subcommand's parse callback stores its work in Context::action,
// which main runs after parsing, so all output and errors go through one
// place (an error: message on stderr, exit status 1).
#ifndef CAVIAR_CLIENT_COMMANDS_COMMAND_H_
#define CAVIAR_CLIENT_COMMANDS_COMMAND_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "client/client.h"

namespace caviar::cli {

struct GlobalOptions {
  std::string coordinator;      // HOST:PORT.
  double timeout_seconds = 30;  // Per RPC.
  std::string tls_root_certificates_file;
};

class Context {
 public:
  GlobalOptions options;
  // What the chosen subcommand does; set while parsing.
  std::function<absl::Status()> action;

  // The coordinator client, connected on first use.
  absl::StatusOr<client::CaviarClient*> Client();
  // Drops the connection; the next Client() opens a new one. gRPC paces its
  // own reconnection attempts by a growing backoff, so a command waiting
  // out a coordinator restart reconnects sooner with a fresh channel.
  void ResetClient() { client_.reset(); }

 private:
  std::unique_ptr<client::CaviarClient> client_;
};

using Registrar = void (*)(CLI::App& app, Context& context);

// Every subcommand, in the order `caviar --help` lists them.
const std::vector<Registrar>& AllCommands();

void RegisterSubmit(CLI::App& app, Context& context);
void RegisterStudies(CLI::App& app, Context& context);
void RegisterStudy(CLI::App& app, Context& context);
void RegisterTrials(CLI::App& app, Context& context);
void RegisterTrial(CLI::App& app, Context& context);
void RegisterBest(CLI::App& app, Context& context);
void RegisterStop(CLI::App& app, Context& context);
void RegisterWait(CLI::App& app, Context& context);
void RegisterWatch(CLI::App& app, Context& context);
void RegisterRegions(CLI::App& app, Context& context);
void RegisterRefine(CLI::App& app, Context& context);
void RegisterImportance(CLI::App& app, Context& context);
void RegisterEnqueue(CLI::App& app, Context& context);
void RegisterRetest(CLI::App& app, Context& context);
void RegisterDrift(CLI::App& app, Context& context);
void RegisterNudge(CLI::App& app, Context& context);
void RegisterRollback(CLI::App& app, Context& context);
void RegisterPause(CLI::App& app, Context& context);
void RegisterResume(CLI::App& app, Context& context);
void RegisterBackup(CLI::App& app, Context& context);

void RegisterExport(CLI::App& app, Context& context);
void RegisterCompletion(CLI::App& app, Context& context);

// Adds --format with these choices (the first is the default) to `command`.
void AddFormatOption(CLI::App* command, std::string* format,
                     const std::vector<std::string>& choices = {"table", "json", "csv"});

// Checks a trial id argument: a positive integer that fits int64, else the
// usage error "NAME: 'abc' is not a trial id (a positive integer)" (exit 2).
CLI::Validator TrialIdValidator();
// "--limit: 'abc' is not a non-negative integer" (or number), not CLI11's
// range of 309 digits.
CLI::Validator NonNegativeValidator(bool integer);

// A listing of one study's data: `caviar NAME STUDY [--format table|json|csv]`.
struct StudyListingOptions {
  std::string study;
  std::string format = "table";
};
using StudyListingRun = absl::Status (*)(Context& context,
                                         const StudyListingOptions& options);
void RegisterStudyListing(CLI::App& app, Context& context, const char* name,
                          const char* description, StudyListingRun run);

}  // namespace caviar::cli

#endif  // CAVIAR_CLIENT_COMMANDS_COMMAND_H_
