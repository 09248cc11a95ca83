// CoordinatorServer: a running caviar coordinator: the gRPC server with the
// StudyService, WorkerService, AdminService, the standard health service and
// gRPC server reflection (so generic tools can list and call the services)
// over one Coordinator, plus the thread that expires leases every second.
// Health and reflection stay open when tokens are configured: they tell the
// services' schema (public, in proto/), never a study or a trial, and every
// call a tool makes with what it learned needs a token like any other.
//
// Secure by default: Start refuses a non-loopback listen address when no
// credentials are configured, unless `insecure` is set (loopback stays
// zero-config), and warns when tokens would travel without TLS off
// loopback. See auth.h for roles, services.h for how leases are bound to
// credentials, audit.h for what is logged.
//
// Used by caviar-coordinator and by integration tests (in-process, on an
// ephemeral port: listen on "127.0.0.1:0" and read port()).
//
// Thread-safety: Shutdown may be called from any thread, once;
// ReplaceCredentials from any thread at any time.
#ifndef CAVIAR_SERVER_RPC_SERVER_H_
#define CAVIAR_SERVER_RPC_SERVER_H_

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "common/message_limits.h"
#include "grpcpp/server.h"
#include "server/rpc/audit.h"
#include "server/rpc/auth.h"
#include "server/rpc/credentials.h"
#include "server/rpc/services.h"
#include "server/scheduling/coordinator.h"
#include "storage/sqlite_store.h"

namespace caviar::rpc {

struct ServerOptions {
  std::string listen = "127.0.0.1:50051";
  // Largest request a client may send (common/message_limits.h: every
  // worker and client accepts replies of at least this size).
  int max_message_bytes = kMaxRequestBytes;
  absl::Duration reap_interval = absl::Seconds(1);
  // Who may call (see credentials.h); none: open, loopback only unless
  // `insecure`.
  std::vector<Credential> credentials;
  // Single tokens, added as the credentials "worker" and "admin" (the
  // --worker-token-file / --admin-token-file of earlier releases).
  std::string worker_token;
  std::string admin_token;
  // Serve without credentials on a non-loopback address anyway.
  bool insecure = false;
  // TLS when both are set (PEM files' contents).
  std::string tls_certificate_chain;
  std::string tls_private_key;
  // Mutual TLS: PEM root certificates of client certificates. When set (with
  // TLS), the server asks every client for a certificate, verifies it, and
  // WorkerService calls without a verified one are UNAUTHENTICATED.
  std::string tls_client_ca;
  // Where refused calls are logged (default: the log, WARNING).
  AuditLog::Sink audit_sink;
  // AdminService.Backup copies this database, staging the copy in
  // backup_dir (default: the current folder). nullptr: UNIMPLEMENTED.
  storage::SqliteStore* database = nullptr;
  std::string backup_dir;
  // Checkpoints of trials (checkpoint_calls.h); nullptr: none, trials
  // restart from scratch.
  checkpoints::CheckpointStore* checkpoints = nullptr;
};

// True for 127.0.0.0/8, ::1, "localhost" and unix sockets: addresses only
// this machine can reach. `listen` is HOST:PORT, [V6]:PORT or unix:PATH.
bool IsLoopbackListenAddress(const std::string& listen);

class CoordinatorServer {
 public:
  // Starts serving `coordinator` (which must outlive the server).
  // UNAVAILABLE if the address cannot be bound; FAILED_PRECONDITION for a
  // non-loopback address without credentials (and not `insecure`);
  // INVALID_ARGUMENT for tls_client_ca without TLS.
  static absl::StatusOr<std::unique_ptr<CoordinatorServer>> Start(
      scheduling::Coordinator* coordinator, const ServerOptions& options);
  ~CoordinatorServer();

  int port() const { return port_; }
  std::string address() const;

  // For other transports of the same coordinator (the HTTP port): the same
  // credentials (SIGHUP included) and the same audit log.
  const Authorizer* authorizer() const { return &auth_; }
  AuditLog* audit_log() { return &audit_; }

  // New credentials (SIGHUP), without dropping connections. INVALID_ARGUMENT
  // (and nothing changes) when this would leave a server started with
  // credentials without any.
  absl::Status ReplaceCredentials(std::vector<Credential> credentials);

  // Stops accepting calls, lets running calls finish (up to `grace`), and
  // stops the lease thread.
  void Shutdown(absl::Duration grace = absl::Seconds(5));
  // Blocks until Shutdown has run.
  void Wait();

 private:
  CoordinatorServer(scheduling::Coordinator* coordinator, const ServerOptions& options,
                    std::vector<Credential> credentials);
  void ReapLoop(absl::Duration interval);

  scheduling::Coordinator* const coordinator_;
  Authorizer auth_;
  AuditLog audit_;
  Edge edge_;
  StudyServiceImpl study_service_;
  WorkerServiceImpl worker_service_;
  AdminServiceImpl admin_service_;
  std::unique_ptr<grpc::Server> server_;
  std::string host_;
  int port_ = 0;
  absl::Notification stopping_;
  absl::Notification stopped_;
  std::thread reaper_;
};

}  // namespace caviar::rpc

#endif  // CAVIAR_SERVER_RPC_SERVER_H_
