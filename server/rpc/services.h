// gRPC services of caviar-coordinator: StudyService (users), WorkerService
// (workers) and AdminService (backups); StudyService.Watch is in
// watch_call.h. Each method authorizes the caller
// (auth.h), translates its request into a Coordinator call and the
// absl::Status into a grpc::Status; every refused call goes to the audit log
// (audit.h). No domain logic lives here.
//
// Identity of workers: when credentials are configured, the coordinator
// sees a worker's id scoped by its credential, "<credential>/<worker_id>",
// so a lease is bound to the credential that took it by construction; a
// report, completion or release of a trial whose lease holder
// (Coordinator::LeaseHolder) belongs to another credential is refused with
// PERMISSION_DENIED before the coordinator is called, and changes nothing.
//
// The services use gRPC's callback API: a handler runs on the thread that
// read the request and answers at once (the Coordinator never blocks for
// long), which saves two thread hand-offs per call over the synchronous API.
// Backup is the exception: it copies the database on the handler's thread.
//
// Unary methods take their request as raw bytes and parse it themselves
// (after authorization): a request that is not the method's message is
// INVALID_ARGUMENT "request: bytes are not a caviar.v1.X message", where
// gRPC's generated handlers would answer UNIMPLEMENTED with no message
// (which a worker takes for a coordinator without that call).
//
// Thread-safety: as the Coordinator (fully concurrent).
#ifndef CAVIAR_SERVER_RPC_SERVICES_H_
#define CAVIAR_SERVER_RPC_SERVICES_H_

#include <string>

#include "caviar/v1/service.grpc.pb.h"
#include "server/checkpoints/checkpoint_store.h"
#include "server/rpc/audit.h"
#include "server/rpc/auth.h"
#include "server/scheduling/coordinator.h"
#include "storage/sqlite_store.h"

namespace caviar::rpc {

// What every service needs; owned by CoordinatorServer.
struct Edge {
  scheduling::Coordinator* coordinator;
  const Authorizer* auth;
  AuditLog* audit;
  // For AdminService.Backup (nullptr: UNIMPLEMENTED), and the folder where
  // the copy is staged before it is streamed (the database's own folder).
  storage::SqliteStore* database = nullptr;
  std::string backup_dir;
  // Checkpoint files and index (checkpoint_calls.h); nullptr: the checkpoint
  // calls are UNIMPLEMENTED and trials never resume.
  checkpoints::CheckpointStore* checkpoints = nullptr;
};

namespace service_bases {
using Study = caviar::v1::StudyService;

// Every StudyService method: the unary ones raw (see above), Watch typed.
using StudyServiceBase = Study::WithRawCallbackMethod_CreateStudy<
    Study::WithRawCallbackMethod_GetStudy<Study::WithRawCallbackMethod_ListStudies<
        Study::WithRawCallbackMethod_StopStudy<Study::WithRawCallbackMethod_ListTrials<
            Study::WithRawCallbackMethod_GetTrial<Study::WithRawCallbackMethod_BestTrials<
                Study::WithRawCallbackMethod_RefineStudy<
                    Study::WithRawCallbackMethod_EnqueueTrials<
                        Study::WithRawCallbackMethod_RetestTrials<
                            Study::WithRawCallbackMethod_GetImportance<
                                Study::WithRawCallbackMethod_NudgeTrial<
                                    Study::WithRawCallbackMethod_ListCheckpoints<
                                        Study::WithRawCallbackMethod_RollbackTrial<
                                            Study::WithRawCallbackMethod_PauseTrial<
                                                Study::WithRawCallbackMethod_ResumeTrial<
                                                    Study::WithCallbackMethod_Watch<
                                                        Study::Service>>>>>>>>>>>>>>>>>;
}  // namespace service_bases

class StudyServiceImpl final : public service_bases::StudyServiceBase {
 public:
  explicit StudyServiceImpl(const Edge* edge) : edge_(edge) {}

