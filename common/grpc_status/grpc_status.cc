#include "common/grpc_status/grpc_status.h"

#include "absl/strings/str_cat.h"

namespace caviar {

absl::Status FromGrpcStatus(const grpc::Status& status, absl::string_view address) {
  if (status.ok()) return absl::OkStatus();
  const auto code = static_cast<absl::StatusCode>(status.error_code());
  if (!address.empty()) {
    switch (status.error_code()) {
      case grpc::StatusCode::UNAVAILABLE:
        return absl::UnavailableError(absl::StrCat(
            "coordinator at ", address, " is unavailable: ", status.error_message()));
      case grpc::StatusCode::DEADLINE_EXCEEDED:
        return absl::DeadlineExceededError(
            absl::StrCat("coordinator at ", address,
                         " did not answer in time: ", status.error_message()));
      default:
        break;
    }
  }
  return absl::Status(code, status.error_message());
}

}  // namespace caviar
