// Panda mode for the user's own command (worker/command_objective.h): the
// files through which a running command gets nudges and hands over its
// checkpoints, and the two control lines it prints.
//
// Workspace: each run of a command trial gets a fresh private folder
// (mkdtemp under $TMPDIR, removed when the run ends) holding
//   nudges.json   CAVIAR_NUDGE_FILE: the nudges so far, rewritten atomically
//                 (temporary file + rename) at each new one:
//                   {"trial": 7, "parameters": {"lr": 0.01, ...},
//                    "nudges": [{"id": 1, "after_step": 3,
//                                "parameters": {"lr": 0.01}}]}
//                 "parameters" is the trial's values with every nudge so far
//                 applied in order: what the command should train with now.
//   checkpoint/   CAVIAR_CHECKPOINT_DIR: what the command saves to resume.
//
// Control lines (next to the metrics lines of worker/metrics_parser.h):
//   caviar: nudge-ack ID          the command applied nudge ID (its next
//                                 metrics line is the first step trained
//                                 with it)
//   caviar: checkpoint step=N     the checkpoint folder now holds the
//                                 command's state after step N: the worker
//                                 packs it and uploads it
//
// Packing: every regular file and folder under the checkpoint folder
// (symbolic links and other kinds are refused), paths relative to it,
// sorted, with their permission bits; the same folder gives the same bytes.
// Unpacking refuses absolute paths and "..".
//
// Thread-safety: functions are thread-compatible; a Workspace is used by one
// thread.
#ifndef CAVIAR_WORKER_COMMAND_PANDA_H_
#define CAVIAR_WORKER_COMMAND_PANDA_H_

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "caviar/v1/trial.pb.h"

namespace caviar::worker {

struct ControlLine {
  enum class Kind { kNudgeAck, kCheckpoint };
  Kind kind;
  int64_t value;  // The nudge id, or the checkpoint's step.
};

// nullopt: not a control line (a metrics line or any other). INVALID_ARGUMENT
// for "caviar: nudge-ack" or "caviar: checkpoint" with a bad argument.
absl::StatusOr<std::optional<ControlLine>> ParseControlLine(absl::string_view line);

class CommandWorkspace {
 public:
  // UNAVAILABLE when the folder cannot be made.
  static absl::StatusOr<CommandWorkspace> Create(const caviar::v1::Trial& trial);
  CommandWorkspace(CommandWorkspace&& other) noexcept;
  CommandWorkspace& operator=(CommandWorkspace&&) = delete;
  ~CommandWorkspace();  // Removes the folder and everything in it.

  const std::string& nudge_file() const { return nudge_file_; }
  const std::string& checkpoint_dir() const { return checkpoint_dir_; }

  // Adds `nudges` to those so far and rewrites the nudge file.
  absl::Status AddNudges(const std::vector<caviar::v1::Nudge>& nudges);

 private:
  CommandWorkspace(const caviar::v1::Trial& trial, std::string root);
  const caviar::v1::Trial* trial_;
  std::string root_;
  std::string nudge_file_;
  std::string checkpoint_dir_;
  std::vector<caviar::v1::Nudge> nudges_;
};

// Sends SIGUSR1 to each process of process group `group` that catches or
// ignores it (/proc/<pid>/status): one that does neither would be killed
// by it. Returns how many got it.
int SignalNudge(pid_t group);

absl::StatusOr<std::string> PackDirectory(const std::string& dir);
// Into `dir` (made if missing), whose previous content is removed first.
absl::Status UnpackDirectory(absl::string_view bytes, const std::string& dir);

}  // namespace caviar::worker

#endif  // CAVIAR_WORKER_COMMAND_PANDA_H_
