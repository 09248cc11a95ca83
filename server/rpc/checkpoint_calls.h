// The checkpoint calls of the RPC edge, over checkpoints::CheckpointStore
// (Edge::checkpoints; without one every call is UNIMPLEMENTED):
//
//   WorkerService.UploadCheckpoint        client stream of chunks
//   WorkerService.CheckpointUploadOffset  where an interrupted upload resumes
//   WorkerService.DownloadCheckpoint      server stream of chunks
//   StudyService.ListCheckpoints          a trial's checkpoints (viewer)
//   SuggestTrial's reply                  `resume`: the trial's latest one
//   StudyService.RollbackTrial            a branch from an earlier one
//
// Only the holder of a trial's lease may upload or download its
// checkpoints: the credential that took the lease (PERMISSION_DENIED
// otherwise, as for ReportProgress) and the worker id and attempt of the
// live lease (FAILED_PRECONDITION otherwise). An upload checks the lease when
// it starts and again before it stores the checkpoint.
//
// Thread-safety: as the Coordinator and the CheckpointStore.
#ifndef CAVIAR_SERVER_RPC_CHECKPOINT_CALLS_H_
#define CAVIAR_SERVER_RPC_CHECKPOINT_CALLS_H_

#include <cstdint>

#include "absl/status/statusor.h"
#include "caviar/v1/service.grpc.pb.h"
#include "grpcpp/support/server_callback.h"
#include "server/rpc/services.h"

namespace caviar::rpc {

grpc::ServerReadReactor<caviar::v1::UploadCheckpointRequest>* StartCheckpointUpload(
    grpc::CallbackServerContext* context, const Edge& edge,
    caviar::v1::UploadCheckpointResponse* response);

grpc::ServerWriteReactor<caviar::v1::CheckpointChunk>* StartCheckpointDownload(
    grpc::CallbackServerContext* context, const Edge& edge,
    const caviar::v1::DownloadCheckpointRequest& request);

absl::StatusOr<caviar::v1::CheckpointUploadOffsetResponse> CheckpointUploadOffset(
    const Edge& edge, const Caller& caller,
    const caviar::v1::CheckpointUploadOffsetRequest& request);

absl::StatusOr<caviar::v1::ListCheckpointsResponse> ListCheckpoints(const Edge& edge,
                                                                    int64_t trial_id);

// `suggestion` with `resume` set to the leased trial's latest checkpoint,
// when it has one, or to a pending rollback's (a checkpoint index that
// cannot be read is logged and the trial starts from scratch: a lease is
// never refused for it), and the nudges to apply before the first new step
// (scheduling::LeaseNudges); a branch a pbt exploit started gets the
// parent's checkpoint copied first (exploit.h).
absl::StatusOr<caviar::v1::SuggestTrialResponse> WithResume(
    const Edge& edge, absl::StatusOr<caviar::v1::SuggestTrialResponse> suggestion);

// StudyService.RollbackTrial: picks the trial's checkpoint at to_step or
// the nearest earlier one (none: from scratch), has the Coordinator start
// the branch, then deletes the checkpoints after it (the abandoned branch's).
absl::StatusOr<caviar::v1::Trial> RollbackTrial(
    const Edge& edge, const caviar::v1::RollbackTrialRequest& request);

}  // namespace caviar::rpc

#endif  // CAVIAR_SERVER_RPC_CHECKPOINT_CALLS_H_
