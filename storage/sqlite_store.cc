#include "storage/sqlite_store.h"

#include <sqlite3.h>

#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/metrics/coordinator_metrics.h"
#include "common/status_macros.h"
#include "storage/db_guard.h"
#include "storage/schema.h"
#include "storage/sqlite_util.h"
#include "storage/trial_row.h"

namespace caviar::storage {
namespace {

// Every statement the store runs, prepared once at Open. Values are always
// bound (?N), never spliced into the text.
constexpr char kBeginSql[] = "BEGIN IMMEDIATE";
constexpr char kCommitSql[] = "COMMIT";
constexpr char kRollbackSql[] = "ROLLBACK";
constexpr char kSavepointSql[] = "SAVEPOINT batch";
constexpr char kReleaseSql[] = "RELEASE batch";
constexpr char kRollbackToSql[] = "ROLLBACK TO batch";
constexpr char kInsertStudySql[] =
    "INSERT INTO studies (name, create_order, state, proto) VALUES "
    "(?1, (SELECT IFNULL(MAX(create_order), 0) + 1 FROM studies), ?2, ?3)";
constexpr char kUpdateStudySql[] =
    "UPDATE studies SET state = ?2, proto = ?3 WHERE name = ?1";
// Replaces in place (not INSERT OR REPLACE, which would delete the row and
// orphan its measurements); a trial never moves to another study.
constexpr char kPutTrialSql[] =
    "INSERT INTO trials (id, study, state, worker_id, objective_value, proto) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6) "
    "ON CONFLICT (id) DO UPDATE SET state = excluded.state, "
    "worker_id = excluded.worker_id, "
    "objective_value = excluded.objective_value, proto = excluded.proto "
    "WHERE study = excluded.study";
constexpr char kInsertMeasurementSql[] =
    "INSERT INTO measurements (trial_id, step, proto) VALUES (?1, ?2, ?3)";
constexpr char kLoadStudiesSql[] =
    "SELECT name, proto FROM studies ORDER BY create_order";
constexpr char kLoadTrialsSql[] =
    "SELECT id, proto FROM trials WHERE study = ?1 ORDER BY id";
// Written with IN so SQLite walks the trial ids in order and reads each
// curve from measurements_by_trial already ordered: no sort of the curves.
constexpr char kLoadMeasurementsSql[] =
    "SELECT trial_id, proto FROM measurements "
    "WHERE trial_id IN (SELECT id FROM trials WHERE study = ?1) "
    "ORDER BY trial_id, seq";
constexpr char kMaxTrialIdSql[] = "SELECT IFNULL(MAX(id), 0) FROM trials";
constexpr char kLoadTrialSql[] = "SELECT id, proto FROM trials WHERE id = ?1";
constexpr char kLoadCurveSql[] =
    "SELECT proto FROM measurements WHERE trial_id = ?1 ORDER BY seq";

// QueryTrials' statement: ?1 study, ?2 after_id, ?3 limit, ?4 offset, then
// one parameter per state. NaN objectives are stored as NULL, so they sort
// with the trials that have none.
std::string QueryTrialsSql(const TrialQuery& query, bool count) {
  std::string where = "WHERE study = ?1";
  if (!query.states.empty()) {
    where += " AND state IN (";
    for (size_t i = 0; i < query.states.size(); ++i)
      absl::StrAppend(&where, i == 0 ? "" : ", ", "?", 5 + i);
    where += ")";
  }
  if (count) return absl::StrCat("SELECT count(*) FROM trials ", where);
  // By id with no state filter: walk the table by id from after_id and stop
  // at the limit ("+study" keeps SQLite off the study indexes, with which it
  // read every trial of the study and sorted them for each page: 1-2 s per
  // page of 10,000 of a 100,000-trial study).
  if (query.order == TrialQuery::Order::kId && query.states.empty())
    where = "WHERE +study = ?1";
  const char* order = "id";
  if (query.order == TrialQuery::Order::kObjectiveAscending)
    order = "objective_value IS NULL, objective_value ASC, id";
  if (query.order == TrialQuery::Order::kObjectiveDescending)
    order = "objective_value IS NULL, objective_value DESC, id";
  return absl::StrCat("SELECT id, proto FROM trials ", where,
                      " AND id > ?2 ORDER BY ", order, " LIMIT ?3 OFFSET ?4");
}

bool IsForeignKeyViolation(int rc) { return rc == SQLITE_CONSTRAINT_FOREIGNKEY; }
bool IsUniqueViolation(int rc) {
  return rc == SQLITE_CONSTRAINT_PRIMARYKEY || rc == SQLITE_CONSTRAINT_UNIQUE;
}

// A batch's own errors (bad keys) as opposed to the database failing.
bool IsBatchError(const absl::Status& status) {
  return absl::IsNotFound(status) || absl::IsAlreadyExists(status) ||
         absl::IsInvalidArgument(status);
}

}  // namespace

struct SqliteStore::Statements {
  Statement begin, commit, rollback, savepoint, release, rollback_to;
  Statement insert_study, update_study, put_trial, insert_measurement;
  Statement load_studies, load_trials, load_measurements, max_trial_id;
  Statement load_trial, load_curve;
};

// One Commit call waiting in the group-commit queue; lives on its caller's
// stack until `done`.
struct SqliteStore::PendingCommit {
  const WriteBatch* batch;
  absl::Status status;
  bool done = false;
};

SqliteStore::SqliteStore(sqlite3* db, std::string path, const Options& options)
    : path_(std::move(path)), options_(options), db_(db) {}

SqliteStore::~SqliteStore() {
  absl::MutexLock lock(&db_mu_);
  stmts_.reset();  // Finalize before closing, or close fails with BUSY.
  sqlite3_close(db_);
}

absl::StatusOr<std::unique_ptr<SqliteStore>> SqliteStore::Open(const std::string& path) {
  return Open(path, Options());
}

absl::StatusOr<std::unique_ptr<SqliteStore>> SqliteStore::Open(const std::string& path,
                                                               const Options& options) {
  const int page = options.page_size;
  if (page < 512 || page > 65536 || (page & (page - 1)) != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("SqliteStore::Options.page_size must be a power of two in "
                     "[512, 65536], got ",
                     page));
  }
  sqlite3* db = nullptr;
  // NOMUTEX: the store serializes use of its connection itself.
  int rc = sqlite3_open_v2(path.c_str(), &db,
                           SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
                               SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE,
                           nullptr);
  if (rc != SQLITE_OK) {
    absl::Status status = SqliteError(db, rc, absl::StrCat("opening database ", path));
    sqlite3_close(db);
    return status;
  }
  std::unique_ptr<SqliteStore> store(new SqliteStore(db, path, options));
  absl::Status status = store->Initialize();
  if (!status.ok()) {
    const bool locked = sqlite3_errcode(db) == SQLITE_BUSY;
    return absl::Status(status.code(),
                        absl::StrCat("opening database ", path, ": ",
                                     locked ? "another process holds it (is another "
                                              "coordinator running on this file?): "
                                            : "",
                                     status.message()));
  }
  return store;
}

