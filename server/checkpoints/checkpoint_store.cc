#include "server/checkpoints/checkpoint_store.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "common/digest/sha256.h"
#include "common/log.h"
#include "common/status_macros.h"
#include "google/protobuf/util/time_util.h"

namespace caviar::checkpoints {
namespace {

using caviar::v1::CheckpointInfo;

absl::Status IoError(absl::string_view what, const std::string& path) {
  return absl::UnavailableError(
      absl::StrCat(what, " ", path, ": ", std::strerror(errno)));
}

absl::Status MakeDir(const std::string& path) {
  if (::mkdir(path.c_str(), 0750) == 0 || errno == EEXIST) return absl::OkStatus();
  return IoError("cannot create folder", path);
}

absl::Status SyncPath(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return IoError("cannot open", path);
  const int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) return IoError("cannot fsync", path);
  return absl::OkStatus();
}

absl::Status WriteAll(int fd, std::string_view data, int64_t offset,
                      const std::string& path) {
  while (!data.empty()) {
    const ssize_t n = ::pwrite(fd, data.data(), data.size(), offset);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return IoError("cannot write", path);
    data.remove_prefix(n);
    offset += n;
  }
  return absl::OkStatus();
}

// Reads up to `max_bytes` at `offset`; fewer only at the end of the file.
absl::StatusOr<std::string> ReadAt(int fd, int64_t offset, int64_t max_bytes,
                                   const std::string& path) {
  std::string out(max_bytes, '\0');
  int64_t got = 0;
  while (got < max_bytes) {
    const ssize_t n = ::pread(fd, out.data() + got, max_bytes - got, offset + got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return IoError("cannot read", path);
    if (n == 0) break;
    got += n;
  }
  out.resize(got);
  return out;
}

absl::Status CheckHeader(const CheckpointInfo& info) {
  auto invalid = [](absl::string_view field, absl::string_view why) {
    return absl::InvalidArgumentError(absl::StrCat(field, ": ", why));
  };
  if (info.trial_id() <= 0) return invalid("trial_id", "must be > 0");
  if (info.step() < 0)
    return invalid("step", absl::StrCat("must be >= 0, got ", info.step()));
  if (info.size_bytes() < 0)
    return invalid("total_bytes", absl::StrCat("must be >= 0, got ", info.size_bytes()));
  if (!IsSha256Digest(info.digest()))
    return invalid("digest", "must be \"sha256:\" and 64 lowercase hex digits");
  for (const caviar::v1::Measurement& m : info.curve()) {
    if (m.step() > info.step())
      return invalid("curve", absl::StrCat("has step ", m.step(),
                                           " after the checkpoint's step ", info.step()));
  }
  return absl::OkStatus();
}

std::optional<double> ObjectiveAt(const CheckpointInfo& info, const std::string& metric) {
  for (auto m = info.curve().rbegin(); m != info.curve().rend(); ++m) {
    if (m->step() != info.step()) continue;
    auto value = m->metrics().find(metric);
    if (value != m->metrics().end() && !std::isnan(value->second)) return value->second;
    return std::nullopt;
  }
  return std::nullopt;
}

}  // namespace

std::string CheckpointDirFor(const std::string& db_path) {
  return db_path + ".checkpoints";
}

CheckpointStore::CheckpointStore(std::string dir, storage::CheckpointIndex* index,
                                 Clock* clock, CheckpointLimits limits)
    : dir_(std::move(dir)), index_(index), clock_(clock), limits_(limits) {}

CheckpointStore::~CheckpointStore() = default;

absl::StatusOr<std::unique_ptr<CheckpointStore>> CheckpointStore::Open(
    std::string dir, storage::CheckpointIndex* index, Clock* clock,
    CheckpointLimits limits) {
  if (limits.max_checkpoint_bytes <= 0 || limits.max_study_bytes <= 0)
    return absl::InvalidArgumentError("checkpoint limits must be > 0");
  CAVIAR_RETURN_IF_ERROR(MakeDir(dir));
  return std::unique_ptr<CheckpointStore>(
      new CheckpointStore(std::move(dir), index, clock, limits));
}

std::string CheckpointStore::TrialDir(int64_t trial_id) const {
  return absl::StrCat(dir_, "/trial-", trial_id);
}
std::string CheckpointStore::FinalPath(int64_t trial_id, int64_t step) const {
  return absl::StrCat(TrialDir(trial_id), "/step-", step, ".ckpt");
}
std::string CheckpointStore::PartialPath(int64_t trial_id, int64_t step,
                                         const std::string& digest) const {
  // 16 hex digits of the digest tell two different uploads of a step apart.
  return absl::StrCat(TrialDir(trial_id), "/step-", step, "-",
                      digest.substr(digest.find(':') + 1, 16), ".part");
}

absl::Status CheckpointStore::CheckStudyLimit(const CheckpointInfo& info) {
  if (info.size_bytes() > limits_.max_checkpoint_bytes) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "checkpoint of trial ", info.trial_id(), " at step ", info.step(), ": ",
        info.size_bytes(), " bytes, over the coordinator's limit of ",
        limits_.max_checkpoint_bytes, " bytes per checkpoint (--max-checkpoint-bytes)"));
  }
  CAVIAR_ASSIGN_OR_RETURN(int64_t stored, index_->StudyBytes(info.study()));
  absl::StatusOr<CheckpointInfo> same = index_->Get(info.trial_id(), info.step());
  if (same.ok()) stored -= same->size_bytes();  // It would be replaced.
  if (stored + info.size_bytes() > limits_.max_study_bytes) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "checkpoint of trial ", info.trial_id(), " at step ", info.step(), ": study ",
        info.study(), " already stores ", stored, " bytes of checkpoints; ",
        info.size_bytes(), " more would pass the coordinator's limit of ",
        limits_.max_study_bytes, " bytes per study (--max-study-checkpoint-bytes)"));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<CheckpointStore::Upload>> CheckpointStore::BeginUpload(
    UploadHeader header) {
  CheckpointInfo& info = header.info;
  CAVIAR_RETURN_IF_ERROR(CheckHeader(info));
  if (info.study().empty()) return absl::InvalidArgumentError("study: is empty");
  CAVIAR_RETURN_IF_ERROR(CheckStudyLimit(info));
  CAVIAR_RETURN_IF_ERROR(MakeDir(TrialDir(info.trial_id())));
  const std::string partial = PartialPath(info.trial_id(), info.step(), info.digest());
  {
    absl::MutexLock lock(&mu_);
    if (!uploading_.insert(partial).second) {
      return absl::AbortedError(absl::StrCat("checkpoint of trial ", info.trial_id(),
                                             " at step ", info.step(),
                                             " is being uploaded by another call"));
    }
  }
  const int fd = ::open(partial.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0640);
  if (fd < 0) {
    absl::Status error = IoError("cannot open", partial);
    EndUpload(partial);
    return error;
  }
  int64_t received = ::lseek(fd, 0, SEEK_END);
  if (received < 0 || received > info.size_bytes()) {
    // Not a prefix of this upload (it cannot be longer): start over.
    if (::ftruncate(fd, 0) != 0) {
      absl::Status error = IoError("cannot truncate", partial);
      ::close(fd);
      EndUpload(partial);
      return error;
    }
    received = 0;
  }
  return std::unique_ptr<Upload>(
      new Upload(this, std::move(header), partial, fd, received));
}

