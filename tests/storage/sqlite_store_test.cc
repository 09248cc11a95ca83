// SqliteStore: the conformance suite in each configuration, plus what is
// specific to SQLite (schema versions, file layout, group commit).
#include "storage/sqlite_store.h"

#include <sqlite3.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/storage/store_conformance.h"
#include "tests/storage/store_test_util.h"

namespace caviar::storage {
namespace {

using ::testing::HasSubstr;
using ::testing::SizeIs;

StoreFactory SqliteFactory(std::string name, SqliteStore::Options options) {
  return StoreFactory{
      std::move(name),
      [options](const std::string& path) -> absl::StatusOr<std::unique_ptr<Store>> {
        auto store = SqliteStore::Open(path, options);
        if (!store.ok()) return store.status();
        return std::unique_ptr<Store>(std::move(store).value());
      }};
}

SqliteStore::Options NoGroupCommit() {
  SqliteStore::Options options;
  options.group_commit = false;
  return options;
}

SqliteStore::Options Shared() {
  SqliteStore::Options options;
  options.exclusive = false;
  return options;
}

SqliteStore::Options PowerLoss() {
  SqliteStore::Options options;
  options.durability = SqliteStore::Durability::kPowerLoss;
  return options;
}

INSTANTIATE_TEST_SUITE_P(
    Sqlite, StoreConformanceTest,
    ::testing::Values(SqliteFactory("GroupCommit", SqliteStore::Options()),
                      SqliteFactory("OneTransactionPerCommit", NoGroupCommit()),
                      SqliteFactory("Shared", Shared()),
                      SqliteFactory("PowerLossDurable", PowerLoss())),
    StoreFactoryName);

// Reads the file with a plain connection, as an operator's sqlite3 would.
class RawDb {
 public:
  explicit RawDb(const std::string& path) {
    EXPECT_EQ(sqlite3_open(path.c_str(), &db_), SQLITE_OK);
  }
  ~RawDb() { sqlite3_close(db_); }
  int64_t Int(const char* sql) {
    sqlite3_stmt* stmt = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(db_, sql, -1, &stmt, nullptr), SQLITE_OK)
        << sqlite3_errmsg(db_);
    EXPECT_EQ(sqlite3_step(stmt), SQLITE_ROW) << sql;
    int64_t value = sqlite3_column_int64(stmt, 0);
    sqlite3_finalize(stmt);
    return value;
  }
  std::string Blob(const char* sql) {
    sqlite3_stmt* stmt = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(db_, sql, -1, &stmt, nullptr), SQLITE_OK);
    EXPECT_EQ(sqlite3_step(stmt), SQLITE_ROW) << sql;
    std::string value(static_cast<const char*>(sqlite3_column_blob(stmt, 0)),
                      sqlite3_column_bytes(stmt, 0));
    sqlite3_finalize(stmt);
    return value;
  }
  void Exec(const char* sql) {
    EXPECT_EQ(sqlite3_exec(db_, sql, nullptr, nullptr, nullptr), SQLITE_OK)
        << sqlite3_errmsg(db_);
  }

 private:
  sqlite3* db_ = nullptr;
};

class SqliteStoreTest : public ::testing::Test {
 protected:
  TempDir dir_;
  std::string path_ = dir_.path() + "/caviar.db";
};

