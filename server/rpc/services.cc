#include "server/rpc/services.h"

#include <vector>

#include "server/rpc/status.h"

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

// Every call: authorize, run `call` on the Coordinator, answer with its
// result or its status.
template <typename Call, typename Response>
grpc::ServerUnaryReactor* Serve(grpc::CallbackServerContext* context,
                                const Authorizer& auth, Role role, Call call,
                                Response* response) {
  if (grpc::Status denied = auth.Check(*context, role); !denied.ok()) {
    return Finish(context, denied);
  }
  auto result = call();
  if constexpr (std::is_same_v<decltype(result), std::vector<caviar::v1::Study>>) {
    Fill(std::move(result), response);
  } else {
    if (!result.ok()) return Finish(context, ToGrpcStatus(result.status()));
    Fill(*std::move(result), response);
  }
  return Finish(context, grpc::Status::OK);
}

}  // namespace

#define CAVIAR_STUDY_CALL(Method, Request, Response, expr)                      \
  grpc::ServerUnaryReactor* StudyServiceImpl::Method(                           \
      grpc::CallbackServerContext* context, const caviar::v1::Request* request, \
      caviar::v1::Response* response) {                                         \
    return Serve(                                                               \
        context, *auth_, Role::kAdmin, [&] { return expr; }, response);         \
  }
#define CAVIAR_WORKER_CALL(Method, Request, Response, expr)                     \
  grpc::ServerUnaryReactor* WorkerServiceImpl::Method(                          \
      grpc::CallbackServerContext* context, const caviar::v1::Request* request, \
      caviar::v1::Response* response) {                                         \
    return Serve(                                                               \
        context, *auth_, Role::kWorker, [&] { return expr; }, response);        \
  }

CAVIAR_STUDY_CALL(CreateStudy, CreateStudyRequest, Study,
                  coordinator_->CreateStudy(request->spec()))
CAVIAR_STUDY_CALL(GetStudy, GetStudyRequest, Study,
                  coordinator_->GetStudy(request->name()))
CAVIAR_STUDY_CALL(ListStudies, ListStudiesRequest, ListStudiesResponse,
                  ((void)request, coordinator_->ListStudies()))
CAVIAR_STUDY_CALL(StopStudy, StopStudyRequest, Study,
                  coordinator_->StopStudy(request->name(), request->reason()))
CAVIAR_STUDY_CALL(ListTrials, ListTrialsRequest, ListTrialsResponse,
                  coordinator_->ListTrials(*request))
CAVIAR_STUDY_CALL(GetTrial, GetTrialRequest, Trial, coordinator_->GetTrial(request->id()))
CAVIAR_STUDY_CALL(BestTrials, BestTrialsRequest, BestTrialsResponse,
                  coordinator_->BestTrials(request->study(), request->top()))
CAVIAR_STUDY_CALL(RefineStudy, RefineStudyRequest, Study,
                  coordinator_->RefineStudy(*request))
CAVIAR_STUDY_CALL(EnqueueTrials, EnqueueTrialsRequest, EnqueueTrialsResponse,
                  coordinator_->EnqueueTrials(*request))
CAVIAR_STUDY_CALL(RetestTrials, RetestTrialsRequest, EnqueueTrialsResponse,
                  coordinator_->RetestTrials(*request))
CAVIAR_STUDY_CALL(NudgeTrial, NudgeTrialRequest, Trial, coordinator_->NudgeTrial(*request))
CAVIAR_STUDY_CALL(GetImportance, GetImportanceRequest, GetImportanceResponse,
                  coordinator_->GetImportance(request->study()))

CAVIAR_WORKER_CALL(SuggestTrial, SuggestTrialRequest, SuggestTrialResponse,
                   coordinator_->SuggestTrial(*request))
CAVIAR_WORKER_CALL(ReportProgress, ReportProgressRequest, ReportProgressResponse,
                   coordinator_->ReportProgress(*request))
CAVIAR_WORKER_CALL(CompleteTrial, CompleteTrialRequest, Trial,
                   coordinator_->CompleteTrial(*request))

#undef CAVIAR_STUDY_CALL
#undef CAVIAR_WORKER_CALL

}  // namespace caviar::rpc
