#include "server/rpc/services.h"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/log.h"
#include "common/metrics/coordinator_metrics.h"
#include "server/rpc/checkpoint_calls.h"
#include "server/rpc/exploit.h"
#include "server/rpc/lease_binding.h"
#include "server/rpc/status.h"
#include "server/rpc/watch_call.h"
#include "storage/backup.h"

namespace caviar::rpc {
namespace {

using caviar::v1::Trial;

grpc::ServerUnaryReactor* Finish(grpc::CallbackServerContext* context,
                                 const grpc::Status& status) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  reactor->Finish(status);
  return reactor;
}

template <typename Response>
void Fill(Response&& result, Response* response) {
  *response = std::move(result);
}
template <typename Response>
void Fill(std::vector<Trial>&& trials, Response* response) {
  for (Trial& trial : trials) *response->add_trials() = std::move(trial);
}
void Fill(std::vector<caviar::v1::Study>&& studies,
          caviar::v1::ListStudiesResponse* response) {
  for (auto& study : studies) *response->add_studies() = std::move(study);
}

// The request's bytes as a `Request`, or INVALID_ARGUMENT naming the type.
template <typename Request>
grpc::Status Parse(const grpc::ByteBuffer* raw, Request* request) {
  grpc::ByteBuffer bytes(*raw);  // Shares the slices; parsing consumes them.
  const size_t size = bytes.Length();
  if (grpc::SerializationTraits<Request>::Deserialize(&bytes, request).ok())
    return grpc::Status::OK;
  return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                      absl::StrCat("request: ", size, " bytes are not a ",
                                   Request::descriptor()->full_name(), " message"));
}

// Every unary call: authorize, parse the request, run `call(caller, request)`
// on the Coordinator, answer with its result or its status; a refused call
// goes to the audit log.
template <typename Request, typename Response, typename Call>
grpc::ServerUnaryReactor* Serve(grpc::CallbackServerContext* context, const Edge& edge,
                                const char* method, Access access,
                                const grpc::ByteBuffer* raw_request,
                                grpc::ByteBuffer* raw_response, Call call) {
  const absl::Time start = absl::Now();
  Caller caller;
  grpc::Status status = ToGrpcStatus(edge.auth->Check(*context, access, &caller));
  Request request;
  if (status.ok()) status = Parse(raw_request, &request);
  if (status.ok()) {
    Response response;
    auto result = call(caller, request);
    if constexpr (std::is_same_v<decltype(result), std::vector<caviar::v1::Study>>) {
      Fill(std::move(result), &response);
    } else if (result.ok()) {
      Fill(*std::move(result), &response);
    } else {
      status = ToGrpcStatus(result.status());
    }
    bool own_buffer = false;
    if (status.ok())
      status = grpc::SerializationTraits<Response>::Serialize(response, raw_response,
                                                              &own_buffer);
  }
  if (!status.ok())
    edge.audit->Refused(method, context->peer(), caller.credential, status);
  metrics::RecordRpc(method, status.error_code(), absl::Now() - start);
  return Finish(context, status);
}

// Worker calls on a leased trial: check the credential, then call the
// coordinator with the scoped worker id.
template <typename Request, typename Method>
auto OnLease(scheduling::Coordinator* coordinator, const Caller& caller,
             const Request& request, Method method)
    -> decltype((coordinator->*method)(request)) {
  if (absl::Status bound = CheckLeaseCredential(*coordinator, caller, request.trial_id());
      !bound.ok()) {
    return bound;
  }
  Request scoped = request;
  scoped.set_worker_id(ScopedWorkerId(caller, request.worker_id()));
  return (coordinator->*method)(scoped);
}

}  // namespace

#define CAVIAR_STUDY_CALL(Method, Request, Response, access, expr)                \
  grpc::ServerUnaryReactor* StudyServiceImpl::Method(                             \
      grpc::CallbackServerContext* context, const grpc::ByteBuffer* raw_request,  \
      grpc::ByteBuffer* raw_response) {                                           \
    scheduling::Coordinator* coordinator = edge_->coordinator;                    \
    return Serve<caviar::v1::Request, caviar::v1::Response>(                      \
        context, *edge_, "/caviar.v1.StudyService/" #Method, access, raw_request, \
        raw_response, [&](const Caller&, const caviar::v1::Request& parsed) {     \
          const caviar::v1::Request* request = &parsed;                           \
          return expr;                                                            \
        });                                                                       \
  }
