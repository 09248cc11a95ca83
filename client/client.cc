#include "client/client.h"

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "grpcpp/client_context.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "grpcpp/support/channel_arguments.h"

namespace caviar::client {

std::string DefaultCoordinatorAddress() {
  const char* address = std::getenv("CAVIAR_COORDINATOR");
  if (address != nullptr && *address != '\0') return address;
  return "localhost:50051";
}

absl::StatusOr<std::unique_ptr<CaviarClient>> CaviarClient::Connect(
    const std::string& address, const ClientOptions& options) {
  if (address.empty()) {
    return absl::InvalidArgumentError(
        "coordinator address is empty (expected HOST:PORT)");
  }
  std::shared_ptr<grpc::ChannelCredentials> credentials;
  if (options.tls_root_certificates_file.empty()) {
    credentials = grpc::InsecureChannelCredentials();
  } else {
    std::ifstream in(options.tls_root_certificates_file);
    if (!in) {
      return absl::NotFoundError(absl::StrCat("cannot read TLS root certificates '",
                                              options.tls_root_certificates_file, "'"));
    }
    std::ostringstream pem;
    pem << in.rdbuf();
    grpc::SslCredentialsOptions ssl;
    ssl.pem_root_certs = pem.str();
    credentials = grpc::SslCredentials(ssl);
  }
  grpc::ChannelArguments arguments;
  arguments.SetMaxReceiveMessageSize(options.max_receive_message_bytes);
  const int max_backoff_ms =
      static_cast<int>(absl::ToInt64Milliseconds(options.max_reconnect_backoff));
  arguments.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, std::min(100, max_backoff_ms));
  arguments.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, max_backoff_ms);
  auto channel = grpc::CreateCustomChannel(address, credentials, arguments);
  ClientOptions resolved = options;
  if (resolved.token.empty()) {
    if (const char* token = std::getenv("CAVIAR_TOKEN")) resolved.token = token;
  }
  return std::unique_ptr<CaviarClient>(
      new CaviarClient(address, std::move(resolved), std::move(channel)));
}

CaviarClient::CaviarClient(std::string address, ClientOptions options,
                           std::shared_ptr<grpc::Channel> channel)
    : address_(std::move(address)),
      options_(std::move(options)),
      channel_(std::move(channel)),
      studies_(caviar::v1::StudyService::NewStub(channel_)) {}

std::unique_ptr<grpc::ClientContext> CaviarClient::NewContext() const {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(absl::ToChronoTime(absl::Now() + options_.timeout));
  if (!options_.token.empty()) {
    context->AddMetadata("authorization", absl::StrCat("Bearer ", options_.token));
  }
  return context;
}

using Stub = caviar::v1::StudyService::Stub;

absl::StatusOr<caviar::v1::Study> CaviarClient::CreateStudy(
    const caviar::v1::StudySpec& spec) {
  caviar::v1::CreateStudyRequest request;
  *request.mutable_spec() = spec;
  return Unary<caviar::v1::Study>(&Stub::CreateStudy, request);
}

absl::StatusOr<caviar::v1::Study> CaviarClient::GetStudy(const std::string& name) {
  caviar::v1::GetStudyRequest request;
  request.set_name(name);
  return Unary<caviar::v1::Study>(&Stub::GetStudy, request);
}

absl::StatusOr<std::vector<caviar::v1::Study>> CaviarClient::ListStudies() {
  absl::StatusOr<caviar::v1::ListStudiesResponse> response =
      Unary<caviar::v1::ListStudiesResponse>(&Stub::ListStudies,
                                             caviar::v1::ListStudiesRequest());
  if (!response.ok()) return response.status();
  return std::vector<caviar::v1::Study>(response->studies().begin(),
                                        response->studies().end());
}

absl::StatusOr<caviar::v1::Study> CaviarClient::StopStudy(const std::string& name,
                                                          const std::string& reason) {
  caviar::v1::StopStudyRequest request;
  request.set_name(name);
  request.set_reason(reason);
  return Unary<caviar::v1::Study>(&Stub::StopStudy, request);
}

absl::StatusOr<caviar::v1::ListTrialsResponse> CaviarClient::ListTrials(
    const caviar::v1::ListTrialsRequest& request) {
  return Unary<caviar::v1::ListTrialsResponse>(&Stub::ListTrials, request);
}

