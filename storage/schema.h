// The SQLite schema of caviar and its migrations (PRAGMA user_version).
//
// Each migration is applied in its own transaction; a database already at
// a version is left alone; a database at a newer version than this build
// knows is refused, since an older caviar cannot know what it would break.
//
// Thread-safety: none; call on a connection nobody else uses yet.
#ifndef CAVIAR_STORAGE_SCHEMA_H_
#define CAVIAR_STORAGE_SCHEMA_H_

#include <sqlite3.h>

#include "absl/status/status.h"

namespace caviar::storage {

// Latest schema version (the last migration's number).
int LatestSchemaVersion();

// Brings the database to LatestSchemaVersion().
// FAILED_PRECONDITION: the file is another application's database, or its
// schema is newer than this build's (the message names both versions).
absl::Status MigrateSchema(sqlite3* db, int application_id);

}  // namespace caviar::storage

#endif  // CAVIAR_STORAGE_SCHEMA_H_
