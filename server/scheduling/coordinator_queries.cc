// The Coordinator's read-only calls: studies, trials, best trials. They
// change nothing; each takes the lock only to copy out what it answers.
#include <algorithm>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "server/scheduling/coordinator.h"
#include "server/scheduling/proto_util.h"
#include "server/scheduling/study_runtime.h"

namespace caviar::scheduling {

using caviar::v1::Study;
using caviar::v1::StudySpec;
using caviar::v1::Trial;

Study Coordinator::StudyView(const StudyRuntime& study) const {
  Study view = study.study();
  view.set_pending_trials(study.Count(caviar::v1::PENDING));
  view.set_active_trials(study.Count(caviar::v1::ACTIVE));
  view.set_succeeded_trials(study.Count(caviar::v1::SUCCEEDED));
  view.set_failed_trials(study.Count(caviar::v1::FAILED));
  view.set_stopped_trials(study.Count(caviar::v1::STOPPED));
  return view;
}

absl::StatusOr<Study> Coordinator::GetStudy(const std::string& name) {
  absl::MutexLock lock(&mu_);
  StudyRuntime* study = FindStudy(name);
  if (study == nullptr)
    return absl::NotFoundError(absl::StrCat("study \"", name, "\" not found"));
  return StudyView(*study);
}

std::vector<Study> Coordinator::ListStudies() {
  absl::MutexLock lock(&mu_);
  std::vector<Study> out;
  out.reserve(studies_.size());
  for (const auto& study : studies_) out.push_back(StudyView(*study));
  return out;
}

absl::StatusOr<caviar::v1::ListTrialsResponse> Coordinator::ListTrials(
    const caviar::v1::ListTrialsRequest& request) {
  if (request.page_size() < 0 || request.page_size() > 10000)
    return absl::InvalidArgumentError("page_size: must be in [0, 10000]");
  if (!request.order_by().empty() && request.order_by() != "id" &&
      request.order_by() != "objective")
    return absl::InvalidArgumentError(absl::StrCat(
        "order_by: must be \"id\" or \"objective\", got \"", request.order_by(), "\""));
  int64_t offset = 0;
  if (!request.page_token().empty()) {
    if (!absl::SimpleAtoi(request.page_token(), &offset) || offset < 0)
      return absl::InvalidArgumentError(
          "page_token: not a token from a previous response");
  }
  absl::MutexLock lock(&mu_);
  StudyRuntime* study = FindStudy(request.study());
  if (study == nullptr)
    return absl::NotFoundError(absl::StrCat("study \"", request.study(), "\" not found"));
  std::vector<Trial*> matches;
  for (size_t i = 0; i < study->size(); ++i) {
    Trial& t = study->trial(i);
    if (!request.states().empty() &&
        std::find(request.states().begin(), request.states().end(), t.state()) ==
            request.states().end()) {
      continue;
    }
    matches.push_back(&t);
  }
  if (request.order_by() == "objective") {
    const StudySpec& spec = study->spec();
    std::stable_sort(matches.begin(), matches.end(), [&](const Trial* a, const Trial* b) {
      if (a->has_objective_value() != b->has_objective_value())
        return a->has_objective_value();
      if (!a->has_objective_value()) return false;
      return Better(spec, a->objective_value(), b->objective_value());
    });
  }
  const int64_t page_size = request.page_size() == 0 ? 100 : request.page_size();
  caviar::v1::ListTrialsResponse response;
  response.set_total_size(static_cast<int32_t>(matches.size()));
  // A token past the end (or forged and huge) is an empty last page.
  offset = std::min<int64_t>(offset, matches.size());
  const int64_t end = std::min<int64_t>(matches.size(), offset + page_size);
  for (int64_t i = offset; i < end; ++i) {
    Trial* out = response.add_trials();
    if (request.include_measurements()) {
      *out = *matches[i];
    } else {
      *out = WithoutMeasurements(matches[i]);
    }
  }
  if (end < static_cast<int64_t>(matches.size()))
    response.set_next_page_token(absl::StrCat(end));
  return response;
}

absl::StatusOr<Trial> Coordinator::GetTrial(int64_t id) {
  absl::MutexLock lock(&mu_);
  CAVIAR_ASSIGN_OR_RETURN(Trial * trial, FindTrial(id));
  return *trial;
}

absl::StatusOr<std::vector<Trial>> Coordinator::BestTrials(const std::string& name,
                                                           int top) {
  if (top < 0) return absl::InvalidArgumentError("top: must be >= 0");
  if (top == 0) top = 1;
  absl::MutexLock lock(&mu_);
  StudyRuntime* study = FindStudy(name);
  if (study == nullptr)
    return absl::NotFoundError(absl::StrCat("study \"", name, "\" not found"));
  std::vector<const Trial*> done;
  for (size_t i = 0; i < study->size(); ++i) {
    const Trial& t = study->trial(i);
    if (t.state() == caviar::v1::SUCCEEDED && t.has_objective_value()) done.push_back(&t);
  }
  const StudySpec& spec = study->spec();
  const size_t k = std::min<size_t>(top, done.size());
  std::partial_sort(done.begin(), done.begin() + k, done.end(),
                    [&](const Trial* a, const Trial* b) {
                      if (a->objective_value() == b->objective_value())
                        return a->id() < b->id();
                      return Better(spec, a->objective_value(), b->objective_value());
                    });
  std::vector<Trial> out;
  for (size_t i = 0; i < k; ++i) out.push_back(*done[i]);
  return out;
}

absl::StatusOr<std::string> Coordinator::LeaseHolder(int64_t id) {
  absl::MutexLock lock(&mu_);
  CAVIAR_ASSIGN_OR_RETURN(Trial * trial, FindTrial(id));
  return trial->worker_id();
}

}  // namespace caviar::scheduling
