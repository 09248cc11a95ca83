// gRPC services of caviar-coordinator: StudyService (users) and
// WorkerService (workers). Each method translates its request into a
// Coordinator call and the absl::Status into a grpc::Status; no domain logic
// lives here.
//
// Thread-safety: as the Coordinator (fully concurrent).
#ifndef CAVIAR_SERVER_RPC_SERVICES_H_
#define CAVIAR_SERVER_RPC_SERVICES_H_

#include "caviar/v1/service.grpc.pb.h"
#include "server/scheduling/coordinator.h"

namespace caviar::rpc {

class StudyServiceImpl final : public caviar::v1::StudyService::Service {
 public:
  explicit StudyServiceImpl(scheduling::Coordinator* coordinator)
      : coordinator_(coordinator) {}

  grpc::Status CreateStudy(grpc::ServerContext* context,
                           const caviar::v1::CreateStudyRequest* request,
                           caviar::v1::Study* response) override;
  grpc::Status GetStudy(grpc::ServerContext* context,
                        const caviar::v1::GetStudyRequest* request,
                        caviar::v1::Study* response) override;
  grpc::Status ListStudies(grpc::ServerContext* context,
                           const caviar::v1::ListStudiesRequest* request,
                           caviar::v1::ListStudiesResponse* response) override;
  grpc::Status StopStudy(grpc::ServerContext* context,
                         const caviar::v1::StopStudyRequest* request,
                         caviar::v1::Study* response) override;
  grpc::Status ListTrials(grpc::ServerContext* context,
                          const caviar::v1::ListTrialsRequest* request,
                          caviar::v1::ListTrialsResponse* response) override;
  grpc::Status GetTrial(grpc::ServerContext* context,
                        const caviar::v1::GetTrialRequest* request,
                        caviar::v1::Trial* response) override;
  grpc::Status BestTrials(grpc::ServerContext* context,
                          const caviar::v1::BestTrialsRequest* request,
                          caviar::v1::BestTrialsResponse* response) override;

 private:
  scheduling::Coordinator* const coordinator_;
};

class WorkerServiceImpl final : public caviar::v1::WorkerService::Service {
 public:
  explicit WorkerServiceImpl(scheduling::Coordinator* coordinator)
      : coordinator_(coordinator) {}

  grpc::Status SuggestTrial(grpc::ServerContext* context,
                            const caviar::v1::SuggestTrialRequest* request,
                            caviar::v1::SuggestTrialResponse* response) override;
  grpc::Status ReportProgress(grpc::ServerContext* context,
                              const caviar::v1::ReportProgressRequest* request,
                              caviar::v1::ReportProgressResponse* response) override;
  grpc::Status CompleteTrial(grpc::ServerContext* context,
                             const caviar::v1::CompleteTrialRequest* request,
                             caviar::v1::Trial* response) override;

 private:
  scheduling::Coordinator* const coordinator_;
};

}  // namespace caviar::rpc

#endif  // CAVIAR_SERVER_RPC_SERVICES_H_
