// Arguments shared by several commands: trial ids, counts, and the
// one-study listings.
#include <algorithm>
#include <cctype>
#include <cmath>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "client/commands/command.h"

namespace caviar::cli {

CLI::Validator TrialIdValidator() {
  CLI::Validator validator(
      [](std::string& text) -> std::string {
        int64_t id = 0;
        const bool digits =
            !text.empty() && std::all_of(text.begin(), text.end(), [](unsigned char c) {
              return std::isdigit(c) != 0;
            });
        if (digits && absl::SimpleAtoi(text, &id) && id > 0) return "";
        // Echo at most 40 characters of what was given.
        const std::string shown =
            text.size() > 40 ? absl::StrCat(text.substr(0, 40), "...") : text;
        const bool too_large = digits && text.find_first_not_of('0') != std::string::npos;
        return absl::StrCat("'", shown, "' is not a trial id (a positive integer",
                            too_large ? " up to 9223372036854775807)" : ")");
      },
      "", "trial id");
  return validator;
}

CLI::Validator NonNegativeValidator(bool integer) {
  return CLI::Validator(
      [integer](std::string& text) -> std::string {
        int64_t whole = 0;
        double number = 0;
        const bool ok = integer ? absl::SimpleAtoi(text, &whole) && whole >= 0
                                : absl::SimpleAtod(text, &number) && number >= 0 &&
                                      std::isfinite(number);
        if (ok) return "";
        const std::string shown =
            text.size() > 40 ? absl::StrCat(text.substr(0, 40), "...") : text;
        return absl::StrCat("'", shown, "' is not a non-negative ",
                            integer ? "integer" : "number");
      },
      "", integer ? "non-negative integer" : "non-negative number");
}

void RegisterStudyListing(CLI::App& app, Context& context, const char* name,
                          const char* description, StudyListingRun run) {
  auto options = std::make_shared<StudyListingOptions>();
  CLI::App* command = app.add_subcommand(name, description);
  command->add_option("study", options->study, "Study name")->required();
  AddFormatOption(command, &options->format);
  command->callback([&context, options, run] {
    context.action = [&context, options, run] { return run(context, *options); };
  });
}

}  // namespace caviar::cli
