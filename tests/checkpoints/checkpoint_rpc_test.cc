// The checkpoint RPCs through a real in-process coordinator (gRPC over
// loopback, SQLite file, checkpoint folder) and the worker's
// CheckpointClient: a 10 MiB checkpoint in chunks, an upload resumed after
// its connection dropped, only the lease holder, resume after a lost lease.
#include <chrono>
#include <cstdio>
#include <memory>
#include <random>
#include <string>
#include <thread>

#include "common/clock.h"
#include "common/digest/sha256.h"
#include "common/grpc_status/grpc_status.h"
#include "gmock/gmock.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "gtest/gtest.h"
#include "server/checkpoints/checkpoint_store.h"
#include "server/rpc/server.h"
#include "server/scheduling/coordinator.h"
#include "storage/checkpoint_index.h"
#include "storage/sqlite_store.h"
#include "tests/testing/temp_dir.h"
#include "worker/checkpoints.h"

namespace caviar {
namespace {

using ::testing::HasSubstr;
using worker::CheckpointClient;
using worker::LeaseRef;

std::string RandomBytes(size_t n, uint32_t seed) {
  std::mt19937_64 gen(seed);
  std::string out(n, '\0');
  for (size_t i = 0; i + 8 <= n; i += 8) {
    const uint64_t v = gen();
    std::memcpy(out.data() + i, &v, 8);
  }
  return out;
}

class CheckpointRpcTest : public ::testing::Test {
 protected:
  void Start(std::vector<rpc::Credential> credentials = {},
             bool keep_checkpoints = true) {
    auto database = storage::SqliteStore::Open(dir_.File("caviar.db"));
    ASSERT_TRUE(database.ok()) << database.status();
    database_ = *std::move(database);
    auto coordinator =
        scheduling::Coordinator::Create(database_.get(), Clock::Real(), {});
    ASSERT_TRUE(coordinator.ok()) << coordinator.status();
    coordinator_ = *std::move(coordinator);
    index_ = std::make_unique<storage::CheckpointIndex>(database_.get());
    auto checkpoints = checkpoints::CheckpointStore::Open(
        checkpoints::CheckpointDirFor(dir_.File("caviar.db")), index_.get(),
        Clock::Real());
    ASSERT_TRUE(checkpoints.ok()) << checkpoints.status();
    checkpoints_ = *std::move(checkpoints);
    rpc::ServerOptions options;
    options.listen = "127.0.0.1:0";
    options.database = database_.get();
    if (keep_checkpoints) options.checkpoints = checkpoints_.get();
    options.credentials = std::move(credentials);
    auto server = rpc::CoordinatorServer::Start(coordinator_.get(), options);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    auto channel =
        grpc::CreateChannel(server_->address(), grpc::InsecureChannelCredentials());
    worker_stub_ = caviar::v1::WorkerService::NewStub(channel);
    study_stub_ = caviar::v1::StudyService::NewStub(channel);

    caviar::v1::StudySpec spec;
    spec.set_name("s");
    spec.mutable_objective()->set_metric("score");
    spec.mutable_objective()->set_goal(caviar::v1::MAXIMIZE);
    auto* p = spec.add_parameters();
    p->set_name("x");
    p->mutable_double_()->set_min(0);
    p->mutable_double_()->set_max(1);
    spec.mutable_budget()->set_max_trials(1);
    spec.mutable_trial_policy()->set_lease_seconds(lease_seconds_);
    spec.mutable_command()->add_argv("true");
    ASSERT_TRUE(coordinator_->CreateStudy(spec).ok());
  }

  // Runs one RPC with `token` (if any) and a deadline.
  worker::RpcRunner Runner(const std::string& token = "") {
    return [token](const std::function<grpc::Status(grpc::ClientContext*)>& rpc) {
      grpc::ClientContext context;
      context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
      if (!token.empty()) context.AddMetadata("authorization", "Bearer " + token);
      return FromGrpcStatus(rpc(&context));
    };
  }

  caviar::v1::SuggestTrialResponse Suggest(const std::string& worker,
                                           const std::string& token = "") {
    caviar::v1::SuggestTrialRequest request;
    request.set_worker_id(worker);
    caviar::v1::SuggestTrialResponse response;
    absl::Status status = Runner(token)([&](grpc::ClientContext* c) {
      return worker_stub_->SuggestTrial(c, request, &response);
    });
    EXPECT_TRUE(status.ok()) << status;
    return response;
  }

  std::vector<caviar::v1::Measurement> Curve(int64_t last_step) {
    std::vector<caviar::v1::Measurement> curve;
    for (int64_t step = 1; step <= last_step; ++step) {
      caviar::v1::Measurement& m = curve.emplace_back();
      m.set_step(step);
      (*m.mutable_metrics())["score"] = 0.1 * step;
    }
    return curve;
  }

