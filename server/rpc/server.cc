#include "server/rpc/server.h"

#include "absl/strings/str_cat.h"
#include "common/log.h"
#include "grpcpp/health_check_service_interface.h"
#include "grpcpp/security/server_credentials.h"
#include "grpcpp/server_builder.h"

namespace caviar::rpc {

CoordinatorServer::CoordinatorServer(scheduling::Coordinator* coordinator,
                                     const ServerOptions& options)
    : coordinator_(coordinator),
      auth_(options.worker_token, options.admin_token),
      study_service_(coordinator, &auth_),
      worker_service_(coordinator, &auth_) {}

absl::StatusOr<std::unique_ptr<CoordinatorServer>> CoordinatorServer::Start(
    scheduling::Coordinator* coordinator, const ServerOptions& options) {
  std::unique_ptr<CoordinatorServer> server(new CoordinatorServer(coordinator, options));
  grpc::EnableDefaultHealthCheckService(true);
  grpc::ServerBuilder builder;
  std::shared_ptr<grpc::ServerCredentials> credentials =
      grpc::InsecureServerCredentials();
  if (!options.tls_certificate_chain.empty() || !options.tls_private_key.empty()) {
    grpc::SslServerCredentialsOptions ssl;
    ssl.pem_key_cert_pairs.push_back(
        {options.tls_private_key, options.tls_certificate_chain});
    credentials = grpc::SslServerCredentials(ssl);
  }
  builder.AddListeningPort(options.listen, credentials, &server->port_);
  builder.RegisterService(&server->study_service_);
  builder.RegisterService(&server->worker_service_);
  builder.SetMaxReceiveMessageSize(options.max_message_bytes);
  // Messages here are small and frequent: bandwidth-delay probing only adds
  // pings to every connection.
  builder.AddChannelArgument(GRPC_ARG_HTTP2_BDP_PROBE, 0);
  server->server_ = builder.BuildAndStart();
  if (server->server_ == nullptr || server->port_ == 0) {
    return absl::UnavailableError(absl::StrCat("cannot listen on ", options.listen));
  }
  const size_t colon = options.listen.rfind(':');
  server->host_ = options.listen.substr(0, colon);
  server->reaper_ = std::thread(
      [s = server.get(), interval = options.reap_interval] { s->ReapLoop(interval); });
  return server;
}

CoordinatorServer::~CoordinatorServer() {
  Shutdown();
  Wait();
}

std::string CoordinatorServer::address() const { return absl::StrCat(host_, ":", port_); }

void CoordinatorServer::ReapLoop(absl::Duration interval) {
  while (!stopping_.WaitForNotificationWithTimeout(interval)) {
    absl::StatusOr<int> expired = coordinator_->ExpireLeases();
    if (!expired.ok()) CAVIAR_LOG(ERROR) << "expiring leases: " << expired.status();
  }
}

void CoordinatorServer::Shutdown(absl::Duration grace) {
  if (stopping_.HasBeenNotified()) return;
  stopping_.Notify();
  server_->Shutdown(std::chrono::system_clock::now() + absl::ToChronoSeconds(grace));
  if (reaper_.joinable()) reaper_.join();
  stopped_.Notify();
}

void CoordinatorServer::Wait() { stopped_.WaitForNotification(); }

}  // namespace caviar::rpc
