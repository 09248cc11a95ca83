// Progress of a study for `caviar wait`: a one-line bar for terminals and a
// plain line for logs. Pure functions; thread-safe.
#ifndef CAVIAR_CLIENT_PROGRESS_H_
#define CAVIAR_CLIENT_PROGRESS_H_

#include <optional>
#include <string>

#include "caviar/v1/study.pb.h"

namespace caviar::client {

// COMPLETED or STOPPED.
bool StudyEnded(const caviar::v1::Study& study);

// Finished trials (succeeded + stopped) out of the budget's max_trials.
int FinishedTrials(const caviar::v1::Study& study);

// "[########------------]  8/20 done  2 active  1 failed  best dev_accuracy 0.913"
// `width` is the bar's inner width in characters.
std::string ProgressBar(const caviar::v1::Study& study, std::optional<double> best,
                        int width = 30);

// "quadratic: ACTIVE 8/20 done, 2 active, 1 failed, best dev_accuracy 0.913"
std::string ProgressLine(const caviar::v1::Study& study, std::optional<double> best);

}  // namespace caviar::client

#endif  // CAVIAR_CLIENT_PROGRESS_H_
