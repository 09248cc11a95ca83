// Every RPC of the coordinator x every kind of caller (no token, a wrong
// token, viewer, worker, admin, another worker credential), against the
// real CoordinatorServer on a loopback socket, in plaintext, over TLS and
// over mutual TLS.
#include <functional>
#include <map>
#include <set>

#include "absl/strings/match.h"
#include "common/digest/sha256.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/security/security_fixture.h"

namespace caviar::security_test {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// The callers, in the order of the expectation strings below.
struct CallerSpec {
  const char* name;
  const char* token;
};
constexpr CallerSpec kCallers[] = {
    {"none", ""},
    {"wrong", "not-a-token-of-this-coordinator"},
    {"viewer", kViewerToken},
    {"worker", kPoolAToken},
    {"admin", kAdminToken},
    {"other-worker", kPoolBToken},
};
constexpr int kNumCallers = std::size(kCallers);

// U = UNAUTHENTICATED, D = PERMISSION_DENIED, O = OK,
// A = allowed (any answer but U or D: the call reached the coordinator,
// which may refuse it for its own reasons).
struct Row {
  const char* rpc;
  const char* expected;  // One letter per caller.
};

class AuthMatrixTest : public ::testing::TestWithParam<Transport> {
 protected:
  void SetUp() override {
    f_ = std::make_unique<CoordinatorFixture>(GetParam());
    channel_ = f_->Channel();
    studies_ = v1::StudyService::NewStub(channel_);
    workers_ = v1::WorkerService::NewStub(channel_);
    admin_ = v1::AdminService::NewStub(channel_);
    // Study "s": five trials succeeded (for retest, importance), three leased by pool-a.
    v1::Study study;
    v1::CreateStudyRequest create;
    *create.mutable_spec() = Spec("s");
    ASSERT_TRUE(studies_->CreateStudy(Context(kAdminToken).get(), create, &study).ok());
    *create.mutable_spec() = Spec("stoppable");
    ASSERT_TRUE(studies_->CreateStudy(Context(kAdminToken).get(), create, &study).ok());
    for (int i = 0; i < 5; ++i) {
      v1::Trial done = Suggest(kPoolAToken, "done");
      ASSERT_TRUE(Complete(kPoolAToken, done, "done", 0.1 * i).ok());
    }
    for (const char* worker : {"w", "w2", "w3"})
      leased_[worker] = Suggest(kPoolAToken, worker);
  }

