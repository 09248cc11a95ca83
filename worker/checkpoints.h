// CheckpointClient: moves one trial's checkpoints between a worker and the
// coordinator (WorkerService.UploadCheckpoint / CheckpointUploadOffset /
// DownloadCheckpoint) in chunks of 1 MiB, each with its offset, the whole
// checked with its SHA-256 digest (common/digest).
//
// Uploads resume: each try first asks the coordinator how many bytes of
// this checkpoint (trial, step, digest) it already has and sends only the
// rest, so a dropped connection or a call deadline costs only the chunk in
// flight. Downloads resume at the bytes received. Both give up after
// `max_tries_without_progress` tries in a row that moved no byte.
//
// Status codes (Upload, Download): FAILED_PRECONDITION or NOT_FOUND when the
// lease is lost; RESOURCE_EXHAUSTED over the coordinator's limits;
// DATA_LOSS when downloaded bytes do not match the digest; the RPC's code
// otherwise (UNAVAILABLE and the like after the tries).
//
// Thread-safety: one call at a time per object.
#ifndef CAVIAR_WORKER_CHECKPOINTS_H_
#define CAVIAR_WORKER_CHECKPOINTS_H_

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "caviar/v1/service.grpc.pb.h"
#include "grpcpp/client_context.h"
#include "worker/objective.h"

namespace caviar::worker {

// Runs one RPC with the worker's token and deadline (WorkerLoop::Call).
using RpcRunner =
    std::function<absl::Status(const std::function<grpc::Status(grpc::ClientContext*)>&)>;

struct LeaseRef {
  int64_t trial_id = 0;
  std::string worker_id;
  int32_t attempt = 0;
};

class CheckpointClient {
 public:
  struct Options {
    int64_t chunk_bytes = 1 << 20;
    int max_tries_without_progress = 5;
    absl::Duration retry_wait = absl::Milliseconds(200);
  };
  CheckpointClient(caviar::v1::WorkerService::StubInterface* stub, RpcRunner run,
                   Options options);
  CheckpointClient(caviar::v1::WorkerService::StubInterface* stub, RpcRunner run)
      : CheckpointClient(stub, std::move(run), Options()) {}

  absl::StatusOr<caviar::v1::CheckpointInfo> Upload(
      const LeaseRef& lease, int64_t step, std::string_view bytes,
      const std::vector<caviar::v1::Measurement>& curve);

  // The checkpoint `info` names (SuggestTrialResponse.resume), checked.
  absl::StatusOr<ResumePoint> Download(const LeaseRef& lease,
                                       const caviar::v1::CheckpointInfo& info);

 private:
  // One UploadCheckpoint stream from `offset`; OK with the reply.
  absl::Status UploadFrom(const caviar::v1::UploadCheckpointRequest& header,
                          std::string_view bytes, int64_t offset,
                          caviar::v1::UploadCheckpointResponse* response);

  caviar::v1::WorkerService::StubInterface* const stub_;
  const RpcRunner run_;
  const Options options_;
};

}  // namespace caviar::worker

#endif  // CAVIAR_WORKER_CHECKPOINTS_H_
