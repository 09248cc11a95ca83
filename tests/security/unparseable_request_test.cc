// A request whose bytes are not the method's message is refused with
// INVALID_ARGUMENT naming the message type (issue 8, defect 15): gRPC's own
// answer is UNIMPLEMENTED with an empty message, which workers take for "this
// coordinator has no such call" and give up on. A well-formed call on the
// same channel right after is served.
#include <future>
#include <string>

#include "gmock/gmock.h"
#include "grpcpp/generic/generic_stub.h"
#include "grpcpp/support/byte_buffer.h"
#include "gtest/gtest.h"
#include "tests/security/security_fixture.h"

namespace caviar::security_test {
namespace {

using ::testing::HasSubstr;

struct UnaryMethod {
  const char* path;
  const char* request_type;
  const char* token;
};

// Every unary method with a token allowed to call it.
const UnaryMethod kMethods[] = {
    {"/caviar.v1.StudyService/CreateStudy", "caviar.v1.CreateStudyRequest", kAdminToken},
    {"/caviar.v1.StudyService/GetStudy", "caviar.v1.GetStudyRequest", kViewerToken},
    {"/caviar.v1.StudyService/ListStudies", "caviar.v1.ListStudiesRequest", kViewerToken},
    {"/caviar.v1.StudyService/StopStudy", "caviar.v1.StopStudyRequest", kAdminToken},
    {"/caviar.v1.StudyService/ListTrials", "caviar.v1.ListTrialsRequest", kViewerToken},
    {"/caviar.v1.StudyService/GetTrial", "caviar.v1.GetTrialRequest", kViewerToken},
    {"/caviar.v1.StudyService/BestTrials", "caviar.v1.BestTrialsRequest", kViewerToken},
    {"/caviar.v1.StudyService/RefineStudy", "caviar.v1.RefineStudyRequest", kAdminToken},
    {"/caviar.v1.StudyService/EnqueueTrials", "caviar.v1.EnqueueTrialsRequest", kAdminToken},
    {"/caviar.v1.StudyService/RetestTrials", "caviar.v1.RetestTrialsRequest", kAdminToken},
    {"/caviar.v1.StudyService/NudgeTrial", "caviar.v1.NudgeTrialRequest", kAdminToken},
    {"/caviar.v1.StudyService/GetImportance", "caviar.v1.GetImportanceRequest",
     kViewerToken},
    {"/caviar.v1.StudyService/RollbackTrial", "caviar.v1.RollbackTrialRequest",
     kAdminToken},
    {"/caviar.v1.StudyService/PauseTrial", "caviar.v1.PauseTrialRequest", kAdminToken},
    {"/caviar.v1.StudyService/ResumeTrial", "caviar.v1.ResumeTrialRequest", kAdminToken},
    {"/caviar.v1.WorkerService/SuggestTrial", "caviar.v1.SuggestTrialRequest", kPoolAToken},
    {"/caviar.v1.WorkerService/ReportProgress", "caviar.v1.ReportProgressRequest",
     kPoolAToken},
    {"/caviar.v1.WorkerService/CompleteTrial", "caviar.v1.CompleteTrialRequest",
     kPoolAToken},
};

grpc::Status Call(grpc::GenericStub& stub, const std::string& method,
                  const std::string& token, const std::string& bytes) {
  grpc::Slice slice(bytes);
  grpc::ByteBuffer request(&slice, 1);
  grpc::ByteBuffer response;
  std::unique_ptr<grpc::ClientContext> context = Context(token);
  std::promise<grpc::Status> done;
  stub.UnaryCall(context.get(), method, grpc::StubOptions(), &request, &response,
                 [&](grpc::Status status) { done.set_value(std::move(status)); });
  return done.get_future().get();
}

TEST(UnparseableRequestTest, IsInvalidArgumentNamingTheMessageOnEveryUnaryMethod) {
  CoordinatorFixture coordinator(Transport::kPlain);
  grpc::GenericStub stub(coordinator.Channel());
  // A field 1 of wire type "length-delimited" claiming 2 GiB: no message
  // parses it.
  const std::string garbage("\x0a\xff\xff\xff\xff\x07", 6);
  for (const UnaryMethod& m : kMethods) {
    grpc::Status status = Call(stub, m.path, m.token, garbage);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT)
        << m.path << ": " << status.error_message();
    EXPECT_THAT(status.error_message(), HasSubstr(m.request_type)) << m.path;
  }
  // Without a token the call is refused for that first, whatever its bytes.
  grpc::Status anonymous = Call(stub, kMethods[0].path, "", garbage);
  EXPECT_EQ(anonymous.error_code(), grpc::StatusCode::UNAUTHENTICATED)
      << anonymous.error_message();
  // The channel and the server are fine: an empty ListStudies parses.
  grpc::Status fine = Call(stub, "/caviar.v1.StudyService/ListStudies", kViewerToken, "");
  EXPECT_TRUE(fine.ok()) << fine.error_message();
}

}  // namespace
}  // namespace caviar::security_test
