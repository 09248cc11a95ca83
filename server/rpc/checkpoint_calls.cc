#include "server/rpc/checkpoint_calls.h"

#include <algorithm>
#include <memory>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/log.h"
#include "common/status_macros.h"
#include "server/checkpoints/checkpoint_store.h"
#include "server/rpc/exploit.h"
#include "server/rpc/lease_binding.h"
#include "server/rpc/status.h"
#include "server/scheduling/nudges.h"

namespace caviar::rpc {
namespace {

using caviar::v1::CheckpointChunk;
using caviar::v1::UploadCheckpointRequest;
using caviar::v1::UploadCheckpointResponse;

constexpr int64_t kChunkBytes = 1 << 20;
constexpr char kUploadMethod[] = "/caviar.v1.WorkerService/UploadCheckpoint";
constexpr char kDownloadMethod[] = "/caviar.v1.WorkerService/DownloadCheckpoint";

absl::Status NoStore() {
  return absl::UnimplementedError(
      "this coordinator keeps no checkpoints (it runs without a database folder)");
}

struct HeldLease {
  caviar::v1::Trial trial;
  caviar::v1::StudySpec spec;
};

// The trial and its study's spec if the caller's worker holds the trial's
// live lease with `attempt`.
absl::StatusOr<HeldLease> CheckHeldLease(const Edge& edge, const Caller& caller,
                                         int64_t trial_id, const std::string& worker_id,
                                         int32_t attempt) {
  scheduling::Coordinator& coordinator = *edge.coordinator;
  CAVIAR_RETURN_IF_ERROR(CheckLeaseCredential(coordinator, caller, trial_id));
  const std::string worker = ScopedWorkerId(caller, worker_id);
  HeldLease held;
  CAVIAR_ASSIGN_OR_RETURN(held.trial, coordinator.GetTrial(trial_id));
  if (held.trial.state() != caviar::v1::ACTIVE || held.trial.worker_id() != worker ||
      held.trial.attempt() != attempt) {
    return absl::FailedPreconditionError(absl::StrCat(
        "trial ", trial_id, " is not leased to worker ", worker, " with attempt ",
        attempt, " (it is ", caviar::v1::TrialState_Name(held.trial.state()),
        ", attempt ", held.trial.attempt(),
        "): only the lease holder may move its checkpoints"));
  }
  held.trial.clear_measurements();
  CAVIAR_ASSIGN_OR_RETURN(caviar::v1::Study study,
                          coordinator.GetStudy(held.trial.study()));
  held.spec = std::move(*study.mutable_spec());
  return held;
}

// A client stream of chunks into one CheckpointStore::Upload. The first
// message carries the header; a stream that ends with every byte there
// stores the checkpoint, one that ends early keeps what arrived (the reply
// says how much) for a later upload to go on from.
class UploadReactor final : public grpc::ServerReadReactor<UploadCheckpointRequest> {
 public:
  UploadReactor(grpc::CallbackServerContext* context, const Edge& edge,
                UploadCheckpointResponse* response)
      : context_(context), edge_(edge), response_(response) {
    grpc::Status status =
        ToGrpcStatus(edge.auth->Check(*context, Access::kWorker, &caller_));
    if (status.ok() && edge.checkpoints == nullptr) status = ToGrpcStatus(NoStore());
    if (!status.ok()) {
      Fail(status);
      return;
    }
    StartRead(&request_);
  }

  void OnReadDone(bool ok) override {
    if (!ok) {
      Finish(End());
      return;
    }
    absl::Status status = upload_ == nullptr ? Begin() : absl::OkStatus();
    if (status.ok()) status = upload_->Append(request_.offset(), request_.data());
    if (!status.ok()) {
      Fail(ToGrpcStatus(status));
      return;
    }
    StartRead(&request_);
  }

  void OnDone() override { delete this; }

