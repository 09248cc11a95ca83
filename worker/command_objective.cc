#include "worker/command_objective.h"

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstring>
#include <fstream>
#include <map>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "common/log.h"
#include "common/parameter_value/parameter_value.h"
#include "common/placeholders.h"
#include "worker/command_panda.h"
#include "worker/metrics_parser.h"
#include "worker/spawn.h"

extern char** environ;

namespace caviar::worker {
namespace {

using caviar::v1::FailureKind;
using caviar::v1::Measurement;
using Steady = std::chrono::steady_clock;

constexpr size_t kStderrTailBytes = 4096;
// A stdout "line" longer than this is cut: a command printing megabytes
// without a newline must not exhaust the worker's memory.
constexpr size_t kMaxLineBytes = 1 << 20;
constexpr int kPollMillis = 50;
constexpr int kDefaultGraceSeconds = 5;

TrialOutcome Failed(FailureKind kind, std::string reason) {
  TrialOutcome outcome;
  outcome.failure_kind = kind;
  outcome.failure_reason = std::move(reason);
  return outcome;
}

// Protobuf strings must be UTF-8; a command's stderr need not be.
std::string ValidUtf8(absl::string_view text) {
  std::string out;
  out.reserve(text.size());
  size_t i = 0;
  while (i < text.size()) {
    const unsigned char c = text[i];
    int length = c < 0x80           ? 1
                 : (c >> 5) == 0x6  ? 2
                 : (c >> 4) == 0xE  ? 3
                 : (c >> 3) == 0x1E ? 4
                                    : 0;
    bool valid = length > 0 && i + length <= text.size();
    for (int k = 1; valid && k < length; ++k) {
      valid = (static_cast<unsigned char>(text[i + k]) >> 6) == 0x2;
    }
    if (valid && c >= 0x80) {
      // Reject overlong forms and surrogates, as protobuf does.
      const unsigned char c1 = text[i + 1];
      if ((length == 2 && c < 0xC2) || (length == 3 && c == 0xE0 && c1 < 0xA0) ||
          (length == 3 && c == 0xED && c1 >= 0xA0) ||
          (length == 4 && c == 0xF0 && c1 < 0x90) ||
          (length == 4 && (c > 0xF4 || (c == 0xF4 && c1 >= 0x90)))) {
        valid = false;
      }
    }
    if (valid) {
      out.append(text.data() + i, length);
      i += length;
    } else {
      out.push_back('?');
      ++i;
    }
  }
  return out;
}

// The last kStderrTailBytes of a stream, starting at a line boundary when
// one is near.
class Tail {
 public:
  void Append(absl::string_view data) {
    text_.append(data.data(), data.size());
    if (text_.size() > 2 * kStderrTailBytes)
      text_.erase(0, text_.size() - kStderrTailBytes);
  }
  std::string Text() const {
    absl::string_view view = text_;
    if (view.size() > kStderrTailBytes) {
      view.remove_prefix(view.size() - kStderrTailBytes);
      const size_t newline = view.find('\n');
      if (newline != absl::string_view::npos && newline + 1 < view.size()) {
        view.remove_prefix(newline + 1);
      }
    }
    return ValidUtf8(absl::StripTrailingAsciiWhitespace(view));
  }

