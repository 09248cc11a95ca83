// --db pointed at another application's file is refused before anything is
// written to it; an online backup taken while workers run is a complete,
// consistent caviar database a coordinator starts on.
#include <sqlite3.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <thread>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "storage/backup.h"
#include "tests/security/security_fixture.h"

namespace caviar::security_test {
namespace {

using ::testing::HasSubstr;

void Exec(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  char* error = nullptr;
  EXPECT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &error), SQLITE_OK)
      << (error ? error : "");
  sqlite3_free(error);
  sqlite3_close(db);
}

std::string QueryText(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  EXPECT_EQ(sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  std::string result = "<error>";
  if (sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr) == SQLITE_OK &&
      sqlite3_step(stmt) == SQLITE_ROW) {
    result = reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0));
  }
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  return result;
}

// Opening `path` as caviar's database fails, naming why, and leaves the file
// byte for byte as it was, with no -wal or -journal beside it.
void ExpectRefusedUnchanged(const std::string& path, const std::string& why) {
  const std::string before = ReadFile(path);
  auto store = storage::SqliteStore::Open(path);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(store.status().message()), HasSubstr("not a caviar database"));
  EXPECT_THAT(std::string(store.status().message()), HasSubstr(why));
  EXPECT_TRUE(ReadFile(path) == before) << "the refused file was modified";
  EXPECT_FALSE(std::filesystem::exists(path + "-wal"));
  EXPECT_FALSE(std::filesystem::exists(path + "-journal"));
}

TEST(DatabaseSafetyTest, AnotherApplicationsTablesAreRefusedBeforeAnyWrite) {
  testing::TempDir dir;
  const std::string path = dir.File("notes.db");
  Exec(path,
       "CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT);"
       "INSERT INTO notes (text) VALUES ('keep me');");
  ExpectRefusedUnchanged(path, "notes");
  EXPECT_EQ(QueryText(path, "PRAGMA journal_mode"), "delete");
  EXPECT_EQ(QueryText(path, "SELECT text FROM notes"), "keep me");
}

TEST(DatabaseSafetyTest, AnotherApplicationIdIsRefusedBeforeAnyWrite) {
  testing::TempDir dir;
  const std::string path = dir.File("other.db");
  Exec(path, "PRAGMA application_id = 42; PRAGMA user_version = 1;");
  ExpectRefusedUnchanged(path, "application_id is 42");
}

TEST(DatabaseSafetyTest, AFileThatIsNotSqliteIsRefusedUnchanged) {
  testing::TempDir dir;
  const std::string path = dir.File("notes.txt");
  std::ofstream(path) << std::string(4096, 'x');
  ExpectRefusedUnchanged(path, "not an SQLite file");
}

TEST(DatabaseSafetyTest, CaviarDatabasesStillOpenWithOrWithoutApplicationId) {
  testing::TempDir dir;
  const std::string path = dir.File("caviar.db");
  {
    auto store = storage::SqliteStore::Open(path);
    ASSERT_TRUE(store.ok()) << store.status();
    ASSERT_TRUE((*store)
                    ->CreateStudy([] {
                      v1::Study study;
                      *study.mutable_spec() = Spec("kept");
                      return study;
                    }())
                    .ok());
  }
  ASSERT_TRUE(storage::SqliteStore::Open(path).ok());
  // A caviar file from before application_id: recognised by its tables.
  Exec(path, "PRAGMA application_id = 0;");
  ASSERT_EQ(QueryText(path, "PRAGMA application_id"), "0");
  auto store = storage::SqliteStore::Open(path);
  ASSERT_TRUE(store.ok()) << store.status();
  auto studies = (*store)->LoadStudies();
  ASSERT_TRUE(studies.ok());
  ASSERT_EQ(studies->size(), 1u);
  store->reset();
  EXPECT_EQ(QueryText(path, "PRAGMA application_id"),
            std::to_string(storage::SqliteStore::kApplicationId));
}

// Streams a backup as the admin into `path`; returns the RPC status.
grpc::Status BackupTo(v1::AdminService::Stub& admin, const std::string& path) {
  auto context = Context(kAdminToken);
  auto reader = admin.Backup(context.get(), v1::BackupRequest());
  std::ofstream out(path, std::ios::binary);
  v1::BackupChunk chunk;
  while (reader->Read(&chunk)) out << chunk.data();
  return reader->Finish();
}