  int lease_seconds_ = 60;
  testing::TempDir dir_;
  std::unique_ptr<storage::SqliteStore> database_;
  std::unique_ptr<scheduling::Coordinator> coordinator_;
  std::unique_ptr<storage::CheckpointIndex> index_;
  std::unique_ptr<checkpoints::CheckpointStore> checkpoints_;
  std::unique_ptr<rpc::CoordinatorServer> server_;
  std::unique_ptr<caviar::v1::WorkerService::Stub> worker_stub_;
  std::unique_ptr<caviar::v1::StudyService::Stub> study_stub_;
};

TEST_F(CheckpointRpcTest, TenMiBCheckpointGoesUpInChunksAndComesBackWithTheLease) {
  Start();
  const caviar::v1::SuggestTrialResponse lease = Suggest("w");
  ASSERT_TRUE(lease.has_trial());
  EXPECT_FALSE(lease.has_resume());
  const LeaseRef ref{lease.trial().id(), "w", lease.trial().attempt()};
  CheckpointClient client(worker_stub_.get(), Runner());
  const std::string bytes = RandomBytes(10 << 20, 1);  // Over gRPC's 4 MiB messages.

  const auto start = std::chrono::steady_clock::now();
  auto stored = client.Upload(ref, 3, bytes, Curve(4));
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  ASSERT_TRUE(stored.ok()) << stored.status();
  std::printf(
      "checkpoint upload: 10 MiB in %.1f ms = %.0f MiB/s (SHA-256 on both ends, "
      "fsync, SQLite index)\n",
      seconds * 1e3, 10 / seconds);
  EXPECT_EQ(stored->size_bytes(), bytes.size());
  EXPECT_EQ(stored->digest(), Sha256Digest(bytes));
  EXPECT_EQ(stored->step(), 3);
  EXPECT_EQ(stored->objective_value(), 0.1 * 3);

  // The same worker asking again (it restarted under the same id) is told
  // to resume from it, with the curve up to step 3 only.
  const caviar::v1::SuggestTrialResponse again = Suggest("w");
  ASSERT_TRUE(again.has_resume());
  EXPECT_EQ(again.resume().step(), 3);
  ASSERT_EQ(again.resume().curve_size(), 3);
  auto point = client.Download(ref, again.resume());
  ASSERT_TRUE(point.ok()) << point.status();
  EXPECT_EQ(point->step, 3);
  EXPECT_TRUE(point->bytes == bytes);
  EXPECT_EQ(point->curve.back().step(), 3);

  caviar::v1::ListCheckpointsRequest list;
  list.set_trial_id(ref.trial_id);
  caviar::v1::ListCheckpointsResponse listed;
  ASSERT_TRUE(Runner()([&](grpc::ClientContext* c) {
                return study_stub_->ListCheckpoints(c, list, &listed);
              }).ok());
  ASSERT_EQ(listed.checkpoints_size(), 1);
  EXPECT_EQ(listed.checkpoints(0).curve_size(), 0);
}

TEST_F(CheckpointRpcTest, AnUploadCutOffGoesOnFromTheBytesTheCoordinatorHas) {
  Start();
  const caviar::v1::SuggestTrialResponse lease = Suggest("w");
  const LeaseRef ref{lease.trial().id(), "w", lease.trial().attempt()};
  const std::string bytes = RandomBytes(6 << 20, 2);
  const std::string digest = Sha256Digest(bytes);
  {
    // 3 MiB go out, then the connection is cut.
    grpc::ClientContext context;
    caviar::v1::UploadCheckpointResponse response;
    auto writer = worker_stub_->UploadCheckpoint(&context, &response);
    for (int i = 0; i < 3; ++i) {
      caviar::v1::UploadCheckpointRequest chunk;
      if (i == 0) {
        chunk.set_trial_id(ref.trial_id);
        chunk.set_worker_id(ref.worker_id);
        chunk.set_attempt(ref.attempt);
        chunk.set_step(2);
        chunk.set_total_bytes(bytes.size());
        chunk.set_digest(digest);
      }
      chunk.set_offset(int64_t(i) << 20);
      chunk.set_data(bytes.substr(size_t(i) << 20, 1 << 20));
      ASSERT_TRUE(writer->Write(chunk));
    }
    // Wait until the coordinator has them, then drop the call.
    for (int i = 0;
         i < 200 && checkpoints_->PartialBytes(ref.trial_id, 2, digest) < (3 << 20);
         ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    context.TryCancel();
    EXPECT_FALSE(writer->Finish().ok());
  }
  caviar::v1::CheckpointUploadOffsetRequest ask;
  ask.set_trial_id(ref.trial_id);
  ask.set_worker_id("w");
  ask.set_attempt(ref.attempt);
  ask.set_step(2);
  ask.set_digest(digest);
  caviar::v1::CheckpointUploadOffsetResponse where;
  // The reactor of the cut call may still hold the upload for a moment.
  for (int i = 0; i < 100; ++i) {
    ASSERT_TRUE(Runner()([&](grpc::ClientContext* c) {
                  return worker_stub_->CheckpointUploadOffset(c, ask, &where);
                }).ok());
    if (where.offset() == (3 << 20)) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(where.offset(), 3 << 20);

  // The client asks the same question and sends only the rest (the
  // coordinator takes a chunk only at the offset it has, so a client that
  // started over from 0 would be refused).
  CheckpointClient client(worker_stub_.get(), Runner());
  auto stored = client.Upload(ref, 2, bytes, Curve(2));
  ASSERT_TRUE(stored.ok()) << stored.status();
  EXPECT_EQ(stored->digest(), digest);
  auto reader = checkpoints_->OpenReader(ref.trial_id, 2);
  ASSERT_TRUE(reader.ok());
  EXPECT_TRUE(*(*reader)->Read(0, bytes.size()) == bytes);
}

TEST_F(CheckpointRpcTest, OnlyTheLeaseHolderMovesCheckpoints) {
  Start({{"w1", rpc::Role::kWorker, "token-1"}, {"w2", rpc::Role::kWorker, "token-2"}});
  const caviar::v1::SuggestTrialResponse lease = Suggest("w", "token-1");
  ASSERT_TRUE(lease.has_trial());
  const int64_t id = lease.trial().id();
  const std::string bytes = RandomBytes(1000, 3);

  // Another credential, even with the same worker id.
  CheckpointClient other(worker_stub_.get(), Runner("token-2"));
  absl::Status status = other.Upload({id, "w", 1}, 1, bytes, Curve(1)).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kPermissionDenied) << status;
  // The right credential, but another worker or another attempt.
  CheckpointClient holder(worker_stub_.get(), Runner("token-1"));
  status = holder.Upload({id, "v", 1}, 1, bytes, Curve(1)).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition) << status;
  EXPECT_THAT(status.message(), HasSubstr("only the lease holder"));
  status = holder.Upload({id, "w", 2}, 1, bytes, Curve(1)).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition) << status;
  // No token at all.
  CheckpointClient anonymous(worker_stub_.get(), Runner());
  EXPECT_EQ(anonymous.Upload({id, "w", 1}, 1, bytes, Curve(1)).status().code(),
            absl::StatusCode::kUnauthenticated);
  EXPECT_TRUE(checkpoints_->List(id)->empty());

