// Population-based training in the scheduling layer (algorithm pbt; the
// search side is server/search/pbt.h): which specs it takes, and when a
// report makes a trial ready to exploit. The Coordinator's PbtParent and
// PbtExploit (pbt.cc) use these; the RPC edge copies the checkpoint
// (server/rpc/exploit.h).
//
// A pbt study needs checkpoints (checkpoint.every_steps unset or >= 1: the
// exploit interval K), a command or trainer objective (an external one
// keeps no checkpoints here), and, for
// the built-in trainer, searched settings that may change while training
// (what `caviar nudge` takes): a copied checkpoint continues with new ones.
//
// Thread-safety: pure functions.
#ifndef CAVIAR_SERVER_SCHEDULING_PBT_H_
#define CAVIAR_SERVER_SCHEDULING_PBT_H_

#include <cstdint>
#include <optional>

#include "absl/status/status.h"
#include "caviar/v1/study.pb.h"
#include "caviar/v1/trial.pb.h"
#include "server/search/space.h"

namespace caviar::scheduling {

bool IsPbt(const caviar::v1::StudySpec& spec);

// INVALID_ARGUMENT naming the field for a pbt spec it cannot run; OK for
// other algorithms.
absl::Status ValidatePbtSpec(const caviar::v1::StudySpec& spec,
                             const search::SearchSpace& space);

// Steps between exploits: the checkpoint interval (unset: 1).
int64_t PbtInterval(const caviar::v1::StudySpec& spec);

// The branch `trial` runs now, if a rollback or an exploit started it.
const caviar::v1::Branch* CurrentBranch(const caviar::v1::Trial& trial);

// Whether a report of `step` makes `trial` ready to exploit: a multiple of
// the interval, past the step its branch started from (a resumed branch
// reports its copied curve again first), and, for the trainer, before its
// last epoch.
bool PbtReady(const caviar::v1::StudySpec& spec, const caviar::v1::Trial& trial,
              int64_t step);

}  // namespace caviar::scheduling

#endif  // CAVIAR_SERVER_SCHEDULING_PBT_H_
