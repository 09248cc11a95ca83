// CaviarClient: a small C++ client of caviar-coordinator's StudyService, the
// library the `caviar` command line is built on.
//
//   CAVIAR_ASSIGN_OR_RETURN(auto client, CaviarClient::Connect("host:50051"));
//   CAVIAR_ASSIGN_OR_RETURN(caviar::v1::Study study, client->CreateStudy(spec));
//
// Every call has its own deadline (ClientOptions::timeout) and, when a token is
// configured (ClientOptions::token, else the CAVIAR_TOKEN environment
// variable), sends "authorization: Bearer <token>".
//
// Errors: the coordinator's status code and message pass through unchanged
// (INVALID_ARGUMENT with the field-naming message, NOT_FOUND, ALREADY_EXISTS,
// ...); UNAVAILABLE and DEADLINE_EXCEEDED say which address did not answer.
// Connect itself does not contact the coordinator (channels connect lazily);
// it fails only on an empty address or unreadable TLS certificates.
//
// Thread-safety: a CaviarClient may be used from several threads at once.
#ifndef CAVIAR_CLIENT_CLIENT_H_
#define CAVIAR_CLIENT_CLIENT_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "caviar/v1/service.grpc.pb.h"
#include "common/grpc_status/grpc_status.h"
#include "grpcpp/channel.h"
#include "common/message_limits.h"
#include "grpcpp/support/status.h"

namespace caviar::client {

struct ClientOptions {
  // Deadline of each call.
  absl::Duration timeout = absl::Seconds(30);
  // Bearer token; empty = the CAVIAR_TOKEN environment variable, if set.
  std::string token;
  // PEM file of root certificates; when set the channel uses TLS.
  std::string tls_root_certificates_file;
  // Largest reply accepted: every reply the coordinator may send
  // (common/message_limits.h; trial lists with learning curves can be large).
  int max_receive_message_bytes = kMaxReplyBytes;
  // Longest pause between reconnection attempts to an unreachable
  // coordinator (gRPC's default grows to 120 s; `caviar wait` across a
  // coordinator restart wants to notice within a second or two).
  absl::Duration max_reconnect_backoff = absl::Seconds(2);
};

// The coordinator address from the environment (CAVIAR_COORDINATOR), or
// localhost:50051.
std::string DefaultCoordinatorAddress();

class CaviarClient {
 public:
  static absl::StatusOr<std::unique_ptr<CaviarClient>> Connect(
      const std::string& address, const ClientOptions& options = {});

  const std::string& address() const { return address_; }

  absl::StatusOr<caviar::v1::Study> CreateStudy(const caviar::v1::StudySpec& spec);
  absl::StatusOr<caviar::v1::Study> GetStudy(const std::string& name);
  absl::StatusOr<std::vector<caviar::v1::Study>> ListStudies();
  absl::StatusOr<caviar::v1::Study> StopStudy(const std::string& name,
                                              const std::string& reason = "");
  // One page, as the RPC returns it.
  absl::StatusOr<caviar::v1::ListTrialsResponse> ListTrials(
      const caviar::v1::ListTrialsRequest& request);
  // Follows next_page_token until the end, or until `limit` trials (0 = all).
  absl::StatusOr<std::vector<caviar::v1::Trial>> ListAllTrials(
      caviar::v1::ListTrialsRequest request, int64_t limit = 0);
  absl::StatusOr<caviar::v1::Trial> GetTrial(int64_t id);
  absl::StatusOr<std::vector<caviar::v1::Trial>> BestTrials(const std::string& study,
                                                            int top = 1);

  absl::StatusOr<caviar::v1::Study> RefineStudy(
      const caviar::v1::RefineStudyRequest& request);
  absl::StatusOr<caviar::v1::EnqueueTrialsResponse> EnqueueTrials(
      const caviar::v1::EnqueueTrialsRequest& request);
  absl::StatusOr<caviar::v1::EnqueueTrialsResponse> RetestTrials(
      const caviar::v1::RetestTrialsRequest& request);
  absl::StatusOr<caviar::v1::GetImportanceResponse> GetImportance(
      const std::string& study);
  absl::StatusOr<caviar::v1::Trial> NudgeTrial(const caviar::v1::NudgeTrialRequest& request);
  absl::StatusOr<caviar::v1::Trial> RollbackTrial(
      const caviar::v1::RollbackTrialRequest& request);
  absl::StatusOr<caviar::v1::Trial> PauseTrial(int64_t id);
  absl::StatusOr<caviar::v1::Trial> ResumeTrial(int64_t id);

  // The channel, for services this class does not wrap (e.g. WorkerService).
  std::shared_ptr<grpc::Channel> channel() const { return channel_; }

 private:
  CaviarClient(std::string address, ClientOptions options,
               std::shared_ptr<grpc::Channel> channel);
  // A context with this call's deadline and credentials.
  std::unique_ptr<grpc::ClientContext> NewContext() const;
  // One StudyService call with this client's deadline, credentials and
  // status conversion.
  template <typename Response, typename Request, typename Method>
  absl::StatusOr<Response> Unary(Method method, const Request& request) const {
    Response response;
    auto context = NewContext();
    absl::Status status = caviar::FromGrpcStatus(
        (studies_.get()->*method)(context.get(), request, &response), address_);
    if (!status.ok()) return status;
    return response;
  }

  std::string address_;
  ClientOptions options_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<caviar::v1::StudyService::Stub> studies_;
};

}  // namespace caviar::client

#endif  // CAVIAR_CLIENT_CLIENT_H_
