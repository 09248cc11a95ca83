// caviar submit SPEC.yaml [--name NAME] [--set KEY=VALUE]... [--dry-run] [--show]
#include <iostream>

#include "absl/strings/str_cat.h"
#include "client/commands/command.h"
#include "client/spec_loader.h"
#include "common/status_macros.h"
#include "server/search/sampler.h"

namespace caviar::cli {
namespace {

struct SubmitOptions {
  std::string spec_path;
  std::string name;
  bool dry_run = false;
  bool show = false;
  std::vector<std::string> overrides;
};

absl::Status RunSubmit(Context& context, const SubmitOptions& options) {
  CAVIAR_ASSIGN_OR_RETURN(caviar::v1::StudySpec spec,
                          client::LoadSpecFile(options.spec_path, options.overrides));
  if (!options.name.empty()) spec.set_name(options.name);
  if (options.show) std::cout << client::SpecToYaml(spec);
  // The coordinator checks the spec; these are facts about a valid one.
  if (absl::StatusOr<search::SearchSpace> space =
          search::SearchSpace::Create(spec.parameters());
      space.ok()) {
    for (const std::string& warning : search::SearchWarnings(spec, *space))
      std::cerr << "caviar: warning: " << warning << "\n";
  }
  if (options.dry_run) {
    std::cout << "spec is well-formed: study '" << spec.name() << "', "
              << spec.parameters_size() << " parameters, max_trials "
              << spec.budget().max_trials()
              << " (not submitted; the coordinator checks the values)\n";
    return absl::OkStatus();
  }
  CAVIAR_ASSIGN_OR_RETURN(client::CaviarClient * client, context.Client());
  CAVIAR_ASSIGN_OR_RETURN(caviar::v1::Study study, client->CreateStudy(spec));
  std::cout << study.spec().name() << "\n";
  return absl::OkStatus();
}

}  // namespace

void RegisterSubmit(CLI::App& app, Context& context) {
  auto options = std::make_shared<SubmitOptions>();
  CLI::App* command = app.add_subcommand(
      "submit", "Create a study from a YAML spec ('-' = stdin); prints the study's name");
  command->add_option("spec", options->spec_path, "Study spec (YAML)")
      ->required()
      ->type_name("FILE");
  command->add_option("--name", options->name,
                      "Use this study name instead of the spec's");
  command->add_option("--set", options->overrides,
                      "KEY=VALUE: change the spec, e.g. --set trainer.epochs=20 "
                      "--set parameters.0.double.max=0.5 (repeatable)");
  command->add_flag("--dry-run", options->dry_run,
                    "Only read and check the spec locally; submit nothing");
  command->add_flag(
      "--show", options->show,
      "Print the spec as understood (YAML, paths resolved) before the result");
  command->callback([&context, options] {
    context.action = [&context, options] { return RunSubmit(context, *options); };
  });
}

}  // namespace caviar::cli