absl::Status SqliteStore::Initialize() {
  absl::MutexLock lock(&db_mu_);
  CAVIAR_RETURN_IF_ERROR(Configure());
  CAVIAR_RETURN_IF_ERROR(MigrateSchema(db_, kApplicationId));
  CAVIAR_RETURN_IF_ERROR(Prepare());
  if (options_.exclusive) {
    // Take the write lock now, not at the first commit, so a second
    // process opening the file fails here.
    CAVIAR_RETURN_IF_ERROR(Begin());
    CAVIAR_RETURN_IF_ERROR(End());
  }
  return absl::OkStatus();
}

absl::Status SqliteStore::Configure() {
  sqlite3_extended_result_codes(db_, 1);
  sqlite3_busy_timeout(db_, options_.busy_timeout_ms);
  // Both must precede WAL mode: the page size (which only a file being
  // created takes), and EXCLUSIVE so the WAL index lives in process memory.
  // PRAGMA takes no bound parameters; the page size is a checked integer
  // from Options, formatted, never text from outside.
  std::vector<std::string> before_wal = {
      absl::StrCat("PRAGMA page_size = ", options_.page_size)};
  if (options_.exclusive) before_wal.push_back("PRAGMA locking_mode = EXCLUSIVE");
  for (const std::string& sql : before_wal) {
    CAVIAR_ASSIGN_OR_RETURN(Statement s, Statement::Prepare(db_, sql));
    CAVIAR_RETURN_IF_ERROR(StepToDone(db_, s, sql));
  }
  // Before the first write (WAL mode): another application's file must be
  // left exactly as it was.
  CAVIAR_RETURN_IF_ERROR(CheckIsCaviarDatabase(db_, kApplicationId));
  {
    // Also the first read of the file: a non-database fails here.
    CAVIAR_ASSIGN_OR_RETURN(Statement wal,
                            Statement::Prepare(db_, "PRAGMA journal_mode = WAL"));
    ScopedReset reset(wal);
    int rc = sqlite3_step(wal.get());
    if (rc != SQLITE_ROW) {
      return SqliteError(db_, rc, "setting journal_mode=WAL");
    }
    std::string_view mode = ColumnText(wal, 0);
    if (mode != "wal") {
      return absl::FailedPreconditionError(
          absl::StrCat("cannot use WAL (journal_mode is ", AsAbsl(mode),
                       "); caviar needs a file on a local filesystem"));
    }
  }
  // NORMAL in WAL mode: a commit is in the WAL (written, not fsynced) when
  // it returns, so it survives the process dying; FULL also fsyncs it.
  const char* synchronous = options_.durability == Durability::kPowerLoss
                                ? "PRAGMA synchronous = FULL"
                                : "PRAGMA synchronous = NORMAL";
  for (const char* sql :
       {synchronous, "PRAGMA foreign_keys = ON", "PRAGMA wal_autocheckpoint = 4000"}) {
    CAVIAR_ASSIGN_OR_RETURN(Statement s, Statement::Prepare(db_, sql));
    CAVIAR_RETURN_IF_ERROR(StepToDone(db_, s, sql));
  }
  {
    CAVIAR_ASSIGN_OR_RETURN(Statement fk, Statement::Prepare(db_, "PRAGMA foreign_keys"));
    ScopedReset reset(fk);
    if (sqlite3_step(fk.get()) != SQLITE_ROW || sqlite3_column_int(fk.get(), 0) != 1) {
      return absl::FailedPreconditionError(
          "this SQLite library does not enforce foreign keys");
    }
  }
  if (options_.max_database_bytes > 0) {
    CAVIAR_ASSIGN_OR_RETURN(Statement page_size,
                            Statement::Prepare(db_, "PRAGMA page_size"));
    int64_t bytes_per_page = 4096;
    {
      ScopedReset reset(page_size);
      if (sqlite3_step(page_size.get()) == SQLITE_ROW) {
        bytes_per_page = sqlite3_column_int64(page_size.get(), 0);
      }
    }
    // PRAGMA takes no bound parameters; this is an integer from Options,
    // formatted, never text from outside.
    std::string sql =
        absl::StrCat("PRAGMA max_page_count = ",
                     std::max<int64_t>(1, options_.max_database_bytes / bytes_per_page));
    CAVIAR_ASSIGN_OR_RETURN(Statement cap, Statement::Prepare(db_, sql));
    CAVIAR_RETURN_IF_ERROR(StepToDone(db_, cap, "setting max_page_count"));
  }
  return absl::OkStatus();
}

