// An in-memory StudyService served over real gRPC on loopback, for testing
// the client library and the `caviar` binary without a coordinator: it
// pages ListTrials, records the authorization header, can be slowed down,
// and ends a study after a given number of GetStudy calls (for `wait`).
// The coordinator's own end-to-end tests run the CLI against the real thing.
#ifndef CAVIAR_TESTS_CLIENT_FAKE_STUDY_SERVICE_H_
#define CAVIAR_TESTS_CLIENT_FAKE_STUDY_SERVICE_H_

#include <algorithm>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "caviar/v1/service.grpc.pb.h"
#include "grpcpp/grpcpp.h"

namespace caviar::testing {

class FakeStudyService final : public caviar::v1::StudyService::Service {
 public:
  void AddStudy(caviar::v1::Study study) {
    absl::MutexLock lock(&mu_);
    studies_[study.spec().name()] = std::move(study);
  }
  void AddTrial(caviar::v1::Trial trial) {
    absl::MutexLock lock(&mu_);
    trials_.push_back(std::move(trial));
  }
  // GetStudy reports the study COMPLETED (all trials succeeded) from the
  // n-th call on.
  void CompleteAfterGets(int n) {
    absl::MutexLock lock(&mu_);
    complete_after_gets_ = n;
  }
  void SetDelay(absl::Duration delay) {
    absl::MutexLock lock(&mu_);
    delay_ = delay;
  }
  std::vector<std::string> authorizations() {
    absl::MutexLock lock(&mu_);
    return authorizations_;
  }
  int list_trials_calls() {
    absl::MutexLock lock(&mu_);
    return list_trials_calls_;
  }

  grpc::Status CreateStudy(grpc::ServerContext* context,
                           const caviar::v1::CreateStudyRequest* request,
                           caviar::v1::Study* response) override {
    Enter(context);
    absl::MutexLock lock(&mu_);
    const std::string& name = request->spec().name();
    if (request->spec().budget().max_trials() < 1) {
      return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                          "budget.max_trials: must be >= 1, got " +
                              std::to_string(request->spec().budget().max_trials()));
    }
    if (studies_.count(name) > 0) {
      return grpc::Status(grpc::StatusCode::ALREADY_EXISTS,
                          "study '" + name + "' already exists");
    }
    caviar::v1::Study& study = studies_[name];
    *study.mutable_spec() = request->spec();
    study.set_state(caviar::v1::STUDY_ACTIVE);
    *response = study;
    return grpc::Status::OK;
  }

  grpc::Status GetStudy(grpc::ServerContext* context,
                        const caviar::v1::GetStudyRequest* request,
                        caviar::v1::Study* response) override {
    Enter(context);
    absl::MutexLock lock(&mu_);
    auto it = studies_.find(request->name());
    if (it == studies_.end()) return NotFound(request->name());
    ++get_study_calls_;
    if (complete_after_gets_ > 0 && get_study_calls_ >= complete_after_gets_) {
      it->second.set_state(caviar::v1::STUDY_COMPLETED);
      it->second.set_active_trials(0);
      it->second.set_succeeded_trials(it->second.spec().budget().max_trials());
    }
    *response = it->second;
    return grpc::Status::OK;
  }

  grpc::Status ListStudies(grpc::ServerContext* context,
                           const caviar::v1::ListStudiesRequest*,
                           caviar::v1::ListStudiesResponse* response) override {
    Enter(context);
    absl::MutexLock lock(&mu_);
    for (const auto& [name, study] : studies_) *response->add_studies() = study;
    return grpc::Status::OK;
  }

  grpc::Status StopStudy(grpc::ServerContext* context,
                         const caviar::v1::StopStudyRequest* request,
                         caviar::v1::Study* response) override {
    Enter(context);
    absl::MutexLock lock(&mu_);
    auto it = studies_.find(request->name());
    if (it == studies_.end()) return NotFound(request->name());
    it->second.set_state(caviar::v1::STUDY_STOPPED);
    it->second.set_state_reason(request->reason());
    *response = it->second;
    return grpc::Status::OK;
  }

  grpc::Status ListTrials(grpc::ServerContext* context,
                          const caviar::v1::ListTrialsRequest* request,
                          caviar::v1::ListTrialsResponse* response) override {
    Enter(context);
    absl::MutexLock lock(&mu_);
    ++list_trials_calls_;
    if (studies_.count(request->study()) == 0) return NotFound(request->study());
    std::vector<caviar::v1::Trial> matching = Matching(*request);
    const int page_size = request->page_size() == 0 ? 100 : request->page_size();
    const size_t offset =
        request->page_token().empty() ? 0 : std::stoul(request->page_token());
    for (size_t i = offset; i < matching.size() && i < offset + page_size; ++i) {
      *response->add_trials() = matching[i];
    }
    if (offset + page_size < matching.size()) {
      response->set_next_page_token(std::to_string(offset + page_size));
    }
    response->set_total_size(static_cast<int>(matching.size()));
    return grpc::Status::OK;
  }