#define CAVIAR_WORKER_CALL(Method, Request, Response, expr)                      \
  grpc::ServerUnaryReactor* WorkerServiceImpl::Method(                           \
      grpc::CallbackServerContext* context, const grpc::ByteBuffer* raw_request, \
      grpc::ByteBuffer* raw_response) {                                          \
    scheduling::Coordinator* coordinator = edge_->coordinator;                   \
    return Serve<caviar::v1::Request, caviar::v1::Response>(                     \
        context, *edge_, "/caviar.v1.WorkerService/" #Method, Access::kWorker,   \
        raw_request, raw_response,                                               \
        [&](const Caller& caller, const caviar::v1::Request& parsed) {           \
          const caviar::v1::Request* request = &parsed;                          \
          return expr;                                                           \
        });                                                                      \
  }

CAVIAR_STUDY_CALL(CreateStudy, CreateStudyRequest, Study, Access::kWrite,
                  coordinator->CreateStudy(request->spec()))
CAVIAR_STUDY_CALL(GetStudy, GetStudyRequest, Study, Access::kRead,
                  coordinator->GetStudy(request->name()))
CAVIAR_STUDY_CALL(ListStudies, ListStudiesRequest, ListStudiesResponse, Access::kRead,
                  ((void)request, coordinator->ListStudies()))
CAVIAR_STUDY_CALL(StopStudy, StopStudyRequest, Study, Access::kWrite,
                  coordinator->StopStudy(request->name(), request->reason()))
CAVIAR_STUDY_CALL(ListTrials, ListTrialsRequest, ListTrialsResponse, Access::kRead,
                  coordinator->ListTrials(*request))
CAVIAR_STUDY_CALL(GetTrial, GetTrialRequest, Trial, Access::kRead,
                  coordinator->GetTrial(request->id()))
CAVIAR_STUDY_CALL(BestTrials, BestTrialsRequest, BestTrialsResponse, Access::kRead,
                  coordinator->BestTrials(request->study(), request->top()))
CAVIAR_STUDY_CALL(RefineStudy, RefineStudyRequest, Study, Access::kWrite,
                  coordinator->RefineStudy(*request))
CAVIAR_STUDY_CALL(EnqueueTrials, EnqueueTrialsRequest, EnqueueTrialsResponse,
                  Access::kWrite, coordinator->EnqueueTrials(*request))
CAVIAR_STUDY_CALL(RetestTrials, RetestTrialsRequest, EnqueueTrialsResponse,
                  Access::kWrite, coordinator->RetestTrials(*request))
CAVIAR_STUDY_CALL(NudgeTrial, NudgeTrialRequest, Trial, Access::kWrite,
                  coordinator->NudgeTrial(*request))
CAVIAR_STUDY_CALL(GetImportance, GetImportanceRequest, GetImportanceResponse,
                  Access::kRead, coordinator->GetImportance(request->study()))

CAVIAR_WORKER_CALL(SuggestTrial, SuggestTrialRequest, SuggestTrialResponse, [&] {
  caviar::v1::SuggestTrialRequest scoped = *request;
  scoped.set_worker_id(ScopedWorkerId(caller, request->worker_id()));
  return WithResume(*edge_, coordinator->SuggestTrial(scoped));
}())
CAVIAR_WORKER_CALL(ReportProgress, ReportProgressRequest, ReportProgressResponse, [&] {
  caviar::v1::ReportProgressRequest scoped = *request;
  scoped.set_worker_id(ScopedWorkerId(caller, request->worker_id()));
  return WithExploit(
      *edge_, scoped,
      OnLease(coordinator, caller, *request, &scheduling::Coordinator::ReportProgress));
}())
CAVIAR_WORKER_CALL(CompleteTrial, CompleteTrialRequest, Trial,
                   OnLease(coordinator, caller, *request,
                           &scheduling::Coordinator::CompleteTrial))
CAVIAR_WORKER_CALL(CheckpointUploadOffset, CheckpointUploadOffsetRequest,
                   CheckpointUploadOffsetResponse,
                   ((void)coordinator,
                    rpc::CheckpointUploadOffset(*edge_, caller, *request)))
CAVIAR_STUDY_CALL(ListCheckpoints, ListCheckpointsRequest, ListCheckpointsResponse,
                  Access::kRead,
                  ((void)coordinator, rpc::ListCheckpoints(*edge_, request->trial_id())))
CAVIAR_STUDY_CALL(RollbackTrial, RollbackTrialRequest, Trial, Access::kWrite,
                  ((void)coordinator, rpc::RollbackTrial(*edge_, *request)))
CAVIAR_STUDY_CALL(PauseTrial, PauseTrialRequest, Trial, Access::kWrite,
                  coordinator->PauseTrial(request->trial_id()))
CAVIAR_STUDY_CALL(ResumeTrial, ResumeTrialRequest, Trial, Access::kWrite,
                  coordinator->ResumeTrial(request->trial_id()))