absl::Status SqliteStore::Prepare() {
  auto stmts = std::make_unique<Statements>();
  const std::pair<Statement*, const char*> all[] = {
      {&stmts->begin, kBeginSql},
      {&stmts->commit, kCommitSql},
      {&stmts->rollback, kRollbackSql},
      {&stmts->savepoint, kSavepointSql},
      {&stmts->release, kReleaseSql},
      {&stmts->rollback_to, kRollbackToSql},
      {&stmts->insert_study, kInsertStudySql},
      {&stmts->update_study, kUpdateStudySql},
      {&stmts->put_trial, kPutTrialSql},
      {&stmts->insert_measurement, kInsertMeasurementSql},
      {&stmts->load_studies, kLoadStudiesSql},
      {&stmts->load_trials, kLoadTrialsSql},
      {&stmts->load_measurements, kLoadMeasurementsSql},
      {&stmts->max_trial_id, kMaxTrialIdSql},
      {&stmts->load_trial, kLoadTrialSql},
      {&stmts->load_curve, kLoadCurveSql},
  };
  for (const auto& [stmt, sql] : all) {
    CAVIAR_ASSIGN_OR_RETURN(*stmt, Statement::Prepare(db_, sql));
  }
  stmts_ = std::move(stmts);
  return absl::OkStatus();
}