int64_t CheckpointStore::PartialBytes(int64_t trial_id, int64_t step,
                                      const std::string& digest) {
  if (!IsSha256Digest(digest)) return 0;
  struct stat st;
  if (::stat(PartialPath(trial_id, step, digest).c_str(), &st) != 0) return 0;
  return st.st_size;
}

void CheckpointStore::DropStalePartials(int64_t trial_id, int64_t step) {
  std::error_code error;
  for (const auto& entry :
       std::filesystem::directory_iterator(TrialDir(trial_id), error)) {
    const std::string name = entry.path().filename().string();
    int64_t partial_step = 0;
    if (entry.path().extension() != ".part" ||
        std::sscanf(name.c_str(), "step-%" SCNd64 "-", &partial_step) != 1 ||
        partial_step > step) {
      continue;
    }
    absl::MutexLock lock(&mu_);
    if (uploading_.count(entry.path().string()) == 0) ::unlink(entry.path().c_str());
  }
}

void CheckpointStore::EndUpload(const std::string& partial) {
  absl::MutexLock lock(&mu_);
  uploading_.erase(partial);
}

CheckpointStore::Upload::Upload(CheckpointStore* store, UploadHeader header,
                                std::string partial, int fd, int64_t received)
    : store_(store),
      header_(std::move(header)),
      partial_(std::move(partial)),
      fd_(fd),
      received_(received) {}

CheckpointStore::Upload::~Upload() {
  if (fd_ >= 0) ::close(fd_);
  store_->EndUpload(partial_);
}

