#include "worker/command_panda.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/log.h"
#include "common/parameter_value/parameter_value_json.h"
#include "nlohmann/json.hpp"

namespace caviar::worker {
namespace {

namespace fs = std::filesystem;

constexpr char kPackMagic[8] = {'C', 'A', 'V', 'D', 'I', 'R', '0', '1'};

absl::Status ErrnoError(absl::string_view what, const std::string& path) {
  return absl::UnavailableError(
      absl::StrCat(what, " ", path, ": ", std::strerror(errno)));
}

// Writes `text` to `path` atomically: a temporary file beside it, fsync,
// rename.
absl::Status WriteAtomically(const std::string& path, const std::string& text) {
  const std::string temporary = path + ".tmp";
  const int fd =
      ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return ErrnoError("cannot create", temporary);
  size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const absl::Status error = ErrnoError("cannot write", temporary);
      ::close(fd);
      return error;
    }
    done += size_t(n);
  }
  ::fsync(fd);
  ::close(fd);
  if (::rename(temporary.c_str(), path.c_str()) != 0)
    return ErrnoError("cannot rename to", path);
  return absl::OkStatus();
}

void PutU64(std::string& out, uint64_t v) {
  out.append(reinterpret_cast<const char*>(&v), 8);
}

bool GetU64(absl::string_view& in, uint64_t* v) {
  if (in.size() < 8) return false;
  std::memcpy(v, in.data(), 8);
  in.remove_prefix(8);
  return true;
}

// True when /proc/<pid>/status says `pid` catches or ignores SIGUSR1.
bool HandlesUsr1(pid_t pid) {
  std::ifstream in(absl::StrCat("/proc/", pid, "/status"));
  std::string line;
  const uint64_t bit = uint64_t{1} << (SIGUSR1 - 1);
  bool handles = false;
  while (std::getline(in, line)) {
    absl::string_view rest = line;
    if (absl::ConsumePrefix(&rest, "SigCgt:") || absl::ConsumePrefix(&rest, "SigIgn:")) {
      uint64_t mask = 0;
      if (absl::SimpleHexAtoi(absl::StripAsciiWhitespace(rest), &mask) && (mask & bit))
        handles = true;
    }
  }
  return handles;
}

// The process group of `pid` from /proc/<pid>/stat (-1 if it is gone).
pid_t GroupOf(pid_t pid) {
  std::ifstream in(absl::StrCat("/proc/", pid, "/stat"));
  std::string text((std::istreambuf_iterator<char>(in)),
                   std::istreambuf_iterator<char>());
  // "pid (comm) state ppid pgrp ...": comm may hold spaces and parentheses.
  const size_t close = text.rfind(')');
  if (close == std::string::npos) return -1;
  std::istringstream fields(text.substr(close + 1));
  std::string state;
  long ppid = 0, pgrp = -1;
  if (!(fields >> state >> ppid >> pgrp)) return -1;
  return static_cast<pid_t>(pgrp);
}

}  // namespace

absl::StatusOr<std::optional<ControlLine>> ParseControlLine(absl::string_view line) {
  absl::string_view rest = absl::StripLeadingAsciiWhitespace(line);
  if (!absl::ConsumePrefix(&rest, "caviar:")) return std::nullopt;
  rest = absl::StripAsciiWhitespace(rest);
  ControlLine control;
  absl::string_view argument;
  if (absl::ConsumePrefix(&rest, "nudge-ack")) {
    control.kind = ControlLine::Kind::kNudgeAck;
    argument = absl::StripLeadingAsciiWhitespace(rest);
    if (argument.size() == rest.size() && !rest.empty())
      return std::nullopt;  // nudge-acks=
  } else if (absl::ConsumePrefix(&rest, "checkpoint")) {
    control.kind = ControlLine::Kind::kCheckpoint;
    argument = absl::StripLeadingAsciiWhitespace(rest);
    if (argument.size() == rest.size() && !rest.empty())
      return std::nullopt;  // checkpoints=
    if (!absl::ConsumePrefix(&argument, "step=")) {
      return absl::InvalidArgumentError(absl::StrCat(
          "malformed control line: \"caviar: checkpoint\" needs step=N, got \"",
          line.substr(0, 80), "\""));
    }
  } else {
    return std::nullopt;
  }
  if (!absl::SimpleAtoi(argument, &control.value) || control.value < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("malformed control line: expected a non-negative integer, got \"",
                     argument.substr(0, 80), "\""));
  }
  return control;
}