 private:
  std::string text_;
};

std::string SignalText(int signal) {
  const char* name = strsignal(signal);
  return absl::StrCat("killed by signal ", signal,
                      name ? absl::StrCat(" (", name, ")") : "");
}

// True while the process group has a member that is not a zombie (orphans
// whose new parent does not reap them must not keep us waiting).
bool GroupAlive(pid_t group) {
  if (::kill(-group, 0) != 0) return errno != ESRCH;
  DIR* proc = ::opendir("/proc");
  if (proc == nullptr) return true;
  bool alive = false;
  while (const dirent* entry = ::readdir(proc)) {
    if (!absl::ascii_isdigit(entry->d_name[0])) continue;
    std::ifstream stat_file(absl::StrCat("/proc/", entry->d_name, "/stat"));
    std::string stat;
    if (!std::getline(stat_file, stat)) continue;
    // "pid (comm) S ppid pgrp ...": comm may hold spaces and parentheses.
    const size_t close = stat.rfind(')');
    if (close == std::string::npos || close + 2 >= stat.size()) continue;
    char state = 0;
    long ppid = 0, pgrp = 0;
    if (std::sscanf(stat.c_str() + close + 2, "%c %ld %ld", &state, &ppid, &pgrp) != 3) {
      continue;
    }
    if (pgrp == group && state != 'Z' && state != 'X') {
      alive = true;
      break;
    }
  }
  ::closedir(proc);
  return alive;
}

// Sends SIGTERM to the group, then SIGKILL once `kill_at` passes, until no
// live member is left.
void TerminateGroup(pid_t group, Steady::time_point kill_at) {
  if (!GroupAlive(group)) return;
  ::kill(-group, SIGTERM);
  bool killed = false;
  const Steady::time_point give_up = kill_at + std::chrono::seconds(5);
  while (GroupAlive(group)) {
    const Steady::time_point now = Steady::now();
    if (!killed && now >= kill_at) {
      ::kill(-group, SIGKILL);
      killed = true;
    }
    if (now >= give_up) {
      CAVIAR_LOG(WARNING) << "process group " << group << " survives SIGKILL";
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

std::vector<std::string> BuildEnvironment(
    const caviar::v1::StudySpec& spec, const caviar::v1::Trial& trial,
    const std::map<std::string, std::string>& panda_vars) {
  std::map<std::string, std::string> vars;
  for (char** entry = environ; entry != nullptr && *entry != nullptr; ++entry) {
    const absl::string_view text = *entry;
    const size_t eq = text.find('=');
    if (eq == absl::string_view::npos) continue;
    vars[std::string(text.substr(0, eq))] = std::string(text.substr(eq + 1));
  }
  for (const auto& [name, value] : spec.command().env()) vars[name] = value;
  for (const auto& [name, value] : trial.parameters()) {
    vars[ParameterEnvName(name)] = FormatParameterValue(value);
  }
  vars["CAVIAR_TRIAL_ID"] = absl::StrCat(trial.id());
  vars["CAVIAR_STUDY"] = trial.study().empty() ? spec.name() : trial.study();
  vars["CAVIAR_ATTEMPT"] = absl::StrCat(trial.attempt());
  vars["CAVIAR_SEED"] = absl::StrCat(trial.seed());
  for (const auto& [name, value] : panda_vars) vars[name] = value;
  std::vector<std::string> env;
  env.reserve(vars.size());
  for (const auto& [name, value] : vars) env.push_back(absl::StrCat(name, "=", value));
  return env;
}

// Where `program` is found along the PATH of the command's environment (not
// the worker's: a spec may set its own PATH); the name itself if it holds a
// '/'. nullopt if it is nowhere.
std::optional<std::string> FindProgram(const std::string& program,
                                       const std::vector<std::string>& env,
                                       const std::string& working_dir,
                                       std::string* searched) {
  if (program.find('/') != std::string::npos) return program;
  std::string path = "/usr/local/bin:/usr/bin:/bin";
  for (const std::string& entry : env) {
    if (absl::StartsWith(entry, "PATH=")) path = entry.substr(5);
  }
  *searched = path;
  for (absl::string_view dir : absl::StrSplit(path, ':')) {
    const std::string candidate = absl::StrCat(dir.empty() ? "." : dir, "/", program);
    // Relative PATH entries are relative to the command's directory.
    const std::string on_disk = candidate.front() == '/' || working_dir.empty()
                                    ? candidate
                                    : absl::StrCat(working_dir, "/", candidate);
    struct stat st;
    if (::stat(on_disk.c_str(), &st) == 0 && S_ISREG(st.st_mode) &&
        ::access(on_disk.c_str(), X_OK) == 0) {
      return candidate;
    }
  }
  return std::nullopt;
}

// One run of the command: reads its output, reports metrics, stops it.
class CommandRun {
 public:
  CommandRun(const caviar::v1::StudySpec& spec, const caviar::v1::Trial& trial,
             ProgressReporter* reporter, CommandWorkspace* workspace,
             SpawnedCommand started)
      : spec_(spec),
        trial_(trial),
        reporter_(reporter),
        workspace_(workspace),
        child_(started) {
    if (const int error = guard_.Start(child_.pid); error != 0) {
      CAVIAR_LOG(WARNING) << "trial " << trial_.id()
                          << ": no guard for the command's process group (it would "
                             "survive a kill -9 of this worker): "
                          << std::strerror(error);
    }
    // Zero is a value (kill at once); only a field left out takes the default.
    const int grace = spec.command().has_grace_seconds() ? spec.command().grace_seconds()
                                                         : kDefaultGraceSeconds;
    grace_ = std::chrono::seconds(grace);
#ifdef SYS_pidfd_open
    // Readable when the child exits: wakes the loop at once (older kernels:
    // the 50 ms poll timeout notices the exit instead).
    pidfd_ = static_cast<int>(::syscall(SYS_pidfd_open, child_.pid, 0));
#endif
  }
  ~CommandRun() {
    if (pidfd_ >= 0) ::close(pidfd_);
  }

  TrialOutcome Wait() {
    int status = 0;
    while (true) {
      Pump(kPollMillis);
      if (!stopping_) Deliver(reporter_->TakePendingNudges());
      if (!stopping_ && reporter_->StopRequested()) BeginStop();
      const pid_t done = ::waitpid(child_.pid, &status, WNOHANG);
      if (done == child_.pid || (done < 0 && errno != EINTR)) break;
      if (stopping_ && !killed_ && Steady::now() >= kill_at_) {
        ::kill(-child_.pid, SIGKILL);
        killed_ = true;
      }
    }
    // What the command wrote just before exiting is still in the pipes.
    Drain();
    TerminateGroup(child_.pid, stopping_ ? kill_at_ : Steady::now() + grace_);
    guard_.Release();
    ::close(child_.out);
    ::close(child_.err);
    return Outcome(status);
  }

 private:
  void BeginStop() {
    stopping_ = true;
    kill_at_ = Steady::now() + grace_;
    ::kill(-child_.pid, SIGTERM);
  }

  // Waits up to `timeout_ms` for output and consumes what is there.
  void Pump(int timeout_ms) {
    pollfd fds[3];
    int n = 0;
    if (!out_closed_) fds[n++] = {child_.out, POLLIN, 0};
    if (!err_closed_) fds[n++] = {child_.err, POLLIN, 0};
    if (pidfd_ >= 0) fds[n++] = {pidfd_, POLLIN, 0};
    if (n == 0) {
      std::this_thread::sleep_for(std::chrono::milliseconds(timeout_ms));
      return;
    }
    if (::poll(fds, n, timeout_ms) <= 0) return;
    ReadSome(/*drain=*/false);
  }

  void Drain() { ReadSome(/*drain=*/true); }

  // Reads available output; with `drain`, until nothing more is available.
  void ReadSome(bool drain) {
    char buffer[65536];
    for (bool progress = true; progress;) {
      progress = false;
      if (!out_closed_) {
        const ssize_t got = ::read(child_.out, buffer, sizeof buffer);
        if (got > 0) {
          OnStdout(absl::string_view(buffer, got));
          progress = drain;
        } else if (got == 0 || (errno != EAGAIN && errno != EINTR)) {
          out_closed_ = true;
          if (!line_.empty()) OnLine(std::exchange(line_, ""));
        }
      }
      if (!err_closed_) {
        const ssize_t got = ::read(child_.err, buffer, sizeof buffer);
        if (got > 0) {
          stderr_tail_.Append(absl::string_view(buffer, got));
          progress = progress || drain;
        } else if (got == 0 || (errno != EAGAIN && errno != EINTR)) {
          err_closed_ = true;
        }
      }
    }
  }

  void OnStdout(absl::string_view data) {
    while (!data.empty()) {
      const size_t newline = data.find('\n');
      const size_t room = kMaxLineBytes - std::min(kMaxLineBytes, line_.size());
      const absl::string_view part = data.substr(0, std::min(newline, room));
      line_.append(part.data(), part.size());
      if (newline == absl::string_view::npos) return;
      OnLine(std::exchange(line_, ""));
      data.remove_prefix(newline + 1);
    }
  }

  // Writes new nudges to the nudge file and signals the command.
  void Deliver(const std::vector<caviar::v1::Nudge>& nudges) {
    if (nudges.empty()) return;
    if (absl::Status written = workspace_->AddNudges(nudges); !written.ok()) {
      CAVIAR_LOG(ERROR) << "trial " << trial_.id() << ": nudge not delivered: " << written;
      return;
    }
    const int signaled = SignalNudge(child_.pid);
    CAVIAR_LOG(INFO) << "trial " << trial_.id() << ": " << nudges.size()
                     << " nudge(s) written to " << workspace_->nudge_file() << ", SIGUSR1 to "
                     << signaled << " process(es) that handle it";
  }

  void OnControl(const ControlLine& control) {
    if (control.kind == ControlLine::Kind::kNudgeAck) {
      CAVIAR_LOG(INFO) << "trial " << trial_.id() << ": the command applied nudge "
                       << control.value;
      reporter_->AcknowledgeNudge(control.value);
      return;
    }
    if (coordinator_stopped_) return;  // The trial ends: nothing resumes it.
    absl::StatusOr<std::string> packed = PackDirectory(workspace_->checkpoint_dir());
    if (!packed.ok()) {
      CAVIAR_LOG(WARNING) << "trial " << trial_.id() << ": checkpoint at step "
                          << control.value << " not packed: " << packed.status();
      return;
    }
    reporter_->SaveCheckpoint(control.value, *packed);
  }

  void OnLine(const std::string& line) {
    ++line_number_;
    absl::StatusOr<std::optional<ControlLine>> control = ParseControlLine(line);
    if (control.ok() && control->has_value()) {
      OnControl(**control);
      return;
    }
    auto parsed = control.ok() ? parser_.Parse(line) : control.status();
    if (!parsed.ok()) {
      const std::string error =
          absl::StrCat("stdout line ", line_number_, ": ", parsed.status().message());
      CAVIAR_LOG(WARNING) << "trial " << trial_.id() << ": " << error
                          << " (line skipped)";
      if (first_error_.empty()) first_error_ = ValidUtf8(error);
      return;
    }
    if (!parsed->has_value()) {
      CAVIAR_LOG(DEBUG) << "trial " << trial_.id() << " stdout: " << line;
      return;
    }
    Measurement& measurement = **parsed;
    measurement.set_elapsed_seconds(Elapsed());
    final_.set_step(measurement.step());
    for (const auto& [name, value] : measurement.metrics()) {
      (*final_.mutable_metrics())[name] = value;
    }
    if (stopping_) return;  // Nobody listens any more.
    const ProgressReply reply = reporter_->Report(measurement);
    if (reply.stop && !reply.checkpoint_and_release) coordinator_stopped_ = true;
    if (!reply.stop) Deliver(reply.nudges);
    if (reply.stop) {
      CAVIAR_LOG(INFO) << "trial " << trial_.id() << ": stopping the command ("
                       << reply.reason << ")";
      BeginStop();
    }
  }

  double Elapsed() const {
    return std::chrono::duration<double>(Steady::now() - start_).count();
  }

  TrialOutcome Outcome(int status) {
    final_.set_elapsed_seconds(Elapsed());
    TrialOutcome outcome;
    if (stopping_) {
      outcome.stopped = true;
      outcome.final_measurement = final_;
      return outcome;
    }
    const std::string tail = stderr_tail_.Text();
    const std::string tail_text = tail.empty() ? "" : absl::StrCat("; stderr:\n", tail);
    if (WIFSIGNALED(status) && (WTERMSIG(status) == SIGTERM || WTERMSIG(status) == SIGINT)) {
      // Not sent by us (stopping_ is false): a scheduler's preemption or a
      // Ctrl-C that reached the command first. An interruption, not a
      // result: the worker hands the trial back.
      CAVIAR_LOG(WARNING) << "trial " << trial_.id() << ": command "
                          << SignalText(WTERMSIG(status)) << " from outside the worker";
      outcome.stopped = true;
      outcome.final_measurement = final_;
      return outcome;
    }
    if (WIFSIGNALED(status)) {
      outcome = Failed(caviar::v1::CRASHED,
                       absl::StrCat("command ", SignalText(WTERMSIG(status)), tail_text));
    } else if (WIFEXITED(status) && WEXITSTATUS(status) != 0) {
      outcome = Failed(caviar::v1::CRASHED, absl::StrCat("command exited with status ",
                                                         WEXITSTATUS(status), tail_text));
    } else {
      const std::string& metric = spec_.objective().metric();
      auto it = final_.metrics().find(metric);
      if (it == final_.metrics().end()) {
        outcome =
            Failed(caviar::v1::CRASHED,
                   absl::StrCat(
                       "command exited with status 0 without reporting the objective "
                       "metric \"",
                       metric, "\"",
                       first_error_.empty() ? "" : absl::StrCat(" (", first_error_, ")"),
                       tail_text));
      } else if (!std::isfinite(it->second)) {
        outcome = Failed(caviar::v1::DIVERGED,
                         absl::StrCat("objective metric \"", metric, "\" is ", it->second,
                                      " at step ", final_.step()));
      }
    }
    outcome.final_measurement = final_;
    return outcome;
  }

  const caviar::v1::StudySpec& spec_;
  const caviar::v1::Trial& trial_;
  ProgressReporter* const reporter_;
  CommandWorkspace* const workspace_;
  const SpawnedCommand child_;
  GroupGuard guard_;
  const Steady::time_point start_ = Steady::now();
  std::chrono::seconds grace_{kDefaultGraceSeconds};

  MetricsParser parser_;
  std::string line_;
  int line_number_ = 0;
  std::string first_error_;
  Tail stderr_tail_;
  Measurement final_;
  bool out_closed_ = false;
  bool err_closed_ = false;
  bool stopping_ = false;
  // The coordinator said stop (not a pause): checkpoints are not wanted.
  bool coordinator_stopped_ = false;
  bool killed_ = false;
  Steady::time_point kill_at_;
  int pidfd_ = -1;
};

}  // namespace

std::string ParameterEnvName(const std::string& parameter) {
  std::string name = "CAVIAR_PARAM_";
  for (char c : parameter) {
    name.push_back(absl::ascii_isalnum(c) ? absl::ascii_toupper(c) : '_');
  }
  return name;
}

absl::StatusOr<std::vector<std::string>> SubstituteArgv(
    const caviar::v1::CommandObjective& command, const caviar::v1::Trial& trial) {
  std::vector<std::string> argv;
  argv.reserve(command.argv_size());
  for (int i = 0; i < command.argv_size(); ++i) {
    const std::string& arg = command.argv(i);
    absl::StatusOr<std::string> out = ExpandPlaceholders(
        arg,
        [&](const std::string& name) -> std::optional<std::string> {
          auto it = trial.parameters().find(name);
          if (it == trial.parameters().end()) return std::nullopt;
          return FormatParameterValue(it->second);
        },
        "trial");
    if (!out.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("command.argv[", i, "] \"", arg, "\": ", out.status().message()));
    }
    argv.push_back(*std::move(out));
  }
  return argv;
}

TrialOutcome CommandObjective::Run(const caviar::v1::StudySpec& spec,
                                   const caviar::v1::Trial& trial,
                                   ProgressReporter* reporter) {
  if (!spec.has_command()) {
    return Failed(caviar::v1::INFEASIBLE, "the study spec has no command to run");
  }
  const caviar::v1::CommandObjective& command = spec.command();
  if (command.argv_size() == 0 || command.argv(0).empty()) {
    return Failed(caviar::v1::INFEASIBLE, "command.argv is empty");
  }
  absl::StatusOr<std::vector<std::string>> argv = SubstituteArgv(command, trial);
  if (!argv.ok()) {
    return Failed(caviar::v1::INFEASIBLE, std::string(argv.status().message()));
  }
  const std::string& dir = command.working_dir();
  if (!dir.empty()) {
    struct stat dir_stat;
    const char* problem = nullptr;
    if (::stat(dir.c_str(), &dir_stat) != 0) {
      problem = std::strerror(errno);
    } else if (!S_ISDIR(dir_stat.st_mode)) {
      problem = "not a directory";
    }
    if (problem != nullptr) {
      return Failed(caviar::v1::CRASHED,
                    absl::StrCat("command.working_dir \"", dir, "\": ", problem));
    }
  }
  absl::StatusOr<CommandWorkspace> workspace = CommandWorkspace::Create(trial);
  if (!workspace.ok()) {
    return Failed(caviar::v1::CRASHED, std::string(workspace.status().message()));
  }
  std::map<std::string, std::string> panda_vars = {
      {"CAVIAR_NUDGE_FILE", workspace->nudge_file()},
      {"CAVIAR_CHECKPOINT_DIR", workspace->checkpoint_dir()}};
  if (const ResumePoint* resume = reporter->resume()) {
    if (absl::Status unpacked = UnpackDirectory(resume->bytes, workspace->checkpoint_dir());
        !unpacked.ok()) {
      return Failed(caviar::v1::CRASHED,
                    absl::StrCat("the checkpoint at step ", resume->step,
                                 " does not unpack: ", unpacked.message()));
    }
    panda_vars["CAVIAR_RESUME_STEP"] = absl::StrCat(resume->step);
  }
  if (absl::Status written = workspace->AddNudges(reporter->initial_nudges());
      !written.ok()) {
    return Failed(caviar::v1::CRASHED, std::string(written.message()));
  }
  std::vector<std::string> env = BuildEnvironment(spec, trial, panda_vars);
  std::string searched;
  const std::optional<std::string> program =
      FindProgram((*argv)[0], env, command.working_dir(), &searched);
  if (!program.has_value()) {
    return Failed(caviar::v1::CRASHED, absl::StrCat("cannot run \"", (*argv)[0],
                                                    "\": not found in PATH ", searched));
  }
  SpawnedCommand started;
  const int error =
      SpawnCommand(*program, *argv, std::move(env), command.working_dir(), &started);
  if (error != 0) {
    return Failed(caviar::v1::CRASHED, absl::StrCat("cannot run \"", (*argv)[0], "\"",
                                                    dir.empty() ? "" : " in " + dir, ": ",
                                                    std::strerror(error)));
  }
  CAVIAR_LOG(DEBUG) << "trial " << trial.id() << ": started pid " << started.pid;
  CommandRun run(spec, trial, reporter, &*workspace, started);
  return run.Wait();
}

}  // namespace caviar::worker