absl::Status CheckpointStore::Upload::Append(int64_t offset, std::string_view data) {
  if (done_) return absl::FailedPreconditionError("the upload is already committed");
  if (offset != received_) {
    return absl::FailedPreconditionError(
        absl::StrCat("chunk at offset ", offset, ", but the coordinator has ", received_,
                     " bytes of this checkpoint: send from there"));
  }
  if (received_ + static_cast<int64_t>(data.size()) > total()) {
    return absl::InvalidArgumentError(absl::StrCat("data: a chunk of ", data.size(),
                                                   " bytes at offset ", offset,
                                                   " runs past total_bytes ", total()));
  }
  CAVIAR_RETURN_IF_ERROR(WriteAll(fd_, data, offset, partial_));
  received_ += data.size();
  return absl::OkStatus();
}

absl::StatusOr<CheckpointInfo> CheckpointStore::Upload::Commit() {
  CheckpointInfo& info = header_.info;
  if (received_ != total()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "the coordinator has ", received_, " of ", total(), " bytes of this checkpoint"));
  }
  // The digest of what is on disk, not of what went by: a short write or a
  // damaged file shows here.
  Sha256 hash;
  for (int64_t offset = 0; offset < received_;) {
    CAVIAR_ASSIGN_OR_RETURN(std::string chunk, ReadAt(fd_, offset, 1 << 20, partial_));
    if (chunk.empty()) break;
    hash.Update(chunk);
    offset += chunk.size();
  }
  const std::string digest = hash.Finish();
  if (digest != info.digest()) {
    ::unlink(partial_.c_str());
    return absl::DataLossError(absl::StrCat("checkpoint of trial ", info.trial_id(),
                                            " at step ", info.step(), ": the bytes have ",
                                            digest, ", the upload announced ",
                                            info.digest(), "; upload it again"));
  }
  CAVIAR_RETURN_IF_ERROR(store_->CheckStudyLimit(info));
  if (::fsync(fd_) != 0) return IoError("cannot fsync", partial_);
  ::close(fd_);
  fd_ = -1;
  const std::string final_path = store_->FinalPath(info.trial_id(), info.step());
  if (::rename(partial_.c_str(), final_path.c_str()) != 0)
    return IoError("cannot rename to", final_path);
  CAVIAR_RETURN_IF_ERROR(SyncPath(store_->TrialDir(info.trial_id())));
  CAVIAR_RETURN_IF_ERROR(SyncPath(store_->dir_));
  *info.mutable_create_time() = google::protobuf::util::TimeUtil::NanosecondsToTimestamp(
      absl::ToUnixNanos(store_->clock_->Now()));
  if (std::optional<double> value =
          ObjectiveAt(info, header_.spec.objective().metric())) {
    info.set_objective_value(*value);
  } else {
    info.clear_objective_value();
  }
  CAVIAR_RETURN_IF_ERROR(store_->index_->Put(info));
  done_ = true;
  store_->DropStalePartials(info.trial_id(), info.step());
  if (absl::Status kept = store_->ApplyRetention(header_); !kept.ok()) {
    // Stored and indexed: the upload succeeded; old files stay until the
    // next pass.
    CAVIAR_LOG(WARNING) << "checkpoint retention of trial " << info.trial_id() << ": "
                        << kept;
  }
  CheckpointInfo out = info;
  out.clear_curve();
  return out;
}

absl::Status CheckpointStore::ApplyRetention(const UploadHeader& header) {
  const caviar::v1::CheckpointPolicy& policy = header.spec.checkpoint();
  const int keep_latest =
      std::max(1, policy.has_keep_latest() ? policy.keep_latest() : kDefaultKeepLatest);
  const int keep_best = policy.has_keep_best() ? policy.keep_best() : kDefaultKeepBest;
  const bool minimize = header.spec.objective().goal() == caviar::v1::MINIMIZE;
  CAVIAR_ASSIGN_OR_RETURN(std::vector<CheckpointInfo> all,
                          index_->List(header.info.trial_id()));
  const size_t n = all.size();
  std::vector<bool> keep(n, false);
  for (size_t i = n > size_t(keep_latest) ? n - keep_latest : 0; i < n; ++i)
    keep[i] = true;
  std::vector<size_t> scored;
  for (size_t i = 0; i < n; ++i) {
    if (all[i].has_objective_value()) scored.push_back(i);
  }
  std::stable_sort(scored.begin(), scored.end(), [&](size_t a, size_t b) {
    return minimize ? all[a].objective_value() < all[b].objective_value()
                    : all[a].objective_value() > all[b].objective_value();
  });
  for (size_t i = 0; i < scored.size() && i < size_t(keep_best); ++i)
    keep[scored[i]] = true;
  for (size_t i = 0; i < n; ++i) {
    if (header.keep_step.has_value() && all[i].step() == *header.keep_step) keep[i] = true;
  }
  for (size_t i = 0; i < n; ++i) {
    if (keep[i]) continue;
    const CheckpointInfo& old = all[i];
    {
      absl::MutexLock lock(&mu_);
      if (readers_.count({old.trial_id(), old.step()}) > 0) continue;  // Being read.
    }
    CAVIAR_RETURN_IF_ERROR(Delete(old));
  }
  return absl::OkStatus();
}

