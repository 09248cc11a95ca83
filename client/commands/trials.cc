// caviar trials NAME [--state S]... [--sort objective|id] [--limit N]
//                    [--format table|json|csv]
#include <iostream>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "client/commands/command.h"
#include "client/format.h"
#include "common/status_macros.h"

namespace caviar::cli {
namespace {

struct TrialsOptions {
  std::string study;
  std::vector<std::string> states;
  std::string sort = "id";
  int64_t limit = 0;
  std::string format = "table";
};

absl::StatusOr<caviar::v1::TrialState> ParseTrialState(const std::string& text) {
  caviar::v1::TrialState state;
  if (caviar::v1::TrialState_Parse(absl::AsciiStrToUpper(text), &state) &&
      state != caviar::v1::TRIAL_STATE_UNSPECIFIED) {
    return state;
  }
  return absl::InvalidArgumentError(
      absl::StrCat("--state: unknown trial state '", text,
                   "' (expected pending, active, succeeded, failed or stopped)"));
}

absl::Status RunTrials(Context& context, const TrialsOptions& options) {
  CAVIAR_ASSIGN_OR_RETURN(client::OutputFormat format,
                          client::ParseOutputFormat(options.format));
  caviar::v1::ListTrialsRequest request;
  request.set_study(options.study);
  request.set_order_by(options.sort);
  for (const std::string& text : options.states) {
    CAVIAR_ASSIGN_OR_RETURN(caviar::v1::TrialState state, ParseTrialState(text));
    request.add_states(state);
  }
  CAVIAR_ASSIGN_OR_RETURN(client::CaviarClient * client, context.Client());
  CAVIAR_ASSIGN_OR_RETURN(caviar::v1::Study study, client->GetStudy(options.study));
  CAVIAR_ASSIGN_OR_RETURN(std::vector<caviar::v1::Trial> trials,
                          client->ListAllTrials(request, options.limit));
  std::cout << client::FormatTrials(trials, client::ColumnsForSpec(study.spec()), format);
  return absl::OkStatus();
}

}  // namespace

void RegisterTrials(CLI::App& app, Context& context) {
  auto options = std::make_shared<TrialsOptions>();
  CLI::App* command = app.add_subcommand("trials", "List a study's trials");
  command->add_option("study", options->study, "Study name")->required();
  command
      ->add_option("--state", options->states,
                   "Only trials in this state (pending, active, succeeded, failed, "
                   "stopped); repeat or separate by commas")
      ->delimiter(',');
  command->add_option("--sort", options->sort, "Order: id, or objective (best first)")
      ->check(CLI::IsMember({"id", "objective"}))
      ->capture_default_str();
  command->add_option("--limit", options->limit, "At most N trials (0 = all)")
      ->check(NonNegativeValidator(/*integer=*/true))
      ->capture_default_str();
  AddFormatOption(command, &options->format);
  command->callback([&context, options] {
    context.action = [&context, options] { return RunTrials(context, *options); };
  });
}

}  // namespace caviar::cli
