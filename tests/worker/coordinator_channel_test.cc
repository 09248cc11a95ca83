// The worker's channel to the coordinator accepts every reply the coordinator
// may send: a SuggestTrial reply carries the study's spec, which the
// coordinator takes up to kMaxRequestBytes. gRPC's default channel refuses
// anything over 4 MiB.
#include "worker/coordinator_channel.h"

#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "caviar/v1/service.grpc.pb.h"
#include "common/message_limits.h"
#include "grpcpp/client_context.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/server_credentials.h"
#include "grpcpp/server.h"
#include "grpcpp/server_builder.h"
#include "gtest/gtest.h"

namespace caviar::worker {
namespace {

// Hands out one trial whose spec is as large as a request the coordinator
// accepts can make it.
class LargeSpecService : public caviar::v1::WorkerService::Service {
 public:
  grpc::Status SuggestTrial(grpc::ServerContext*, const caviar::v1::SuggestTrialRequest*,
                            caviar::v1::SuggestTrialResponse* response) override {
    response->mutable_trial()->set_id(1);
    response->mutable_spec()->set_name("large");
    response->mutable_spec()->set_description(std::string(kMaxRequestBytes - 1024, 'd'));
    return grpc::Status::OK;
  }
};

class CoordinatorChannelTest : public ::testing::Test {
 protected:
  void SetUp() override {
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port_);
    builder.RegisterService(&service_);
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
  }
  void TearDown() override { server_->Shutdown(); }

  static grpc::Status Suggest(const std::shared_ptr<grpc::Channel>& channel,
                              caviar::v1::SuggestTrialResponse* response) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    return caviar::v1::WorkerService::NewStub(channel)->SuggestTrial(
        &context, caviar::v1::SuggestTrialRequest(), response);
  }

  std::string Address() const { return absl::StrCat("127.0.0.1:", port_); }

  LargeSpecService service_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
};

TEST_F(CoordinatorChannelTest, ReceivesTheLargestSpecTheCoordinatorAccepts) {
  caviar::v1::SuggestTrialResponse response;
  const grpc::Status status = Suggest(
      CoordinatorChannel(Address(), grpc::InsecureChannelCredentials()), &response);
  ASSERT_TRUE(status.ok()) << status.error_code() << ": " << status.error_message();
  EXPECT_EQ(response.spec().description().size(), size_t{kMaxRequestBytes} - 1024);
}

// What the worker did before: the same reply through gRPC's defaults fails.
TEST_F(CoordinatorChannelTest, GrpcDefaultsWouldRefuseIt) {
  caviar::v1::SuggestTrialResponse response;
  const grpc::Status status = Suggest(
      grpc::CreateChannel(Address(), grpc::InsecureChannelCredentials()), &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
}

}  // namespace
}  // namespace caviar::worker