  grpc::ServerUnaryReactor* CreateStudy(grpc::CallbackServerContext* context,
                                        const grpc::ByteBuffer* request,
                                        grpc::ByteBuffer* response) override;
  grpc::ServerUnaryReactor* GetStudy(grpc::CallbackServerContext* context,
                                     const grpc::ByteBuffer* request,
                                     grpc::ByteBuffer* response) override;
  grpc::ServerUnaryReactor* ListStudies(grpc::CallbackServerContext* context,
                                        const grpc::ByteBuffer* request,
                                        grpc::ByteBuffer* response) override;
  grpc::ServerUnaryReactor* StopStudy(grpc::CallbackServerContext* context,
                                      const grpc::ByteBuffer* request,
                                      grpc::ByteBuffer* response) override;
  grpc::ServerUnaryReactor* ListTrials(grpc::CallbackServerContext* context,
                                       const grpc::ByteBuffer* request,
                                       grpc::ByteBuffer* response) override;
  grpc::ServerUnaryReactor* GetTrial(grpc::CallbackServerContext* context,
                                     const grpc::ByteBuffer* request,
                                     grpc::ByteBuffer* response) override;
  grpc::ServerUnaryReactor* BestTrials(grpc::CallbackServerContext* context,
                                       const grpc::ByteBuffer* request,
                                       grpc::ByteBuffer* response) override;
  grpc::ServerUnaryReactor* RefineStudy(grpc::CallbackServerContext* context,
                                        const grpc::ByteBuffer* request,
                                        grpc::ByteBuffer* response) override;
  grpc::ServerUnaryReactor* EnqueueTrials(grpc::CallbackServerContext* context,
                                          const grpc::ByteBuffer* request,
                                          grpc::ByteBuffer* response) override;
  grpc::ServerUnaryReactor* RetestTrials(grpc::CallbackServerContext* context,
                                         const grpc::ByteBuffer* request,
                                         grpc::ByteBuffer* response) override;
  grpc::ServerUnaryReactor* GetImportance(grpc::CallbackServerContext* context,
                                          const grpc::ByteBuffer* request,
                                          grpc::ByteBuffer* response) override;
  grpc::ServerUnaryReactor* NudgeTrial(grpc::CallbackServerContext* context,
                                       const grpc::ByteBuffer* request,
                                       grpc::ByteBuffer* response) override;
  grpc::ServerUnaryReactor* ListCheckpoints(grpc::CallbackServerContext* context,
                                            const grpc::ByteBuffer* request,
                                            grpc::ByteBuffer* response) override;
  grpc::ServerUnaryReactor* RollbackTrial(grpc::CallbackServerContext* context,
                                          const grpc::ByteBuffer* request,
                                          grpc::ByteBuffer* response) override;
  grpc::ServerUnaryReactor* PauseTrial(grpc::CallbackServerContext* context,
                                       const grpc::ByteBuffer* request,
                                       grpc::ByteBuffer* response) override;
  grpc::ServerUnaryReactor* ResumeTrial(grpc::CallbackServerContext* context,
                                        const grpc::ByteBuffer* request,
                                        grpc::ByteBuffer* response) override;
  grpc::ServerWriteReactor<caviar::v1::WatchEvent>* Watch(
      grpc::CallbackServerContext* context,
      const caviar::v1::WatchRequest* request) override;

 private:
  const Edge* const edge_;
};

namespace service_bases {
using Worker = caviar::v1::WorkerService;
// The unary WorkerService methods raw (see above), the streaming ones typed.
using WorkerServiceBase = Worker::WithCallbackMethod_UploadCheckpoint<
    Worker::WithCallbackMethod_DownloadCheckpoint<
        Worker::WithRawCallbackMethod_SuggestTrial<
            Worker::WithRawCallbackMethod_ReportProgress<
                Worker::WithRawCallbackMethod_CompleteTrial<
                    Worker::WithRawCallbackMethod_CheckpointUploadOffset<
                        Worker::Service>>>>>>;
}  // namespace service_bases

class WorkerServiceImpl final : public service_bases::WorkerServiceBase {
 public:
  explicit WorkerServiceImpl(const Edge* edge) : edge_(edge) {}

  grpc::ServerUnaryReactor* SuggestTrial(grpc::CallbackServerContext* context,
                                         const grpc::ByteBuffer* request,
                                         grpc::ByteBuffer* response) override;
  grpc::ServerUnaryReactor* ReportProgress(grpc::CallbackServerContext* context,
                                           const grpc::ByteBuffer* request,
                                           grpc::ByteBuffer* response) override;
  grpc::ServerUnaryReactor* CompleteTrial(grpc::CallbackServerContext* context,
                                          const grpc::ByteBuffer* request,
                                          grpc::ByteBuffer* response) override;
  grpc::ServerUnaryReactor* CheckpointUploadOffset(grpc::CallbackServerContext* context,
                                                   const grpc::ByteBuffer* request,
                                                   grpc::ByteBuffer* response) override;
  grpc::ServerReadReactor<caviar::v1::UploadCheckpointRequest>* UploadCheckpoint(
      grpc::CallbackServerContext* context,
      caviar::v1::UploadCheckpointResponse* response) override;
  grpc::ServerWriteReactor<caviar::v1::CheckpointChunk>* DownloadCheckpoint(
      grpc::CallbackServerContext* context,
      const caviar::v1::DownloadCheckpointRequest* request) override;

 private:
  const Edge* const edge_;
};

class AdminServiceImpl final : public caviar::v1::AdminService::CallbackService {
 public:
  explicit AdminServiceImpl(const Edge* edge) : edge_(edge) {}

  grpc::ServerWriteReactor<caviar::v1::BackupChunk>* Backup(
      grpc::CallbackServerContext* context,
      const caviar::v1::BackupRequest* request) override;

 private:
  const Edge* const edge_;
};

}  // namespace caviar::rpc

#endif  // CAVIAR_SERVER_RPC_SERVICES_H_
