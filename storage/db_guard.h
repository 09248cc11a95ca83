// The check that a file given to caviar is caviar's own database, made
// before anything is written to it (before WAL mode, before migrations):
// `--db` pointed at another application's SQLite file by mistake must leave
// that file exactly as it was.
//
// A file is caviar's when it is new (no schema objects, application_id 0,
// user_version 0), or its PRAGMA application_id is caviar's, or (a caviar
// file written before application_id was set) its application_id is 0 and
// it has caviar's tables (studies, trials, measurements) at a schema
// version >= 1; such a file gets caviar's application_id, the only write.
//
// Thread-safety: none; call on a connection nobody else uses yet, after
// the pragmas that must precede the first read (page_size, locking_mode).
#ifndef CAVIAR_STORAGE_DB_GUARD_H_
#define CAVIAR_STORAGE_DB_GUARD_H_

#include <sqlite3.h>

#include <cstdint>

#include "absl/status/status.h"

namespace caviar::storage {

// OK for a caviar or new database; FAILED_PRECONDITION naming what the file
// is instead (a foreign application_id, the tables it holds, or not a
// database at all); UNAVAILABLE if it cannot be read (locked by another
// process, I/O error).
absl::Status CheckIsCaviarDatabase(sqlite3* db, int32_t application_id);

}  // namespace caviar::storage

#endif  // CAVIAR_STORAGE_DB_GUARD_H_