 private:
  absl::Status Begin() {
    CAVIAR_ASSIGN_OR_RETURN(HeldLease held,
                            CheckHeldLease(edge_, caller_, request_.trial_id(),
                                           request_.worker_id(), request_.attempt()));
    header_ = request_;
    header_.clear_data();
    checkpoints::CheckpointStore::UploadHeader header;
    caviar::v1::CheckpointInfo& info = header.info;
    info.set_trial_id(request_.trial_id());
    info.set_study(held.trial.study());
    info.set_step(request_.step());
    info.set_attempt(request_.attempt());
    info.set_size_bytes(request_.total_bytes());
    info.set_digest(request_.digest());
    *info.mutable_curve() = request_.curve();
    header.spec = std::move(held.spec);
    if (held.trial.has_rollback_step()) header.keep_step = held.trial.rollback_step();
    CAVIAR_ASSIGN_OR_RETURN(upload_, edge_.checkpoints->BeginUpload(std::move(header)));
    return absl::OkStatus();
  }

  // The client closed its side (or went away).
  grpc::Status End() {
    if (upload_ == nullptr) {
      return Refused(
          grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                       "an upload needs at least its first message (the header)"));
    }
    response_->set_received_bytes(upload_->received());
    if (upload_->received() < upload_->total()) return grpc::Status::OK;
    absl::Status status = CheckHeldLease(edge_, caller_, header_.trial_id(),
                                         header_.worker_id(), header_.attempt())
                              .status();
    if (status.ok()) {
      // Before the commit: a lease asked for right after must look it up.
      edge_.coordinator->NoteCheckpoint(header_.trial_id());
      absl::StatusOr<caviar::v1::CheckpointInfo> stored = upload_->Commit();
      if (stored.ok()) {
        *response_->mutable_checkpoint() = *std::move(stored);
        CAVIAR_LOG(INFO) << "checkpoint of trial " << header_.trial_id() << " at step "
                         << header_.step() << ": " << header_.total_bytes() << " bytes";
        return grpc::Status::OK;
      }
      status = stored.status();
    }
    return Refused(ToGrpcStatus(status));
  }

  grpc::Status Refused(const grpc::Status& status) {
    edge_.audit->Refused(kUploadMethod, context_->peer(), caller_.credential, status);
    return status;
  }
  void Fail(const grpc::Status& status) { Finish(Refused(status)); }

  grpc::CallbackServerContext* const context_;
  const Edge& edge_;
  UploadCheckpointResponse* const response_;
  Caller caller_;
  UploadCheckpointRequest request_;
  UploadCheckpointRequest header_;  // The first message, without its data.
  std::unique_ptr<checkpoints::CheckpointStore::Upload> upload_;
};

// Streams one stored checkpoint from an offset, kChunkBytes at a time; the
// first chunk carries its CheckpointInfo (with the curve).
class DownloadReactor final : public grpc::ServerWriteReactor<CheckpointChunk> {
 public:
  explicit DownloadReactor(const grpc::Status& refused) { Finish(refused); }
  DownloadReactor(std::unique_ptr<checkpoints::CheckpointStore::Reader> reader,
                  int64_t offset)
      : reader_(std::move(reader)), offset_(offset) {
    *chunk_.mutable_info() = reader_->info();
    WriteNext();
  }

  void OnWriteDone(bool ok) override {
    if (!ok) {
      Finish(grpc::Status(grpc::StatusCode::CANCELLED, "client went away"));
      return;
    }
    chunk_.clear_info();
    WriteNext();
  }
  void OnDone() override { delete this; }

 private:
  void WriteNext() {
    if (offset_ >= reader_->info().size_bytes() && !chunk_.has_info()) {
      Finish(grpc::Status::OK);
      return;
    }
    absl::StatusOr<std::string> data = reader_->Read(offset_, kChunkBytes);
    if (!data.ok()) {
      Finish(ToGrpcStatus(data.status()));
      return;
    }
    chunk_.set_offset(offset_);
    offset_ += data->size();
    *chunk_.mutable_data() = *std::move(data);
    StartWrite(&chunk_);
  }