absl::StatusOr<CommandWorkspace> CommandWorkspace::Create(
    const caviar::v1::Trial& trial) {
  std::error_code error;
  fs::path base = fs::temp_directory_path(error);
  if (error) base = "/tmp";
  std::string pattern =
      (base / absl::StrCat("caviar-trial-", trial.id(), "-", trial.attempt(), "-XXXXXX"))
          .string();
  if (::mkdtemp(pattern.data()) == nullptr) return ErrnoError("cannot make", pattern);
  CommandWorkspace workspace(trial, pattern);
  if (::mkdir(workspace.checkpoint_dir_.c_str(), 0755) != 0)
    return ErrnoError("cannot make", workspace.checkpoint_dir_);
  if (absl::Status written = workspace.AddNudges({}); !written.ok()) return written;
  return workspace;
}

CommandWorkspace::CommandWorkspace(const caviar::v1::Trial& trial, std::string root)
    : trial_(&trial),
      root_(std::move(root)),
      nudge_file_(root_ + "/nudges.json"),
      checkpoint_dir_(root_ + "/checkpoint") {}

CommandWorkspace::CommandWorkspace(CommandWorkspace&& other) noexcept
    : trial_(other.trial_),
      root_(std::exchange(other.root_, "")),
      nudge_file_(std::move(other.nudge_file_)),
      checkpoint_dir_(std::move(other.checkpoint_dir_)),
      nudges_(std::move(other.nudges_)) {}

CommandWorkspace::~CommandWorkspace() {
  if (root_.empty()) return;
  std::error_code error;
  fs::remove_all(root_, error);
  if (error) CAVIAR_LOG(WARNING) << "cannot remove " << root_ << ": " << error.message();
}

absl::Status CommandWorkspace::AddNudges(const std::vector<caviar::v1::Nudge>& nudges) {
  nudges_.insert(nudges_.end(), nudges.begin(), nudges.end());
  nlohmann::json doc;
  doc["trial"] = trial_->id();
  nlohmann::json& current = doc["parameters"] = nlohmann::json::object();
  for (const auto& [name, value] : trial_->parameters())
    current[name] = ParameterValueJson(value);
  nlohmann::json& list = doc["nudges"] = nlohmann::json::array();
  for (const caviar::v1::Nudge& nudge : nudges_) {
    nlohmann::json entry;
    entry["id"] = nudge.id();
    if (nudge.has_delivered_after_step())
      entry["after_step"] = nudge.delivered_after_step();
    nlohmann::json& parameters = entry["parameters"] = nlohmann::json::object();
    for (const auto& [name, value] : nudge.parameters()) {
      parameters[name] = ParameterValueJson(value);
      current[name] = ParameterValueJson(value);  // Later nudges win.
    }
    list.push_back(std::move(entry));
  }
  return WriteAtomically(nudge_file_, doc.dump() + "\n");
}

int SignalNudge(pid_t group) {
  int signaled = 0;
  DIR* proc = ::opendir("/proc");
  if (proc == nullptr) return 0;
  while (dirent* entry = ::readdir(proc)) {
    int pid = 0;
    if (!absl::SimpleAtoi(entry->d_name, &pid) || pid <= 0) continue;
    if (GroupOf(pid) != group || !HandlesUsr1(pid)) continue;
    if (::kill(pid, SIGUSR1) == 0) ++signaled;
  }
  ::closedir(proc);
  return signaled;
}

