// Bearer-token authorization at the RPC edge. Two roles: workers (the
// WorkerService) and admins (the StudyService: users and their tools). An
// admin token is also accepted for worker calls. A role with no token
// configured is open, so a coordinator without tokens serves everyone (for
// a laptop or a closed cluster network).
//
// Clients send "authorization: Bearer <token>" metadata (caviar and
// caviar-worker read CAVIAR_TOKEN). Tokens are compared in constant time.
//
// Thread-safety: immutable after construction.
#ifndef CAVIAR_SERVER_RPC_AUTH_H_
#define CAVIAR_SERVER_RPC_AUTH_H_

#include <string>

#include "absl/status/statusor.h"
#include "grpcpp/server_context.h"

namespace caviar::rpc {

enum class Role { kWorker, kAdmin };

class Authorizer {
 public:
  Authorizer() = default;  // Everything open.
  Authorizer(std::string worker_token, std::string admin_token)
      : worker_token_(std::move(worker_token)), admin_token_(std::move(admin_token)) {}

  // OK, or UNAUTHENTICATED (no or malformed token) / PERMISSION_DENIED
  // (a worker token on an admin call, or a wrong token).
  grpc::Status Check(const grpc::CallbackServerContext& context, Role role) const;

 private:
  std::string worker_token_;
  std::string admin_token_;
};

// Reads a token from a file (first line, surrounding whitespace removed).
// INVALID_ARGUMENT naming the file if it is missing or empty.
absl::StatusOr<std::string> ReadTokenFile(const std::string& path);

}  // namespace caviar::rpc

#endif  // CAVIAR_SERVER_RPC_AUTH_H_
