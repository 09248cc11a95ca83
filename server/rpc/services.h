// gRPC services of caviar-coordinator: StudyService (users) and
// WorkerService (workers). Each method translates its request into a
// Coordinator call and the absl::Status into a grpc::Status; no domain logic
// lives here.
//
// The services use gRPC's callback API: a handler runs on the thread that
// read the request and answers at once (the Coordinator never blocks for
// long), which saves two thread hand-offs per call over the synchronous API.
//
// Thread-safety: as the Coordinator (fully concurrent).
#ifndef CAVIAR_SERVER_RPC_SERVICES_H_
#define CAVIAR_SERVER_RPC_SERVICES_H_

#include "caviar/v1/service.grpc.pb.h"
#include "server/rpc/auth.h"
#include "server/scheduling/coordinator.h"

namespace caviar::rpc {

class StudyServiceImpl final : public caviar::v1::StudyService::CallbackService {
 public:
  StudyServiceImpl(scheduling::Coordinator* coordinator, const Authorizer* auth)
      : coordinator_(coordinator), auth_(auth) {}

  grpc::ServerUnaryReactor* CreateStudy(grpc::CallbackServerContext* context,
                                        const caviar::v1::CreateStudyRequest* request,
                                        caviar::v1::Study* response) override;
  grpc::ServerUnaryReactor* GetStudy(grpc::CallbackServerContext* context,
                                     const caviar::v1::GetStudyRequest* request,
                                     caviar::v1::Study* response) override;
  grpc::ServerUnaryReactor* ListStudies(
      grpc::CallbackServerContext* context, const caviar::v1::ListStudiesRequest* request,
      caviar::v1::ListStudiesResponse* response) override;
  grpc::ServerUnaryReactor* StopStudy(grpc::CallbackServerContext* context,
                                      const caviar::v1::StopStudyRequest* request,
                                      caviar::v1::Study* response) override;
  grpc::ServerUnaryReactor* ListTrials(grpc::CallbackServerContext* context,
                                       const caviar::v1::ListTrialsRequest* request,
                                       caviar::v1::ListTrialsResponse* response) override;
  grpc::ServerUnaryReactor* GetTrial(grpc::CallbackServerContext* context,
                                     const caviar::v1::GetTrialRequest* request,
                                     caviar::v1::Trial* response) override;
  grpc::ServerUnaryReactor* BestTrials(grpc::CallbackServerContext* context,
                                       const caviar::v1::BestTrialsRequest* request,
                                       caviar::v1::BestTrialsResponse* response) override;
  grpc::ServerUnaryReactor* RefineStudy(grpc::CallbackServerContext* context,
                                        const caviar::v1::RefineStudyRequest* request,
                                        caviar::v1::Study* response) override;
  grpc::ServerUnaryReactor* EnqueueTrials(
      grpc::CallbackServerContext* context,
      const caviar::v1::EnqueueTrialsRequest* request,
      caviar::v1::EnqueueTrialsResponse* response) override;
  grpc::ServerUnaryReactor* RetestTrials(
      grpc::CallbackServerContext* context,
      const caviar::v1::RetestTrialsRequest* request,
      caviar::v1::EnqueueTrialsResponse* response) override;
  grpc::ServerUnaryReactor* NudgeTrial(grpc::CallbackServerContext* context,
                                       const caviar::v1::NudgeTrialRequest* request,
                                       caviar::v1::Trial* response) override;
  grpc::ServerUnaryReactor* GetImportance(
      grpc::CallbackServerContext* context,
      const caviar::v1::GetImportanceRequest* request,
      caviar::v1::GetImportanceResponse* response) override;

 private:
  scheduling::Coordinator* const coordinator_;
  const Authorizer* const auth_;
};

class WorkerServiceImpl final : public caviar::v1::WorkerService::CallbackService {
 public:
  WorkerServiceImpl(scheduling::Coordinator* coordinator, const Authorizer* auth)
      : coordinator_(coordinator), auth_(auth) {}

  grpc::ServerUnaryReactor* SuggestTrial(
      grpc::CallbackServerContext* context,
      const caviar::v1::SuggestTrialRequest* request,
      caviar::v1::SuggestTrialResponse* response) override;
  grpc::ServerUnaryReactor* ReportProgress(
      grpc::CallbackServerContext* context,
      const caviar::v1::ReportProgressRequest* request,
      caviar::v1::ReportProgressResponse* response) override;
  grpc::ServerUnaryReactor* CompleteTrial(grpc::CallbackServerContext* context,
                                          const caviar::v1::CompleteTrialRequest* request,
                                          caviar::v1::Trial* response) override;

 private:
  scheduling::Coordinator* const coordinator_;
  const Authorizer* const auth_;
};

}  // namespace caviar::rpc

#endif  // CAVIAR_SERVER_RPC_SERVICES_H_
