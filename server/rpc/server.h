// CoordinatorServer: a running caviar coordinator: the gRPC server with the
// StudyService, WorkerService and the standard health service over one
// Coordinator, plus the thread that expires leases every second.
//
// Used by caviar-coordinator and by integration tests (in-process, on an
// ephemeral port: listen on "127.0.0.1:0" and read port()).
//
// Thread-safety: Shutdown may be called from any thread, once.
#ifndef CAVIAR_SERVER_RPC_SERVER_H_
#define CAVIAR_SERVER_RPC_SERVER_H_

#include <memory>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "grpcpp/server.h"
#include "server/rpc/services.h"
#include "server/scheduling/coordinator.h"

namespace caviar::rpc {

struct ServerOptions {
  std::string listen = "127.0.0.1:50051";
  // Largest request a client may send.
  int max_message_bytes = 16 << 20;
  absl::Duration reap_interval = absl::Seconds(1);
  // Bearer tokens (empty: that role is open). See auth.h.
  std::string worker_token;
  std::string admin_token;
  // TLS when both are set (PEM files' contents).
  std::string tls_certificate_chain;
  std::string tls_private_key;
};

class CoordinatorServer {
 public:
  // Starts serving `coordinator` (which must outlive the server).
  // UNAVAILABLE if the address cannot be bound.
  static absl::StatusOr<std::unique_ptr<CoordinatorServer>> Start(
      scheduling::Coordinator* coordinator, const ServerOptions& options);
  ~CoordinatorServer();

  int port() const { return port_; }
  std::string address() const;

  // Stops accepting calls, lets running calls finish (up to `grace`), and
  // stops the lease thread.
  void Shutdown(absl::Duration grace = absl::Seconds(5));
  // Blocks until Shutdown has run.
  void Wait();

 private:
  CoordinatorServer(scheduling::Coordinator* coordinator, const ServerOptions& options);
  void ReapLoop(absl::Duration interval);

  scheduling::Coordinator* const coordinator_;
  const Authorizer auth_;
  StudyServiceImpl study_service_;
  WorkerServiceImpl worker_service_;
  std::unique_ptr<grpc::Server> server_;
  std::string host_;
  int port_ = 0;
  absl::Notification stopping_;
  absl::Notification stopped_;
  std::thread reaper_;
};

}  // namespace caviar::rpc

#endif  // CAVIAR_SERVER_RPC_SERVER_H_