  v1::Trial Suggest(const std::string& token, const std::string& worker) {
    v1::SuggestTrialRequest request;
    request.set_worker_id(worker);
    request.set_study("s");
    v1::SuggestTrialResponse response;
    grpc::Status status =
        workers_->SuggestTrial(Context(token).get(), request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    EXPECT_TRUE(response.has_trial());
    return response.trial();
  }

  grpc::Status Complete(const std::string& token, const v1::Trial& trial,
                        const std::string& worker, double score, bool release = false) {
    v1::CompleteTrialRequest request;
    request.set_trial_id(trial.id());
    request.set_worker_id(worker);
    request.set_attempt(trial.attempt());
    (*request.mutable_final_measurement()->mutable_metrics())["score"] = score;
    request.set_release(release);
    v1::Trial response;
    return workers_->CompleteTrial(Context(token).get(), request, &response);
  }

  // Calls `rpc` as the caller with `token` (`caller` names it, for requests
  // that must differ per caller).
  grpc::Status Call(const std::string& rpc, const std::string& token,
                    const std::string& caller) {
    auto context = Context(token);
    grpc::ClientContext* c = context.get();
    const v1::Trial& t = leased_["w"];
    if (rpc == "CreateStudy") {
      v1::CreateStudyRequest r;
      *r.mutable_spec() = Spec("created-by-" + caller);
      v1::Study out;
      return studies_->CreateStudy(c, r, &out);
    }
    if (rpc == "GetStudy") {
      v1::GetStudyRequest r;
      r.set_name("s");
      v1::Study out;
      return studies_->GetStudy(c, r, &out);
    }
    if (rpc == "ListStudies") {
      v1::ListStudiesResponse out;
      return studies_->ListStudies(c, v1::ListStudiesRequest(), &out);
    }
    if (rpc == "StopStudy") {
      v1::StopStudyRequest r;
      r.set_name("stoppable");
      v1::Study out;
      return studies_->StopStudy(c, r, &out);
    }
    if (rpc == "ListTrials") {
      v1::ListTrialsRequest r;
      r.set_study("s");
      v1::ListTrialsResponse out;
      return studies_->ListTrials(c, r, &out);
    }
    if (rpc == "GetTrial") {
      v1::GetTrialRequest r;
      r.set_id(t.id());
      v1::Trial out;
      return studies_->GetTrial(c, r, &out);
    }
    if (rpc == "BestTrials") {
      v1::BestTrialsRequest r;
      r.set_study("s");
      v1::BestTrialsResponse out;
      return studies_->BestTrials(c, r, &out);
    }
    if (rpc == "RefineStudy") {
      v1::RefineStudyRequest r;
      r.set_study("s");
      (*r.mutable_ranges())["x"].mutable_lo()->set_double_value(0.2);
      (*r.mutable_ranges())["x"].mutable_hi()->set_double_value(0.6);
      r.set_additional_trials(1);
      v1::Study out;
      return studies_->RefineStudy(c, r, &out);
    }
    if (rpc == "EnqueueTrials") {
      v1::EnqueueTrialsRequest r;
      r.set_study("s");
      (*r.add_configurations()->mutable_parameters())["x"].set_double_value(0.3);
      v1::EnqueueTrialsResponse out;
      return studies_->EnqueueTrials(c, r, &out);
    }
    if (rpc == "RetestTrials") {
      v1::RetestTrialsRequest r;
      r.set_study("s");
      v1::EnqueueTrialsResponse out;
      return studies_->RetestTrials(c, r, &out);
    }
    if (rpc == "NudgeTrial") {
      v1::NudgeTrialRequest r;
      r.set_trial_id(t.id());
      (*r.mutable_parameters())["x"].set_double_value(0.4);
      v1::Trial out;
      return studies_->NudgeTrial(c, r, &out);
    }
    if (rpc == "GetImportance") {
      v1::GetImportanceRequest r;
      r.set_study("s");
      v1::GetImportanceResponse out;
      return studies_->GetImportance(c, r, &out);
    }
    if (rpc == "SuggestTrial") {
      v1::SuggestTrialRequest r;
      r.set_worker_id("w");
      r.set_study("s");
      v1::SuggestTrialResponse out;
      grpc::Status status = workers_->SuggestTrial(c, r, &out);
      // The same worker id under another credential is another worker.
      if (status.ok() && token == kPoolAToken) EXPECT_EQ(out.trial().id(), t.id());
      if (status.ok() && token != kPoolAToken) EXPECT_NE(out.trial().id(), t.id());
      return status;
    }
    if (rpc == "ReportProgress") {
      v1::ReportProgressRequest r;
      r.set_trial_id(t.id());
      r.set_worker_id("w");
      r.set_attempt(t.attempt());
      r.mutable_measurement()->set_step(1);
      (*r.mutable_measurement()->mutable_metrics())["score"] = 0.25;
      v1::ReportProgressResponse out;
      return workers_->ReportProgress(c, r, &out);
    }
    if (rpc == "CompleteTrial") {
      context.reset();
      return Complete(token, leased_["w2"], "w2", 0.75);
    }
    if (rpc == "ReleaseTrial") {
      context.reset();
      return Complete(token, leased_["w3"], "w3", 0, /*release=*/true);
    }
    if (rpc == "Backup") {
      auto reader = admin_->Backup(c, v1::BackupRequest());
      v1::BackupChunk chunk;
      int64_t bytes = 0, total = -1;
      while (reader->Read(&chunk)) {
        if (total < 0) total = chunk.total_bytes();
        bytes += chunk.data().size();
      }
      grpc::Status status = reader->Finish();
      if (status.ok()) {
        EXPECT_GT(bytes, 0);
        EXPECT_EQ(bytes, total);
      }
      return status;
    }
    if (rpc == "Watch") {
      v1::WatchRequest r;
      r.set_study("s");
      auto reader = studies_->Watch(c, r);
      v1::WatchEvent event;
      if (!reader->Read(&event)) return reader->Finish();
      EXPECT_EQ(event.kind(), v1::WATCH_SNAPSHOT);
      EXPECT_EQ(event.study().spec().name(), "s");
      c->TryCancel();  // The study goes on: the stream would not end.
      reader->Finish();
      return grpc::Status::OK;
    }
    // The checkpoint calls, on the trial pool-a's worker "w" holds: an
    // upload at step 1, its offset, its download, the list.
    const std::string bytes = "checkpoint bytes of trial w";
    if (rpc == "UploadCheckpoint") {
      v1::UploadCheckpointResponse out;
      auto writer = workers_->UploadCheckpoint(c, &out);
      v1::UploadCheckpointRequest r;
      r.set_trial_id(t.id());
      r.set_worker_id("w");
      r.set_attempt(t.attempt());
      r.set_step(1);
      r.set_total_bytes(bytes.size());
      r.set_digest(Sha256Digest(bytes));
      r.set_data(bytes);
      writer->Write(r);
      writer->WritesDone();
      grpc::Status status = writer->Finish();
      if (status.ok())
        EXPECT_EQ(out.received_bytes(), static_cast<int64_t>(bytes.size()));
      return status;
    }
    if (rpc == "CheckpointUploadOffset") {
      v1::CheckpointUploadOffsetRequest r;
      r.set_trial_id(t.id());
      r.set_worker_id("w");
      r.set_attempt(t.attempt());
      r.set_step(1);
      r.set_digest(Sha256Digest(bytes));
      v1::CheckpointUploadOffsetResponse out;
      return workers_->CheckpointUploadOffset(c, r, &out);
    }
    if (rpc == "DownloadCheckpoint") {
      v1::DownloadCheckpointRequest r;
      r.set_trial_id(t.id());
      r.set_worker_id("w");
      r.set_attempt(t.attempt());
      r.set_step(1);
      auto reader = workers_->DownloadCheckpoint(c, r);
      v1::CheckpointChunk chunk;
      std::string received;
      while (reader->Read(&chunk)) received += chunk.data();
      grpc::Status status = reader->Finish();
      if (status.ok()) EXPECT_EQ(received, bytes);
      return status;
    }
    if (rpc == "ListCheckpoints") {
      v1::ListCheckpointsRequest r;
      r.set_trial_id(t.id());
      v1::ListCheckpointsResponse out;
      grpc::Status status = studies_->ListCheckpoints(c, r, &out);
      if (status.ok()) EXPECT_EQ(out.checkpoints_size(), 1);
      return status;
    }
    // The panda calls, last: they change the trial's state.
    if (rpc == "RollbackTrial") {
      v1::RollbackTrialRequest r;
      r.set_trial_id(t.id());
      r.set_to_step(1);
      v1::Trial out;
      return studies_->RollbackTrial(c, r, &out);
    }
    if (rpc == "PauseTrial") {
      v1::PauseTrialRequest r;
      r.set_trial_id(t.id());
      v1::Trial out;
      return studies_->PauseTrial(c, r, &out);
    }
    if (rpc == "ResumeTrial") {
      v1::ResumeTrialRequest r;
      r.set_trial_id(t.id());
      v1::Trial out;
      return studies_->ResumeTrial(c, r, &out);
    }
    ADD_FAILURE() << "unknown rpc " << rpc;
    return grpc::Status::CANCELLED;
  }

  std::unique_ptr<CoordinatorFixture> f_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::StudyService::Stub> studies_;
  std::unique_ptr<v1::WorkerService::Stub> workers_;
  std::unique_ptr<v1::AdminService::Stub> admin_;
  std::map<std::string, v1::Trial> leased_;
};

// Columns: none, wrong, viewer, worker (pool-a, which holds the leases),
// admin, other worker (pool-b).
constexpr Row kMatrix[] = {
    {"CreateStudy", "UUDDOD"},
    {"GetStudy", "UUODOD"},
    {"ListStudies", "UUODOD"},
    {"StopStudy", "UUDDOD"},
    {"ListTrials", "UUODOD"},
    {"GetTrial", "UUODOD"},
    {"BestTrials", "UUODOD"},
    {"RefineStudy", "UUDDOD"},
    {"EnqueueTrials", "UUDDOD"},
    {"RetestTrials", "UUDDOD"},
    {"NudgeTrial", "UUDDOD"},
    {"GetImportance", "UUODOD"},
    {"SuggestTrial", "UUDOOO"},
    {"ReportProgress", "UUDODD"},
    {"CompleteTrial", "UUDODD"},
    {"ReleaseTrial", "UUDODD"},
    {"Backup", "UUDDOD"},
    {"Watch", "UUODOD"},
    // A checkpoint belongs to the lease like a report: only its holder.
    {"UploadCheckpoint", "UUDODD"},
    {"CheckpointUploadOffset", "UUDODD"},
    {"DownloadCheckpoint", "UUDODD"},
    {"ListCheckpoints", "UUODOD"},
    // Admin only; the coordinator may refuse the admin's call for the
    // trial's state (A): rollback of an ACTIVE trial to step 1, pause, resume.
    {"RollbackTrial", "UUDDAD"},
    {"PauseTrial", "UUDDAD"},
    {"ResumeTrial", "UUDDAD"},
};

// Every RPC of every service must have a row in kMatrix (who may call it).
TEST(AuthMatrixCoverageTest, EveryRpcOfEveryServiceIsClassified) {
  std::set<std::string> classified;
  for (const Row& row : kMatrix) classified.insert(row.rpc);
  for (const char* name :
       {"caviar.v1.StudyService", "caviar.v1.WorkerService", "caviar.v1.AdminService"}) {
    const google::protobuf::ServiceDescriptor* service =
        google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(name);
    ASSERT_NE(service, nullptr) << name;
    for (int i = 0; i < service->method_count(); ++i) {
      EXPECT_TRUE(classified.count(service->method(i)->name()))
          << service->full_name() << "." << service->method(i)->name()
          << " is not in the auth matrix: add a row (who may call it)";
    }
  }
}

// Callers run in this order: the lease holder last, so the others try
// while its trials are still ACTIVE.
constexpr int kOrder[] = {0, 1, 2, 4, 5, 3};

TEST_P(AuthMatrixTest, EveryRpcForEveryCaller) {
  int refused = 0;
  for (const Row& row : kMatrix) {
    ASSERT_EQ(std::strlen(row.expected), static_cast<size_t>(kNumCallers)) << row.rpc;
    for (int i : kOrder) {
      const CallerSpec& caller = kCallers[i];
      grpc::Status status = Call(row.rpc, caller.token, caller.name);
      const std::string where =
          absl::StrCat(row.rpc, " as ", caller.name, ": ", status.error_code(), " ",
                       status.error_message());
      switch (row.expected[i]) {
        case 'U':
          EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAUTHENTICATED) << where;
          break;
        case 'D':
          EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED) << where;
          break;
        case 'O':
          EXPECT_TRUE(status.ok()) << where;
          break;
        case 'A':
          EXPECT_NE(status.error_code(), grpc::StatusCode::UNAUTHENTICATED) << where;
          EXPECT_NE(status.error_code(), grpc::StatusCode::PERMISSION_DENIED) << where;
          break;
      }
      if (!status.ok()) ++refused;

    }
  }
  // Every refused call is in the audit log once, with the peer's address and
  // the credential's name, never a token, or counted as left out by the log's
  // rate limit (a burst of 100 lines: the matrix refuses more than that).
  std::vector<std::string> audit = f_->AuditLines();
  EXPECT_EQ(static_cast<int64_t>(audit.size()) + f_->server_->audit_log()->suppressed(),
            refused);

