#include "server/rpc/services.h"

#include "server/rpc/status.h"

namespace caviar::rpc {
namespace {

// Copies a successful result into the response, or returns the error.
template <typename T>
grpc::Status Reply(absl::StatusOr<T> result, T* response) {
  if (!result.ok()) return ToGrpcStatus(result.status());
  *response = *std::move(result);
  return grpc::Status::OK;
}

}  // namespace

grpc::Status StudyServiceImpl::CreateStudy(grpc::ServerContext*,
                                           const caviar::v1::CreateStudyRequest* request,
                                           caviar::v1::Study* response) {
  return Reply(coordinator_->CreateStudy(request->spec()), response);
}

grpc::Status StudyServiceImpl::GetStudy(grpc::ServerContext*,
                                        const caviar::v1::GetStudyRequest* request,
                                        caviar::v1::Study* response) {
  return Reply(coordinator_->GetStudy(request->name()), response);
}

grpc::Status StudyServiceImpl::ListStudies(grpc::ServerContext*,
                                           const caviar::v1::ListStudiesRequest*,
                                           caviar::v1::ListStudiesResponse* response) {
  for (auto& study : coordinator_->ListStudies()) *response->add_studies() = std::move(study);
  return grpc::Status::OK;
}

grpc::Status StudyServiceImpl::StopStudy(grpc::ServerContext*,
                                         const caviar::v1::StopStudyRequest* request,
                                         caviar::v1::Study* response) {
  return Reply(coordinator_->StopStudy(request->name(), request->reason()), response);
}

grpc::Status StudyServiceImpl::ListTrials(grpc::ServerContext*,
                                          const caviar::v1::ListTrialsRequest* request,
                                          caviar::v1::ListTrialsResponse* response) {
  return Reply(coordinator_->ListTrials(*request), response);
}

grpc::Status StudyServiceImpl::GetTrial(grpc::ServerContext*,
                                        const caviar::v1::GetTrialRequest* request,
                                        caviar::v1::Trial* response) {
  return Reply(coordinator_->GetTrial(request->id()), response);
}

grpc::Status StudyServiceImpl::BestTrials(grpc::ServerContext*,
                                          const caviar::v1::BestTrialsRequest* request,
                                          caviar::v1::BestTrialsResponse* response) {
  auto best = coordinator_->BestTrials(request->study(), request->top());
  if (!best.ok()) return ToGrpcStatus(best.status());
  for (auto& trial : *best) *response->add_trials() = std::move(trial);
  return grpc::Status::OK;
}

grpc::Status WorkerServiceImpl::SuggestTrial(grpc::ServerContext*,
                                             const caviar::v1::SuggestTrialRequest* request,
                                             caviar::v1::SuggestTrialResponse* response) {
  return Reply(coordinator_->SuggestTrial(*request), response);
}

grpc::Status WorkerServiceImpl::ReportProgress(
    grpc::ServerContext*, const caviar::v1::ReportProgressRequest* request,
    caviar::v1::ReportProgressResponse* response) {
  return Reply(coordinator_->ReportProgress(*request), response);
}

grpc::Status WorkerServiceImpl::CompleteTrial(grpc::ServerContext*,
                                              const caviar::v1::CompleteTrialRequest* request,
                                              caviar::v1::Trial* response) {
  return Reply(coordinator_->CompleteTrial(*request), response);
}

}  // namespace caviar::rpc
