// CommandObjective: runs a study's external command (StudySpec.command) once
// per trial and reads its metrics from its standard output.
//
// - argv: "{name}" is replaced by the trial's value of parameter `name`
//   (formatted by caviar::FormatParameterValue: 0.001, 64, adam); "{{" and
//   "}}" are literal braces. The grammar is the one the coordinator
//   validates; a placeholder naming no parameter of the trial, an unclosed
//   '{' or a lone '}' fail the trial as INFEASIBLE, naming the argument.
//   argv[0] without a '/' is looked up in the command's PATH (the spec's
//   env may set it); a relative path is taken from working_dir.
// - Environment: the worker's own, plus the spec's `env`, plus
//   CAVIAR_PARAM_<NAME> (NAME upper-cased, characters other than letters and
//   digits turned into '_'), CAVIAR_TRIAL_ID, CAVIAR_STUDY, CAVIAR_ATTEMPT,
//   CAVIAR_SEED, CAVIAR_NUDGE_FILE, CAVIAR_CHECKPOINT_DIR (and
//   CAVIAR_RESUME_STEP); the CAVIAR_ variables win over the spec's env.
// - working_dir: the command's current directory (default: the worker's).
// - stdin is /dev/null. Each stdout line goes through MetricsParser (see
//   worker/metrics_parser.h for the format); each metrics line is sent with
//   ProgressReporter::Report, elapsed_seconds set to the time since start.
//   The last ~4 KiB of stderr are kept for the failure reason.
// - The command runs in its own process group. When a report's reply says
//   stop, or reporter->StopRequested() turns true (checked every 50 ms), the
//   group gets SIGTERM, then SIGKILL after command.grace_seconds (default
//   5). When the command exits on its own, processes it left running in its
//   group get the same treatment, so no trainer outlives its trial.
// - Panda mode (worker/command_panda.h): CAVIAR_NUDGE_FILE and
//   CAVIAR_CHECKPOINT_DIR in a private folder per run; nudges from a
//   report's reply, a heartbeat or the lease are written to the nudge file
//   and signalled with SIGUSR1; "caviar: nudge-ack N" acknowledges one;
//   "caviar: checkpoint step=N" packs and uploads the checkpoint folder
//   (not after the coordinator said stop). A resumed trial's checkpoint is
//   unpacked into the folder first and CAVIAR_RESUME_STEP names its step;
//   one that does not unpack fails the trial as CRASHED.
// - If the worker itself dies (kill -9, OOM), the command and everything in
//   its process group are killed at once (worker/spawn.h says how).
// - Report blocks while the coordinator is unreachable (the worker loop
//   retries inside it); meanwhile the command blocks once the stdout pipe
//   is full, and resumes when the report goes through.
//
// Outcome:
//   stopped            ended by a stop; final = metrics so far; no failure.
//   CRASHED            killed by a signal, non-zero exit (reason: the status
//                      and the stderr tail), the program could not be started
//                      (reason: the errno text), or exit 0 without ever
//                      reporting the study's objective metric.
//   DIVERGED           exit 0 with a NaN/inf objective metric in the final
//                      measurement.
//   INFEASIBLE         a bad placeholder in argv; the spec has no command.
//   success            exit 0 with a finite objective metric.
// The final measurement merges every reported line: the latest value of each
// metric, the last step, and the total elapsed time.
//
// Thread-safety: Run may be called from one thread at a time per object.
#ifndef CAVIAR_WORKER_COMMAND_OBJECTIVE_H_
#define CAVIAR_WORKER_COMMAND_OBJECTIVE_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "caviar/v1/study.pb.h"
#include "caviar/v1/trial.pb.h"
#include "worker/objective.h"

namespace caviar::worker {

class CommandObjective : public Objective {
 public:
  TrialOutcome Run(const caviar::v1::StudySpec& spec, const caviar::v1::Trial& trial,
                   ProgressReporter* reporter) override;
};

// argv with placeholders replaced; INVALID_ARGUMENT naming the argument and
// the placeholder otherwise.
absl::StatusOr<std::vector<std::string>> SubstituteArgv(
    const caviar::v1::CommandObjective& command, const caviar::v1::Trial& trial);

// "learning-rate" -> "CAVIAR_PARAM_LEARNING_RATE".
std::string ParameterEnvName(const std::string& parameter);

}  // namespace caviar::worker

#endif  // CAVIAR_WORKER_COMMAND_OBJECTIVE_H_