absl::Status SqliteStore::Begin() {
  return StepToDone(db_, stmts_->begin, "BEGIN IMMEDIATE");
}

absl::Status SqliteStore::End() { return StepToDone(db_, stmts_->commit, "COMMIT"); }

void SqliteStore::Rollback() {
  // Some errors (IOERR, FULL) already rolled the transaction back.
  if (!sqlite3_get_autocommit(db_)) {
    StepToDone(db_, stmts_->rollback, "ROLLBACK").IgnoreError();
  }
}

absl::Status SqliteStore::CreateStudy(const caviar::v1::Study& study) {
  const std::string& name = study.spec().name();
  if (name.empty()) {
    return absl::InvalidArgumentError("CreateStudy: spec.name is empty");
  }
  absl::MutexLock lock(&db_mu_);
  CAVIAR_RETURN_IF_ERROR(Begin());
  absl::Status status;
  {
    const Statement& s = stmts_->insert_study;
    ScopedReset reset(s);
    blob_.clear();
    study.AppendToString(&blob_);
    BindText(s, 1, name);
    BindInt64(s, 2, study.state());
    BindBlob(s, 3, blob_);
    int rc = sqlite3_step(s.get());
    if (IsUniqueViolation(rc)) {
      status = absl::AlreadyExistsError(
          absl::StrCat("CreateStudy: a study named '", name, "' exists"));
    } else if (rc != SQLITE_DONE) {
      status = SqliteError(db_, rc, absl::StrCat("CreateStudy: inserting '", name, "'"));
    }
  }
  if (status.ok()) status = End();
  if (!status.ok()) Rollback();
  return status;
}

absl::Status SqliteStore::ApplyBatch(const WriteBatch& batch) {
  for (const caviar::v1::Study& study : batch.studies()) {
    const Statement& s = stmts_->update_study;
    ScopedReset reset(s);
    blob_.clear();
    study.AppendToString(&blob_);
    BindText(s, 1, study.spec().name());
    BindInt64(s, 2, study.state());
    BindBlob(s, 3, blob_);
    int rc = sqlite3_step(s.get());
    if (rc != SQLITE_DONE) {
      return SqliteError(db_, rc,
                         absl::StrCat("UpdateStudy '", study.spec().name(), "'"));
    }
    if (sqlite3_changes(db_) == 0) {
      return absl::NotFoundError(
          absl::StrCat("UpdateStudy: no study named '", study.spec().name(), "'"));
    }
  }
  for (const caviar::v1::Trial& trial : batch.trials()) {
    const Statement& s = stmts_->put_trial;
    ScopedReset reset(s);
    SerializeTrialRow(trial, &blob_);
    BindInt64(s, 1, trial.id());
    BindText(s, 2, trial.study());
    BindInt64(s, 3, trial.state());
    BindText(s, 4, trial.worker_id());
    if (trial.has_objective_value()) {
      sqlite3_bind_double(s.get(), 5, trial.objective_value());
    } else {
      sqlite3_bind_null(s.get(), 5);
    }
    BindBlob(s, 6, blob_);
    int rc = sqlite3_step(s.get());
    if (IsForeignKeyViolation(rc)) {
      return absl::NotFoundError(absl::StrCat("PutTrial (id ", trial.id(),
                                              "): no study named '", trial.study(), "'"));
    }
    if (rc != SQLITE_DONE) {
      return SqliteError(db_, rc, absl::StrCat("PutTrial (id ", trial.id(), ")"));
    }
    if (sqlite3_changes(db_) == 0) {
      return absl::AlreadyExistsError(absl::StrCat("PutTrial: trial id ", trial.id(),
                                                   " belongs to another study than '",
                                                   trial.study(), "'"));
    }
  }
  for (const WriteBatch::Measurement& m : batch.measurements()) {
    const Statement& s = stmts_->insert_measurement;
    ScopedReset reset(s);
    blob_.clear();
    m.measurement.AppendToString(&blob_);
    BindInt64(s, 1, m.trial_id);
    BindInt64(s, 2, m.measurement.step());
    BindBlob(s, 3, blob_);
    int rc = sqlite3_step(s.get());
    if (IsForeignKeyViolation(rc)) {
      return absl::NotFoundError(
          absl::StrCat("AddMeasurement: no trial with id ", m.trial_id));
    }
    if (rc != SQLITE_DONE) {
      return SqliteError(db_, rc,
                         absl::StrCat("AddMeasurement (trial ", m.trial_id, ")"));
    }
  }
  return absl::OkStatus();
}

