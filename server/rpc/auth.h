// Authorization at the RPC edge: who is calling (which credential, see
// credentials.h) and whether that credential's role may make this call.
//
// Clients send "authorization: Bearer <token>" metadata (caviar and
// caviar-worker read CAVIAR_TOKEN). The token is compared in constant time
// against every configured credential (no early exit, so timing tells
// nothing about which one nearly matched).
//
// With no credentials at all the coordinator is open: every caller is an
// anonymous admin. CoordinatorServer allows that only on a loopback address
// or with ServerOptions::insecure. With any credential configured, every
// call of every caviar service needs a token (the gRPC health service stays
// open: it tells nothing).
//
// Optionally (require_worker_client_certificate, with TLS and a client CA)
// WorkerService calls must also come over a connection whose client
// certificate the server verified (mutual TLS).
//
// Thread-safety: all methods may be called concurrently; Replace swaps the
// credentials atomically (calls in flight finish with the old ones).
#ifndef CAVIAR_SERVER_RPC_AUTH_H_
#define CAVIAR_SERVER_RPC_AUTH_H_

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "grpcpp/server_context.h"
#include "server/rpc/credentials.h"

namespace caviar::rpc {

// What a call needs.
enum class Access {
  kRead,    // Read-only StudyService calls: viewer, admin.
  kWrite,   // StudyService calls that change something: admin.
  kWorker,  // WorkerService calls: worker, admin.
  kAdmin,   // AdminService calls (backup): admin.
};

// The authenticated caller.
struct Caller {
  std::string credential;  // Its name; empty when anonymous or unknown.
  bool anonymous = false;  // An open coordinator: no credentials configured.
};

class Authorizer {
 public:
  explicit Authorizer(std::vector<Credential> credentials = {},
                      bool require_worker_client_certificate = false);

  // New credentials (SIGHUP). Connections stay up; the next call uses them.
  void Replace(std::vector<Credential> credentials);
  bool open() const;

  // OK and `caller` filled in, or UNAUTHENTICATED (no, malformed or unknown
  // token; no verified client certificate where one is required) or
  // PERMISSION_DENIED (the credential's role may not make this call; then
  // `caller->credential` names it, for the audit log).
  absl::Status Check(const grpc::ServerContextBase& context, Access access,
                     Caller* caller) const;
  // The same check for a transport other than gRPC (the HTTP port):
  // `authorization` is the request's Authorization header, nullptr when it
  // has none. No client-certificate rule applies.
  absl::Status CheckAuthorization(const std::string_view* authorization, Access access,
                                  Caller* caller) const;

 private:
  using Credentials = std::vector<Credential>;
  std::shared_ptr<const Credentials> Snapshot() const;

  const bool require_worker_client_certificate_;
  mutable absl::Mutex mu_;
  std::shared_ptr<const Credentials> credentials_ ABSL_GUARDED_BY(mu_);
};

}  // namespace caviar::rpc

#endif  // CAVIAR_SERVER_RPC_AUTH_H_
