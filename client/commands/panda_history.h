// What `caviar trial` shows of a trial's panda-mode history: its nudges
// (given, delivered after which step, applied at which step or not
// acknowledged) and its rollback branches with the curve of each, a pbt
// exploit's branch with its lineage.
#ifndef CAVIAR_CLIENT_COMMANDS_PANDA_HISTORY_H_
#define CAVIAR_CLIENT_COMMANDS_PANDA_HISTORY_H_

#include <string>

#include "caviar/v1/trial.pb.h"

namespace caviar::cli {

// Empty for a trial without nudges or branches. `metric`: the study's
// objective metric, shown per branch.
std::string FormatPandaHistory(const caviar::v1::Trial& trial, const std::string& metric);

// One line of a branch a pbt exploit started: the step and objective the
// trial left, the parent trial, step and objective it took, the copied
// checkpoint's digest (prefix), the settings before, the parent's, the new
// ones, and those drawn afresh.
std::string FormatExploit(const caviar::v1::Branch& branch, const std::string& metric);

}  // namespace caviar::cli

#endif  // CAVIAR_CLIENT_COMMANDS_PANDA_HISTORY_H_
