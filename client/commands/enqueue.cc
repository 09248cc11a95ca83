// caviar enqueue NAME --param a=1 --param b=2
// caviar retest NAME [--top K] [--repeats R]
#include <iostream>

#include "client/commands/command.h"
#include "client/commands/parameter_args.h"
#include "common/status_macros.h"

namespace caviar::cli {
namespace {

struct EnqueueOptions {
  std::string study;
  std::vector<std::string> params;
};

struct RetestOptions {
  std::string study;
  int top = 1;
  int repeats = 1;
};

void PrintQueued(const caviar::v1::EnqueueTrialsResponse& response) {
  for (const caviar::v1::Trial& t : response.trials()) {
    std::cout << "trial " << t.id() << " queued";
    if (t.retest_of() != 0) std::cout << " (re-test of trial " << t.retest_of() << ")";
    std::cout << "\n";
  }
}

absl::Status RunEnqueue(Context& context, const EnqueueOptions& options) {
  CAVIAR_ASSIGN_OR_RETURN(client::CaviarClient * client, context.Client());
  CAVIAR_ASSIGN_OR_RETURN(caviar::v1::Study study, client->GetStudy(options.study));
  CAVIAR_ASSIGN_OR_RETURN(search::SearchSpace space,
                          search::SearchSpace::Create(study.spec().parameters()));
  caviar::v1::EnqueueTrialsRequest request;
  request.set_study(options.study);
  CAVIAR_ASSIGN_OR_RETURN(*request.add_configurations(),
                          ParseAssignments(space, options.params));
  CAVIAR_ASSIGN_OR_RETURN(caviar::v1::EnqueueTrialsResponse response,
                          client->EnqueueTrials(request));
  PrintQueued(response);
  return absl::OkStatus();
}

absl::Status RunRetest(Context& context, const RetestOptions& options) {
  CAVIAR_ASSIGN_OR_RETURN(client::CaviarClient * client, context.Client());
  caviar::v1::RetestTrialsRequest request;
  request.set_study(options.study);
  request.set_top(options.top);
  request.set_repeats(options.repeats);
  CAVIAR_ASSIGN_OR_RETURN(caviar::v1::EnqueueTrialsResponse response,
                          client->RetestTrials(request));
  PrintQueued(response);
  std::cout << "compare old and new results with: caviar drift " << options.study << "\n";
  return absl::OkStatus();
}

}  // namespace

void RegisterEnqueue(CLI::App& app, Context& context) {
  auto options = std::make_shared<EnqueueOptions>();
  CLI::App* command = app.add_subcommand(
      "enqueue", "Queue one explicit configuration; it runs before sampled ones, once");
  command->add_option("study", options->study, "Study name")->required();
  command->add_option("--param", options->params, "NAME=VALUE, one per parameter")
      ->required();
  command->callback([&context, options] {
    context.action = [&context, options] { return RunEnqueue(context, *options); };
  });
}

void RegisterRetest(CLI::App& app, Context& context) {
  auto options = std::make_shared<RetestOptions>();
  CLI::App* command = app.add_subcommand(
      "retest",
      "Run the best configurations again with new seeds (data and machines change)");
  command->add_option("study", options->study, "Study name")->required();
  command->add_option("--top", options->top, "How many of the best configurations")
      ->check(CLI::Range(1, 1000))
      ->capture_default_str();
  command->add_option("--repeats", options->repeats, "Runs of each")
      ->check(CLI::Range(1, 100))
      ->capture_default_str();
  command->callback([&context, options] {
    context.action = [&context, options] { return RunRetest(context, *options); };
  });
}

}  // namespace caviar::cli
