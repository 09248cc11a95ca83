#include "worker/checkpoints.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/digest/sha256.h"
#include "common/log.h"

namespace caviar::worker {
namespace {

bool IsFinal(absl::StatusCode code) {
  switch (code) {
    case absl::StatusCode::kFailedPrecondition:  // Lease lost.
    case absl::StatusCode::kNotFound:
    case absl::StatusCode::kResourceExhausted:  // Over a limit.
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kPermissionDenied:
    case absl::StatusCode::kUnauthenticated:
    case absl::StatusCode::kUnimplemented:
      return true;
    default:
      return false;
  }
}

// Every checkpoint request names the lease and the step.
template <typename Request>
void SetLease(const LeaseRef& lease, int64_t step, Request* request) {
  request->set_trial_id(lease.trial_id);
  request->set_worker_id(lease.worker_id);
  request->set_attempt(lease.attempt);
  request->set_step(step);
}

}  // namespace

CheckpointClient::CheckpointClient(caviar::v1::WorkerService::StubInterface* stub,
                                   RpcRunner run, Options options)
    : stub_(stub), run_(std::move(run)), options_(options) {}

absl::Status CheckpointClient::UploadFrom(
    const caviar::v1::UploadCheckpointRequest& header, std::string_view bytes,
    int64_t offset, caviar::v1::UploadCheckpointResponse* response) {
  return run_([&](grpc::ClientContext* context) {
    auto writer = stub_->UploadCheckpoint(context, response);
    caviar::v1::UploadCheckpointRequest message = header;
    bool sent = true;
    do {
      const int64_t n =
          std::min<int64_t>(options_.chunk_bytes, int64_t(bytes.size()) - offset);
      message.set_offset(offset);
      message.set_data(bytes.data() + offset, n);
      offset += n;
      sent = writer->Write(message);
      message.Clear();
    } while (sent && offset < int64_t(bytes.size()));
    if (sent) writer->WritesDone();
    return writer->Finish();
  });
}

absl::StatusOr<caviar::v1::CheckpointInfo> CheckpointClient::Upload(
    const LeaseRef& lease, int64_t step, std::string_view bytes,
    const std::vector<caviar::v1::Measurement>& curve) {
  caviar::v1::UploadCheckpointRequest header;
  SetLease(lease, step, &header);
  header.set_total_bytes(bytes.size());
  header.set_digest(Sha256Digest(bytes));
  for (const caviar::v1::Measurement& m : curve) {
    if (m.step() <= step) *header.add_curve() = m;
  }
  int64_t best = -1;  // Most bytes the coordinator had so far.
  absl::Status last;
  for (int idle = 0; idle < options_.max_tries_without_progress;) {
    caviar::v1::CheckpointUploadOffsetRequest ask;
    SetLease(lease, step, &ask);
    ask.set_digest(header.digest());
    caviar::v1::CheckpointUploadOffsetResponse where;
    last = run_([&](grpc::ClientContext* context) {
      return stub_->CheckpointUploadOffset(context, ask, &where);
    });
    if (last.ok()) {
      const int64_t offset = std::clamp<int64_t>(where.offset(), 0, bytes.size());
      if (offset > best) {
        best = offset;
        idle = 0;
      } else {
        ++idle;
      }
      caviar::v1::UploadCheckpointResponse response;
      last = UploadFrom(header, bytes, offset, &response);
      if (last.ok() && response.has_checkpoint()) return response.checkpoint();
      if (last.ok())
        last = absl::UnavailableError("the upload ended before its last byte");
    } else {
      ++idle;
    }
    // FAILED_PRECONDITION from the upload itself may be a chunk at an offset
    // the coordinator did not expect: asking for the offset again tells it
    // apart from a lost lease (which the question fails on too).
    if (IsFinal(last.code()) && last.code() != absl::StatusCode::kFailedPrecondition)
      return last;
    if (last.code() == absl::StatusCode::kFailedPrecondition && idle > 0) return last;
    absl::SleepFor(options_.retry_wait);
  }
  return absl::Status(
      last.code(), absl::StrCat("checkpoint upload made no progress: ", last.message()));
}

absl::StatusOr<ResumePoint> CheckpointClient::Download(
    const LeaseRef& lease, const caviar::v1::CheckpointInfo& info) {
  ResumePoint point;
  point.step = info.step();
  point.curve.assign(info.curve().begin(), info.curve().end());
  absl::Status last;
  for (int idle = 0; idle < options_.max_tries_without_progress;) {
    caviar::v1::DownloadCheckpointRequest request;
    SetLease(lease, info.step(), &request);
    request.set_offset(point.bytes.size());
    const size_t before = point.bytes.size();
    last = run_([&](grpc::ClientContext* context) {
      auto reader = stub_->DownloadCheckpoint(context, request);
      caviar::v1::CheckpointChunk chunk;
      while (reader->Read(&chunk)) {
        if (chunk.offset() != int64_t(point.bytes.size())) {
          context->TryCancel();
          reader->Finish();
          return grpc::Status(grpc::StatusCode::DATA_LOSS,
                              absl::StrCat("chunk at offset ", chunk.offset(),
                                           ", expected ", point.bytes.size()));
        }
        point.bytes += chunk.data();
      }
      return reader->Finish();
    });
    if (last.ok()) break;
    if (IsFinal(last.code())) return last;
    idle = point.bytes.size() > before ? 0 : idle + 1;
    absl::SleepFor(options_.retry_wait);
  }
  if (!last.ok()) return last;
  if (int64_t(point.bytes.size()) != info.size_bytes() ||
      Sha256Digest(point.bytes) != info.digest()) {
    return absl::DataLossError(absl::StrCat(
        "checkpoint of trial ", info.trial_id(), " at step ", info.step(), ": got ",
        point.bytes.size(), " bytes with ", Sha256Digest(point.bytes),
        ", the index says ", info.size_bytes(), " bytes with ", info.digest()));
  }
  return point;
}

}  // namespace caviar::worker
