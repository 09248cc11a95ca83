#include "storage/backup.h"

#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "common/status_macros.h"
#include "storage/db_guard.h"
#include "storage/sqlite_util.h"

namespace caviar::storage {
namespace {

// Closes a connection when leaving scope.
struct Connection {
  sqlite3* db = nullptr;
  ~Connection() { sqlite3_close_v2(db); }
};

absl::Status OpenFile(const std::string& path, int flags, Connection* out) {
  const int rc =
      sqlite3_open_v2(path.c_str(), &out->db, flags | SQLITE_OPEN_EXRESCODE, nullptr);
  if (rc != SQLITE_OK) return SqliteError(out->db, rc, absl::StrCat("opening ", path));
  sqlite3_extended_result_codes(out->db, 1);
  return absl::OkStatus();
}

}  // namespace

absl::Status SqliteStore::Backup(const std::string& path, int pages_per_step) {
  struct stat info;
  if (::stat(path.c_str(), &info) == 0) {
    return absl::AlreadyExistsError(absl::StrCat(path,
                                                 ": exists; a backup never "
                                                 "overwrites a file"));
  }
  Connection copy;
  CAVIAR_RETURN_IF_ERROR(OpenFile(
      path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX, &copy));
  sqlite3_backup* backup = nullptr;
  {
    absl::MutexLock lock(&db_mu_);
    backup = sqlite3_backup_init(copy.db, "main", db_, "main");
  }
  if (backup == nullptr) {
    return SqliteError(copy.db, sqlite3_errcode(copy.db),
                       absl::StrCat("starting the backup into ", path));
  }
  int rc = SQLITE_OK;
  while (true) {
    {
      // The store's connection is NOMUTEX: each step runs under its lock, and
      // commits run between steps.
      absl::MutexLock lock(&db_mu_);
      rc = sqlite3_backup_step(backup, pages_per_step);
    }
    if (rc == SQLITE_DONE) break;
    if (rc == SQLITE_OK) continue;
    if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED) {
      absl::SleepFor(absl::Milliseconds(5));
      continue;
    }
    break;
  }
  {
    absl::MutexLock lock(&db_mu_);
    sqlite3_backup_finish(backup);
  }
  if (rc != SQLITE_DONE) {
    absl::Status status =
        SqliteError(copy.db, rc, absl::StrCat("backing up into ", path));
    sqlite3_close_v2(copy.db);
    copy.db = nullptr;
    ::unlink(path.c_str());
    return status;
  }
  return absl::OkStatus();
}

absl::Status PrepareBackupCopy(const std::string& path) {
  Connection copy;
  CAVIAR_RETURN_IF_ERROR(OpenFile(path, SQLITE_OPEN_READWRITE, &copy));
  CAVIAR_RETURN_IF_ERROR(CheckIsCaviarDatabase(copy.db, SqliteStore::kApplicationId));
  for (const char* sql : {"PRAGMA journal_mode = DELETE", "PRAGMA integrity_check"}) {
    CAVIAR_ASSIGN_OR_RETURN(Statement s, Statement::Prepare(copy.db, sql));
    ScopedReset reset(s);
    const int rc = sqlite3_step(s.get());
    if (rc != SQLITE_ROW) return SqliteError(copy.db, rc, absl::StrCat(path, ": ", sql));
    const std::string result(
        reinterpret_cast<const char*>(sqlite3_column_text(s.get(), 0)));
    if (std::string_view(sql).find("integrity_check") != std::string_view::npos &&
        result != "ok") {
      return absl::DataLossError(
          absl::StrCat(path, ": integrity_check failed: ", result));
    }
  }
  return absl::OkStatus();
}

}  // namespace caviar::storage
