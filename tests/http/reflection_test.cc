// gRPC server reflection on a real caviar-coordinator: generic tools
// (grpcurl, Postman, ...) can list its services and fetch their schema. It
// stays open with tokens configured (like the health service): it tells the
// public schema, never a study; the calls themselves still need a token.
#include <set>

#include "gmock/gmock.h"
#include "google/protobuf/descriptor.pb.h"
#include "reflection_client.grpc.pb.h"
#include "tests/http/http_fixture.h"

namespace caviar::testing {
namespace {

using grpc::reflection::v1alpha::ServerReflection;
using grpc::reflection::v1alpha::ServerReflectionRequest;
using grpc::reflection::v1alpha::ServerReflectionResponse;

class ReflectionTest : public HttpFixture {
 protected:
  // One request and its answer over a reflection stream (no token).
  ServerReflectionResponse Ask(const ServerReflectionRequest& request) {
    auto stub = ServerReflection::NewStub(grpc::CreateChannel(
        absl::StrCat("127.0.0.1:", grpc_port_), grpc::InsecureChannelCredentials()));
    grpc::ClientContext context;
    auto stream = stub->ServerReflectionInfo(&context);
    ServerReflectionResponse response;
    EXPECT_TRUE(stream->Write(request));
    EXPECT_TRUE(stream->Read(&response));
    stream->WritesDone();
    grpc::Status status = stream->Finish();
    EXPECT_TRUE(status.ok()) << status.error_message();
    return response;
  }
};

TEST_F(ReflectionTest, ListsTheServicesAndServesTheirSchemaWithoutAToken) {
  ASSERT_TRUE(StartCoordinator({"--tokens-file", TokensFile()})) << startup_error_;

  ServerReflectionRequest list;
  list.set_list_services("*");
  ServerReflectionResponse services = Ask(list);
  std::set<std::string> names;
  for (const auto& service : services.list_services_response().service())
    names.insert(service.name());
  EXPECT_THAT(
      names, ::testing::IsSupersetOf({"caviar.v1.StudyService", "caviar.v1.WorkerService",
                                      "caviar.v1.AdminService", "grpc.health.v1.Health",
                                      "grpc.reflection.v1alpha.ServerReflection"}));

  ServerReflectionRequest symbol;
  symbol.set_file_containing_symbol("caviar.v1.StudyService");
  ServerReflectionResponse files = Ask(symbol);
  ASSERT_TRUE(files.has_file_descriptor_response()) << files.DebugString();
  bool found = false;
  for (const std::string& bytes :
       files.file_descriptor_response().file_descriptor_proto()) {
    google::protobuf::FileDescriptorProto file;
    ASSERT_TRUE(file.ParseFromString(bytes));
    for (const auto& service : file.service()) {
      if (service.name() != "StudyService") continue;
      found = true;
      EXPECT_EQ(file.name(), "caviar/v1/service.proto");
      std::set<std::string> methods;
      for (const auto& method : service.method()) methods.insert(method.name());
      EXPECT_THAT(methods, ::testing::IsSupersetOf({"ListStudies", "GetTrial"}));
    }
  }
  EXPECT_TRUE(found);

  // What reflection tells does not open the calls.
  caviar::v1::ListStudiesResponse studies;
  grpc::ClientContext context;
  grpc::Status status =
      studies_->ListStudies(&context, caviar::v1::ListStudiesRequest(), &studies);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAUTHENTICATED);
}

}  // namespace
}  // namespace caviar::testing
