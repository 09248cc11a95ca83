// caviar::FromGrpcStatus: the one grpc -> absl status conversion.
#include "common/grpc_status/grpc_status.h"

#include "gtest/gtest.h"

namespace caviar {
namespace {

TEST(FromGrpcStatusTest, KeepsCodeAndMessage) {
  EXPECT_TRUE(FromGrpcStatus(grpc::Status::OK).ok());
  const absl::Status s =
      FromGrpcStatus(grpc::Status(grpc::StatusCode::FAILED_PRECONDITION, "stale"), "h:1");
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(s.message(), "stale");
  EXPECT_EQ(FromGrpcStatus(grpc::Status(grpc::StatusCode::UNAVAILABLE, "down")).message(),
            "down");
}

TEST(FromGrpcStatusTest, NamesTheAddressThatDidNotAnswer) {
  const absl::Status down =
      FromGrpcStatus(grpc::Status(grpc::StatusCode::UNAVAILABLE, "refused"), "h:50051");
  EXPECT_EQ(down.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(down.message(), "coordinator at h:50051 is unavailable: refused");
  const absl::Status slow = FromGrpcStatus(
      grpc::Status(grpc::StatusCode::DEADLINE_EXCEEDED, "late"), "h:50051");
  EXPECT_EQ(slow.code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_EQ(slow.message(), "coordinator at h:50051 did not answer in time: late");
}

}  // namespace
}  // namespace caviar