// A page of trials by id after a cursor costs that page, not the whole
// study: a page of 100 of a 20,000-trial study costs about what the whole
// 100-trial study next to it costs. (SQLite once picked a study index, read
// every trial of the study after the cursor and sorted them for any page:
// 1-2 s per page of 10,000 of a 100,000-trial study.)
TEST_F(SqliteStoreTest, APageByIdCostsThePageNotTheWholeStudy) {
  auto store = SqliteStore::Open(path_);
  ASSERT_TRUE(store.ok()) << store.status();
  ASSERT_TRUE((*store)->CreateStudy(MakeStudy("small")).ok());
  ASSERT_TRUE((*store)->CreateStudy(MakeStudy("big")).ok());
  constexpr int kSmall = 100, kBig = 20000;
  WriteBatch batch;
  for (int64_t id = 1; id <= kSmall + kBig; ++id)
    batch.PutTrial(MakeTrial(id, id <= kSmall ? "small" : "big", caviar::v1::SUCCEEDED));
  ASSERT_TRUE((*store)->Commit(batch).ok());
  // Fastest of a few runs: the machine's load adds time, never removes it.
  auto fastest_ms = [&](const std::string& study, int64_t after) {
    double best = 1e9;
    for (int run = 0; run < 7; ++run) {
      TrialQuery q;
      q.study = study;
      q.after_id = after;
      q.limit = kSmall;
      const absl::Time start = absl::Now();
      absl::StatusOr<TrialPage> page = (*store)->QueryTrials(q);
      best = std::min(best, absl::ToDoubleMilliseconds(absl::Now() - start));
      EXPECT_TRUE(page.ok()) << page.status();
      if (page.ok()) EXPECT_EQ(page->trials.size(), static_cast<size_t>(kSmall));
    }
    return best;
  };
  const double small = fastest_ms("small", 0);
  const double first = fastest_ms("big", 0);
  const double middle = fastest_ms("big", kSmall + kBig / 2);
  std::printf(
      "a page of %d: the small study %.3f ms, the big one %.3f ms, after %d %.3f ms\n",
      kSmall, small, first, kSmall + kBig / 2, middle);
  EXPECT_LT(first, 5 * small) << "the big study's first page";
  EXPECT_LT(middle, 5 * small) << "the big study's page in the middle";
}

TEST_F(SqliteStoreTest, FreshFileGetsCurrentSchema) {
  ASSERT_TRUE(SqliteStore::Open(path_).ok());
  RawDb raw(path_);
  EXPECT_EQ(raw.Int("PRAGMA user_version"), SqliteStore::kSchemaVersion);
  EXPECT_EQ(raw.Int("PRAGMA application_id"), SqliteStore::kApplicationId);
  EXPECT_EQ(raw.Int("SELECT count(*) FROM sqlite_schema WHERE type = 'table' "
                    "AND name IN ('studies', 'trials', 'measurements')"),
            3);
  EXPECT_EQ(raw.Int("SELECT count(*) FROM sqlite_schema WHERE type = 'index' "
                    "AND name IN ('trials_by_study_state', "
                    "'trials_by_study_objective', 'measurements_by_trial')"),
            3);
  EXPECT_EQ(raw.Int("PRAGMA page_size"), 1024);
  // WAL is recorded in the file header, so it is visible from here.
  EXPECT_EQ(raw.Blob("PRAGMA journal_mode"), "wal");
}

TEST_F(SqliteStoreTest, BadPageSizeIsInvalidArgument) {
  for (int page_size : {0, 1000, 131072}) {
    SqliteStore::Options options;
    options.page_size = page_size;
    auto store = SqliteStore::Open(path_, options);
    ASSERT_FALSE(store.ok());
    EXPECT_TRUE(absl::IsInvalidArgument(store.status())) << store.status();
    EXPECT_THAT(store.status().message(), HasSubstr("page_size"));
  }
  EXPECT_FALSE(std::filesystem::exists(path_));
}

TEST_F(SqliteStoreTest, PageSizeAppliesToNewFilesOnly) {
  SqliteStore::Options big_pages;
  big_pages.page_size = 4096;
  ASSERT_TRUE(SqliteStore::Open(path_, big_pages).ok());
  ASSERT_TRUE(SqliteStore::Open(path_).ok());  // Asks for 1 KiB: ignored.
  RawDb raw(path_);
  EXPECT_EQ(raw.Int("PRAGMA page_size"), 4096);
}

TEST_F(SqliteStoreTest, SecondOpenOfAnExclusiveStoreIsUnavailable) {
  auto first = SqliteStore::Open(path_);
  ASSERT_TRUE(first.ok()) << first.status();
  ASSERT_TRUE((*first)->CreateStudy(MakeStudy("s")).ok());
  SqliteStore::Options options;
  options.busy_timeout_ms = 50;
  auto second = SqliteStore::Open(path_, options);
  ASSERT_FALSE(second.ok());
  EXPECT_TRUE(absl::IsUnavailable(second.status())) << second.status();
  EXPECT_THAT(second.status().message(), HasSubstr(path_));
  EXPECT_THAT(second.status().message(), HasSubstr("another process"));
  // The first store is unharmed.
  WriteBatch batch;
  batch.PutTrial(MakeTrial(1, "s", caviar::v1::PENDING));
  EXPECT_TRUE((*first)->Commit(batch).ok());
  first->reset();
  EXPECT_TRUE(SqliteStore::Open(path_, options).ok());
}

