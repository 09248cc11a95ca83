#include "worker/spawn.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <climits>

namespace caviar::worker {
namespace {

std::vector<char*> CStrings(std::vector<std::string>& strings) {
  std::vector<char*> out;
  out.reserve(strings.size() + 1);
  for (std::string& s : strings) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

// Closes every descriptor except `keep` (async-signal-safe).
void CloseAllBut(int keep) {
  if (keep > 0) ::close_range(0, keep - 1, 0);
  ::close_range(keep + 1, UINT_MAX, 0);
}

// Default dispositions and an empty mask: the worker blocks SIGTERM/SIGINT
// and ignores SIGPIPE; a child starts clean (async-signal-safe).
void ResetSignals() {
  struct sigaction default_action = {};
  default_action.sa_handler = SIG_DFL;
  for (int s = 1; s < NSIG; ++s) {
    if (s != SIGKILL && s != SIGSTOP) ::sigaction(s, &default_action, nullptr);
  }
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
}

void WriteErrnoAndExit(int fd) {
  const int error = errno;
  (void)!::write(fd, &error, sizeof error);
  ::_exit(127);
}

// The guard: waits for a byte (release) or EOF (the worker died).
[[noreturn]] void GuardMain(int read_end, pid_t group) {
  CloseAllBut(read_end);
  ::setsid();
  // Nothing but SIGKILL should end the guard before it has done its job.
  sigset_t all;
  sigfillset(&all);
  ::sigprocmask(SIG_SETMASK, &all, nullptr);
  ::prctl(PR_SET_NAME, "caviar-guard", 0, 0, 0);
  char byte;
  ssize_t got;
  do {
    got = ::read(read_end, &byte, 1);
  } while (got < 0 && errno == EINTR);
  if (got != 1) ::kill(-group, SIGKILL);
  ::_exit(0);
}

}  // namespace

int GroupGuard::Start(pid_t group) {
  int ends[2];
  if (::pipe2(ends, O_CLOEXEC) != 0) return errno;
  const pid_t pid = ::_Fork();
  if (pid < 0) {
    const int error = errno;
    ::close(ends[0]);
    ::close(ends[1]);
    return error;
  }
  if (pid == 0) GuardMain(ends[0], group);
  ::close(ends[0]);
  pid_ = pid;
  write_end_ = ends[1];
  return 0;
}

void GroupGuard::Release() {
  if (pid_ < 0) return;
  const char release = 'r';
  (void)!::write(write_end_, &release, 1);
  ::close(write_end_);
  while (::waitpid(pid_, nullptr, 0) < 0 && errno == EINTR) {
  }
  pid_ = -1;
  write_end_ = -1;
}

int SpawnCommand(const std::string& program, std::vector<std::string> argv,
                 std::vector<std::string> env, const std::string& working_dir,
                 SpawnedCommand* spawned) {
  int out[2], err[2], report[2];
  if (::pipe2(out, O_CLOEXEC) != 0) return errno;
  if (::pipe2(err, O_CLOEXEC) != 0) {
    const int e = errno;
    ::close(out[0]);
    ::close(out[1]);
    return e;
  }
  if (::pipe2(report, O_CLOEXEC) != 0) {
    const int e = errno;
    for (int fd : {out[0], out[1], err[0], err[1]}) ::close(fd);
    return e;
  }
  // Everything the child needs is prepared here: after _Fork it may not
  // allocate.
  std::vector<char*> c_argv = CStrings(argv);
  std::vector<char*> c_env = CStrings(env);
  const char* dir = working_dir.empty() ? nullptr : working_dir.c_str();
  const pid_t parent = ::getpid();

  const pid_t pid = ::_Fork();
  if (pid == 0) {
    ::setpgid(0, 0);
    ::prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
    // The worker may have died before prctl: then nobody would kill us.
    if (::getppid() != parent) ::_exit(127);
    const int null = ::open("/dev/null", O_RDONLY);
    if (null < 0 || ::dup2(null, STDIN_FILENO) < 0 || ::dup2(out[1], STDOUT_FILENO) < 0 ||
        ::dup2(err[1], STDERR_FILENO) < 0) {
      WriteErrnoAndExit(report[1]);
    }
    if (dir != nullptr && ::chdir(dir) != 0) WriteErrnoAndExit(report[1]);
    // Sockets of the worker's gRPC channel (and every other descriptor)
    // stay out of the command; `report` closes itself on exec.
    if (report[1] > 3) ::close_range(3, report[1] - 1, 0);
    ::close_range(report[1] + 1, UINT_MAX, 0);
    ResetSignals();
    ::execve(program.c_str(), c_argv.data(), c_env.data());
    WriteErrnoAndExit(report[1]);
  }
  const int fork_error = pid < 0 ? errno : 0;
  for (int fd : {out[1], err[1], report[1]}) ::close(fd);
  int exec_error = fork_error;
  if (pid > 0) {
    // Both sides set the group, so that signals to -pid work as soon as
    // this returns (EACCES once the child has exec'd: already done).
    ::setpgid(pid, pid);
    ssize_t got;
    do {
      got = ::read(report[0], &exec_error, sizeof exec_error);
    } while (got < 0 && errno == EINTR);
    if (got != sizeof exec_error) exec_error = 0;  // EOF: execve succeeded.
    if (exec_error != 0) {
      while (::waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
      }
    }
  }
  ::close(report[0]);
  if (exec_error != 0) {
    ::close(out[0]);
    ::close(err[0]);
    return exec_error;
  }
  ::fcntl(out[0], F_SETFL, ::fcntl(out[0], F_GETFL) | O_NONBLOCK);
  ::fcntl(err[0], F_SETFL, ::fcntl(err[0], F_GETFL) | O_NONBLOCK);
  spawned->pid = pid;
  spawned->out = out[0];
  spawned->err = err[0];
  return 0;
}

}  // namespace caviar::worker