  ASSERT_TRUE(holder.Upload({id, "w", 1}, 1, bytes, Curve(1)).ok());
  caviar::v1::CheckpointInfo info = *checkpoints_->List(id)->begin();
  EXPECT_EQ(other.Download({id, "w", 1}, info).status().code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_TRUE(holder.Download({id, "w", 1}, info).ok());
}

TEST_F(CheckpointRpcTest, ALostLeaseResumesFromTheLatestCheckpoint) {
  lease_seconds_ = 1;
  Start();
  const caviar::v1::SuggestTrialResponse first = Suggest("a");
  const int64_t id = first.trial().id();
  CheckpointClient client(worker_stub_.get(), Runner());
  const std::string step1 = RandomBytes(5000, 4), step2 = RandomBytes(6000, 5);
  ASSERT_TRUE(client.Upload({id, "a", 1}, 1, step1, Curve(1)).ok());
  ASSERT_TRUE(client.Upload({id, "a", 1}, 2, step2, Curve(3)).ok());

  // Worker a goes silent; the server's reaper expires its lease.
  caviar::v1::SuggestTrialResponse second;
  for (int i = 0; i < 100 && !second.has_trial(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    second = Suggest("b");
  }
  ASSERT_TRUE(second.has_trial());
  EXPECT_EQ(second.trial().id(), id);
  EXPECT_EQ(second.trial().attempt(), 2);
  ASSERT_TRUE(second.has_resume());
  EXPECT_EQ(second.resume().step(), 2);
  EXPECT_EQ(second.resume().curve_size(), 2);  // Step 3 came after the checkpoint.
  auto point = client.Download({id, "b", 2}, second.resume());
  ASSERT_TRUE(point.ok()) << point.status();
  EXPECT_TRUE(point->bytes == step2);

  // The old holder can neither upload nor download any more.
  EXPECT_EQ(client.Upload({id, "a", 1}, 3, step1, Curve(3)).status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(client.Download({id, "a", 1}, second.resume()).status().code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST_F(CheckpointRpcTest, ACoordinatorWithoutCheckpointsSaysSoAndLeasesGoOn) {
  Start({}, /*keep_checkpoints=*/false);
  const caviar::v1::SuggestTrialResponse lease = Suggest("w");
  ASSERT_TRUE(lease.has_trial());
  CheckpointClient client(worker_stub_.get(), Runner());
  absl::Status status =
      client.Upload({lease.trial().id(), "w", 1}, 1, "state", Curve(1)).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kUnimplemented) << status;
  EXPECT_THAT(status.message(), HasSubstr("keeps no checkpoints"));
  EXPECT_FALSE(Suggest("w").has_resume());
}

}  // namespace
}  // namespace caviar
