// SqliteStore: the Store on one SQLite file (WAL journal).
//
// Durability: with the default Durability::kProcessCrash (synchronous=NORMAL
// in WAL mode) a Commit that returned OK has been written to the WAL file by
// write(2) before returning, so it survives kill -9 of the process; a power
// loss or kernel crash may lose the last transactions (never corrupts the
// file). Durability::kPowerLoss (synchronous=FULL) fsyncs the WAL on every
// commit and survives power loss as well, at the cost of one fsync per commit
// (group commit shares it among concurrent callers).
//
// Concurrency: one connection, one writer. Calls from many threads are safe.
// With Options::group_commit (the default) concurrent Commit calls are
// coalesced: the first caller to find the writer idle becomes the leader and
// applies every batch queued so far in one SQLite transaction, each batch
// inside its own SAVEPOINT so a bad batch is rolled back alone and fails
// alone; each caller returns only after the transaction holding its batch has
// committed. If the merged transaction itself fails, every batch of the group
// is retried in its own transaction, so one batch never fails another.
// Only commits issued concurrently can be coalesced: a caller that holds its
// own lock across Commit serializes them, which with kPowerLoss caps it at
// one fsync per commit (bench/storage/README.md). Reads (Load*, MaxTrialId)
// are meant for start-up and share the writer's lock.
//
// Schema: created and upgraded by numbered migrations recorded in
// PRAGMA user_version (schema.cc); the SQL lives in this folder only, see
// README.md for the tables. All statements are prepared once and reused;
// values are always bound, never spliced.
//
// Status codes (in addition to those of Store):
//   Open: INVALID_ARGUMENT for a bad Options::page_size;
//         UNAVAILABLE if the file cannot be opened or created, or another
//         process holds it (see Options::exclusive);
//         FAILED_PRECONDITION if the file is not a caviar database or was
//         written by a newer caviar (schema version above kSchemaVersion).
//   Commit: INVALID_ARGUMENT for a study without spec.name, a trial with
//         id <= 0 or without study, a measurement with trial_id <= 0
//         (nothing is written); NOT_FOUND for UpdateStudy of an unknown
//         study, PutTrial for an unknown study, AddMeasurement for an unknown
//         trial; ALREADY_EXISTS for PutTrial of an id that belongs to another
//         study. A failed Commit writes nothing.
#ifndef CAVIAR_STORAGE_SQLITE_STORE_H_
#define CAVIAR_STORAGE_SQLITE_STORE_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "storage/store.h"

struct sqlite3;

namespace caviar::storage {

class SqliteStore final : public Store {
 public:
  // Schema version written by this build (PRAGMA user_version).
  static constexpr int kSchemaVersion = 2;
  // PRAGMA application_id of caviar databases ("cavi").
  static constexpr int32_t kApplicationId = 0x63617669;

  enum class Durability {
    kProcessCrash,  // synchronous=NORMAL: survives kill -9.
    kPowerLoss,     // synchronous=FULL: survives power loss too.
  };

  struct Options {
    Durability durability = Durability::kProcessCrash;
    // Coalesce concurrent Commit calls into one transaction (see above).
    bool group_commit = true;
    // Hold the file's lock from Open to destruction (SQLite's EXCLUSIVE
    // locking mode): a second process opening the file (say, a second
    // coordinator by mistake) fails UNAVAILABLE instead of writing beside
    // this one, and commits skip the per-transaction file-lock calls and
    // the shared-memory WAL index. The cost: no other process can read the
    // file while the store is open. Set false to let, e.g., the sqlite3
    // shell read a live database.
    bool exclusive = true;
    // How long to wait for a lock held by another connection before
    // failing UNAVAILABLE.
    int busy_timeout_ms = 5000;
    // Page size of a file being created (a power of two, 512..65536;
    // ignored for an existing file). A commit writes every page it touches
    // to the WAL and caviar's rows are small, so small pages write less.
    int page_size = 1024;
    // Upper bound on the file size (0: SQLite's own limit). Writes past it
    // fail UNAVAILABLE and change nothing, as on a full disk.
    int64_t max_database_bytes = 0;
  };

