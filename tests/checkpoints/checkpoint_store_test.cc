// CheckpointStore over a real SQLite file and a real folder: chunked writes,
// the digest check, resumable uploads, limits, retention, restart.
#include "server/checkpoints/checkpoint_store.h"

#include <filesystem>
#include <memory>
#include <random>
#include <string>

#include "common/clock.h"
#include "common/digest/sha256.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "storage/checkpoint_index.h"
#include "storage/sqlite_store.h"
#include "tests/testing/temp_dir.h"

namespace caviar::checkpoints {
namespace {

using caviar::v1::CheckpointInfo;
using ::testing::HasSubstr;

std::string RandomBytes(size_t n, uint32_t seed) {
  std::mt19937 gen(seed);
  std::string out(n, '\0');
  for (char& c : out) c = static_cast<char>(gen());
  return out;
}

class CheckpointStoreTest : public ::testing::Test {
 protected:
  void SetUp() override { Reopen(); }

  void Reopen(CheckpointLimits limits = {}) {
    store_ = nullptr;
    index_ = nullptr;
    database_ = nullptr;
    auto database = storage::SqliteStore::Open(dir_.File("caviar.db"));
    ASSERT_TRUE(database.ok()) << database.status();
    database_ = *std::move(database);
    index_ = std::make_unique<storage::CheckpointIndex>(database_.get());
    auto store = CheckpointStore::Open(CheckpointDirFor(dir_.File("caviar.db")),
                                       index_.get(), &clock_, limits);
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = *std::move(store);
  }

  CheckpointStore::UploadHeader Header(int64_t trial, int64_t step,
                                       const std::string& bytes, double accuracy = 0.5,
                                       const std::string& study = "s") {
    CheckpointStore::UploadHeader header;
    header.info.set_trial_id(trial);
    header.info.set_study(study);
    header.info.set_step(step);
    header.info.set_attempt(1);
    header.info.set_size_bytes(bytes.size());
    header.info.set_digest(Sha256Digest(bytes));
    caviar::v1::Measurement* m = header.info.add_curve();
    m->set_step(step);
    (*m->mutable_metrics())["accuracy"] = accuracy;
    header.spec = spec_;
    return header;
  }

  // Uploads `bytes` in chunks of `chunk` and commits.
  absl::StatusOr<CheckpointInfo> Put(CheckpointStore::UploadHeader header,
                                     const std::string& bytes, size_t chunk = 1000) {
    auto upload = store_->BeginUpload(std::move(header));
    if (!upload.ok()) return upload.status();
    for (size_t offset = 0; offset < bytes.size(); offset += chunk) {
      absl::Status s =
          (*upload)->Append(offset, std::string_view(bytes).substr(offset, chunk));
      if (!s.ok()) return s;
    }
    return (*upload)->Commit();
  }

  std::vector<int64_t> Steps(int64_t trial) {
    std::vector<int64_t> steps;
    // Held by name: a range-for over `*store_->List(trial)` would walk a
    // StatusOr destroyed before the loop (ASan: stack-use-after-scope).
    absl::StatusOr<std::vector<CheckpointInfo>> listed = store_->List(trial);
    EXPECT_TRUE(listed.ok()) << listed.status();
    if (!listed.ok()) return steps;
    for (const CheckpointInfo& info : *listed) steps.push_back(info.step());
    return steps;
  }

  std::string ReadAll(int64_t trial, int64_t step) {
    auto reader = store_->OpenReader(trial, step);
    EXPECT_TRUE(reader.ok()) << reader.status();
    if (!reader.ok()) return "";
    std::string out;
    while (true) {
      auto chunk = (*reader)->Read(out.size(), 4096);
      EXPECT_TRUE(chunk.ok()) << chunk.status();
      if (!chunk.ok() || chunk->empty()) break;
      out += *chunk;
    }
    return out;
  }

