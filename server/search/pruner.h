// Pruner: decides, on each progress report, whether a running trial should
// stop early. The decision rides on the ReportProgress reply.
//
// A pruner sees the reporting trial (its learning curve so far, the new
// measurement last). What it needs of the other trials it keeps itself
// (e.g. per-step sorted values), taken in as they report and finish; the
// coordinator holds no finished trial's curve in memory. It must be
// rebuildable from history alone: at start the coordinator creates it and
// gives it every stored trial once (TakeIn) before any report.
//
// Thread-safety: called under the study's lock; no locking of its own.
#ifndef CAVIAR_SERVER_SEARCH_PRUNER_H_
#define CAVIAR_SERVER_SEARCH_PRUNER_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "caviar/v1/study.pb.h"
#include "caviar/v1/trial.pb.h"

namespace caviar::search {

struct PruneContext {
  const caviar::v1::StudySpec* spec = nullptr;
  // The reporting trial, with its new measurement appended.
  const caviar::v1::Trial* trial = nullptr;
};

struct PruneDecision {
  bool stop = false;
  std::string reason;  // Shown to the user, e.g. "median rule at step 3".
};

// The coordinator asks first and commits after: OnReport decides on a report
// that is not stored yet, and must not take it in (the commit may fail);
// OnReportCommitted then takes it in, once it is stored.
class Pruner {
 public:
  virtual ~Pruner() = default;
  virtual PruneDecision OnReport(const PruneContext& context) = 0;
  // The report OnReport judged (same context) is now stored.
  virtual void OnReportCommitted(const PruneContext& context) { (void)context; }
  // A trial of the study finished (any final state), so incremental state can
  // take in its curve. Called once per trial, after the commit.
  virtual void OnTrialFinished(const caviar::v1::Trial& trial) { (void)trial; }
  // A trial of the study's stored history (any state, the curve of its latest
  // attempt), given once per trial when the coordinator loads the study,
  // before any OnReport.
  virtual void TakeIn(const caviar::v1::Trial& trial) { (void)trial; }
};

// INVALID_ARGUMENT "pruner.name: ..." / "pruner.options.<key>: ..." on bad
// input. An empty name or "none" never stops a trial.
//
// Built-in pruners and their options (each file's header says more):
//   none        none
//   median      warmup_steps (0), min_trials (5)
//   asha        reduction_factor (3), min_resource (1 step)
//   divergence  metric ("loss"), factor (10)
// `objective` is the study's (which metric, which way is better).
absl::StatusOr<std::unique_ptr<Pruner>> CreatePruner(const caviar::v1::Pruner& pruner,
                                                     const caviar::v1::Objective& objective);

std::vector<std::string> PrunerNames();

}  // namespace caviar::search

#endif  // CAVIAR_SERVER_SEARCH_PRUNER_H_