absl::Status SqliteStore::CommitAlone(const WriteBatch& batch) {
  ++stats_.batches;
  ++stats_.transactions;
  CAVIAR_RETURN_IF_ERROR(Begin());
  absl::Status status = ApplyBatch(batch);
  if (status.ok()) status = End();
  if (!status.ok()) Rollback();
  return status;
}

void SqliteStore::CommitGroup(const std::vector<PendingCommit*>& group) {
  if (group.size() == 1) {
    group[0]->status = CommitAlone(*group[0]->batch);
    return;
  }
  stats_.batches += group.size();
  ++stats_.transactions;
  absl::Status status = Begin();
  if (!status.ok()) {
    for (PendingCommit* p : group) p->status = status;
    return;
  }
  // Each batch in its own savepoint: a batch with a bad key is undone alone.
  bool merged_ok = true;
  for (PendingCommit* p : group) {
    status = StepToDone(db_, stmts_->savepoint, "SAVEPOINT");
    if (status.ok()) {
      p->status = ApplyBatch(*p->batch);
      if (p->status.ok()) {
        status = StepToDone(db_, stmts_->release, "RELEASE");
      } else if (IsBatchError(p->status)) {
        status = StepToDone(db_, stmts_->rollback_to, "ROLLBACK TO");
        if (status.ok()) {
          status = StepToDone(db_, stmts_->release, "RELEASE");
        }
      } else {
        status = p->status;  // The database failed, not the batch.
      }
    }
    if (!status.ok() || sqlite3_get_autocommit(db_)) {
      merged_ok = false;
      break;
    }
  }
  if (merged_ok) {
    status = End();
    if (status.ok()) return;
  }
  // The merged transaction failed as a whole: give every batch its own
  // transaction so one batch's trouble cannot fail the others.
  Rollback();
  ++stats_.fallbacks;
  stats_.batches -= group.size();
  for (PendingCommit* p : group) p->status = CommitAlone(*p->batch);
}

absl::Status SqliteStore::Commit(const WriteBatch& batch) {
  CAVIAR_RETURN_IF_ERROR(ValidateBatchKeys(batch));
  if (batch.empty()) return absl::OkStatus();
  // caviar_store_commit_duration_seconds: as long as the caller waits.
  struct Timer {
    absl::Time start = absl::Now();
    ~Timer() { metrics::RecordCommit(absl::Now() - start); }
  } timer;
  if (!options_.group_commit) {
    absl::MutexLock lock(&db_mu_);
    return CommitAlone(batch);
  }
  // Leader/follower: whoever finds no leader commits everything queued so
  // far; the others wait for a leader to commit theirs or for their turn.
  PendingCommit me{&batch};
  std::vector<PendingCommit*> group;
  {
    absl::MutexLock lock(&queue_mu_);
    queue_.push_back(&me);
    auto my_turn = [this, &me]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(queue_mu_) {
      return me.done || !leader_active_;
    };
    queue_mu_.Await(absl::Condition(&my_turn));
    if (me.done) return me.status;
    leader_active_ = true;
    group.swap(queue_);
  }
  {
    absl::MutexLock lock(&db_mu_);
    CommitGroup(group);
  }
  absl::MutexLock lock(&queue_mu_);
  for (PendingCommit* p : group) p->done = true;
  leader_active_ = false;
  return me.status;
}

