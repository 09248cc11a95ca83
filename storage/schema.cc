#include "storage/schema.h"

#include <cstdint>
#include <iterator>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "storage/sqlite_util.h"

namespace caviar::storage {
namespace {

struct Migration {
  int version;
  // Constant DDL, no values. Each migration sets its own user_version as
  // its last statement, so the step and its number commit together.
  const char* sql;
};

// Append only: never edit a migration that has shipped; add a new one.
constexpr Migration kMigrations[] = {
    {1, R"sql(
PRAGMA application_id = 1667331689;

-- create_order keeps LoadStudies in creation order.
CREATE TABLE studies (
  name          TEXT    PRIMARY KEY NOT NULL,
  create_order  INTEGER NOT NULL UNIQUE,
  state         INTEGER NOT NULL,
  proto         BLOB    NOT NULL  -- caviar.v1.Study
);

-- proto is caviar.v1.Trial without its measurements (see measurements).
CREATE TABLE trials (
  id               INTEGER PRIMARY KEY,
  study            TEXT    NOT NULL REFERENCES studies (name),
  state            INTEGER NOT NULL,
  worker_id        TEXT    NOT NULL,
  objective_value  REAL,
  proto            BLOB    NOT NULL
);
CREATE INDEX trials_by_study_state ON trials (study, state);
CREATE INDEX trials_by_study_objective ON trials (study, objective_value);

-- seq is the append order (rowid; rows are never deleted, so it only grows).
CREATE TABLE measurements (
  seq       INTEGER PRIMARY KEY,
  trial_id  INTEGER NOT NULL REFERENCES trials (id),
  step      INTEGER NOT NULL,
  proto     BLOB    NOT NULL  -- caviar.v1.Measurement
);
CREATE INDEX measurements_by_trial ON measurements (trial_id, seq);

PRAGMA user_version = 1;
)sql"},
    {2, R"sql(
-- The index of checkpoint files (server/checkpoints keeps the files next to
-- the database). seq orders by when a checkpoint was written; a step saved
-- again replaces its row (and gets a new seq).
CREATE TABLE checkpoints (
  seq          INTEGER PRIMARY KEY,
  trial_id     INTEGER NOT NULL,
  step         INTEGER NOT NULL,
  study        TEXT    NOT NULL,
  size_bytes   INTEGER NOT NULL,
  digest       TEXT    NOT NULL,
  create_time  INTEGER NOT NULL,  -- Unix microseconds.
  proto        BLOB    NOT NULL,  -- caviar.v1.CheckpointInfo
  UNIQUE (trial_id, step)
);
CREATE INDEX checkpoints_by_study ON checkpoints (study);

PRAGMA user_version = 2;
)sql"},
};

absl::StatusOr<int64_t> QueryInt(sqlite3* db, const char* sql) {
  CAVIAR_ASSIGN_OR_RETURN(Statement s, Statement::Prepare(db, sql));
  ScopedReset reset(s);
  int rc = sqlite3_step(s.get());
  if (rc != SQLITE_ROW) return SqliteError(db, rc, sql);
  return sqlite3_column_int64(s.get(), 0);
}

absl::Status Exec(sqlite3* db, const char* sql, absl::string_view what) {
  char* error = nullptr;
  int rc = sqlite3_exec(db, sql, nullptr, nullptr, &error);
  if (rc == SQLITE_OK) return absl::OkStatus();
  sqlite3_free(error);
  return SqliteError(db, rc, what);
}

absl::Status ApplyMigration(sqlite3* db, const Migration& m) {
  CAVIAR_RETURN_IF_ERROR(Exec(db, "BEGIN IMMEDIATE", "beginning migration"));
  auto rollback = [db] { sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr); };
  // Another process may have migrated between our check and the lock.
  absl::StatusOr<int64_t> version = QueryInt(db, "PRAGMA user_version");
  if (!version.ok()) {
    rollback();
    return version.status();
  }
  if (*version >= m.version) {
    rollback();
    return absl::OkStatus();
  }
  absl::Status status =
      Exec(db, m.sql, absl::StrCat("applying schema migration ", m.version));
  if (status.ok()) {
    version = QueryInt(db, "PRAGMA user_version");
    if (!version.ok()) {
      status = version.status();
    } else if (*version != m.version) {
      status = absl::InternalError(absl::StrCat("schema migration ", m.version,
                                                " left user_version at ", *version));
    }
  }
  if (status.ok()) {
    status = Exec(db, "COMMIT", absl::StrCat("committing schema migration ", m.version));
  }
  if (!status.ok() && !sqlite3_get_autocommit(db)) rollback();
  return status;
}

}  // namespace

int LatestSchemaVersion() { return std::rbegin(kMigrations)->version; }

absl::Status MigrateSchema(sqlite3* db, int application_id) {
  CAVIAR_ASSIGN_OR_RETURN(int64_t version, QueryInt(db, "PRAGMA user_version"));
  CAVIAR_ASSIGN_OR_RETURN(int64_t app_id, QueryInt(db, "PRAGMA application_id"));
  if (version > LatestSchemaVersion()) {
    return absl::FailedPreconditionError(
        absl::StrCat("it has schema version ", version,
                     ", newer than the newest this caviar knows (", LatestSchemaVersion(),
                     "): open it with the caviar release that wrote it, or a later one"));
  }
  if (version == 0) {
    CAVIAR_ASSIGN_OR_RETURN(int64_t objects,
                            QueryInt(db, "SELECT count(*) FROM sqlite_schema"));
    if (objects > 0 || app_id != 0) {
      return absl::FailedPreconditionError(
          "not a caviar database (it has tables but no caviar schema "
          "version)");
    }
  } else if (app_id != application_id) {
    return absl::FailedPreconditionError(
        absl::StrCat("not a caviar database (application_id ", app_id, ")"));
  }
  for (const Migration& m : kMigrations) {
    if (m.version <= version) continue;
    CAVIAR_RETURN_IF_ERROR(ApplyMigration(db, m));
  }
  return absl::OkStatus();
}

}  // namespace caviar::storage