grpc::ServerWriteReactor<caviar::v1::WatchEvent>* StudyServiceImpl::Watch(
    grpc::CallbackServerContext* context, const caviar::v1::WatchRequest* request) {
  return StartWatch(context, *edge_, *request);
}
grpc::ServerReadReactor<caviar::v1::UploadCheckpointRequest>*
WorkerServiceImpl::UploadCheckpoint(grpc::CallbackServerContext* context,
                                    caviar::v1::UploadCheckpointResponse* response) {
  return StartCheckpointUpload(context, *edge_, response);
}
grpc::ServerWriteReactor<caviar::v1::CheckpointChunk>*
WorkerServiceImpl::DownloadCheckpoint(
    grpc::CallbackServerContext* context,
    const caviar::v1::DownloadCheckpointRequest* request) {
  return StartCheckpointDownload(context, *edge_, *request);
}

#undef CAVIAR_STUDY_CALL
#undef CAVIAR_WORKER_CALL

namespace {

constexpr size_t kBackupChunkBytes = 1 << 20;

// Streams an open, already unlinked file in chunks, then closes it.
class BackupReactor final : public grpc::ServerWriteReactor<caviar::v1::BackupChunk> {
 public:
  explicit BackupReactor(const grpc::Status& refused) : fd_(-1) { Finish(refused); }
  BackupReactor(int fd, int64_t size) : fd_(fd) {
    chunk_.set_total_bytes(size);
    WriteNext();
  }

  void OnWriteDone(bool ok) override {
    if (!ok) {
      Finish(grpc::Status(grpc::StatusCode::CANCELLED, "client went away"));
      return;
    }
    chunk_.clear_total_bytes();
    WriteNext();
  }
  void OnDone() override {
    if (fd_ >= 0) ::close(fd_);
    delete this;
  }

 private:
  void WriteNext() {
    std::string* data = chunk_.mutable_data();
    data->resize(kBackupChunkBytes);
    ssize_t n;
    do {
      n = ::read(fd_, data->data(), data->size());
    } while (n < 0 && errno == EINTR);
    if (n < 0) {
      Finish(grpc::Status(grpc::StatusCode::INTERNAL, "reading the backup copy failed"));
      return;
    }
    if (n == 0) {
      Finish(grpc::Status::OK);
      return;
    }
    data->resize(n);
    StartWrite(&chunk_);
  }

  const int fd_;
  caviar::v1::BackupChunk chunk_;
};

// Copies the database into a staging file, checks the copy, and returns it
// open (the staging file already unlinked, so nothing is left behind).
absl::StatusOr<std::pair<int, int64_t>> TakeBackup(const Edge& edge) {
  if (edge.database == nullptr) {
    return absl::UnimplementedError("this coordinator has no database to back up");
  }
  static std::atomic<int> counter{0};
  const std::string path =
      absl::StrCat(edge.backup_dir.empty() ? "." : edge.backup_dir, "/.caviar-backup-",
                   ::getpid(), "-", ++counter, ".tmp");
  absl::Status status = edge.database->Backup(path);
  if (status.ok()) status = storage::PrepareBackupCopy(path);
  int fd = -1;
  if (status.ok()) {
    fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) status = absl::InternalError(absl::StrCat("cannot reopen ", path));
  }
  ::unlink(path.c_str());
  ::unlink((path + "-journal").c_str());
  if (!status.ok()) return status;
  const off_t size = ::lseek(fd, 0, SEEK_END);
  ::lseek(fd, 0, SEEK_SET);
  return std::pair<int, int64_t>(fd, size);
}

}  // namespace

grpc::ServerWriteReactor<caviar::v1::BackupChunk>* AdminServiceImpl::Backup(
    grpc::CallbackServerContext* context, const caviar::v1::BackupRequest* request) {
  (void)request;
  constexpr const char* kMethod = "/caviar.v1.AdminService/Backup";
  const absl::Time start = absl::Now();
  Caller caller;
  grpc::Status status =
      ToGrpcStatus(edge_->auth->Check(*context, Access::kAdmin, &caller));
  if (status.ok()) {
    absl::StatusOr<std::pair<int, int64_t>> copy = TakeBackup(*edge_);
    if (copy.ok()) {
      CAVIAR_LOG(INFO) << "backup for " << (caller.anonymous ? "-" : caller.credential)
                       << " at " << context->peer() << ": " << copy->second
                       << " bytes, copied and checked in " << (absl::Now() - start);
      metrics::RecordRpc(kMethod, 0, absl::Now() - start);
      return new BackupReactor(copy->first, copy->second);
    }
    status = ToGrpcStatus(copy.status());
  }
  edge_->audit->Refused(kMethod, context->peer(), caller.credential, status);
  metrics::RecordRpc(kMethod, status.error_code(), absl::Now() - start);
  return new BackupReactor(status);
}

}  // namespace caviar::rpc
