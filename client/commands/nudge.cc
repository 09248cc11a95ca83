// caviar nudge TRIAL_ID --param learning_rate=1e-4
// "Panda" mode: change a running trial's hyperparameters by hand. The worker
// receives them with the reply to the trial's next progress report.
#include <iostream>

#include "client/commands/command.h"
#include "client/commands/panda_args.h"
#include "common/status_macros.h"

namespace caviar::cli {
namespace {

struct NudgeOptions {
  int64_t trial_id = 0;
  std::vector<std::string> params;
  bool outside_range = false;
};

absl::Status RunNudge(Context& context, const NudgeOptions& options) {
  CAVIAR_ASSIGN_OR_RETURN(client::CaviarClient * client, context.Client());
  CAVIAR_ASSIGN_OR_RETURN(caviar::v1::Trial trial, client->GetTrial(options.trial_id));
  CAVIAR_ASSIGN_OR_RETURN(caviar::v1::Study study, client->GetStudy(trial.study()));
  caviar::v1::NudgeTrialRequest request;
  request.set_trial_id(options.trial_id);
  request.set_outside_range(options.outside_range);
  CAVIAR_ASSIGN_OR_RETURN(caviar::v1::ParameterSet set,
                          ParseSettings(study.spec(), options.params, "--param"));
  *request.mutable_parameters() = set.parameters();
  CAVIAR_ASSIGN_OR_RETURN(caviar::v1::Trial nudged, client->NudgeTrial(request));
  std::cout << "trial " << nudged.id()
            << ": nudge queued; its worker gets it with the next progress report\n";
  return absl::OkStatus();
}

}  // namespace

void RegisterNudge(CLI::App& app, Context& context) {
  auto options = std::make_shared<NudgeOptions>();
  CLI::App* command = app.add_subcommand(
      "nudge",
      "Change a running trial's settings (the trainer: learning rate and schedule, "
      "betas, epsilon, l2, dropout, bn_momentum, batch size; a command: its parameters, "
      "through CAVIAR_NUDGE_FILE)");
  command->add_option("trial", options->trial_id, "Trial id")
      ->required()
      ->type_name("ID")
      ->check(TrialIdValidator());
  command->add_option("--param", options->params, "NAME=VALUE")->required();
  command->add_flag("--outside-range", options->outside_range,
                    "Allow values outside the study's search range");
  command->callback([&context, options] {
    context.action = [&context, options] { return RunNudge(context, *options); };
  });
}

}  // namespace caviar::cli
