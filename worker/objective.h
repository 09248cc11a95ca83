// Objective: what a worker runs for one trial (an external command, the
// built-in trainer, ...). Pure domain code: no gRPC here; the worker loop
// implements ProgressReporter over the coordinator connection.
//
// Thread-safety: an Objective runs one trial at a time; Run is called from
// one thread. A ProgressReporter is used from the thread running the trial.
#ifndef CAVIAR_WORKER_OBJECTIVE_H_
#define CAVIAR_WORKER_OBJECTIVE_H_

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "caviar/v1/study.pb.h"
#include "caviar/v1/trial.pb.h"
#include "google/protobuf/map.h"

namespace caviar::worker {

using ParameterMap = google::protobuf::Map<std::string, caviar::v1::ParameterValue>;

// The coordinator's answer to a progress report.
struct ProgressReply {
  bool stop = false;
  std::string reason;
  // Hyperparameters changed while the trial runs (a user's nudge); the
  // objective applies those it can (e.g. learning_rate) from now on.
  ParameterMap parameter_updates;
  // The same changes as the coordinator's nudges, with their ids, oldest
  // first (empty from a coordinator that sends none): an objective that
  // applied one says so with ProgressReporter::AcknowledgeNudge.
  std::vector<caviar::v1::Nudge> nudges;
  // A user paused the trial: save a checkpoint of the step just reported
  // now, then stop (stop is set too; the worker hands the trial back).
  bool checkpoint_and_release = false;
};

// A checkpoint a trial resumes from: the state the objective saved after
// `step`, and the learning curve up to it (already reported again for the
// new attempt when the objective starts: it goes on with step + 1).
struct ResumePoint {
  int64_t step = 0;
  std::string bytes;
  std::vector<caviar::v1::Measurement> curve;
};

class ProgressReporter {
 public:
  virtual ~ProgressReporter() = default;
  // Sends one measurement (step = epoch or the command's step) and returns
  // the decision. Never fails: a coordinator that cannot be reached is
  // retried inside; if the lease was lost the reply says stop.
  virtual ProgressReply Report(const caviar::v1::Measurement& measurement) = 0;
  // True once a reply said stop or the worker is shutting down; objectives
  // poll it between steps (the trainer: between mini-batches).
  virtual bool StopRequested() const = 0;
  // The checkpoint this attempt resumes from, or nullptr: start from scratch.
  virtual const ResumePoint* resume() const { return nullptr; }
  // Nudges to apply before the first new step (a rollback's settings), from
  // the lease; acknowledged like ProgressReply::nudges.
  virtual std::vector<caviar::v1::Nudge> initial_nudges() const { return {}; }
  // The objective applied nudge `id` before the step it reports next: the
  // next Report says so (the coordinator records it as applied at that
  // step). A nudge never acknowledged shows as delivered, not applied.
  virtual void AcknowledgeNudge(int64_t id) { (void)id; }
  // Nudges that arrived with a heartbeat since, taken (an objective that
  // reports rarely, such as a command, polls them; otherwise they come with
  // the next Report's reply).
  virtual std::vector<caviar::v1::Nudge> TakePendingNudges() { return {}; }
  // Stores the objective's state after `step` (already reported) with the
  // coordinator; returns once it is stored. False if it could not be (the
  // reason is logged; the trial goes on, and a later resume starts from an
  // earlier checkpoint or from scratch).
  virtual bool SaveCheckpoint(int64_t step, std::string_view bytes) {
    (void)step;
    (void)bytes;
    return false;
  }
};

struct TrialOutcome {
  // Metrics of the finished trial (the last step's, plus final-only ones
  // such as test accuracy).
  caviar::v1::Measurement final_measurement;
  // Set when the trial failed; then failure_reason says why (for a crashed
  // command: the tail of its stderr).
  caviar::v1::FailureKind failure_kind = caviar::v1::FAILURE_KIND_UNSPECIFIED;
  std::string failure_reason;
  // The trial ended early because the coordinator said stop.
  bool stopped = false;
};

class Objective {
 public:
  virtual ~Objective() = default;
  // Runs one trial to its end; failures are reported in the outcome.
  virtual TrialOutcome Run(const caviar::v1::StudySpec& spec,
                           const caviar::v1::Trial& trial,
                           ProgressReporter* reporter) = 0;
};

}  // namespace caviar::worker

#endif  // CAVIAR_WORKER_OBJECTIVE_H_