absl::StatusOr<std::vector<caviar::v1::Study>> SqliteStore::LoadStudies() {
  absl::MutexLock lock(&db_mu_);
  std::vector<caviar::v1::Study> studies;
  const Statement& s = stmts_->load_studies;
  ScopedReset reset(s);
  int rc;
  while ((rc = sqlite3_step(s.get())) == SQLITE_ROW) {
    std::string_view proto = ColumnBlob(s, 1);
    if (!studies.emplace_back().ParseFromArray(proto.data(), proto.size())) {
      return absl::InternalError(absl::StrCat("LoadStudies: stored proto of study '",
                                              AsAbsl(ColumnText(s, 0)),
                                              "' does not parse"));
    }
  }
  if (rc != SQLITE_DONE) return SqliteError(db_, rc, "LoadStudies");
  return studies;
}

absl::StatusOr<std::vector<caviar::v1::Trial>> SqliteStore::LoadTrials(
    std::string_view study) {
  absl::MutexLock lock(&db_mu_);
  std::vector<caviar::v1::Trial> trials;
  int rc;
  {
    const Statement& s = stmts_->load_trials;
    ScopedReset reset(s);
    BindText(s, 1, study);
    while ((rc = sqlite3_step(s.get())) == SQLITE_ROW) {
      std::string_view proto = ColumnBlob(s, 1);
      if (!trials.emplace_back().ParseFromArray(proto.data(), proto.size())) {
        return absl::InternalError(absl::StrCat("LoadTrials: stored proto of trial ",
                                                sqlite3_column_int64(s.get(), 0),
                                                " does not parse"));
      }
    }
    if (rc != SQLITE_DONE) {
      return SqliteError(db_, rc, absl::StrCat("LoadTrials '", AsAbsl(study), "'"));
    }
  }
  // Both result sets are ordered by trial id: merge them in one pass.
  const Statement& s = stmts_->load_measurements;
  ScopedReset reset(s);
  BindText(s, 1, study);
  size_t i = 0;
  while ((rc = sqlite3_step(s.get())) == SQLITE_ROW) {
    int64_t trial_id = sqlite3_column_int64(s.get(), 0);
    while (i < trials.size() && trials[i].id() < trial_id) ++i;
    if (i == trials.size() || trials[i].id() != trial_id) {
      return absl::InternalError(absl::StrCat("LoadTrials: measurement of trial ",
                                              trial_id,
                                              " whose stored proto has another id"));
    }
    std::string_view proto = ColumnBlob(s, 1);
    if (!trials[i].add_measurements()->ParseFromArray(proto.data(), proto.size())) {
      return absl::InternalError(absl::StrCat("LoadTrials: stored measurement of trial ",
                                              trial_id, " does not parse"));
    }
  }
  if (rc != SQLITE_DONE) {
    return SqliteError(db_, rc,
                       absl::StrCat("LoadTrials '", AsAbsl(study), "' measurements"));
  }
  return trials;
}

// Appends trial `id`'s stored learning curve to it. Caller holds db_mu_.
absl::Status SqliteStore::ReadCurve(caviar::v1::Trial* trial) {
  const Statement& s = stmts_->load_curve;
  ScopedReset reset(s);
  BindInt64(s, 1, trial->id());
  int rc;
  while ((rc = sqlite3_step(s.get())) == SQLITE_ROW) {
    std::string_view proto = ColumnBlob(s, 0);
    if (!trial->add_measurements()->ParseFromArray(proto.data(), proto.size()))
      return absl::InternalError(
          absl::StrCat("stored measurement of trial ", trial->id(), " does not parse"));
  }
  if (rc != SQLITE_DONE)
    return SqliteError(db_, rc, absl::StrCat("reading the curve of trial ", trial->id()));
  return absl::OkStatus();
}

