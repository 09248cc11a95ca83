// The one place where absl::Status becomes grpc::Status (same code, same
// message), so the RPC edge stays a translation layer.
#ifndef CAVIAR_SERVER_RPC_STATUS_H_
#define CAVIAR_SERVER_RPC_STATUS_H_

#include "absl/status/status.h"
#include "grpcpp/support/status.h"

namespace caviar::rpc {

grpc::Status ToGrpcStatus(const absl::Status& status);

}  // namespace caviar::rpc

#endif  // CAVIAR_SERVER_RPC_STATUS_H_
