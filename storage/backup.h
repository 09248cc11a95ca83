// Online backups of caviar's database.
//
// SqliteStore::Backup (declared in sqlite_store.h, defined in backup.cc)
// copies a live store with SQLite's backup API a few hundred pages at a
// time, taking the store's lock only for each step, so the coordinator keeps
// serving while it runs; commits made in between are carried into the copy
// by SQLite. PrepareBackupCopy then makes the copy one self-contained file
// (rollback journal, no -wal) and checks it: the result can be moved
// anywhere and a coordinator started on it (`--db COPY`) resumes every study.
//
// Thread-safety: Backup may run concurrently with every other SqliteStore
// call; PrepareBackupCopy works on a file nobody else has open.
#ifndef CAVIAR_STORAGE_BACKUP_H_
#define CAVIAR_STORAGE_BACKUP_H_

#include <string>

#include "absl/status/status.h"
#include "storage/sqlite_store.h"

namespace caviar::storage {

// Switches the copy at `path` out of WAL mode, then runs PRAGMA
// integrity_check and checks that it is a caviar database. DATA_LOSS naming
// the first problem integrity_check found; FAILED_PRECONDITION if it is not
// caviar's; UNAVAILABLE if it cannot be opened.
absl::Status PrepareBackupCopy(const std::string& path);

}  // namespace caviar::storage

#endif  // CAVIAR_STORAGE_BACKUP_H_
