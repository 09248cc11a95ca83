// caviar refine NAME (--param NAME=LO:HI ... | --top FRACTION [--margin M]) [--trials N]
// caviar regions NAME [--format table|json]
#include <iostream>

#include "absl/strings/str_cat.h"
#include "client/commands/command.h"
#include "client/commands/parameter_args.h"
#include "client/format.h"
#include "common/status_macros.h"
#include "google/protobuf/util/json_util.h"

namespace caviar::cli {
namespace {

struct RefineOptions {
  std::string study;
  std::vector<std::string> ranges;
  double top = 0;
  double margin = 0.1;
  int trials = 0;
};

struct RegionsOptions {
  std::string study;
  std::string format = "table";
};

// One parameter's extent in a region, in values: "0.001 .. 0.01".
std::string Extent(const search::SearchSpace& space, int i, double lo, double hi) {
  // A finite parameter's upper edge is the end of its last bin.
  const double top = space.Cardinality(i) > 0 ? std::max(lo, hi - 1e-9) : hi;
  const std::string a = client::FormatParameterValue(space.FromUnit(i, lo));
  const std::string b = client::FormatParameterValue(space.FromUnit(i, top));
  return a == b ? a : absl::StrCat(a, " .. ", b);
}

std::string RegionsTable(const caviar::v1::Study& study,
                         const search::SearchSpace& space) {
  std::vector<std::string> header = {"ROUND", "ORIGIN"};
  for (int i = 0; i < space.size(); ++i) header.push_back(space.parameter(i).name());
  client::TextTable table(header);
  std::vector<std::string> whole = {"0", "whole space"};
  for (int i = 0; i < space.size(); ++i) whole.push_back(Extent(space, i, 0, 1));
  table.AddRow(whole);
  std::vector<double> lo(space.size(), 0.0), hi(space.size(), 1.0);
  for (const caviar::v1::Region& region : study.regions()) {
    std::vector<std::string> row = {absl::StrCat(region.round()), region.origin()};
    for (int i = 0; i < space.size(); ++i) {
      const std::string& name = space.parameter(i).name();
      if (auto it = region.lo().find(name); it != region.lo().end()) lo[i] = it->second;
      if (auto it = region.hi().find(name); it != region.hi().end()) hi[i] = it->second;
      row.push_back(Extent(space, i, lo[i], hi[i]));
    }
    table.AddRow(row);
  }
  return table.Render();
}

absl::Status RunRegions(Context& context, const RegionsOptions& options) {
  CAVIAR_ASSIGN_OR_RETURN(client::CaviarClient * client, context.Client());
  CAVIAR_ASSIGN_OR_RETURN(caviar::v1::Study study, client->GetStudy(options.study));
  if (options.format == "json") {
    std::cout << "[";
    for (int i = 0; i < study.regions_size(); ++i) {
      std::string json;
      google::protobuf::util::JsonPrintOptions print;
      print.preserve_proto_field_names = true;
      if (!google::protobuf::util::MessageToJsonString(study.regions(i), &json, print)
               .ok())
        return absl::InternalError("cannot print a region as JSON");
      std::cout << (i ? "," : "") << json;
    }
    std::cout << "]\n";
    return absl::OkStatus();
  }
  CAVIAR_ASSIGN_OR_RETURN(search::SearchSpace space,
                          search::SearchSpace::Create(study.spec().parameters()));
  std::cout << RegionsTable(study, space);
  return absl::OkStatus();
}

absl::Status RunRefine(Context& context, const RefineOptions& options) {
  if (options.ranges.empty() == (options.top == 0))
    return absl::InvalidArgumentError(
        "refine: give either --param NAME=LO:HI or --top FRACTION");
  CAVIAR_ASSIGN_OR_RETURN(client::CaviarClient * client, context.Client());
  CAVIAR_ASSIGN_OR_RETURN(caviar::v1::Study study, client->GetStudy(options.study));
  CAVIAR_ASSIGN_OR_RETURN(search::SearchSpace space,
                          search::SearchSpace::Create(study.spec().parameters()));
  caviar::v1::RefineStudyRequest request;
  request.set_study(options.study);
  CAVIAR_RETURN_IF_ERROR(ParseRanges(space, options.ranges, request.mutable_ranges()));
  request.set_top_fraction(options.top);
  request.set_margin(options.margin);
  request.set_additional_trials(options.trials);
  CAVIAR_ASSIGN_OR_RETURN(caviar::v1::Study refined, client->RefineStudy(request));
  std::cout << RegionsTable(refined, space);
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
      ->check(CLI::NonNegativeNumber);
  command->callback([&context, options] {
    context.action = [&context, options] { return RunRefine(context, *options); };
  });
}

void RegisterRegions(CLI::App& app, Context& context) {
  auto options = std::make_shared<RegionsOptions>();
  CLI::App* command = app.add_subcommand(
      "regions", "The regions of a coarse-to-fine search, round by round");
  command->add_option("study", options->study, "Study name")->required();
  command->add_option("--format", options->format, "table or json")
      ->check(CLI::IsMember({"table", "json"}))
      ->capture_default_str();
  command->callback([&context, options] {
    context.action = [&context, options] { return RunRegions(context, *options); };
  });
}

}  // namespace caviar::cli