absl::Status CheckpointStore::Delete(const CheckpointInfo& old) {
  CAVIAR_RETURN_IF_ERROR(index_->Delete(old.trial_id(), old.step()));
  const std::string path = FinalPath(old.trial_id(), old.step());
  if (::unlink(path.c_str()) != 0 && errno != ENOENT)
    CAVIAR_LOG(WARNING) << "cannot remove " << path << ": " << std::strerror(errno);
  return absl::OkStatus();
}

absl::StatusOr<int> CheckpointStore::DeleteAfter(int64_t trial_id, int64_t step) {
  CAVIAR_ASSIGN_OR_RETURN(std::vector<CheckpointInfo> all, index_->List(trial_id));
  int deleted = 0;
  for (const CheckpointInfo& info : all) {
    if (info.step() <= step) continue;
    {
      absl::MutexLock lock(&mu_);
      if (readers_.count({trial_id, info.step()}) > 0) continue;  // Being read.
    }
    CAVIAR_RETURN_IF_ERROR(Delete(info));
    ++deleted;
  }
  return deleted;
}

absl::StatusOr<CheckpointInfo> CheckpointStore::Get(int64_t trial_id, int64_t step) {
  return index_->Get(trial_id, step);
}

absl::StatusOr<std::unique_ptr<CheckpointStore::Reader>> CheckpointStore::OpenReader(
    int64_t trial_id, int64_t step) {
  CAVIAR_ASSIGN_OR_RETURN(CheckpointInfo info, index_->Get(trial_id, step));
  {
    absl::MutexLock lock(&mu_);
    ++readers_[{trial_id, step}];
  }
  const std::string path = FinalPath(trial_id, step);
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  struct stat st;
  absl::Status error;
  if (fd < 0) {
    error = absl::DataLossError(absl::StrCat(
        "checkpoint of trial ", trial_id, " at step ", step, " is indexed but its file ",
        path, " cannot be opened: ", std::strerror(errno)));
  } else if (::fstat(fd, &st) != 0 || st.st_size != info.size_bytes()) {
    error =
        absl::DataLossError(absl::StrCat("checkpoint file ", path, " has ", st.st_size,
                                         " bytes, the index says ", info.size_bytes()));
    ::close(fd);
  }
  if (!error.ok()) {
    absl::MutexLock lock(&mu_);
    if (--readers_[{trial_id, step}] == 0) readers_.erase({trial_id, step});
    return error;
  }
  return std::unique_ptr<Reader>(new Reader(this, std::move(info), fd));
}

CheckpointStore::Reader::Reader(CheckpointStore* store, CheckpointInfo info, int fd)
    : store_(store), info_(std::move(info)), fd_(fd) {}

CheckpointStore::Reader::~Reader() {
  ::close(fd_);
  absl::MutexLock lock(&store_->mu_);
  const std::pair<int64_t, int64_t> key{info_.trial_id(), info_.step()};
  if (--store_->readers_[key] == 0) store_->readers_.erase(key);
}

absl::StatusOr<std::string> CheckpointStore::Reader::Read(int64_t offset,
                                                          int64_t max_bytes) {
  if (offset < 0 || offset > info_.size_bytes())
    return absl::InvalidArgumentError(
        absl::StrCat("offset: ", offset, " is outside [0, ", info_.size_bytes(), "]"));
  return ReadAt(fd_, offset, std::min(max_bytes, info_.size_bytes() - offset),
                absl::StrCat("checkpoint ", info_.trial_id(), "/", info_.step()));
}

absl::StatusOr<std::optional<CheckpointInfo>> CheckpointStore::Latest(int64_t trial_id) {
  return index_->Latest(trial_id);
}

absl::StatusOr<std::vector<CheckpointInfo>> CheckpointStore::List(int64_t trial_id) {
  CAVIAR_ASSIGN_OR_RETURN(std::vector<CheckpointInfo> all, index_->List(trial_id));
  for (CheckpointInfo& info : all) info.clear_curve();
  return all;
}

}  // namespace caviar::checkpoints
