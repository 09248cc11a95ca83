// CaviarClient over real gRPC on loopback, against the in-memory StudyService.
#include "client/client.h"

#include <cstdlib>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/client/fake_study_service.h"

namespace caviar::client {
namespace {

using ::testing::HasSubstr;

caviar::v1::Study MakeStudy(const std::string& name) {
  caviar::v1::Study study;
  study.mutable_spec()->set_name(name);
  study.mutable_spec()->mutable_objective()->set_metric("acc");
  study.mutable_spec()->mutable_objective()->set_goal(caviar::v1::MAXIMIZE);
  study.mutable_spec()->mutable_budget()->set_max_trials(10);
  study.set_state(caviar::v1::STUDY_ACTIVE);
  return study;
}

void AddTrials(testing::FakeStudyService& service, const std::string& study, int count) {
  for (int i = 1; i <= count; ++i) {
    caviar::v1::Trial trial;
    trial.set_id(i);
    trial.set_study(study);
    trial.set_state(i % 3 == 0 ? caviar::v1::FAILED : caviar::v1::SUCCEEDED);
    if (i % 3 != 0) trial.set_objective_value(i * 0.01);
    service.AddTrial(trial);
  }
}

class ClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    unsetenv("CAVIAR_TOKEN");
    coordinator_.service().AddStudy(MakeStudy("s"));
    AddTrials(coordinator_.service(), "s", 2500);
    auto client = CaviarClient::Connect(coordinator_.address());
    ASSERT_TRUE(client.ok()) << client.status();
    client_ = std::move(*client);
  }

  testing::FakeCoordinator coordinator_;
  std::unique_ptr<CaviarClient> client_;
};

TEST_F(ClientTest, CreateGetListStop) {
  caviar::v1::StudySpec spec = MakeStudy("new").spec();
  absl::StatusOr<caviar::v1::Study> created = client_->CreateStudy(spec);
  ASSERT_TRUE(created.ok()) << created.status();
  EXPECT_EQ(created->spec().name(), "new");

  absl::StatusOr<caviar::v1::Study> again = client_->CreateStudy(spec);
  EXPECT_EQ(again.status().code(), absl::StatusCode::kAlreadyExists);

  spec.mutable_budget()->set_max_trials(0);
  spec.set_name("bad");
  absl::StatusOr<caviar::v1::Study> invalid = client_->CreateStudy(spec);
  EXPECT_EQ(invalid.status().code(), absl::StatusCode::kInvalidArgument);
  // The server's field-naming message passes through unchanged.
  EXPECT_EQ(invalid.status().message(), "budget.max_trials: must be >= 1, got 0");

  absl::StatusOr<std::vector<caviar::v1::Study>> studies = client_->ListStudies();
  ASSERT_TRUE(studies.ok());
  EXPECT_EQ(studies->size(), 2u);

  absl::StatusOr<caviar::v1::Study> stopped = client_->StopStudy("new", "enough");
  ASSERT_TRUE(stopped.ok());
  EXPECT_EQ(stopped->state(), caviar::v1::STUDY_STOPPED);
  EXPECT_EQ(client_->GetStudy("new")->state_reason(), "enough");

  absl::StatusOr<caviar::v1::Study> missing = client_->GetStudy("missing");
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(missing.status().message()), HasSubstr("'missing'"));
}

TEST_F(ClientTest, ListAllTrialsFollowsPages) {
  caviar::v1::ListTrialsRequest request;
  request.set_study("s");
  absl::StatusOr<std::vector<caviar::v1::Trial>> all = client_->ListAllTrials(request);
  ASSERT_TRUE(all.ok()) << all.status();
  ASSERT_EQ(all->size(), 2500u);
  for (size_t i = 0; i < all->size(); ++i) EXPECT_EQ((*all)[i].id(), i + 1);
  EXPECT_EQ(coordinator_.service().list_trials_calls(), 3);  // 1000 + 1000 + 500.

  request.add_states(caviar::v1::FAILED);
  all = client_->ListAllTrials(request);
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->size(), 833u);

  request.clear_states();
  request.set_order_by("objective");
  absl::StatusOr<std::vector<caviar::v1::Trial>> top =
      client_->ListAllTrials(request, 1500);
  ASSERT_TRUE(top.ok());
  ASSERT_EQ(top->size(), 1500u);
  EXPECT_EQ(top->front().id(), 2500);  // The largest value.

  request.set_study("missing");
  EXPECT_EQ(client_->ListAllTrials(request).status().code(), absl::StatusCode::kNotFound);
}