  // Opens (creating if needed) the database file at `path` and brings its
  // schema to kSchemaVersion.
  static absl::StatusOr<std::unique_ptr<SqliteStore>> Open(const std::string& path);
  static absl::StatusOr<std::unique_ptr<SqliteStore>> Open(const std::string& path,
                                                           const Options& options);

  ~SqliteStore() override;
  SqliteStore(const SqliteStore&) = delete;
  SqliteStore& operator=(const SqliteStore&) = delete;

  absl::Status CreateStudy(const caviar::v1::Study& study) override;
  absl::Status Commit(const WriteBatch& batch) override;
  absl::StatusOr<std::vector<caviar::v1::Study>> LoadStudies() override;
  absl::StatusOr<std::vector<caviar::v1::Trial>> LoadTrials(
      std::string_view study) override;
  absl::StatusOr<TrialPage> QueryTrials(const TrialQuery& query) override;
  absl::StatusOr<caviar::v1::Trial> LoadTrial(int64_t id) override;
  absl::StatusOr<int64_t> MaxTrialId() override;

  // Statistics of group commit, for benchmarks and tests.
  struct CommitStats {
    int64_t batches = 0;       // Commit calls that reached the database.
    int64_t transactions = 0;  // SQLite transactions they used.
    int64_t fallbacks = 0;     // Merged transactions retried batch by batch.
  };
  CommitStats commit_stats() const;

  // An online copy of the database into the new file `path` (which must not
  // exist) with SQLite's backup API, `pages_per_step` pages at a time; commits
  // go on between steps (and reach the copy too). Defined in backup.cc, see
  // backup.h. ALREADY_EXISTS if `path` exists; UNAVAILABLE on I/O errors.
  absl::Status Backup(const std::string& path, int pages_per_step = 256);

 private:
  friend class CheckpointIndex;  // Shares the connection (checkpoint_index.h).

  struct Statements;
  struct PendingCommit;

  SqliteStore(sqlite3* db, std::string path, const Options& options);

  absl::Status Initialize();
  absl::Status Configure() ABSL_EXCLUSIVE_LOCKS_REQUIRED(db_mu_);
  absl::Status Prepare() ABSL_EXCLUSIVE_LOCKS_REQUIRED(db_mu_);

  // Runs the group (a leader's batches) under db_mu_, setting each status.
  void CommitGroup(const std::vector<PendingCommit*>& group)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(db_mu_);
  absl::Status CommitAlone(const WriteBatch& batch) ABSL_EXCLUSIVE_LOCKS_REQUIRED(db_mu_);
  absl::Status ApplyBatch(const WriteBatch& batch) ABSL_EXCLUSIVE_LOCKS_REQUIRED(db_mu_);
  absl::Status ReadCurve(caviar::v1::Trial* trial) ABSL_EXCLUSIVE_LOCKS_REQUIRED(db_mu_);
  absl::Status Begin() ABSL_EXCLUSIVE_LOCKS_REQUIRED(db_mu_);
  absl::Status End() ABSL_EXCLUSIVE_LOCKS_REQUIRED(db_mu_);
  void Rollback() ABSL_EXCLUSIVE_LOCKS_REQUIRED(db_mu_);

  const std::string path_;
  const Options options_;

  mutable absl::Mutex db_mu_;
  sqlite3* db_ ABSL_GUARDED_BY(db_mu_);
  std::unique_ptr<Statements> stmts_ ABSL_GUARDED_BY(db_mu_);
  // Reused serialization buffers (avoid an allocation per write).
  std::string blob_ ABSL_GUARDED_BY(db_mu_);
  CommitStats stats_ ABSL_GUARDED_BY(db_mu_);

  // Group commit: batches waiting for a leader.
  absl::Mutex queue_mu_;
  std::vector<PendingCommit*> queue_ ABSL_GUARDED_BY(queue_mu_);
  bool leader_active_ ABSL_GUARDED_BY(queue_mu_) = false;
};

}  // namespace caviar::storage

#endif  // CAVIAR_STORAGE_SQLITE_STORE_H_