absl::StatusOr<std::string> PackDirectory(const std::string& dir) {
  std::vector<fs::path> entries;
  std::error_code error;
  for (fs::recursive_directory_iterator it(dir, error), end; !error && it != end;
       it.increment(error)) {
    entries.push_back(it->path());
  }
  if (error)
    return absl::UnavailableError(
        absl::StrCat("cannot list ", dir, ": ", error.message()));
  std::sort(entries.begin(), entries.end());
  std::string out(kPackMagic, sizeof kPackMagic);
  for (const fs::path& path : entries) {
    struct stat st;
    if (::lstat(path.c_str(), &st) != 0) return ErrnoError("cannot stat", path.string());
    // Lexically: a link must be named, not followed.
    const std::string relative = path.lexically_relative(dir).string();
    char kind;
    if (S_ISDIR(st.st_mode)) {
      kind = 'd';
    } else if (S_ISREG(st.st_mode)) {
      kind = 'f';
    } else {
      return absl::InvalidArgumentError(
          absl::StrCat("checkpoint folder entry ", relative,
                       " is neither a regular file nor a folder (links are not packed)"));
    }
    out.push_back(kind);
    PutU64(out, st.st_mode & 07777);
    PutU64(out, relative.size());
    out.append(relative);
    if (kind == 'f') {
      std::ifstream in(path, std::ios::binary);
      std::string content((std::istreambuf_iterator<char>(in)),
                          std::istreambuf_iterator<char>());
      if (!in.good() && !in.eof()) return ErrnoError("cannot read", path.string());
      PutU64(out, content.size());
      out.append(content);
    }
  }
  return out;
}

absl::Status UnpackDirectory(absl::string_view bytes, const std::string& dir) {
  auto corrupt = [](absl::string_view what) {
    return absl::DataLossError(absl::StrCat("not a packed checkpoint folder: ", what));
  };
  if (bytes.size() < sizeof kPackMagic ||
      std::memcmp(bytes.data(), kPackMagic, sizeof kPackMagic) != 0)
    return corrupt("bad magic");
  bytes.remove_prefix(sizeof kPackMagic);
  std::error_code error;
  fs::remove_all(dir, error);
  fs::create_directories(dir, error);
  if (error)
    return absl::UnavailableError(
        absl::StrCat("cannot make ", dir, ": ", error.message()));
  while (!bytes.empty()) {
    const char kind = bytes.front();
    bytes.remove_prefix(1);
    uint64_t mode, length;
    if (!GetU64(bytes, &mode) || !GetU64(bytes, &length) || bytes.size() < length)
      return corrupt("truncated entry");
    const std::string relative(bytes.substr(0, length));
    bytes.remove_prefix(length);
    const fs::path path(relative);
    if (relative.empty() || path.is_absolute() ||
        std::any_of(path.begin(), path.end(),
                    [](const fs::path& part) { return part == ".."; }))
      return corrupt(absl::StrCat("unsafe path \"", relative, "\""));
    const std::string target = (fs::path(dir) / path).string();
    if (kind == 'd') {
      if (::mkdir(target.c_str(), mode_t(mode & 07777) | 0700) != 0 && errno != EEXIST)
        return ErrnoError("cannot make", target);
      continue;
    }
    if (kind != 'f') return corrupt("unknown entry kind");
    uint64_t size;
    if (!GetU64(bytes, &size) || bytes.size() < size) return corrupt("truncated file");
    std::ofstream out(target, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), std::streamsize(size));
    out.close();
    if (!out) return ErrnoError("cannot write", target);
    ::chmod(target.c_str(), mode_t(mode & 07777));
    bytes.remove_prefix(size);
  }
  return absl::OkStatus();
}

}  // namespace caviar::worker