TEST_F(SqliteStoreTest, SharedStoreCanBeReadWhileOpen) {
  SqliteStore::Options options;
  options.exclusive = false;
  auto store = SqliteStore::Open(path_, options);
  ASSERT_TRUE(store.ok()) << store.status();
  ASSERT_TRUE((*store)->CreateStudy(MakeStudy("s")).ok());
  RawDb raw(path_);
  EXPECT_EQ(raw.Int("SELECT count(*) FROM studies"), 1);
  WriteBatch batch;
  batch.PutTrial(MakeTrial(1, "s", caviar::v1::PENDING));
  EXPECT_TRUE((*store)->Commit(batch).ok());
  EXPECT_EQ(raw.Int("SELECT count(*) FROM trials"), 1);
}

TEST_F(SqliteStoreTest, ReopenKeepsSchemaAndData) {
  {
    auto store = SqliteStore::Open(path_);
    ASSERT_TRUE(store.ok()) << store.status();
    ASSERT_TRUE((*store)->CreateStudy(MakeStudy("s")).ok());
  }
  auto store = SqliteStore::Open(path_);
  ASSERT_TRUE(store.ok()) << store.status();
  auto studies = (*store)->LoadStudies();
  ASSERT_TRUE(studies.ok());
  EXPECT_THAT(*studies, SizeIs(1));
}

TEST_F(SqliteStoreTest, FileFromNewerCaviarIsRefused) {
  ASSERT_TRUE(SqliteStore::Open(path_).ok());
  {
    RawDb raw(path_);
    raw.Exec("PRAGMA user_version = 99");
  }
  auto store = SqliteStore::Open(path_);
  ASSERT_FALSE(store.ok());
  EXPECT_TRUE(absl::IsFailedPrecondition(store.status())) << store.status();
  EXPECT_THAT(store.status().message(), HasSubstr("schema version 99"));
  EXPECT_THAT(store.status().message(), HasSubstr(path_));
  EXPECT_THAT(store.status().message(),
              HasSubstr("(" + std::to_string(SqliteStore::kSchemaVersion) + ")"));
  RawDb raw(path_);
  EXPECT_EQ(raw.Int("PRAGMA user_version"), 99);  // Left untouched.
}

TEST_F(SqliteStoreTest, OtherApplicationsDatabaseIsRefused) {
  {
    RawDb raw(path_);
    raw.Exec("CREATE TABLE accounts (id INTEGER PRIMARY KEY)");
  }
  auto store = SqliteStore::Open(path_);
  ASSERT_FALSE(store.ok());
  EXPECT_TRUE(absl::IsFailedPrecondition(store.status())) << store.status();
  EXPECT_THAT(store.status().message(), HasSubstr("not a caviar database"));
  EXPECT_THAT(store.status().message(), HasSubstr(path_));
}

TEST_F(SqliteStoreTest, NonDatabaseFileIsRefused) {
  std::ofstream(path_) << "this is a text file, not a database, and it is "
                          "long enough to have a header of its own.\n";
  auto store = SqliteStore::Open(path_);
  ASSERT_FALSE(store.ok());
  EXPECT_TRUE(absl::IsFailedPrecondition(store.status())) << store.status();
  EXPECT_THAT(store.status().message(), HasSubstr(path_));
}

TEST_F(SqliteStoreTest, MissingDirectoryIsUnavailable) {
  auto store = SqliteStore::Open(dir_.path() + "/no/such/dir/caviar.db");
  ASSERT_FALSE(store.ok());
  EXPECT_TRUE(absl::IsUnavailable(store.status())) << store.status();
  EXPECT_THAT(store.status().message(), HasSubstr("no/such/dir"));
}

