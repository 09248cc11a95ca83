// caviar wait NAME [--interval S] [--max-wait S] [--quiet]
//
// Polls GetStudy until the study is COMPLETED or STOPPED. Progress goes to
// stderr: a bar redrawn in place on a terminal, a line per change otherwise.
// The final state goes to stdout. A coordinator that is briefly unreachable
// (restarting) is waited for, up to --unavailable-grace seconds at a time.
#include <unistd.h>

#include <iostream>
#include <optional>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "client/commands/command.h"
#include "client/progress.h"
#include "common/status_macros.h"

namespace caviar::cli {
namespace {

struct WaitOptions {
  std::string study;
  double interval_seconds = 1.0;
  double max_wait_seconds = 0;
  double unavailable_grace_seconds = 60;
  bool quiet = false;
};

std::optional<double> BestValue(client::CaviarClient* client, const std::string& study) {
  absl::StatusOr<std::vector<caviar::v1::Trial>> best = client->BestTrials(study, 1);
  if (!best.ok() || best->empty() || !best->front().has_objective_value()) {
    return std::nullopt;
  }
  return best->front().objective_value();
}

absl::Status RunWait(Context& context, const WaitOptions& options) {
  const bool terminal = isatty(STDERR_FILENO) == 1;
  const absl::Time start = absl::Now();
  std::optional<absl::Time> unavailable_since;
  std::string last_line;
  while (true) {
    CAVIAR_ASSIGN_OR_RETURN(client::CaviarClient * client, context.Client());
    absl::StatusOr<caviar::v1::Study> study = client->GetStudy(options.study);
    if (!study.ok()) {
      // A restarting coordinator refuses connections (UNAVAILABLE), or drops
      // the call it was serving (CANCELLED) or never answers it in time.
      const bool transient = absl::IsUnavailable(study.status()) ||
                             absl::IsCancelled(study.status()) ||
                             absl::IsDeadlineExceeded(study.status());
      if (!transient) return study.status();
      context.ResetClient();
      if (!unavailable_since) unavailable_since = absl::Now();
      if (absl::Now() - *unavailable_since >
          absl::Seconds(options.unavailable_grace_seconds)) {
        return study.status();
      }
      if (!options.quiet) {
        std::cerr << (terminal ? "\r\033[K" : "")
                  << "waiting for the coordinator: " << study.status().message()
                  << (terminal ? "" : "\n") << std::flush;
      }
    } else {
      unavailable_since.reset();
      const bool ended = client::StudyEnded(*study);
      std::optional<double> best = BestValue(client, options.study);
      if (!options.quiet) {
        if (terminal) {
          std::cerr << "\r\033[K" << client::ProgressBar(*study, best)
                    << (ended ? "\n" : "") << std::flush;
        } else {
          std::string line = client::ProgressLine(*study, best);
          if (line != last_line) std::cerr << line << "\n" << std::flush;
          last_line = line;
        }
      }
      if (ended) {
        std::cout << client::ProgressLine(*study, best) << "\n";
        return absl::OkStatus();
      }
    }
    if (options.max_wait_seconds > 0 &&
        absl::Now() - start > absl::Seconds(options.max_wait_seconds)) {
      if (terminal && !options.quiet) std::cerr << "\n";
      return absl::DeadlineExceededError(
          absl::StrCat("study '", options.study, "' still running after ",
                       options.max_wait_seconds, " s (--max-wait)"));
    }
    absl::SleepFor(absl::Seconds(options.interval_seconds));
  }
}

}  // namespace

void RegisterWait(CLI::App& app, Context& context) {
  auto options = std::make_shared<WaitOptions>();
  CLI::App* command = app.add_subcommand(
      "wait", "Block until a study is completed or stopped, showing progress on stderr");
  command->add_option("study", options->study, "Study name")->required();
  command->add_option("--interval", options->interval_seconds, "Seconds between polls")
      ->check(CLI::Range(0.05, 3600.0))
      ->capture_default_str();
  command
      ->add_option("--max-wait", options->max_wait_seconds,
                   "Give up (exit 1) after this many seconds; 0 = never")
      ->check(NonNegativeValidator(/*integer=*/false))
      ->capture_default_str();
  command
      ->add_option("--unavailable-grace", options->unavailable_grace_seconds,
                   "Fail if the coordinator is unreachable this long")
      ->check(NonNegativeValidator(/*integer=*/false))
      ->capture_default_str();
  command->add_flag("--quiet", options->quiet, "No progress output");
  command->callback([&context, options] {
    context.action = [&context, options] { return RunWait(context, *options); };
  });
}

}  // namespace caviar::cli