TEST_F(ClientTest, GetTrialAndBestTrials) {
  absl::StatusOr<caviar::v1::Trial> trial = client_->GetTrial(7);
  ASSERT_TRUE(trial.ok());
  EXPECT_EQ(trial->id(), 7);
  EXPECT_EQ(client_->GetTrial(99999).status().code(), absl::StatusCode::kNotFound);
  absl::StatusOr<std::vector<caviar::v1::Trial>> best = client_->BestTrials("s", 3);
  ASSERT_TRUE(best.ok());
  ASSERT_EQ(best->size(), 3u);
  EXPECT_EQ((*best)[0].id(), 2500);
}

TEST_F(ClientTest, SendsBearerTokenFromOptionsOrEnvironment) {
  ASSERT_TRUE(client_->GetStudy("s").ok());
  ClientOptions options;
  options.token = "secret";
  auto with_token = CaviarClient::Connect(coordinator_.address(), options);
  ASSERT_TRUE(with_token.ok());
  ASSERT_TRUE((*with_token)->GetStudy("s").ok());
  setenv("CAVIAR_TOKEN", "from-env", 1);
  auto from_env = CaviarClient::Connect(coordinator_.address());
  unsetenv("CAVIAR_TOKEN");
  ASSERT_TRUE(from_env.ok());
  ASSERT_TRUE((*from_env)->GetStudy("s").ok());
  EXPECT_EQ(coordinator_.service().authorizations(),
            (std::vector<std::string>{"", "Bearer secret", "Bearer from-env"}));
}

TEST_F(ClientTest, DeadlinePerCall) {
  ClientOptions options;
  options.timeout = absl::Milliseconds(100);
  auto impatient = CaviarClient::Connect(coordinator_.address(), options);
  ASSERT_TRUE(impatient.ok());
  coordinator_.service().SetDelay(absl::Milliseconds(600));
  absl::StatusOr<caviar::v1::Study> study = (*impatient)->GetStudy("s");
  EXPECT_EQ(study.status().code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_THAT(std::string(study.status().message()), HasSubstr(coordinator_.address()));
  coordinator_.service().SetDelay(absl::ZeroDuration());
}

TEST(Client, UnreachableCoordinatorIsUnavailableAndNamed) {
  ClientOptions options;
  options.timeout = absl::Seconds(5);
  // Port 1 on loopback: nothing listens there.
  auto client = CaviarClient::Connect("127.0.0.1:1", options);
  ASSERT_TRUE(client.ok());
  absl::StatusOr<std::vector<caviar::v1::Study>> studies = (*client)->ListStudies();
  EXPECT_EQ(studies.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(std::string(studies.status().message()),
              HasSubstr("coordinator at 127.0.0.1:1 is unavailable"));
}

TEST(Client, ConnectRejectsBadSettings) {
  EXPECT_EQ(CaviarClient::Connect("").status().code(),
            absl::StatusCode::kInvalidArgument);
  ClientOptions options;
  options.tls_root_certificates_file = "/nonexistent/ca.pem";
  EXPECT_EQ(CaviarClient::Connect("localhost:1", options).status().code(),
            absl::StatusCode::kNotFound);
}

TEST(Client, DefaultCoordinatorAddress) {
  unsetenv("CAVIAR_COORDINATOR");
  EXPECT_EQ(DefaultCoordinatorAddress(), "localhost:50051");
  setenv("CAVIAR_COORDINATOR", "example:7", 1);
  EXPECT_EQ(DefaultCoordinatorAddress(), "example:7");
  unsetenv("CAVIAR_COORDINATOR");
}

}  // namespace
}  // namespace caviar::client
