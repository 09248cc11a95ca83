#include "storage/db_guard.h"

#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/status_macros.h"
#include "storage/sqlite_util.h"

namespace caviar::storage {
namespace {

absl::StatusOr<int64_t> ReadInt(sqlite3* db, const char* sql) {
  CAVIAR_ASSIGN_OR_RETURN(Statement s, Statement::Prepare(db, sql));
  ScopedReset reset(s);
  const int rc = sqlite3_step(s.get());
  if (rc != SQLITE_ROW) return SqliteError(db, rc, sql);
  return sqlite3_column_int64(s.get(), 0);
}

absl::StatusOr<std::vector<std::string>> TableNames(sqlite3* db) {
  const char* sql =
      "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE "
      "'sqlite_%' ORDER BY name";
  CAVIAR_ASSIGN_OR_RETURN(Statement s, Statement::Prepare(db, sql));
  ScopedReset reset(s);
  std::vector<std::string> names;
  int rc;
  while ((rc = sqlite3_step(s.get())) == SQLITE_ROW) {
    names.emplace_back(reinterpret_cast<const char*>(sqlite3_column_text(s.get(), 0)));
  }
  if (rc != SQLITE_DONE) return SqliteError(db, rc, "listing tables");
  return names;
}

}  // namespace

absl::Status CheckIsCaviarDatabase(sqlite3* db, int32_t application_id) {
  // The first read of the file: a file that is not SQLite fails here, with
  // SQLITE_NOTADB (FAILED_PRECONDITION).
  absl::StatusOr<int64_t> app_id = ReadInt(db, "PRAGMA application_id");
  if (!app_id.ok()) {
    if (app_id.status().code() == absl::StatusCode::kFailedPrecondition) {
      return absl::FailedPreconditionError(absl::StrCat(
          "not a caviar database (not an SQLite file at all: ", app_id.status().message(),
          "); nothing was written to it"));
    }
    return app_id.status();
  }
  if (*app_id == application_id) return absl::OkStatus();
  if (*app_id != 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("not a caviar database: its application_id is ", *app_id,
                     " (caviar's is ", application_id,
                     "); it belongs to another application, nothing was written "
                     "to it"));
  }
  CAVIAR_ASSIGN_OR_RETURN(int64_t version, ReadInt(db, "PRAGMA user_version"));
  CAVIAR_ASSIGN_OR_RETURN(int64_t objects,
                          ReadInt(db, "SELECT count(*) FROM sqlite_schema"));
  if (objects == 0 && version == 0) return absl::OkStatus();  // New or empty.
  CAVIAR_ASSIGN_OR_RETURN(std::vector<std::string> tables, TableNames(db));
  const std::set<std::string> present(tables.begin(), tables.end());
  const bool caviar_tables = present.count("studies") && present.count("trials") &&
                             present.count("measurements");
  if (version >= 1 && caviar_tables) {
    // caviar's, from before it set application_id: mark it now.
    const std::string sql = absl::StrCat("PRAGMA application_id = ", application_id);
    CAVIAR_ASSIGN_OR_RETURN(Statement s, Statement::Prepare(db, sql));
    const int rc = sqlite3_step(s.get());
    if (rc != SQLITE_DONE) return SqliteError(db, rc, "setting application_id");
    return absl::OkStatus();
  }
  if (tables.size() > 6) {
    tables.resize(6);
    tables.push_back("...");
  }
  return absl::FailedPreconditionError(absl::StrCat(
      "not a caviar database: it holds ",
      tables.empty() ? std::string("schema objects but no tables")
                     : absl::StrCat("the tables ", absl::StrJoin(tables, ", ")),
      " and no caviar schema (user_version ", version,
      "); it belongs to another application, nothing was written to it"));
}

}  // namespace caviar::storage