absl::StatusOr<std::vector<caviar::v1::Trial>> CaviarClient::ListAllTrials(
    caviar::v1::ListTrialsRequest request, int64_t limit) {
  constexpr int kMaxPageSize = 1000;
  std::vector<caviar::v1::Trial> trials;
  request.clear_page_token();
  while (true) {
    int64_t wanted =
        limit > 0 ? limit - static_cast<int64_t>(trials.size()) : kMaxPageSize;
    request.set_page_size(static_cast<int>(std::min<int64_t>(wanted, kMaxPageSize)));
    absl::StatusOr<caviar::v1::ListTrialsResponse> page = ListTrials(request);
    if (!page.ok()) return page.status();
    for (caviar::v1::Trial& trial : *page->mutable_trials()) {
      if (limit > 0 && static_cast<int64_t>(trials.size()) >= limit) break;
      trials.push_back(std::move(trial));
    }
    if (page->next_page_token().empty()) break;
    if (limit > 0 && static_cast<int64_t>(trials.size()) >= limit) break;
    if (page->next_page_token() == request.page_token()) {
      return absl::InternalError("ListTrials returned the same page token twice");
    }
    request.set_page_token(page->next_page_token());
  }
  return trials;
}

absl::StatusOr<caviar::v1::Trial> CaviarClient::GetTrial(int64_t id) {
  caviar::v1::GetTrialRequest request;
  request.set_id(id);
  return Unary<caviar::v1::Trial>(&Stub::GetTrial, request);
}

absl::StatusOr<std::vector<caviar::v1::Trial>> CaviarClient::BestTrials(
    const std::string& study, int top) {
  caviar::v1::BestTrialsRequest request;
  request.set_study(study);
  request.set_top(top);
  absl::StatusOr<caviar::v1::BestTrialsResponse> response =
      Unary<caviar::v1::BestTrialsResponse>(&Stub::BestTrials, request);
  if (!response.ok()) return response.status();
  return std::vector<caviar::v1::Trial>(response->trials().begin(),
                                        response->trials().end());
}

absl::StatusOr<caviar::v1::Study> CaviarClient::RefineStudy(
    const caviar::v1::RefineStudyRequest& request) {
  return Unary<caviar::v1::Study>(&Stub::RefineStudy, request);
}

absl::StatusOr<caviar::v1::EnqueueTrialsResponse> CaviarClient::EnqueueTrials(
    const caviar::v1::EnqueueTrialsRequest& request) {
  return Unary<caviar::v1::EnqueueTrialsResponse>(&Stub::EnqueueTrials, request);
}

absl::StatusOr<caviar::v1::EnqueueTrialsResponse> CaviarClient::RetestTrials(
    const caviar::v1::RetestTrialsRequest& request) {
  return Unary<caviar::v1::EnqueueTrialsResponse>(&Stub::RetestTrials, request);
}

absl::StatusOr<caviar::v1::GetImportanceResponse> CaviarClient::GetImportance(
    const std::string& study) {
  caviar::v1::GetImportanceRequest request;
  request.set_study(study);
  return Unary<caviar::v1::GetImportanceResponse>(&Stub::GetImportance, request);
}

absl::StatusOr<caviar::v1::Trial> CaviarClient::NudgeTrial(
    const caviar::v1::NudgeTrialRequest& request) {
  return Unary<caviar::v1::Trial>(&Stub::NudgeTrial, request);
}

absl::StatusOr<caviar::v1::Trial> CaviarClient::RollbackTrial(
    const caviar::v1::RollbackTrialRequest& request) {
  return Unary<caviar::v1::Trial>(&Stub::RollbackTrial, request);
}

absl::StatusOr<caviar::v1::Trial> CaviarClient::PauseTrial(int64_t id) {
  caviar::v1::PauseTrialRequest request;
  request.set_trial_id(id);
  return Unary<caviar::v1::Trial>(&Stub::PauseTrial, request);
}

absl::StatusOr<caviar::v1::Trial> CaviarClient::ResumeTrial(int64_t id) {
  caviar::v1::ResumeTrialRequest request;
  request.set_trial_id(id);
  return Unary<caviar::v1::Trial>(&Stub::ResumeTrial, request);
}

}  // namespace caviar::client