  std::unique_ptr<checkpoints::CheckpointStore::Reader> reader_;
  int64_t offset_ = 0;
  CheckpointChunk chunk_;
};

}  // namespace

grpc::ServerReadReactor<UploadCheckpointRequest>* StartCheckpointUpload(
    grpc::CallbackServerContext* context, const Edge& edge,
    UploadCheckpointResponse* response) {
  return new UploadReactor(context, edge, response);
}

grpc::ServerWriteReactor<CheckpointChunk>* StartCheckpointDownload(
    grpc::CallbackServerContext* context, const Edge& edge,
    const caviar::v1::DownloadCheckpointRequest& request) {
  Caller caller;
  grpc::Status status =
      ToGrpcStatus(edge.auth->Check(*context, Access::kWorker, &caller));
  if (status.ok()) {
    absl::StatusOr<std::unique_ptr<checkpoints::CheckpointStore::Reader>> reader =
        [&]() -> absl::StatusOr<std::unique_ptr<checkpoints::CheckpointStore::Reader>> {
      if (edge.checkpoints == nullptr) return NoStore();
      CAVIAR_RETURN_IF_ERROR(CheckHeldLease(edge, caller, request.trial_id(),
                                            request.worker_id(), request.attempt())
                                 .status());
      if (request.offset() < 0)
        return absl::InvalidArgumentError(
            absl::StrCat("offset: must be >= 0, got ", request.offset()));
      return edge.checkpoints->OpenReader(request.trial_id(), request.step());
    }();
    if (reader.ok()) {
      if (request.offset() <= (*reader)->info().size_bytes())
        return new DownloadReactor(*std::move(reader), request.offset());
      status = grpc::Status(
          grpc::StatusCode::INVALID_ARGUMENT,
          absl::StrCat("offset: ", request.offset(), " is past the ",
                       (*reader)->info().size_bytes(), " bytes of the checkpoint"));
    } else {
      status = ToGrpcStatus(reader.status());
    }
  }
  edge.audit->Refused(kDownloadMethod, context->peer(), caller.credential, status);
  return new DownloadReactor(status);
}

absl::StatusOr<caviar::v1::CheckpointUploadOffsetResponse> CheckpointUploadOffset(
    const Edge& edge, const Caller& caller,
    const caviar::v1::CheckpointUploadOffsetRequest& request) {
  if (edge.checkpoints == nullptr) return NoStore();
  CAVIAR_RETURN_IF_ERROR(CheckHeldLease(edge, caller, request.trial_id(),
                                        request.worker_id(), request.attempt())
                             .status());
  caviar::v1::CheckpointUploadOffsetResponse response;
  response.set_offset(edge.checkpoints->PartialBytes(request.trial_id(), request.step(),
                                                     request.digest()));
  return response;
}

absl::StatusOr<caviar::v1::ListCheckpointsResponse> ListCheckpoints(const Edge& edge,
                                                                    int64_t trial_id) {
  if (edge.checkpoints == nullptr) return NoStore();
  CAVIAR_RETURN_IF_ERROR(edge.coordinator->LeaseHolder(trial_id).status());  // NOT_FOUND.
  CAVIAR_ASSIGN_OR_RETURN(std::vector<caviar::v1::CheckpointInfo> all,
                          edge.checkpoints->List(trial_id));
  caviar::v1::ListCheckpointsResponse response;
  for (caviar::v1::CheckpointInfo& info : all)
    *response.add_checkpoints() = std::move(info);
  return response;
}

namespace {

// The checkpoint a lease of `trial` resumes from: a pending rollback's
// (none when it rolled back to the start), else the latest.
absl::StatusOr<std::optional<caviar::v1::CheckpointInfo>> ResumePoint(
    const Edge& edge, const caviar::v1::Trial& trial) {
  if (!trial.has_rollback_step()) return edge.checkpoints->Latest(trial.id());
  if (trial.rollback_step() == 0) return std::nullopt;
  return edge.checkpoints->Get(trial.id(), trial.rollback_step());
}

}  // namespace

