// CheckpointStore: the coordinator's checkpoint files. Each trial's
// checkpoints are files in a folder next to the SQLite database
// (<dir>/trial-<id>/step-<step>.ckpt), indexed in SQLite
// (storage/checkpoint_index.h).
//
// Writing: an upload goes to a partial file (…-<digest prefix>.part), chunk
// by chunk, each at the offset the store already has; an upload cut off
// (dropped connection, killed worker) keeps its partial file, and the next
// upload of the same trial, step and digest goes on from PartialBytes. Once
// every byte is there, Commit checks the SHA-256 digest against the one
// announced, fsyncs the file, renames it to its final name, fsyncs the
// folder, and only then writes the index row: a checkpoint in the index is
// complete on disk. Then retention runs for that trial, and partial files
// of that step or earlier ones (abandoned uploads) are removed.
//
// Retention (per trial, the study's CheckpointPolicy): keep the keep_latest
// newest (default 2, at least 1) and the keep_best best by the study's
// objective metric at the checkpoint's step (default 1); delete the others
// (index row first, then the file). The newest is always kept, which is the
// one a resume needs (SuggestTrialResponse.resume); a checkpoint being read
// (a Reader is open) is not deleted until a later retention pass, nor is
// the one a pending rollback needs (UploadHeader::keep_step).
//
// Limits: a checkpoint larger than max_checkpoint_bytes, or one that would
// bring its study's stored checkpoints over max_study_bytes, is refused with
// RESOURCE_EXHAUSTED naming the size, the limit and the flag that sets it.
//
// Thread-safety: all methods may be called concurrently; an Upload or a
// Reader is used by one thread at a time and must not outlive the store.
//
// Status codes: INVALID_ARGUMENT for a bad header (names the field) or a
// chunk past the announced size; FAILED_PRECONDITION for a chunk at the
// wrong offset or Commit before all bytes arrived; ABORTED when an upload of
// the same checkpoint is already in progress; RESOURCE_EXHAUSTED for the
// limits; DATA_LOSS when the bytes do not match the digest (the partial
// file is dropped); NOT_FOUND for an unknown checkpoint; UNAVAILABLE /
// INTERNAL for I/O and database errors.
#ifndef CAVIAR_SERVER_CHECKPOINTS_CHECKPOINT_STORE_H_
#define CAVIAR_SERVER_CHECKPOINTS_CHECKPOINT_STORE_H_

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "caviar/v1/service.pb.h"
#include "caviar/v1/study.pb.h"
#include "common/clock.h"
#include "storage/checkpoint_index.h"

namespace caviar::checkpoints {

struct CheckpointLimits {
  int64_t max_checkpoint_bytes = int64_t{1} << 30;  // 1 GiB.
  int64_t max_study_bytes = int64_t{16} << 30;      // 16 GiB.
};

// Retention defaults when the spec leaves them unset.
inline constexpr int kDefaultKeepLatest = 2;
inline constexpr int kDefaultKeepBest = 1;

// The folder of checkpoints of the database at `db_path`: "<db_path>.checkpoints".
std::string CheckpointDirFor(const std::string& db_path);

class CheckpointStore {
 public:
  // Creates `dir` if missing. `index` and `clock` must outlive the store.
  static absl::StatusOr<std::unique_ptr<CheckpointStore>> Open(
      std::string dir, storage::CheckpointIndex* index, Clock* clock,
      CheckpointLimits limits = {});
  ~CheckpointStore();

  const CheckpointLimits& limits() const { return limits_; }
  const std::string& dir() const { return dir_; }

  // What an upload stores: `info` has trial_id, study, step, attempt,
  // size_bytes (the total) and digest, and the curve up to step; the store
  // fills create_time and objective_value (from `spec`'s objective metric
  // at `step` in the curve). `spec` also gives the retention policy.
  struct UploadHeader {
    caviar::v1::CheckpointInfo info;
    caviar::v1::StudySpec spec;
    // A step retention must keep whatever the policy says: the checkpoint
    // a pending rollback resumes from (Trial.rollback_step).
    std::optional<int64_t> keep_step;
  };

