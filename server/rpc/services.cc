#include "server/rpc/services.h"

#include "server/rpc/status.h"

namespace caviar::rpc {
namespace {

grpc::ServerUnaryReactor* Finish(grpc::CallbackServerContext* context,
                                 const grpc::Status& status) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  reactor->Finish(status);
  return reactor;
}

// Copies a successful result into the response, or answers with the error.
template <typename T>
grpc::ServerUnaryReactor* Reply(grpc::CallbackServerContext* context,
                                absl::StatusOr<T> result, T* response) {
  if (!result.ok()) return Finish(context, ToGrpcStatus(result.status()));
  *response = *std::move(result);
  return Finish(context, grpc::Status::OK);
}

template <typename Response>
grpc::ServerUnaryReactor* ReplyTrials(grpc::CallbackServerContext* context,
                                      absl::StatusOr<std::vector<caviar::v1::Trial>> result,
                                      Response* response) {
  if (!result.ok()) return Finish(context, ToGrpcStatus(result.status()));
  for (auto& trial : *result) *response->add_trials() = std::move(trial);
  return Finish(context, grpc::Status::OK);
}

}  // namespace

grpc::ServerUnaryReactor* StudyServiceImpl::CreateStudy(grpc::CallbackServerContext* context,
                                           const caviar::v1::CreateStudyRequest* request,
                                           caviar::v1::Study* response) {
  return Reply(context, coordinator_->CreateStudy(request->spec()), response);
}

grpc::ServerUnaryReactor* StudyServiceImpl::GetStudy(grpc::CallbackServerContext* context,
                                        const caviar::v1::GetStudyRequest* request,
                                        caviar::v1::Study* response) {
  return Reply(context, coordinator_->GetStudy(request->name()), response);
}

grpc::ServerUnaryReactor* StudyServiceImpl::ListStudies(grpc::CallbackServerContext* context,
                                           const caviar::v1::ListStudiesRequest*,
                                           caviar::v1::ListStudiesResponse* response) {
  for (auto& study : coordinator_->ListStudies()) *response->add_studies() = std::move(study);
  return Finish(context, grpc::Status::OK);
}

grpc::ServerUnaryReactor* StudyServiceImpl::StopStudy(grpc::CallbackServerContext* context,
                                         const caviar::v1::StopStudyRequest* request,
                                         caviar::v1::Study* response) {
  return Reply(context, coordinator_->StopStudy(request->name(), request->reason()), response);
}

grpc::ServerUnaryReactor* StudyServiceImpl::ListTrials(grpc::CallbackServerContext* context,
                                          const caviar::v1::ListTrialsRequest* request,
                                          caviar::v1::ListTrialsResponse* response) {
  return Reply(context, coordinator_->ListTrials(*request), response);
}

grpc::ServerUnaryReactor* StudyServiceImpl::GetTrial(grpc::CallbackServerContext* context,
                                        const caviar::v1::GetTrialRequest* request,
                                        caviar::v1::Trial* response) {
  return Reply(context, coordinator_->GetTrial(request->id()), response);
}

grpc::ServerUnaryReactor* StudyServiceImpl::BestTrials(grpc::CallbackServerContext* context,
                                          const caviar::v1::BestTrialsRequest* request,
                                          caviar::v1::BestTrialsResponse* response) {
  return ReplyTrials(context, coordinator_->BestTrials(request->study(), request->top()),
                     response);
}

grpc::ServerUnaryReactor* StudyServiceImpl::RefineStudy(
    grpc::CallbackServerContext* context, const caviar::v1::RefineStudyRequest* request,
    caviar::v1::Study* response) {
  return Reply(context, coordinator_->RefineStudy(*request), response);
}

grpc::ServerUnaryReactor* StudyServiceImpl::EnqueueTrials(
    grpc::CallbackServerContext* context, const caviar::v1::EnqueueTrialsRequest* request,
    caviar::v1::EnqueueTrialsResponse* response) {
  return ReplyTrials(context, coordinator_->EnqueueTrials(*request), response);
}

grpc::ServerUnaryReactor* StudyServiceImpl::RetestTrials(
    grpc::CallbackServerContext* context, const caviar::v1::RetestTrialsRequest* request,
    caviar::v1::EnqueueTrialsResponse* response) {
  return ReplyTrials(context, coordinator_->RetestTrials(*request), response);
}

grpc::ServerUnaryReactor* StudyServiceImpl::GetImportance(
    grpc::CallbackServerContext* context, const caviar::v1::GetImportanceRequest* request,
    caviar::v1::GetImportanceResponse* response) {
  return Reply(context, coordinator_->GetImportance(request->study()), response);
}

grpc::ServerUnaryReactor* WorkerServiceImpl::SuggestTrial(grpc::CallbackServerContext* context,
                                             const caviar::v1::SuggestTrialRequest* request,
                                             caviar::v1::SuggestTrialResponse* response) {
  return Reply(context, coordinator_->SuggestTrial(*request), response);
}

grpc::ServerUnaryReactor* WorkerServiceImpl::ReportProgress(
    grpc::CallbackServerContext* context, const caviar::v1::ReportProgressRequest* request,
    caviar::v1::ReportProgressResponse* response) {
  return Reply(context, coordinator_->ReportProgress(*request), response);
}

grpc::ServerUnaryReactor* WorkerServiceImpl::CompleteTrial(grpc::CallbackServerContext* context,
                                              const caviar::v1::CompleteTrialRequest* request,
                                              caviar::v1::Trial* response) {
  return Reply(context, coordinator_->CompleteTrial(*request), response);
}

}  // namespace caviar::rpc
