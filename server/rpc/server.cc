#include "server/rpc/server.h"

#include <arpa/inet.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/log.h"
#include "common/metrics/coordinator_metrics.h"
#include "grpcpp/ext/proto_server_reflection_plugin.h"
#include "grpcpp/health_check_service_interface.h"
#include "grpcpp/security/server_credentials.h"
#include "grpcpp/server_builder.h"

namespace caviar::rpc {
namespace {

// The credentials of `options`, the single tokens included.
std::vector<Credential> AllCredentials(const ServerOptions& options) {
  std::vector<Credential> all = options.credentials;
  if (!options.worker_token.empty())
    all.push_back({"worker", Role::kWorker, options.worker_token});
  if (!options.admin_token.empty())
    all.push_back({"admin", Role::kAdmin, options.admin_token});
  return all;
}

}  // namespace

bool IsLoopbackListenAddress(const std::string& listen) {
  if (absl::StartsWith(listen, "unix:") || absl::StartsWith(listen, "unix-abstract:"))
    return true;
  std::string host = listen.substr(0, listen.rfind(':'));
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  if (host == "localhost") return true;
  in_addr v4;
  if (inet_pton(AF_INET, host.c_str(), &v4) == 1) return (ntohl(v4.s_addr) >> 24) == 127;
  in6_addr v6;
  if (inet_pton(AF_INET6, host.c_str(), &v6) == 1) {
    if (IN6_IS_ADDR_LOOPBACK(&v6)) return true;
    return IN6_IS_ADDR_V4MAPPED(&v6) && v6.s6_addr[12] == 127;
  }
  return false;  // 0.0.0.0, [::], a host name, an interface address.
}

CoordinatorServer::CoordinatorServer(scheduling::Coordinator* coordinator,
                                     const ServerOptions& options,
                                     std::vector<Credential> credentials)
    : coordinator_(coordinator),
      auth_(std::move(credentials), !options.tls_client_ca.empty()),
      audit_(options.audit_sink),
      edge_{coordinator, &auth_, &audit_, options.database, options.backup_dir,
            options.checkpoints},
      study_service_(&edge_),
      worker_service_(&edge_),
      admin_service_(&edge_) {}

absl::StatusOr<std::unique_ptr<CoordinatorServer>> CoordinatorServer::Start(
    scheduling::Coordinator* coordinator, const ServerOptions& options) {
  std::vector<Credential> credentials = AllCredentials(options);
  const bool loopback = IsLoopbackListenAddress(options.listen);
  const bool tls =
      !options.tls_certificate_chain.empty() || !options.tls_private_key.empty();
  if (credentials.empty() && !loopback && !options.insecure) {
    return absl::FailedPreconditionError(absl::StrCat(
        "refusing to serve ", options.listen,
        " without tokens: it is not a loopback address, and whoever can create a study "
        "runs commands on every worker. Give --tokens-file (or --admin-token-file and "
        "--worker-token-file), listen on 127.0.0.1, or pass --insecure to serve it "
        "open anyway"));
  }
  if (!options.tls_client_ca.empty() && !tls) {
    return absl::InvalidArgumentError(
        "a client CA (mutual TLS) needs TLS: give the server certificate and key too");
  }
  if (!loopback && credentials.empty()) {
    CAVIAR_LOG(WARNING) << "serving " << options.listen
                        << " WITHOUT tokens (--insecure): anyone who can reach it can "
                           "run commands on every worker";
  } else if (!loopback && !tls) {
    CAVIAR_LOG(WARNING) << "serving " << options.listen
                        << " with tokens but without TLS: tokens travel in clear text "
                           "(give --tls-cert and --tls-key)";
  }
  std::unique_ptr<CoordinatorServer> server(
      new CoordinatorServer(coordinator, options, std::move(credentials)));
  grpc::EnableDefaultHealthCheckService(true);
  // Called explicitly: otherwise the linker drops the plugin's static
  // initializer and the server has no reflection service.
  static const bool reflection = [] {
    grpc::reflection::InitProtoReflectionServerBuilderPlugin();
    return true;
  }();
  (void)reflection;
  grpc::ServerBuilder builder;
  std::shared_ptr<grpc::ServerCredentials> server_credentials =
      grpc::InsecureServerCredentials();
  if (tls) {
    grpc::SslServerCredentialsOptions ssl(
        options.tls_client_ca.empty() ? GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE
                                      : GRPC_SSL_REQUEST_CLIENT_CERTIFICATE_AND_VERIFY);
    ssl.pem_root_certs = options.tls_client_ca;
    ssl.pem_key_cert_pairs.push_back(
        {options.tls_private_key, options.tls_certificate_chain});
    server_credentials = grpc::SslServerCredentials(ssl);
  }
  builder.AddListeningPort(options.listen, server_credentials, &server->port_);
  builder.RegisterService(&server->study_service_);
  builder.RegisterService(&server->worker_service_);
  builder.RegisterService(&server->admin_service_);
  builder.SetMaxReceiveMessageSize(options.max_message_bytes);
  // Messages here are small and frequent: bandwidth-delay probing only adds
  // pings to every connection.
  builder.AddChannelArgument(GRPC_ARG_HTTP2_BDP_PROBE, 0);
  // gRPC sets SO_REUSEPORT by default: a second coordinator (with another
  // database) on the same port would then also serve, and the kernel would
  // split workers between the two. One port, one coordinator.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
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

absl::Status CoordinatorServer::ReplaceCredentials(std::vector<Credential> credentials) {
  if (credentials.empty() && !auth_.open()) {
    return absl::InvalidArgumentError(
        "the new credentials are empty; keeping the old ones (a coordinator started "
        "with tokens does not become open)");
  }
  auth_.Replace(std::move(credentials));
  return absl::OkStatus();
}

void CoordinatorServer::ReapLoop(absl::Duration interval) {
  while (!stopping_.WaitForNotificationWithTimeout(interval)) {
    absl::StatusOr<int> expired = coordinator_->ExpireLeases();
    if (!expired.ok()) CAVIAR_LOG(ERROR) << "expiring leases: " << expired.status();
    if (expired.ok() && *expired > 0) metrics::RecordLeasesExpired(*expired);
    coordinator_->feed().Heartbeat(absl::Now());
  }
}

void CoordinatorServer::Shutdown(absl::Duration grace) {
  if (stopping_.HasBeenNotified()) return;
  stopping_.Notify();
  // A server that never started listening (port taken) has nothing to shut.
  if (server_ != nullptr)
    server_->Shutdown(std::chrono::system_clock::now() + absl::ToChronoSeconds(grace));
  if (reaper_.joinable()) reaper_.join();
  stopped_.Notify();
}

void CoordinatorServer::Wait() { stopped_.WaitForNotification(); }

}  // namespace caviar::rpc
