// HttpServer: the coordinator's optional HTTP port (caviar-coordinator
// --http HOST:PORT): the read-only JSON API (json_api.h, documented in
// server/http/README.md) and Prometheus's /metrics (metrics_page.h), for
// dashboards, monitoring and scripts. Read-only: nothing served here changes
// a study; changes go through gRPC with an admin token.
//
// Same rules as the gRPC port (server/rpc/server.h):
//   - secure by default: Start refuses a non-loopback address while the
//     coordinator has no tokens, unless `insecure`; loopback stays open
//     when the coordinator is open;
//   - with tokens, every request (/metrics too) needs
//     "Authorization: Bearer <token>" of a viewer or admin credential (the
//     same Authorizer, so SIGHUP's new tokens apply here at once); 401
//     without or with an unknown token, 403 for a worker token;
//   - every refused request (401, 403, and any other 4xx/5xx answer) goes
//     to the same audit log, as "GET /path";
//   - TLS with the gRPC port's certificate and key when given (cpp-httplib
//     is built with OpenSSL in Debian); no client certificates are asked
//     here (the viewer token is the credential).
//
// At start, a thread of its own reads what a dashboard's study page asks
// for first (JsonApi::Warm), so that the first page is not the one waiting
// for the store; Shutdown stops it.
//
// Thread-safety: Shutdown may be called from any thread, once (the
// destructor calls it).
#ifndef CAVIAR_SERVER_HTTP_HTTP_SERVER_H_
#define CAVIAR_SERVER_HTTP_HTTP_SERVER_H_

#include <atomic>
#include <memory>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "server/http/json_api.h"
#include "server/rpc/audit.h"
#include "server/rpc/auth.h"
#include "server/scheduling/coordinator.h"

namespace httplib {
class Server;
}

namespace caviar::http {

struct HttpOptions {
  // HOST:PORT or [V6]:PORT; port 0 picks a free port (see port()).
  std::string listen = "127.0.0.1:8080";
  // Serve a non-loopback address while the coordinator has no tokens.
  bool insecure = false;
  // TLS when both are set: PEM files (the gRPC port's --tls-cert/--tls-key).
  std::string tls_cert_file;
  std::string tls_key_file;
  // The SQLite file, for caviar_database_bytes (empty: not reported).
  std::string database_path;
  // Threads answering requests. An open connection holds one while it
  // waits for its next request (cpp-httplib's keep-alive, 5 s), and a
  // browser keeps up to 6 per host open: with 4, a study page's 7th
  // request waited for an idle connection to time out.
  int threads = 32;
  // The checkpoint files and index, listed with each trial (nullptr: none).
  checkpoints::CheckpointStore* checkpoints = nullptr;
};

class HttpServer {
 public:
  // Starts serving. `coordinator`, `auth` and `audit` must outlive the
  // server. FAILED_PRECONDITION for a non-loopback address without tokens
  // (and not `insecure`); INVALID_ARGUMENT for a malformed address or TLS
  // files cpp-httplib cannot load; UNAVAILABLE if the address cannot be
  // bound.
  static absl::StatusOr<std::unique_ptr<HttpServer>> Start(
      scheduling::Coordinator* coordinator, const rpc::Authorizer* auth,
      rpc::AuditLog* audit, const HttpOptions& options);
  ~HttpServer();

  int port() const { return port_; }
  // "http://HOST:PORT" or "https://HOST:PORT".
  std::string url() const;

  // Stops accepting requests and waits for the serving and warming threads.
  void Shutdown();

 private:
  HttpServer(scheduling::Coordinator* coordinator, const rpc::Authorizer* auth,
             rpc::AuditLog* audit, const HttpOptions& options);
  void Route();

  scheduling::Coordinator* const coordinator_;
  const rpc::Authorizer* const auth_;
  rpc::AuditLog* const audit_;
  const HttpOptions options_;
  JsonApi api_;
  std::unique_ptr<httplib::Server> server_;
  std::string host_;
  int port_ = 0;
  bool tls_ = false;
  std::thread thread_;
  std::atomic<bool> stop_warming_{false};
  std::thread warm_thread_;
};

}  // namespace caviar::http

#endif  // CAVIAR_SERVER_HTTP_HTTP_SERVER_H_
