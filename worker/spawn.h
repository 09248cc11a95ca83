// SpawnCommand: starts a trial's command as the leader of its own process
// group, tied to the worker's life, with stdout and stderr on pipes.
//
// A command must not outlive its worker: when the worker is killed (kill -9,
// the OOM killer), its trial is re-run elsewhere after the lease expires, and
// a command left running would train a second copy on the same machine. Two
// mechanisms, because neither covers every case alone:
//
//  1. The command gets PR_SET_PDEATHSIG = SIGKILL: the kernel kills it the
//     moment the worker thread that started it dies. This covers the window
//     before the guard below exists, and a guard that was killed too. It
//     cannot cover the command's own children (the signal is per process,
//     and a child's parent is the command, not the worker).
//  2. A guard process (GroupGuard) holds the read end of a pipe whose only
//     write end is the worker's. The kernel closes that end whenever the
//     worker dies, however it dies, so the guard's read() returns EOF and the
//     guard SIGKILLs the command's whole process group (grandchildren
//     included). When the trial ends normally the worker writes one byte
//     first, and the guard exits without killing. The guard is in its own
//     session, so signals aimed at the worker's process group (Ctrl-C in a
//     terminal) do not take it down with the worker.
//  Alternatives rejected: PR_SET_CHILD_SUBREAPER only re-parents orphans to
//  the worker, which does not help once the worker itself is dead; polling
//  getppid() would need code running inside the user's command.
//
// Children a command moves out of its process group (setsid, setpgid:
// daemons) escape both, as they escape the group signals on stop.
//
// The processes are created with _Fork (no atfork handlers: gRPC's threads
// are not touched) and run only async-signal-safe calls before execve.
//
// Thread-safety: SpawnCommand may be called from several threads. Because
// PR_SET_PDEATHSIG follows the calling thread, call it from a thread that
// lives until the command has been reaped (the one that runs the trial).
#ifndef CAVIAR_WORKER_SPAWN_H_
#define CAVIAR_WORKER_SPAWN_H_

#include <sys/types.h>

#include <string>
#include <vector>

namespace caviar::worker {

// Kills a process group with SIGKILL if this process dies before Release().
class GroupGuard {
 public:
  GroupGuard() = default;
  // Starts the guard process of `group`; returns the errno of a failure (the
  // guard is then inactive).
  int Start(pid_t group);
  // The group is gone (or its fate is someone else's): the guard exits
  // without killing. Idempotent.
  void Release();
  ~GroupGuard() { Release(); }
  GroupGuard(const GroupGuard&) = delete;
  GroupGuard& operator=(const GroupGuard&) = delete;

  pid_t pid() const { return pid_; }

 private:
  pid_t pid_ = -1;
  int write_end_ = -1;
};

struct SpawnedCommand {
  pid_t pid = -1;  // Also its process group id.
  int out = -1;    // Read ends, non-blocking.
  int err = -1;
};

// Starts `program` (a path) with `argv` and `env` in `working_dir` (empty:
// the worker's), stdin /dev/null, no other inherited descriptors, default
// signal dispositions and an empty signal mask. Returns 0 or the errno of
// the failed start (a missing directory, exec failure, ...).
int SpawnCommand(const std::string& program, std::vector<std::string> argv,
                 std::vector<std::string> env, const std::string& working_dir,
                 SpawnedCommand* spawned);

}  // namespace caviar::worker

#endif  // CAVIAR_WORKER_SPAWN_H_
