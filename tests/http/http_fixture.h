// A real caviar-coordinator process with its HTTP port on loopback, a gRPC
// client acting as user and as worker (to make trials), and an HTTP client.
#ifndef CAVIAR_TESTS_HTTP_HTTP_FIXTURE_H_
#define CAVIAR_TESTS_HTTP_HTTP_FIXTURE_H_

#include <sys/stat.h>

#include <chrono>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "caviar/v1/service.grpc.pb.h"
#include "google/protobuf/text_format.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "httplib.h"
#include "nlohmann/json.hpp"
#include "tests/e2e/process.h"
#include "tests/testing/temp_dir.h"

namespace caviar::testing {

using Json = nlohmann::json;

constexpr char kAdminToken[] = "admin-token-0123456789abcdef";
constexpr char kViewerToken[] = "viewer-token-0123456789abcdef";
constexpr char kWorkerToken[] = "worker-token-0123456789abcdef";

class HttpFixture : public ::testing::Test {
 protected:
  struct Reply {
    int status = 0;
    std::string body;
    Json json;
  };

  // Starts a coordinator with `extra` flags; false if it did not come up
  // (then its stderr is in startup_error_).
  bool StartCoordinator(std::vector<std::string> extra = {},
                        const std::string& http = "127.0.0.1:0") {
    const std::string port_file = dir_.File("grpc.port");
    const std::string http_port_file = dir_.File("http.port");
    std::vector<std::string> argv = {CAVIAR_COORDINATOR_BIN,
                                     "--db",
                                     dir_.File("c.db"),
                                     "--listen",
                                     "127.0.0.1:0",
                                     "--port-file",
                                     port_file,
                                     "--http",
                                     http,
                                     "--http-port-file",
                                     http_port_file};
    argv.insert(argv.end(), extra.begin(), extra.end());
    coordinator_ = std::make_unique<Process>(argv, dir_.File("coordinator"));
    for (int i = 0; i < 400; ++i) {
      std::ifstream grpc_in(port_file), http_in(http_port_file);
      if (grpc_in >> grpc_port_ && http_in >> http_port_) break;
      if (!coordinator_->Running()) {
        startup_error_ = coordinator_->Stderr();
        return false;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(25));
    }
    if (grpc_port_ <= 0 || http_port_ <= 0) return false;
    auto channel = grpc::CreateChannel(absl::StrCat("127.0.0.1:", grpc_port_),
                                       grpc::InsecureChannelCredentials());
    studies_ = caviar::v1::StudyService::NewStub(channel);
    workers_ = caviar::v1::WorkerService::NewStub(channel);
    return true;
  }

  // A tokens file with an admin, a viewer and a worker credential.
  std::string TokensFile() {
    const std::string path = dir_.File("tokens");
    std::ofstream(path) << "admin ops " << kAdminToken << "\nviewer grafana "
                        << kViewerToken << "\nworker pool " << kWorkerToken << "\n";
    ::chmod(path.c_str(), 0600);
    return path;
  }

  void WithToken(grpc::ClientContext* context, const char* token) {
    if (token != nullptr)
      context->AddMetadata("authorization", absl::StrCat("Bearer ", token));
  }

  // A study maximizing "score" over x in [0, 1]; its command never runs
  // (this test is the worker).
  void CreateStudy(const std::string& name, int max_trials = 100,
                   const char* token = nullptr, const std::string& extra_spec = "") {
    caviar::v1::CreateStudyRequest request;
    ASSERT_TRUE(google::protobuf::TextFormat::ParseFromString(
        absl::StrCat("spec { name: '", name,
                     "' objective { metric: 'score' goal: MAXIMIZE }",
                     " parameters { name: 'x' double { min: 0 max: 1 } }",
                     " budget { max_trials: ", max_trials, " }",
                     " command { argv: 'true' } ", extra_spec, "}"),
        &request));
    caviar::v1::Study study;
    grpc::ClientContext context;
    WithToken(&context, token);
    grpc::Status status = studies_->CreateStudy(&context, request, &study);
    ASSERT_TRUE(status.ok()) << status.error_message();
  }

  // Takes a trial of `study` as worker "w"; 0 if none.
  int64_t TakeTrial(const std::string& study, const char* token = nullptr) {
    caviar::v1::SuggestTrialRequest request;
    request.set_worker_id(absl::StrCat("w", ++workers_started_));
    request.set_study(study);
    caviar::v1::SuggestTrialResponse response;
    grpc::ClientContext context;
    WithToken(&context, token);
    grpc::Status status = workers_->SuggestTrial(&context, request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    if (!response.has_trial()) return 0;
    leases_[response.trial().id()] = {request.worker_id(), response.trial().attempt()};
    return response.trial().id();
  }

  // Reports `steps` points of a learning curve, then completes with `score`.
  void Report(int64_t id, int steps, const char* token = nullptr) {
    for (int step = 1; step <= steps; ++step) {
      caviar::v1::ReportProgressRequest request;
      request.set_trial_id(id);
      request.set_worker_id(leases_[id].first);
      request.set_attempt(leases_[id].second);
      request.mutable_measurement()->set_step(step);
      (*request.mutable_measurement()->mutable_metrics())["score"] = 0.1 * step;
      caviar::v1::ReportProgressResponse response;
      grpc::ClientContext context;
      WithToken(&context, token);
      grpc::Status status = workers_->ReportProgress(&context, request, &response);
      ASSERT_TRUE(status.ok()) << status.error_message();
    }
  }
  void Complete(int64_t id, double score, const char* token = nullptr) {
    caviar::v1::CompleteTrialRequest request;
    request.set_trial_id(id);
    request.set_worker_id(leases_[id].first);
    request.set_attempt(leases_[id].second);
    (*request.mutable_final_measurement()->mutable_metrics())["score"] = score;
    caviar::v1::Trial trial;
    grpc::ClientContext context;
    WithToken(&context, token);
    grpc::Status status = workers_->CompleteTrial(&context, request, &trial);
    ASSERT_TRUE(status.ok()) << status.error_message();
  }
  // A whole trial; returns its id.
  int64_t RunTrial(const std::string& study, double score, int steps = 3,
                   const char* token = nullptr) {
    const int64_t id = TakeTrial(study, token);
    EXPECT_GT(id, 0);
    Report(id, steps, token);
    Complete(id, score, token);
    return id;
  }

  Reply Get(const std::string& path, const char* token = nullptr) {
    httplib::Client client("127.0.0.1", http_port_);
    httplib::Headers headers;
    if (token != nullptr)
      headers.emplace("Authorization", absl::StrCat("Bearer ", token));
    Reply reply;
    httplib::Result result = client.Get(path, headers);
    if (!result) {
      ADD_FAILURE() << "GET " << path << ": " << httplib::to_string(result.error());
      return reply;
    }
    reply.status = result->status;
    reply.body = result->body;
    if (result->get_header_value("Content-Type") == "application/json")
      reply.json = Json::parse(reply.body, nullptr, /*allow_exceptions=*/false);
    return reply;
  }

  TempDir dir_;
  std::unique_ptr<Process> coordinator_;
  std::string startup_error_;
  int grpc_port_ = 0;
  int http_port_ = 0;
  std::unique_ptr<caviar::v1::StudyService::Stub> studies_;
  std::unique_ptr<caviar::v1::WorkerService::Stub> workers_;
  std::map<int64_t, std::pair<std::string, int32_t>> leases_;
  int workers_started_ = 0;
};

}  // namespace caviar::testing

#endif  // CAVIAR_TESTS_HTTP_HTTP_FIXTURE_H_
