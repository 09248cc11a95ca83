// Panda mode, babysitting one trial by hand (`caviar nudge` is nudge.cc):
//   caviar rollback TRIAL --to-step N [--set NAME=VALUE ...] [--outside-range]
//   caviar pause TRIAL
//   caviar resume TRIAL
#include <iostream>

#include "client/commands/command.h"
#include "client/commands/panda_args.h"
#include "common/status_macros.h"

namespace caviar::cli {
namespace {

struct RollbackOptions {
  int64_t trial_id = 0;
  int64_t to_step = 0;
  std::vector<std::string> settings;
  bool outside_range = false;
};

absl::Status RunRollback(Context& context, const RollbackOptions& options) {
  CAVIAR_ASSIGN_OR_RETURN(client::CaviarClient * client, context.Client());
  caviar::v1::RollbackTrialRequest request;
  request.set_trial_id(options.trial_id);
  request.set_to_step(options.to_step);
  request.set_outside_range(options.outside_range);
  if (!options.settings.empty()) {
    CAVIAR_ASSIGN_OR_RETURN(caviar::v1::Trial trial, client->GetTrial(options.trial_id));
    CAVIAR_ASSIGN_OR_RETURN(caviar::v1::Study study, client->GetStudy(trial.study()));
    CAVIAR_ASSIGN_OR_RETURN(caviar::v1::ParameterSet set,
                            ParseSettings(study.spec(), options.settings, "--set"));
    *request.mutable_parameters() = set.parameters();
  }
  CAVIAR_ASSIGN_OR_RETURN(caviar::v1::Trial trial, client->RollbackTrial(request));
  const caviar::v1::Branch& branch = *trial.branches().rbegin();
  std::cout << "trial " << trial.id() << ": branch " << branch.number()
            << " continues from "
            << (branch.from_step() == 0
                    ? std::string("the start (no checkpoint at or before that step)")
                    : "the checkpoint at step " + std::to_string(branch.from_step()))
            << "; " << caviar::v1::TrialState_Name(trial.state()) << "\n";
  return absl::OkStatus();
}

void AddTrialArgument(CLI::App* command, int64_t* id) {
  command->add_option("trial", *id, "Trial id")
      ->required()
      ->type_name("ID")
      ->check(TrialIdValidator());
}

}  // namespace

void RegisterRollback(CLI::App& app, Context& context) {
  auto options = std::make_shared<RollbackOptions>();
  CLI::App* command = app.add_subcommand(
      "rollback",
      "Continue a trial from its checkpoint at a step (or the nearest earlier one) as a "
      "new branch, optionally with changed settings; the curve keeps both branches");
  AddTrialArgument(command, &options->trial_id);
  command->add_option("--to-step", options->to_step, "Step to go back to")
      ->required()
      ->check(CLI::NonNegativeNumber);
  command->add_option("--set", options->settings, "NAME=VALUE for the new branch");
  command->add_flag("--outside-range", options->outside_range,
                    "Allow values outside the study's search range");
  command->callback([&context, options] {
    context.action = [&context, options] { return RunRollback(context, *options); };
  });
}

void RegisterPause(CLI::App& app, Context& context) {
  auto id = std::make_shared<int64_t>(0);
  CLI::App* command = app.add_subcommand(
      "pause",
      "Pause a trial: its worker checkpoints and hands it back; it waits for "
      "`caviar resume`");
  AddTrialArgument(command, id.get());
  command->callback([&context, id] {
    context.action = [&context, id]() -> absl::Status {
      CAVIAR_ASSIGN_OR_RETURN(client::CaviarClient * client, context.Client());
      CAVIAR_ASSIGN_OR_RETURN(caviar::v1::Trial trial, client->PauseTrial(*id));
      std::cout << "trial " << trial.id() << ": "
                << (trial.state() == caviar::v1::PAUSED
                        ? "PAUSED"
                        : "pausing (its worker checkpoints and hands it back)")
                << "\n";
      return absl::OkStatus();
    };
  });
}

void RegisterResume(CLI::App& app, Context& context) {
  auto id = std::make_shared<int64_t>(0);
  CLI::App* command =
      app.add_subcommand("resume", "Resume a paused trial (from its latest checkpoint)");
  AddTrialArgument(command, id.get());
  command->callback([&context, id] {
    context.action = [&context, id]() -> absl::Status {
      CAVIAR_ASSIGN_OR_RETURN(client::CaviarClient * client, context.Client());
      CAVIAR_ASSIGN_OR_RETURN(caviar::v1::Trial trial, client->ResumeTrial(*id));
      std::cout << "trial " << trial.id() << ": "
                << caviar::v1::TrialState_Name(trial.state()) << "\n";
      return absl::OkStatus();
    };
  });
}

}  // namespace caviar::cli