  int with_credential = 0;
  for (const std::string& line : audit) {
    EXPECT_THAT(line, HasSubstr("peer=ipv4:127.0.0.1:"));
    EXPECT_THAT(line, HasSubstr("refused /caviar.v1."));
    for (const CallerSpec& caller : kCallers) {
      if (*caller.token) EXPECT_THAT(line, Not(HasSubstr(caller.token)));
    }
    if (absl::StrContains(line, "credential=grafana") ||
        absl::StrContains(line, "credential=pool-b"))
      ++with_credential;
  }
  EXPECT_GT(with_credential, 0);
}

TEST_P(AuthMatrixTest, AnotherCredentialCannotReportCompleteOrReleaseALease) {
  const v1::Trial t = leased_["w2"];
  // pool-b knows the trial id, the worker id and the attempt.
  EXPECT_EQ(Complete(kPoolBToken, t, "w2", 1e9).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(Complete(kPoolBToken, t, "w2", 0, /*release=*/true).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  v1::ReportProgressRequest report;
  report.set_trial_id(t.id());
  report.set_worker_id("w2");
  report.set_attempt(t.attempt());
  (*report.mutable_measurement()->mutable_metrics())["score"] = 1e9;
  v1::ReportProgressResponse reply;
  EXPECT_EQ(
      workers_->ReportProgress(Context(kPoolBToken).get(), report, &reply).error_code(),
      grpc::StatusCode::PERMISSION_DENIED);
  // Nothing changed.
  v1::GetTrialRequest get;
  get.set_id(t.id());
  v1::Trial after;
  ASSERT_TRUE(studies_->GetTrial(Context(kViewerToken).get(), get, &after).ok());
  EXPECT_EQ(after.state(), v1::ACTIVE);
  EXPECT_EQ(after.worker_id(), "pool-a/w2");
  EXPECT_EQ(after.measurements_size(), 0);
  EXPECT_FALSE(after.has_final_measurement());
  // The holder completes it with its own value.
  ASSERT_TRUE(Complete(kPoolAToken, t, "w2", 0.75).ok());
  ASSERT_TRUE(studies_->GetTrial(Context(kViewerToken).get(), get, &after).ok());
  EXPECT_EQ(after.state(), v1::SUCCEEDED);
  EXPECT_EQ(after.final_measurement().metrics().at("score"), 0.75);
}

TEST_P(AuthMatrixTest, NewCredentialsApplyWithoutDroppingConnections) {
  std::vector<rpc::Credential> next = TestCredentials();
  next[1].token = "rotated-viewer-token-0123";
  ASSERT_TRUE(f_->server_->ReplaceCredentials(next).ok());
  v1::ListStudiesResponse out;
  EXPECT_EQ(studies_->ListStudies(Context(kViewerToken).get(), {}, &out).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_TRUE(studies_->ListStudies(Context(next[1].token).get(), {}, &out).ok());
  // A server started with tokens never becomes open.
  EXPECT_FALSE(f_->server_->ReplaceCredentials({}).ok());
  EXPECT_EQ(studies_->ListStudies(Context("").get(), {}, &out).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
}

INSTANTIATE_TEST_SUITE_P(Transports, AuthMatrixTest,
                         ::testing::Values(Transport::kPlain, Transport::kTls,
                                           Transport::kMutualTls),
                         [](const auto& info) { return TransportName(info.param); });

TEST(MutualTlsTest, WorkerCallsNeedAVerifiedClientCertificate) {
  CoordinatorFixture f(Transport::kMutualTls);
  v1::SuggestTrialRequest suggest;
  suggest.set_worker_id("w");
  v1::SuggestTrialResponse out;
  // No certificate: user calls work with a token, worker calls do not.
  auto no_cert = f.Channel(/*client_certificate=*/false);
  v1::ListStudiesResponse studies;
  EXPECT_TRUE(v1::StudyService::NewStub(no_cert)
                  ->ListStudies(Context(kViewerToken).get(), {}, &studies)
                  .ok());
  grpc::Status status = v1::WorkerService::NewStub(no_cert)->SuggestTrial(
      Context(kPoolAToken).get(), suggest, &out);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_THAT(status.error_message(), HasSubstr("client certificate"));
  // A certificate from an untrusted CA does not even connect.
  auto rogue = f.Channel(/*client_certificate=*/true, /*rogue=*/true);
  auto context = Context(kPoolAToken);
  context->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(3));
  EXPECT_FALSE(
      v1::WorkerService::NewStub(rogue)->SuggestTrial(context.get(), suggest, &out).ok());
  // The trusted one works.
  EXPECT_TRUE(v1::WorkerService::NewStub(f.Channel())
                  ->SuggestTrial(Context(kPoolAToken).get(), suggest, &out)
                  .ok());
}

}  // namespace
}  // namespace caviar::security_test