absl::StatusOr<TrialPage> SqliteStore::QueryTrials(const TrialQuery& query) {
  CAVIAR_RETURN_IF_ERROR(ValidateTrialQuery(query));
  absl::MutexLock lock(&db_mu_);
  TrialPage page;
  auto bind = [&](const Statement& s, bool count) {
    BindText(s, 1, query.study);
    if (!count) {
      BindInt64(s, 2, query.after_id);
      BindInt64(s, 3, query.limit);
      BindInt64(s, 4, query.offset);
    }
    for (size_t i = 0; i < query.states.size(); ++i)
      BindInt64(s, static_cast<int>(5 + i), query.states[i]);
  };
  if (query.count_total) {
    const std::string sql = QueryTrialsSql(query, /*count=*/true);
    CAVIAR_ASSIGN_OR_RETURN(Statement s, Statement::Prepare(db_, sql.c_str()));
    bind(s, true);
    int rc = sqlite3_step(s.get());
    if (rc != SQLITE_ROW) return SqliteError(db_, rc, "QueryTrials (count)");
    page.total = sqlite3_column_int64(s.get(), 0);
  }
  const std::string sql = QueryTrialsSql(query, /*count=*/false);
  CAVIAR_ASSIGN_OR_RETURN(Statement s, Statement::Prepare(db_, sql.c_str()));
  bind(s, false);
  int rc;
  while ((rc = sqlite3_step(s.get())) == SQLITE_ROW) {
    std::string_view proto = ColumnBlob(s, 1);
    if (!page.trials.emplace_back().ParseFromArray(proto.data(), proto.size()))
      return absl::InternalError(absl::StrCat("QueryTrials: stored proto of trial ",
                                              sqlite3_column_int64(s.get(), 0),
                                              " does not parse"));
  }
  if (rc != SQLITE_DONE)
    return SqliteError(db_, rc, absl::StrCat("QueryTrials '", query.study, "'"));
  if (query.with_measurements) {
    for (caviar::v1::Trial& trial : page.trials) CAVIAR_RETURN_IF_ERROR(ReadCurve(&trial));
  }
  return page;
}

absl::StatusOr<caviar::v1::Trial> SqliteStore::LoadTrial(int64_t id) {
  absl::MutexLock lock(&db_mu_);
  caviar::v1::Trial trial;
  {
    const Statement& s = stmts_->load_trial;
    ScopedReset reset(s);
    BindInt64(s, 1, id);
    int rc = sqlite3_step(s.get());
    if (rc == SQLITE_DONE)
      return absl::NotFoundError(absl::StrCat("LoadTrial: trial ", id, " not found"));
    if (rc != SQLITE_ROW) return SqliteError(db_, rc, absl::StrCat("LoadTrial ", id));
    std::string_view proto = ColumnBlob(s, 1);
    if (!trial.ParseFromArray(proto.data(), proto.size()))
      return absl::InternalError(
          absl::StrCat("LoadTrial: stored proto of trial ", id, " does not parse"));
  }
  CAVIAR_RETURN_IF_ERROR(ReadCurve(&trial));
  return trial;
}

absl::StatusOr<int64_t> SqliteStore::MaxTrialId() {
  absl::MutexLock lock(&db_mu_);
  const Statement& s = stmts_->max_trial_id;
  ScopedReset reset(s);
  int rc = sqlite3_step(s.get());
  if (rc != SQLITE_ROW) return SqliteError(db_, rc, "MaxTrialId");
  return sqlite3_column_int64(s.get(), 0);
}

SqliteStore::CommitStats SqliteStore::commit_stats() const {
  absl::MutexLock lock(&db_mu_);
  return stats_;
}

}  // namespace caviar::storage