absl::StatusOr<caviar::v1::SuggestTrialResponse> WithResume(
    const Edge& edge, absl::StatusOr<caviar::v1::SuggestTrialResponse> suggestion) {
  if (!suggestion.ok() || !suggestion->has_trial() || edge.checkpoints == nullptr)
    return suggestion;
  const caviar::v1::Trial& trial = suggestion->trial();
  const int64_t id = trial.id();
  // A branch a pbt exploit started resumes from the parent's checkpoint.
  // Without it the branch starts from scratch, never from the trial's own
  // checkpoint at that step.
  const absl::Status copied = EnsureExploitCopy(edge, suggestion->spec(), trial);
  if (!copied.ok()) {
    CAVIAR_LOG(ERROR) << "trial " << id << ": the exploited checkpoint cannot be "
                      << "copied, the trial starts from scratch: " << copied;
  }
  // Most leases: a fresh trial.
  if (copied.ok() && edge.coordinator->MayHaveCheckpoint(id)) {
    absl::StatusOr<std::optional<caviar::v1::CheckpointInfo>> resume =
        ResumePoint(edge, trial);
    if (!resume.ok()) {
      CAVIAR_LOG(ERROR) << "trial " << id << ": checkpoint unreadable, the trial "
                        << "starts from scratch: " << resume.status();
    } else if (resume->has_value()) {
      *suggestion->mutable_resume() = **std::move(resume);
    }
  }
  for (caviar::v1::Nudge& nudge :
       scheduling::LeaseNudges(trial, suggestion->resume().step())) {
    *suggestion->add_nudges() = std::move(nudge);
  }
  return suggestion;
}

absl::StatusOr<caviar::v1::Trial> RollbackTrial(
    const Edge& edge, const caviar::v1::RollbackTrialRequest& request) {
  if (edge.checkpoints == nullptr) return NoStore();
  if (request.to_step() < 0)
    return absl::InvalidArgumentError(
        absl::StrCat("to_step: must be >= 0, got ", request.to_step()));
  CAVIAR_RETURN_IF_ERROR(edge.coordinator->LeaseHolder(request.trial_id()).status());
  // The checkpoint at to_step or the nearest earlier one, held open so that
  // retention (a running worker may still upload) cannot delete it before
  // the rollback is committed; once it is, the old lease uploads nothing.
  for (int tries = 0;; ++tries) {
    CAVIAR_ASSIGN_OR_RETURN(std::vector<caviar::v1::CheckpointInfo> all,
                            edge.checkpoints->List(request.trial_id()));
    int64_t from_step = 0;
    for (const caviar::v1::CheckpointInfo& info : all) {
      if (info.step() <= request.to_step()) from_step = std::max(from_step, info.step());
    }
    std::unique_ptr<checkpoints::CheckpointStore::Reader> held;
    if (from_step > 0) {
      absl::StatusOr<std::unique_ptr<checkpoints::CheckpointStore::Reader>> reader =
          edge.checkpoints->OpenReader(request.trial_id(), from_step);
      if (absl::IsNotFound(reader.status()) && tries < 3) continue;  // Just deleted.
      CAVIAR_RETURN_IF_ERROR(reader.status());
      held = *std::move(reader);
    }
    CAVIAR_ASSIGN_OR_RETURN(caviar::v1::Trial trial,
                            edge.coordinator->RollbackTrial(request, from_step));
    absl::StatusOr<int> dropped =
        edge.checkpoints->DeleteAfter(request.trial_id(), from_step);
    if (!dropped.ok()) {
      // The pending rollback names its checkpoint (rollback_step): a
      // later one left behind is not resumed from.
      CAVIAR_LOG(WARNING) << "trial " << request.trial_id()
                          << ": checkpoints after step " << from_step
                          << " not deleted: " << dropped.status();
    }
    return trial;
  }
}

}  // namespace caviar::rpc
