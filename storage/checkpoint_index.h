// CheckpointIndex: the SQLite index of a coordinator's checkpoint files
// (table `checkpoints`, see README.md): which checkpoints each trial has,
// with step, size, digest and creation time as columns and the whole
// caviar.v1.CheckpointInfo as the row's proto. The files themselves are
// server/checkpoints' business; nothing here touches them.
//
// It shares the SqliteStore's connection and lock (one writer per file);
// each call is one statement in its own transaction: when a write returns OK
// it survives kill -9 like a Store commit.
//
// Thread-safety: all methods may be called concurrently, and concurrently
// with every SqliteStore call.
//
// Status codes: INVALID_ARGUMENT for a row without trial_id > 0, study or
// digest; NOT_FOUND from Get for an unknown (trial, step); INTERNAL /
// UNAVAILABLE from the database.
#ifndef CAVIAR_STORAGE_CHECKPOINT_INDEX_H_
#define CAVIAR_STORAGE_CHECKPOINT_INDEX_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "caviar/v1/service.pb.h"
#include "storage/sqlite_store.h"

namespace caviar::storage {

class CheckpointIndex {
 public:
  // `store` must outlive the index.
  explicit CheckpointIndex(SqliteStore* store) : store_(store) {}

  // Inserts the row of (trial_id, step), replacing one with the same key
  // (which then counts as the newest).
  absl::Status Put(const caviar::v1::CheckpointInfo& info);
  // Removes the row of (trial_id, step); OK if there was none.
  absl::Status Delete(int64_t trial_id, int64_t step);
  absl::StatusOr<caviar::v1::CheckpointInfo> Get(int64_t trial_id, int64_t step);
  // A trial's checkpoints, oldest written first.
  absl::StatusOr<std::vector<caviar::v1::CheckpointInfo>> List(int64_t trial_id);
  // The newest written checkpoint of a trial, if any.
  absl::StatusOr<std::optional<caviar::v1::CheckpointInfo>> Latest(int64_t trial_id);
  // Sum of size_bytes over a study's checkpoints.
  absl::StatusOr<int64_t> StudyBytes(const std::string& study);

 private:
  SqliteStore* const store_;
};

}  // namespace caviar::storage

#endif  // CAVIAR_STORAGE_CHECKPOINT_INDEX_H_
