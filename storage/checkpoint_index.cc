#include "storage/checkpoint_index.h"

#include <string_view>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "storage/sqlite_util.h"

namespace caviar::storage {
namespace {

using caviar::v1::CheckpointInfo;

constexpr char kPutSql[] =
    "INSERT OR REPLACE INTO checkpoints "
    "(trial_id, step, study, size_bytes, digest, create_time, proto) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)";
constexpr char kDeleteSql[] = "DELETE FROM checkpoints WHERE trial_id = ?1 AND step = ?2";
constexpr char kGetSql[] =
    "SELECT proto FROM checkpoints WHERE trial_id = ?1 AND step = ?2";
constexpr char kListSql[] =
    "SELECT proto FROM checkpoints WHERE trial_id = ?1 ORDER BY seq";
constexpr char kLatestSql[] =
    "SELECT proto FROM checkpoints WHERE trial_id = ?1 ORDER BY seq DESC LIMIT 1";
constexpr char kStudyBytesSql[] =
    "SELECT IFNULL(SUM(size_bytes), 0) FROM checkpoints WHERE study = ?1";

// Every row of a query whose first column is a CheckpointInfo proto.
absl::StatusOr<std::vector<CheckpointInfo>> ReadRows(sqlite3* db, const Statement& s,
                                                     absl::string_view what) {
  std::vector<CheckpointInfo> rows;
  int rc;
  while ((rc = sqlite3_step(s.get())) == SQLITE_ROW) {
    const std::string_view proto = ColumnBlob(s, 0);
    if (!rows.emplace_back().ParseFromArray(proto.data(), static_cast<int>(proto.size())))
      return absl::InternalError(absl::StrCat(what, ": a stored row does not parse"));
  }
  if (rc != SQLITE_DONE) return SqliteError(db, rc, what);
  return rows;
}

}  // namespace

absl::Status CheckpointIndex::Put(const CheckpointInfo& info) {
  if (info.trial_id() <= 0)
    return absl::InvalidArgumentError("checkpoint: trial_id must be > 0");
  if (info.study().empty())
    return absl::InvalidArgumentError("checkpoint: study is empty");
  if (info.digest().empty())
    return absl::InvalidArgumentError("checkpoint: digest is empty");
  std::string proto;
  info.SerializeToString(&proto);
  const int64_t micros =
      info.create_time().seconds() * 1000000 + info.create_time().nanos() / 1000;
  absl::MutexLock lock(&store_->db_mu_);
  CAVIAR_ASSIGN_OR_RETURN(Statement s, Statement::Prepare(store_->db_, kPutSql));
  ScopedReset reset(s);
  BindInt64(s, 1, info.trial_id());
  BindInt64(s, 2, info.step());
  BindText(s, 3, info.study());
  BindInt64(s, 4, info.size_bytes());
  BindText(s, 5, info.digest());
  BindInt64(s, 6, micros);
  BindBlob(s, 7, proto);
  return StepToDone(
      store_->db_, s,
      absl::StrCat("indexing checkpoint ", info.trial_id(), "/", info.step()));
}

absl::Status CheckpointIndex::Delete(int64_t trial_id, int64_t step) {
  absl::MutexLock lock(&store_->db_mu_);
  CAVIAR_ASSIGN_OR_RETURN(Statement s, Statement::Prepare(store_->db_, kDeleteSql));
  ScopedReset reset(s);
  BindInt64(s, 1, trial_id);
  BindInt64(s, 2, step);
  return StepToDone(store_->db_, s,
                    absl::StrCat("unindexing checkpoint ", trial_id, "/", step));
}

absl::StatusOr<CheckpointInfo> CheckpointIndex::Get(int64_t trial_id, int64_t step) {
  absl::MutexLock lock(&store_->db_mu_);
  CAVIAR_ASSIGN_OR_RETURN(Statement s, Statement::Prepare(store_->db_, kGetSql));
  ScopedReset reset(s);
  BindInt64(s, 1, trial_id);
  BindInt64(s, 2, step);
  CAVIAR_ASSIGN_OR_RETURN(std::vector<CheckpointInfo> rows,
                          ReadRows(store_->db_, s, "reading a checkpoint's row"));
  if (rows.empty())
    return absl::NotFoundError(
        absl::StrCat("trial ", trial_id, " has no checkpoint at step ", step));
  return rows[0];
}

absl::StatusOr<std::vector<CheckpointInfo>> CheckpointIndex::List(int64_t trial_id) {
  absl::MutexLock lock(&store_->db_mu_);
  CAVIAR_ASSIGN_OR_RETURN(Statement s, Statement::Prepare(store_->db_, kListSql));
  ScopedReset reset(s);
  BindInt64(s, 1, trial_id);
  return ReadRows(store_->db_, s, "listing checkpoints");
}

absl::StatusOr<std::optional<CheckpointInfo>> CheckpointIndex::Latest(int64_t trial_id) {
  absl::MutexLock lock(&store_->db_mu_);
  CAVIAR_ASSIGN_OR_RETURN(Statement s, Statement::Prepare(store_->db_, kLatestSql));
  ScopedReset reset(s);
  BindInt64(s, 1, trial_id);
  CAVIAR_ASSIGN_OR_RETURN(std::vector<CheckpointInfo> rows,
                          ReadRows(store_->db_, s, "reading the latest checkpoint"));
  if (rows.empty()) return std::nullopt;
  return rows[0];
}

absl::StatusOr<int64_t> CheckpointIndex::StudyBytes(const std::string& study) {
  absl::MutexLock lock(&store_->db_mu_);
  CAVIAR_ASSIGN_OR_RETURN(Statement s, Statement::Prepare(store_->db_, kStudyBytesSql));
  ScopedReset reset(s);
  BindText(s, 1, study);
  const int rc = sqlite3_step(s.get());
  if (rc != SQLITE_ROW) return SqliteError(store_->db_, rc, "summing checkpoint sizes");
  return sqlite3_column_int64(s.get(), 0);
}

}  // namespace caviar::storage