  class Upload {
   public:
    ~Upload();  // An upload not committed keeps its partial file.
    int64_t received() const { return received_; }
    int64_t total() const { return header_.info.size_bytes(); }
    // Writes `data` at `offset`, which must equal received().
    absl::Status Append(int64_t offset, std::string_view data);
    // Checks, stores, indexes; see the file comment.
    absl::StatusOr<caviar::v1::CheckpointInfo> Commit();

   private:
    friend class CheckpointStore;
    Upload(CheckpointStore* store, UploadHeader header, std::string partial, int fd,
           int64_t received);
    CheckpointStore* const store_;
    UploadHeader header_;
    const std::string partial_;
    int fd_;
    int64_t received_;
    bool done_ = false;
  };

  // INVALID_ARGUMENT for a bad header, RESOURCE_EXHAUSTED for the limits,
  // ABORTED if the same checkpoint is being uploaded now.
  absl::StatusOr<std::unique_ptr<Upload>> BeginUpload(UploadHeader header);
  // Bytes kept of an interrupted upload of this checkpoint (0 if none).
  int64_t PartialBytes(int64_t trial_id, int64_t step, const std::string& digest);

  // A stored checkpoint opened for reading; retention leaves it alone while
  // the Reader lives.
  class Reader {
   public:
    ~Reader();
    const caviar::v1::CheckpointInfo& info() const { return info_; }
    // Up to `max_bytes` from `offset` (empty at the end).
    absl::StatusOr<std::string> Read(int64_t offset, int64_t max_bytes);

   private:
    friend class CheckpointStore;
    Reader(CheckpointStore* store, caviar::v1::CheckpointInfo info, int fd);
    CheckpointStore* const store_;
    const caviar::v1::CheckpointInfo info_;
    const int fd_;
  };
  absl::StatusOr<std::unique_ptr<Reader>> OpenReader(int64_t trial_id, int64_t step);

  absl::StatusOr<std::optional<caviar::v1::CheckpointInfo>> Latest(int64_t trial_id);
  // The checkpoint of `step`, with its curve; NOT_FOUND.
  absl::StatusOr<caviar::v1::CheckpointInfo> Get(int64_t trial_id, int64_t step);
  // Oldest first.
  absl::StatusOr<std::vector<caviar::v1::CheckpointInfo>> List(int64_t trial_id);
  // Deletes the trial's checkpoints of steps after `step` (index row, then
  // file): a rollback to `step` abandons them, and its branch saves its own.
  // One being read is left for a later pass. Returns how many it deleted.
  absl::StatusOr<int> DeleteAfter(int64_t trial_id, int64_t step);

 private:
  CheckpointStore(std::string dir, storage::CheckpointIndex* index, Clock* clock,
                  CheckpointLimits limits);
  std::string TrialDir(int64_t trial_id) const;
  std::string FinalPath(int64_t trial_id, int64_t step) const;
  std::string PartialPath(int64_t trial_id, int64_t step,
                          const std::string& digest) const;
  absl::Status CheckStudyLimit(const caviar::v1::CheckpointInfo& info);
  absl::Status ApplyRetention(const UploadHeader& header);
  // Index row first, then the file.
  absl::Status Delete(const caviar::v1::CheckpointInfo& old);
  void EndUpload(const std::string& partial);
  // Removes the partial files of steps <= `step` no upload is writing: a
  // checkpoint at `step` is stored, so nobody resumes them.
  void DropStalePartials(int64_t trial_id, int64_t step);

  const std::string dir_;
  storage::CheckpointIndex* const index_;
  Clock* const clock_;
  const CheckpointLimits limits_;

  absl::Mutex mu_;
  std::set<std::string> uploading_ ABSL_GUARDED_BY(mu_);  // Partial paths.
  std::map<std::pair<int64_t, int64_t>, int> readers_ ABSL_GUARDED_BY(mu_);
};

}  // namespace caviar::checkpoints

#endif  // CAVIAR_SERVER_CHECKPOINTS_CHECKPOINT_STORE_H_