  grpc::Status GetTrial(grpc::ServerContext* context,
                        const caviar::v1::GetTrialRequest* request,
                        caviar::v1::Trial* response) override {
    Enter(context);
    absl::MutexLock lock(&mu_);
    for (const auto& trial : trials_) {
      if (trial.id() == request->id()) {
        *response = trial;
        return grpc::Status::OK;
      }
    }
    return grpc::Status(grpc::StatusCode::NOT_FOUND,
                        "trial " + std::to_string(request->id()) + " not found");
  }

  grpc::Status BestTrials(grpc::ServerContext* context,
                          const caviar::v1::BestTrialsRequest* request,
                          caviar::v1::BestTrialsResponse* response) override {
    Enter(context);
    absl::MutexLock lock(&mu_);
    if (studies_.count(request->study()) == 0) return NotFound(request->study());
    caviar::v1::ListTrialsRequest list;
    list.set_study(request->study());
    list.set_order_by("objective");
    list.add_states(caviar::v1::SUCCEEDED);
    std::vector<caviar::v1::Trial> best = Matching(list);
    const int top = request->top() == 0 ? 1 : request->top();
    for (int i = 0; i < top && i < static_cast<int>(best.size()); ++i) {
      *response->add_trials() = best[i];
    }
    return grpc::Status::OK;
  }

 private:
  void Enter(grpc::ServerContext* context) {
    absl::Duration delay;
    {
      absl::MutexLock lock(&mu_);
      auto it = context->client_metadata().find("authorization");
      authorizations_.push_back(it == context->client_metadata().end()
                                    ? ""
                                    : std::string(it->second.data(), it->second.size()));
      delay = delay_;
    }
    absl::SleepFor(delay);
  }

  static grpc::Status NotFound(const std::string& name) {
    return grpc::Status(grpc::StatusCode::NOT_FOUND, "study '" + name + "' not found");
  }

  std::vector<caviar::v1::Trial> Matching(const caviar::v1::ListTrialsRequest& request)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    std::vector<caviar::v1::Trial> matching;
    for (const auto& trial : trials_) {
      if (trial.study() != request.study()) continue;
      if (request.states_size() > 0 &&
          std::find(request.states().begin(), request.states().end(), trial.state()) ==
              request.states().end()) {
        continue;
      }
      matching.push_back(trial);
    }
    if (request.order_by() == "objective") {
      const bool minimize =
          studies_[request.study()].spec().objective().goal() == caviar::v1::MINIMIZE;
      std::stable_sort(matching.begin(), matching.end(),
                       [&](const auto& a, const auto& b) {
                         if (a.has_objective_value() != b.has_objective_value()) {
                           return a.has_objective_value();
                         }
                         return minimize ? a.objective_value() < b.objective_value()
                                         : a.objective_value() > b.objective_value();
                       });
    }
    return matching;
  }

  absl::Mutex mu_;
  std::map<std::string, caviar::v1::Study> studies_ ABSL_GUARDED_BY(mu_);
  std::vector<caviar::v1::Trial> trials_ ABSL_GUARDED_BY(mu_);
  std::vector<std::string> authorizations_ ABSL_GUARDED_BY(mu_);
  int complete_after_gets_ ABSL_GUARDED_BY(mu_) = 0;
  int get_study_calls_ ABSL_GUARDED_BY(mu_) = 0;
  int list_trials_calls_ ABSL_GUARDED_BY(mu_) = 0;
  absl::Duration delay_ ABSL_GUARDED_BY(mu_);
};

// The fake served on an ephemeral loopback port for the test's lifetime.
class FakeCoordinator {
 public:
  // Port 0 = any free port.
  explicit FakeCoordinator(int port = 0) {
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:" + std::to_string(port),
                             grpc::InsecureServerCredentials(), &port_);
    builder.RegisterService(&service_);
    server_ = builder.BuildAndStart();
  }
  ~FakeCoordinator() { server_->Shutdown(absl::ToChronoTime(absl::Now())); }

  int port() const { return port_; }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  FakeStudyService& service() { return service_; }

 private:
  FakeStudyService service_;
  int port_ = 0;
  std::unique_ptr<grpc::Server> server_;
};

}  // namespace caviar::testing

#endif  // CAVIAR_TESTS_CLIENT_FAKE_STUDY_SERVICE_H_