TEST_F(SqliteStoreTest, TrialRowsHoldNoMeasurements) {
  auto store = SqliteStore::Open(path_);
  ASSERT_TRUE(store.ok()) << store.status();
  ASSERT_TRUE((*store)->CreateStudy(MakeStudy("s")).ok());
  caviar::v1::Trial trial = MakeTrial(1, "s", caviar::v1::SUCCEEDED);
  for (int step = 1; step <= 3; ++step) {
    *trial.add_measurements() = MakeMeasurement(step, 0.1 * step);
  }
  trial.set_objective_value(0.75);
  WriteBatch batch;
  batch.PutTrial(trial);
  ASSERT_TRUE((*store)->Commit(batch).ok());
  store->reset();  // Releases the file lock.
  RawDb raw(path_);
  caviar::v1::Trial stored;
  ASSERT_TRUE(stored.ParseFromString(raw.Blob("SELECT proto FROM trials WHERE id = 1")));
  caviar::v1::Trial expected = trial;
  expected.clear_measurements();
  EXPECT_THAT(stored, EqualsProto(expected));
  EXPECT_EQ(raw.Int("SELECT count(*) FROM measurements"), 0);
  EXPECT_EQ(raw.Int("SELECT state FROM trials WHERE id = 1"), caviar::v1::SUCCEEDED);
  EXPECT_EQ(raw.Int("SELECT objective_value * 100 FROM trials WHERE id = 1"), 75);
  EXPECT_EQ(raw.Int("SELECT objective_value IS NULL FROM trials"), 0);
}

// Concurrent commits share transactions, and a batch that cannot fit (the
// file is capped, as on a full disk) fails alone: the merged transaction is
// retried batch by batch. FULL durability makes each commit wait for an
// fsync, during which the other threads queue up, so groups do form even on
// a busy machine.
TEST_F(SqliteStoreTest, GroupCommitIsolatesAFailingBatch) {
  SqliteStore::Options options;
  options.durability = SqliteStore::Durability::kPowerLoss;
  options.max_database_bytes = 2 << 20;
  auto opened = SqliteStore::Open(path_, options);
  ASSERT_TRUE(opened.ok()) << opened.status();
  SqliteStore& store = **opened;
  ASSERT_TRUE(store.CreateStudy(MakeStudy("s")).ok());
  constexpr int kThreads = 8, kCommits = 40;
  std::atomic<int> unexpected{0};
  std::atomic<int> huge_failed{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kCommits; ++i) {
        int64_t id = 1 + t * kCommits + i;
        caviar::v1::Trial trial = MakeTrial(id, "s", caviar::v1::ACTIVE);
        bool huge = t == 0 && i % 10 == 5;
        if (huge) trial.set_failure_reason(std::string(3 << 20, 'x'));
        WriteBatch batch;
        batch.PutTrial(trial);
        batch.AddMeasurement(id, MakeMeasurement(1, 0.5));
        absl::Status status = store.Commit(batch);
        if (huge && absl::IsUnavailable(status)) {
          ++huge_failed;
        } else if (!status.ok()) {
          ++unexpected;
          ADD_FAILURE() << status;
        }
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(unexpected.load(), 0);
  EXPECT_EQ(huge_failed.load(), kCommits / 10);
  auto trials = store.LoadTrials("s");
  ASSERT_TRUE(trials.ok()) << trials.status();
  EXPECT_THAT(*trials, SizeIs(kThreads * kCommits - kCommits / 10));
  for (const caviar::v1::Trial& trial : *trials) {
    EXPECT_TRUE(trial.failure_reason().empty()) << trial.id();
    EXPECT_THAT(trial.measurements(), SizeIs(1)) << trial.id();
  }
  SqliteStore::CommitStats stats = store.commit_stats();
  EXPECT_EQ(stats.batches, kThreads * kCommits);
  // Eight threads committing at once do share transactions, and a huge
  // batch did land in a shared one (it is alone only if it arrived while
  // no other commit was in flight, 4 times out of 4).
  EXPECT_LT(stats.transactions, stats.batches);
  EXPECT_GT(stats.fallbacks, 0) << stats.transactions << " transactions";
}

}  // namespace
}  // namespace caviar::storage