TEST(OnlineBackupTest, ACopyTakenWhileWorkersRunOpensAndResumes) {
  CoordinatorFixture f(Transport::kPlain);
  auto channel = f.Channel();
  auto studies = v1::StudyService::NewStub(channel);
  auto admin = v1::AdminService::NewStub(channel);
  v1::CreateStudyRequest create;
  *create.mutable_spec() = Spec("s", 1000000);
  v1::Study study;
  ASSERT_TRUE(studies->CreateStudy(Context(kAdminToken).get(), create, &study).ok());

  // Four workers take, report and complete trials the whole time.
  std::atomic<bool> stop{false};
  std::atomic<int> completed{0};
  std::vector<std::thread> workers;
  for (int i = 0; i < 4; ++i) {
    workers.emplace_back([&, i] {
      auto stub = v1::WorkerService::NewStub(channel);
      const std::string id = "w" + std::to_string(i);
      while (!stop) {
        v1::SuggestTrialRequest suggest;
        suggest.set_worker_id(id);
        v1::SuggestTrialResponse trial;
        if (!stub->SuggestTrial(Context(kPoolAToken).get(), suggest, &trial).ok()) break;
        for (int step = 1; step <= 3; ++step) {
          v1::ReportProgressRequest report;
          report.set_trial_id(trial.trial().id());
          report.set_worker_id(id);
          report.set_attempt(trial.trial().attempt());
          report.mutable_measurement()->set_step(step);
          (*report.mutable_measurement()->mutable_metrics())["score"] = 0.1 * step;
          v1::ReportProgressResponse reply;
          EXPECT_TRUE(
              stub->ReportProgress(Context(kPoolAToken).get(), report, &reply).ok());
        }
        v1::CompleteTrialRequest complete;
        complete.set_trial_id(trial.trial().id());
        complete.set_worker_id(id);
        complete.set_attempt(trial.trial().attempt());
        (*complete.mutable_final_measurement()->mutable_metrics())["score"] = 0.3;
        v1::Trial done;
        EXPECT_TRUE(
            stub->CompleteTrial(Context(kPoolAToken).get(), complete, &done).ok());
        ++completed;
      }
    });
  }
  while (completed < 300) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  std::vector<std::string> copies;
  for (int i = 0; i < 3; ++i) {
    const int before = completed;
    copies.push_back(f.dir_.File("copy" + std::to_string(i) + ".db"));
    grpc::Status status = BackupTo(*admin, copies.back());
    ASSERT_TRUE(status.ok()) << status.error_message();
    EXPECT_GT(completed, before) << "workers stalled during the backup";
  }
  stop = true;
  for (auto& w : workers) w.join();

  // No staging file is left behind.
  for (const auto& entry : std::filesystem::directory_iterator(f.dir_.path())) {
    EXPECT_THAT(entry.path().filename().string(), ::testing::Not(HasSubstr("backup")));
  }
  for (const std::string& copy : copies) {
    EXPECT_EQ(QueryText(copy, "PRAGMA integrity_check"), "ok");
    EXPECT_EQ(QueryText(copy, "PRAGMA journal_mode"), "delete");
    EXPECT_FALSE(std::filesystem::exists(copy + "-wal"));
    // A coordinator starts on the copy and has the study and its trials.
    auto store = storage::SqliteStore::Open(copy);
    ASSERT_TRUE(store.ok()) << store.status();
    auto coordinator = scheduling::Coordinator::Create(store->get(), Clock::Real(), {});
    ASSERT_TRUE(coordinator.ok()) << coordinator.status();
    auto restored = (*coordinator)->GetStudy("s");
    ASSERT_TRUE(restored.ok()) << restored.status();
    v1::ListTrialsRequest list;
    list.set_study("s");
    list.add_states(v1::SUCCEEDED);
    auto trials = (*coordinator)->ListTrials(list);
    ASSERT_TRUE(trials.ok());
    EXPECT_GE(trials->total_size(), 300);
  }
}

TEST(OnlineBackupTest, NeverOverwritesAFile) {
  testing::TempDir dir;
  auto store = storage::SqliteStore::Open(dir.File("caviar.db"));
  ASSERT_TRUE(store.ok());
  std::ofstream(dir.File("taken")) << "precious";
  EXPECT_EQ((*store)->Backup(dir.File("taken")).code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(ReadFile(dir.File("taken")), "precious");
  ASSERT_TRUE((*store)->Backup(dir.File("copy.db")).ok());
  EXPECT_TRUE(storage::PrepareBackupCopy(dir.File("copy.db")).ok());
}

}  // namespace
}  // namespace caviar::security_test