  testing::TempDir dir_;
  FakeClock clock_;
  caviar::v1::StudySpec spec_ = [] {
    caviar::v1::StudySpec spec;
    spec.set_name("s");
    spec.mutable_objective()->set_metric("accuracy");
    spec.mutable_objective()->set_goal(caviar::v1::MAXIMIZE);
    return spec;
  }();
  std::unique_ptr<storage::SqliteStore> database_;
  std::unique_ptr<storage::CheckpointIndex> index_;
  std::unique_ptr<CheckpointStore> store_;
};

TEST_F(CheckpointStoreTest, StoresChunksAsOneCheckedFileThatSurvivesARestart) {
  const std::string bytes = RandomBytes(3 << 20, 1);
  auto stored = Put(Header(7, 3, bytes, 0.8), bytes, 1 << 20);
  ASSERT_TRUE(stored.ok()) << stored.status();
  EXPECT_EQ(stored->size_bytes(), bytes.size());
  EXPECT_EQ(stored->digest(), Sha256Digest(bytes));
  EXPECT_EQ(stored->objective_value(), 0.8);
  EXPECT_TRUE(stored->has_create_time());
  const std::string file =
      CheckpointDirFor(dir_.File("caviar.db")) + "/trial-7/step-3.ckpt";
  EXPECT_EQ(std::filesystem::file_size(file), bytes.size());
  EXPECT_EQ(ReadAll(7, 3), bytes);

  Reopen();  // A coordinator restart: the index is in SQLite, the file on disk.
  auto latest = store_->Latest(7);
  ASSERT_TRUE(latest.ok() && latest->has_value());
  EXPECT_EQ((*latest)->step(), 3);
  EXPECT_EQ((*latest)->curve_size(), 1);  // The curve travels with a resume.
  EXPECT_EQ(ReadAll(7, 3), bytes);
  EXPECT_EQ(store_->List(7)->at(0).curve_size(), 0);  // Listings leave it out.
}

TEST_F(CheckpointStoreTest, RefusesChunksAtTheWrongOffsetOrPastTheEnd) {
  const std::string bytes = RandomBytes(100, 2);
  auto upload = store_->BeginUpload(Header(1, 1, bytes));
  ASSERT_TRUE(upload.ok());
  absl::Status gap = (*upload)->Append(10, "x");
  EXPECT_EQ(gap.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(gap.message(), HasSubstr("has 0 bytes"));
  EXPECT_EQ((*upload)->Append(0, std::string(101, 'x')).code(),
            absl::StatusCode::kInvalidArgument);
  ASSERT_TRUE((*upload)->Append(0, bytes.substr(0, 50)).ok());
  EXPECT_EQ((*upload)->Commit().status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(Steps(1).empty());
}

TEST_F(CheckpointStoreTest, BytesThatDoNotMatchTheDigestAreDataLossAndStoreNothing) {
  const std::string bytes = RandomBytes(5000, 3);
  std::string damaged = bytes;
  damaged[4000] ^= 1;
  auto stored = Put(Header(1, 2, bytes), damaged);
  EXPECT_EQ(stored.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(stored.status().message(), HasSubstr("upload it again"));
  EXPECT_TRUE(Steps(1).empty());
  EXPECT_EQ(store_->PartialBytes(1, 2, Sha256Digest(bytes)), 0);  // Starts over.
}

TEST_F(CheckpointStoreTest, AnInterruptedUploadGoesOnWhereItStopped) {
  const std::string bytes = RandomBytes(3000, 4);
  {
    auto upload = store_->BeginUpload(Header(1, 4, bytes));
    ASSERT_TRUE(upload.ok());
    ASSERT_TRUE((*upload)->Append(0, bytes.substr(0, 1200)).ok());
    // The second upload of the same checkpoint waits for this one to end.
    EXPECT_EQ(store_->BeginUpload(Header(1, 4, bytes)).status().code(),
              absl::StatusCode::kAborted);
  }  // The connection dropped.
  EXPECT_EQ(store_->PartialBytes(1, 4, Sha256Digest(bytes)), 1200);
  auto upload = store_->BeginUpload(Header(1, 4, bytes));
  ASSERT_TRUE(upload.ok());
  EXPECT_EQ((*upload)->received(), 1200);
  ASSERT_TRUE((*upload)->Append(1200, bytes.substr(1200)).ok());
  auto stored = (*upload)->Commit();
  ASSERT_TRUE(stored.ok()) << stored.status();
  EXPECT_EQ(ReadAll(1, 4), bytes);
}

TEST_F(CheckpointStoreTest, AStoredCheckpointDropsAbandonedPartialFiles) {
  const std::string old_bytes = RandomBytes(3000, 7), new_bytes = RandomBytes(3000, 8);
  {
    auto upload = store_->BeginUpload(Header(1, 2, old_bytes));
    ASSERT_TRUE(upload.ok());
    ASSERT_TRUE((*upload)->Append(0, old_bytes.substr(0, 100)).ok());
  }
  {
    auto upload = store_->BeginUpload(Header(1, 9, old_bytes));  // A later step.
    ASSERT_TRUE(upload.ok());
    ASSERT_TRUE((*upload)->Append(0, old_bytes.substr(0, 100)).ok());
  }
  ASSERT_EQ(store_->PartialBytes(1, 2, Sha256Digest(old_bytes)), 100);
  ASSERT_TRUE(Put(Header(1, 3, new_bytes), new_bytes).ok());
  EXPECT_EQ(store_->PartialBytes(1, 2, Sha256Digest(old_bytes)), 0);
  EXPECT_EQ(store_->PartialBytes(1, 9, Sha256Digest(old_bytes)), 100);
}

TEST_F(CheckpointStoreTest, BadHeadersNameTheField) {
  const std::string bytes = "abc";
  auto header = Header(1, 1, bytes);
  header.info.set_digest("md5:1234");
  absl::Status status = store_->BeginUpload(header).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("digest"));
  header = Header(1, -1, bytes);
  EXPECT_THAT(store_->BeginUpload(header).status().message(), HasSubstr("step"));
  header = Header(0, 1, bytes);
  EXPECT_THAT(store_->BeginUpload(header).status().message(), HasSubstr("trial_id"));
}

TEST_F(CheckpointStoreTest, LimitsPerCheckpointAndPerStudyAreClearErrors) {
  Reopen({/*max_checkpoint_bytes=*/1000, /*max_study_bytes=*/2500});
  const std::string big = RandomBytes(1001, 5);
  absl::Status status = store_->BeginUpload(Header(1, 1, big)).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(status.message(), HasSubstr("--max-checkpoint-bytes"));
  const std::string ok = RandomBytes(1000, 6);
  ASSERT_TRUE(Put(Header(1, 1, ok), ok).ok());
  ASSERT_TRUE(Put(Header(2, 1, ok), ok).ok());
  status = store_->BeginUpload(Header(3, 1, ok)).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(status.message(), HasSubstr("--max-study-checkpoint-bytes"));
  EXPECT_THAT(status.message(), HasSubstr("2000 bytes"));
  // Another study has its own budget; replacing a step does not count twice.
  ASSERT_TRUE(Put(Header(3, 1, ok, 0.5, "other"), ok).ok());
  ASSERT_TRUE(Put(Header(1, 1, ok), ok).ok());
}

TEST_F(CheckpointStoreTest, RetentionKeepsTheLatestAndTheBest) {
  spec_.mutable_checkpoint()->set_keep_latest(2);
  spec_.mutable_checkpoint()->set_keep_best(1);
  const double accuracy[] = {0.5, 0.9, 0.6, 0.7, 0.65};
  for (int step = 1; step <= 5; ++step) {
    const std::string bytes = RandomBytes(100, step);
    ASSERT_TRUE(Put(Header(1, step, bytes, accuracy[step - 1]), bytes).ok());
  }
  EXPECT_THAT(Steps(1), ::testing::ElementsAre(2, 4, 5));
  const std::string dir = CheckpointDirFor(dir_.File("caviar.db")) + "/trial-1/";
  EXPECT_FALSE(std::filesystem::exists(dir + "step-1.ckpt"));
  EXPECT_FALSE(std::filesystem::exists(dir + "step-3.ckpt"));
  EXPECT_TRUE(std::filesystem::exists(dir + "step-2.ckpt"));

  spec_.mutable_objective()->set_goal(caviar::v1::MINIMIZE);  // Now 0.65 is "best".
  spec_.mutable_checkpoint()->set_keep_latest(1);
  const std::string bytes = RandomBytes(100, 6);
  ASSERT_TRUE(Put(Header(1, 6, bytes, 0.8), bytes).ok());
  EXPECT_THAT(Steps(1), ::testing::ElementsAre(5, 6));
}

TEST_F(CheckpointStoreTest, RetentionSparesACheckpointBeingRead) {
  spec_.mutable_checkpoint()->set_keep_latest(1);
  spec_.mutable_checkpoint()->set_keep_best(0);
  const std::string first = RandomBytes(100, 1);
  ASSERT_TRUE(Put(Header(1, 1, first), first).ok());
  {
    auto reader = store_->OpenReader(1, 1);
    ASSERT_TRUE(reader.ok());
    const std::string second = RandomBytes(100, 2);
    ASSERT_TRUE(Put(Header(1, 2, second), second).ok());
    EXPECT_THAT(Steps(1), ::testing::ElementsAre(1, 2));
    EXPECT_EQ(*(*reader)->Read(0, 1000), first);
  }
  const std::string third = RandomBytes(100, 3);
  ASSERT_TRUE(Put(Header(1, 3, third), third).ok());
  EXPECT_THAT(Steps(1), ::testing::ElementsAre(3));
}

TEST_F(CheckpointStoreTest, RetentionKeepsAPendingRollbacksCheckpoint) {
  spec_.mutable_checkpoint()->set_keep_latest(1);
  spec_.mutable_checkpoint()->set_keep_best(0);
  for (int step = 1; step <= 4; ++step) {
    const std::string bytes = RandomBytes(100, step);
    CheckpointStore::UploadHeader header = Header(1, step, bytes);
    header.keep_step = 2;  // Trial.rollback_step.
    ASSERT_TRUE(Put(std::move(header), bytes).ok());
  }
  EXPECT_THAT(Steps(1), ::testing::ElementsAre(2, 4));
  EXPECT_EQ(ReadAll(1, 2), RandomBytes(100, 2));
}

TEST_F(CheckpointStoreTest, DeleteAfterDropsLaterStepsButNotOnesBeingRead) {
  spec_.mutable_checkpoint()->set_keep_latest(10);
  for (int step = 1; step <= 5; ++step) {
    const std::string bytes = RandomBytes(100, step);
    ASSERT_TRUE(Put(Header(1, step, bytes), bytes).ok());
  }
  {
    auto reader = store_->OpenReader(1, 5);
    ASSERT_TRUE(reader.ok());
    EXPECT_EQ(*store_->DeleteAfter(1, 2), 2);  // 3 and 4; 5 is being read.
    EXPECT_THAT(Steps(1), ::testing::ElementsAre(1, 2, 5));
  }
  EXPECT_EQ(*store_->DeleteAfter(1, 2), 1);
  EXPECT_THAT(Steps(1), ::testing::ElementsAre(1, 2));
  EXPECT_FALSE(std::filesystem::exists(CheckpointDirFor(dir_.File("caviar.db")) +
                                       "/trial-1/step-3.ckpt"));
  EXPECT_EQ((*store_->Latest(1))->step(), 2);
  EXPECT_EQ(store_->Get(1, 2)->curve(0).step(), 2);
  EXPECT_EQ(store_->Get(1, 3).status().code(), absl::StatusCode::kNotFound);
}

TEST_F(CheckpointStoreTest, UnknownCheckpointIsNotFound) {
  EXPECT_EQ(store_->OpenReader(9, 9).status().code(), absl::StatusCode::kNotFound);
  auto latest = store_->Latest(9);
  ASSERT_TRUE(latest.ok());
  EXPECT_FALSE(latest->has_value());
}

}  // namespace
}  // namespace caviar::checkpoints
