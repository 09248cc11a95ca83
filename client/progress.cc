#include "client/progress.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace caviar::client {
namespace {

std::string Counts(const caviar::v1::Study& study, std::optional<double> best,
                   const char* separator) {
  std::string text = absl::StrCat(
      FinishedTrials(study), "/", study.spec().budget().max_trials(), " done", separator,
      study.active_trials(), " active", separator, study.failed_trials(), " failed");
  if (best) {
    absl::StrAppend(&text, separator, "best ", study.spec().objective().metric(), " ",
                    absl::StrFormat("%.6g", *best));
  }
  return text;
}

}  // namespace

bool StudyEnded(const caviar::v1::Study& study) {
  return study.state() == caviar::v1::STUDY_COMPLETED ||
         study.state() == caviar::v1::STUDY_STOPPED;
}

int FinishedTrials(const caviar::v1::Study& study) {
  return study.succeeded_trials() + study.stopped_trials();
}

std::string ProgressBar(const caviar::v1::Study& study, std::optional<double> best,
                        int width) {
  const int total = study.spec().budget().max_trials();
  double fraction = total > 0 ? static_cast<double>(FinishedTrials(study)) / total : 0.0;
  if (StudyEnded(study)) fraction = 1.0;
  fraction = std::clamp(fraction, 0.0, 1.0);
  const int filled = static_cast<int>(fraction * width + 0.5);
  return absl::StrCat("[", std::string(filled, '#'), std::string(width - filled, '-'),
                      "]  ", Counts(study, best, "  "));
}

std::string ProgressLine(const caviar::v1::Study& study, std::optional<double> best) {
  std::string state = caviar::v1::StudyState_Name(study.state());
  if (state.rfind("STUDY_", 0) == 0) state = state.substr(6);
  return absl::StrCat(study.spec().name(), ": ", state, " ", Counts(study, best, ", "));
}

}  // namespace caviar::client
