// FromGrpcStatus: the one grpc::Status -> absl::Status conversion of caviar's
// gRPC clients (the CLI's client library and the worker).
//
// The code and message pass through unchanged (gRPC and Abseil share the
// canonical code numbers), except that when `address` is given, UNAVAILABLE
// and DEADLINE_EXCEEDED say which coordinator did not answer:
//   "coordinator at HOST:PORT is unavailable: <gRPC's message>"
//   "coordinator at HOST:PORT did not answer in time: <gRPC's message>"
//
// Thread-safety: a pure function.
#ifndef CAVIAR_COMMON_GRPC_STATUS_GRPC_STATUS_H_
#define CAVIAR_COMMON_GRPC_STATUS_GRPC_STATUS_H_

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "grpcpp/support/status.h"

namespace caviar {

absl::Status FromGrpcStatus(const grpc::Status& status, absl::string_view address = "");

}  // namespace caviar

#endif  // CAVIAR_COMMON_GRPC_STATUS_GRPC_STATUS_H_
