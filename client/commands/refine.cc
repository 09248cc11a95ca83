// caviar refine NAME (--param NAME=LO:HI ... | --top FRACTION [--margin M]) [--trials N]
// caviar regions NAME [--format table|json|csv]
#include <iostream>

#include "absl/strings/str_cat.h"
#include "client/commands/command.h"
#include "client/commands/parameter_args.h"
#include "client/format.h"
#include "client/progress.h"
#include "common/status_macros.h"

namespace caviar::cli {
namespace {

struct RefineOptions {
  std::string study;
  std::vector<std::string> ranges;
  double top = 0;
  double margin = 0.1;
  int trials = 0;
};

absl::Status RunRegions(Context& context, const StudyListingOptions& options) {
  CAVIAR_ASSIGN_OR_RETURN(client::OutputFormat format,
                          client::ParseOutputFormat(options.format));
  CAVIAR_ASSIGN_OR_RETURN(client::CaviarClient * client, context.Client());
  CAVIAR_ASSIGN_OR_RETURN(caviar::v1::Study study, client->GetStudy(options.study));
  CAVIAR_ASSIGN_OR_RETURN(std::string text, client::FormatRegions(study, format));
  std::cout << text;
  return absl::OkStatus();
}

absl::Status RunRefine(Context& context, const RefineOptions& options) {
  if (options.ranges.empty() == (options.top == 0))
    return absl::InvalidArgumentError(
        "refine: give either --param NAME=LO:HI or --top FRACTION");
  CAVIAR_ASSIGN_OR_RETURN(client::CaviarClient * client, context.Client());
  CAVIAR_ASSIGN_OR_RETURN(caviar::v1::Study study, client->GetStudy(options.study));
  if (client::StudyEnded(study) && options.trials == 0) {
    // The new round would have no budget left to run in.
    return absl::FailedPreconditionError(absl::StrCat(
        "refine: study '", options.study, "' has ended (",
        client::StudyStateName(study.state()),
        "): a new round needs trials; add --trials N to reopen it with N more"));
  }
  CAVIAR_ASSIGN_OR_RETURN(search::SearchSpace space,
                          search::SearchSpace::Create(study.spec().parameters()));
  caviar::v1::RefineStudyRequest request;
  request.set_study(options.study);
  CAVIAR_RETURN_IF_ERROR(ParseRanges(space, options.ranges, request.mutable_ranges()));
  request.set_top_fraction(options.top);
  request.set_margin(options.margin);
  request.set_additional_trials(options.trials);
  CAVIAR_ASSIGN_OR_RETURN(caviar::v1::Study refined, client->RefineStudy(request));
  CAVIAR_ASSIGN_OR_RETURN(std::string regions,
                          client::FormatRegions(refined, client::OutputFormat::kTable));
  std::cout << regions;
  return absl::OkStatus();
}

}  // namespace

void RegisterRefine(CLI::App& app, Context& context) {
  auto options = std::make_shared<RefineOptions>();
  CLI::App* command = app.add_subcommand(
      "refine", "Zoom in: start a new round of the search inside a smaller region");
  command->add_option("study", options->study, "Study name")->required();
  command->add_option("--param", options->ranges,
                      "NAME=LO:HI in the parameter's values (others keep their extent)");
  command
      ->add_option("--top", options->top,
                   "Or: the box around the best FRACTION of finished trials")
      ->check(CLI::Range(0.0, 1.0));
  command
      ->add_option("--margin", options->margin,
                   "Widen a --top box by this fraction of its width on each side")
      ->check(CLI::Range(0.0, 1.0))
      ->capture_default_str();
  command
      ->add_option(
          "--trials", options->trials,
          "Trials to add to the budget for the new round (reopens an ended study)")
      ->check(NonNegativeValidator(/*integer=*/true));
  command->callback([&context, options] {
    context.action = [&context, options] { return RunRefine(context, *options); };
  });
}

void RegisterRegions(CLI::App& app, Context& context) {
  RegisterStudyListing(app, context, "regions",
                       "The regions of a coarse-to-fine search, round by round, in "
                       "parameter values",
                       RunRegions);
}

}  // namespace caviar::cli
