// Thin helpers over the SQLite C API, private to storage/: error mapping and
// an owning, cached prepared statement.
//
// Thread-safety: none; callers serialize access to the connection.
#ifndef CAVIAR_STORAGE_SQLITE_UTIL_H_
#define CAVIAR_STORAGE_SQLITE_UTIL_H_

#include <sqlite3.h>

#include <cstdint>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace caviar::storage {

// Maps an SQLite result code to a status whose message says what failed:
// "<what>: <sqlite3_errmsg> (<code name>)". BUSY/LOCKED/IOERR/FULL/CANTOPEN/
// READONLY become UNAVAILABLE, NOTADB FAILED_PRECONDITION, other INTERNAL.
absl::Status SqliteError(sqlite3* db, int rc, absl::string_view what);

// Debian's Abseil predates std::string_view support in absl::StrCat.
inline absl::string_view AsAbsl(std::string_view s) {
  return absl::string_view(s.data(), s.size());
}

// A statement prepared once (SQLITE_PREPARE_PERSISTENT) and reused.
class Statement {
 public:
  Statement() = default;
  ~Statement() { sqlite3_finalize(stmt_); }
  Statement(Statement&& other) noexcept : stmt_(other.stmt_) { other.stmt_ = nullptr; }
  Statement& operator=(Statement&& other) noexcept;
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  static absl::StatusOr<Statement> Prepare(sqlite3* db, std::string_view sql);

  sqlite3_stmt* get() const { return stmt_; }

 private:
  explicit Statement(sqlite3_stmt* stmt) : stmt_(stmt) {}
  sqlite3_stmt* stmt_ = nullptr;
};

// Resets a statement when leaving scope, so it never holds a read
// transaction or a pointer to a bound buffer after use.
class ScopedReset {
 public:
  explicit ScopedReset(const Statement& s) : stmt_(s.get()) {}
  ~ScopedReset() { sqlite3_reset(stmt_); }
  ScopedReset(const ScopedReset&) = delete;
  ScopedReset& operator=(const ScopedReset&) = delete;

 private:
  sqlite3_stmt* stmt_;
};

// Binders that do not copy: the bound memory must stay valid until the
// statement is reset.
inline int BindText(const Statement& s, int index, std::string_view text) {
  return sqlite3_bind_text(s.get(), index, text.data(), static_cast<int>(text.size()),
                           SQLITE_STATIC);
}
inline int BindBlob(const Statement& s, int index, std::string_view bytes) {
  // A zero-length blob must not bind as NULL: give it a non-null pointer.
  return sqlite3_bind_blob(s.get(), index, bytes.empty() ? "" : bytes.data(),
                           static_cast<int>(bytes.size()), SQLITE_STATIC);
}
inline int BindInt64(const Statement& s, int index, int64_t value) {
  return sqlite3_bind_int64(s.get(), index, value);
}
inline std::string_view ColumnBlob(const Statement& s, int column) {
  const void* data = sqlite3_column_blob(s.get(), column);
  int size = sqlite3_column_bytes(s.get(), column);
  return std::string_view(static_cast<const char*>(data), size);
}
inline std::string_view ColumnText(const Statement& s, int column) {
  const unsigned char* data = sqlite3_column_text(s.get(), column);
  int size = sqlite3_column_bytes(s.get(), column);
  return std::string_view(reinterpret_cast<const char*>(data), size);
}

// Runs a statement that returns no rows (or whose rows are ignored) once.
absl::Status StepToDone(sqlite3* db, const Statement& s, absl::string_view what);

}  // namespace caviar::storage

#endif  // CAVIAR_STORAGE_SQLITE_UTIL_H_
