#include "storage/memory_store.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "common/status_macros.h"

namespace caviar::storage {

struct MemoryStore::Data {
  absl::Mutex mu;
  std::vector<caviar::v1::Study> studies ABSL_GUARDED_BY(mu);  // Creation order.
  std::map<int64_t, caviar::v1::Trial> trials ABSL_GUARDED_BY(mu);  // With curves.
  int64_t max_trial_id ABSL_GUARDED_BY(mu) = 0;
};

namespace {

caviar::v1::Study* FindStudy(std::vector<caviar::v1::Study>& studies,
                             const std::string& name) {
  for (caviar::v1::Study& s : studies) {
    if (s.spec().name() == name) return &s;
  }
  return nullptr;
}

}  // namespace

std::unique_ptr<MemoryStore> MemoryStore::Open(const std::string& name) {
  static absl::Mutex registry_mu(absl::kConstInit);
  static auto* registry = new std::map<std::string, std::shared_ptr<Data>>;
  absl::MutexLock lock(&registry_mu);
  std::shared_ptr<Data>& data = (*registry)[name];
  if (data == nullptr) data = std::make_shared<Data>();
  return std::unique_ptr<MemoryStore>(new MemoryStore(data));
}

MemoryStore::MemoryStore(std::shared_ptr<Data> data) : data_(std::move(data)) {}
MemoryStore::~MemoryStore() = default;

absl::Status MemoryStore::CreateStudy(const caviar::v1::Study& study) {
  if (study.spec().name().empty())
    return absl::InvalidArgumentError("CreateStudy: spec.name is empty");
  absl::MutexLock lock(&data_->mu);
  if (FindStudy(data_->studies, study.spec().name()) != nullptr)
    return absl::AlreadyExistsError(
        absl::StrCat("CreateStudy: study \"", study.spec().name(), "\" already exists"));
  data_->studies.push_back(study);
  return absl::OkStatus();
}

absl::Status MemoryStore::Commit(const WriteBatch& batch) {
  CAVIAR_RETURN_IF_ERROR(ValidateBatchKeys(batch));
  absl::MutexLock lock(&data_->mu);
  // Applied to copies of what the batch touches, swapped in only if every
  // write is valid: all or nothing.
  std::vector<caviar::v1::Study> studies = data_->studies;
  std::map<int64_t, caviar::v1::Trial> touched;
  auto current = [&](int64_t id) -> caviar::v1::Trial* {
    auto t = touched.find(id);
    if (t != touched.end()) return &t->second;
    auto stored = data_->trials.find(id);
    if (stored == data_->trials.end()) return nullptr;
    return &(touched[id] = stored->second);
  };
  for (const caviar::v1::Study& study : batch.studies()) {
    caviar::v1::Study* stored = FindStudy(studies, study.spec().name());
    if (stored == nullptr)
      return absl::NotFoundError(
          absl::StrCat("UpdateStudy: study \"", study.spec().name(), "\" not found"));
    *stored = study;
  }
  int64_t max_id = data_->max_trial_id;
  for (const caviar::v1::Trial& trial : batch.trials()) {
    if (FindStudy(studies, trial.study()) == nullptr)
      return absl::NotFoundError(absl::StrCat("PutTrial (id ", trial.id(), "): study \"",
                                              trial.study(), "\" not found"));
    caviar::v1::Trial* stored = current(trial.id());
    if (stored != nullptr && stored->study() != trial.study())
      return absl::AlreadyExistsError(absl::StrCat("PutTrial: trial id ", trial.id(),
                                                   " belongs to study \"", stored->study(),
                                                   "\""));
    caviar::v1::Trial& slot = touched[trial.id()];
    google::protobuf::RepeatedPtrField<caviar::v1::Measurement> curve;
    curve.Swap(slot.mutable_measurements());
    slot = trial;
    slot.mutable_measurements()->Swap(&curve);
    max_id = std::max(max_id, trial.id());
  }
  for (const WriteBatch::Measurement& m : batch.measurements()) {
    caviar::v1::Trial* stored = current(m.trial_id);
    if (stored == nullptr)
      return absl::NotFoundError(
          absl::StrCat("AddMeasurement: trial ", m.trial_id, " not found"));
    *stored->add_measurements() = m.measurement;
  }
  data_->studies = std::move(studies);
  for (auto& [id, trial] : touched) data_->trials[id] = std::move(trial);
  data_->max_trial_id = max_id;
  return absl::OkStatus();
}

absl::StatusOr<std::vector<caviar::v1::Study>> MemoryStore::LoadStudies() {
  absl::MutexLock lock(&data_->mu);
  return data_->studies;
}

absl::StatusOr<std::vector<caviar::v1::Trial>> MemoryStore::LoadTrials(
    std::string_view study) {
  absl::MutexLock lock(&data_->mu);
  std::vector<caviar::v1::Trial> out;
  for (const auto& [id, trial] : data_->trials) {
    if (trial.study() == study) out.push_back(trial);
  }
  return out;
}

absl::StatusOr<TrialPage> MemoryStore::QueryTrials(const TrialQuery& query) {
  CAVIAR_RETURN_IF_ERROR(ValidateTrialQuery(query));
  absl::MutexLock lock(&data_->mu);
  std::vector<const caviar::v1::Trial*> matches;  // By id: the map's order.
  TrialPage page;
  page.total = 0;
  for (const auto& [id, trial] : data_->trials) {
    if (trial.study() != query.study) continue;
    if (!query.states.empty() && std::find(query.states.begin(), query.states.end(),
                                           trial.state()) == query.states.end())
      continue;
    ++page.total;
    if (id > query.after_id) matches.push_back(&trial);
  }
  if (!query.count_total) page.total = -1;
  if (query.order != TrialQuery::Order::kId) {
    const bool ascending = query.order == TrialQuery::Order::kObjectiveAscending;
    std::stable_sort(matches.begin(), matches.end(),
                     [&](const caviar::v1::Trial* a, const caviar::v1::Trial* b) {
                       // NaN is stored as no value (SQLite stores NaN as NULL).
                       const bool va = a->has_objective_value() &&
                                       !std::isnan(a->objective_value());
                       const bool vb = b->has_objective_value() &&
                                       !std::isnan(b->objective_value());
                       if (va != vb) return va;
                       if (!va || a->objective_value() == b->objective_value())
                         return false;
                       return ascending ? a->objective_value() < b->objective_value()
                                        : a->objective_value() > b->objective_value();
                     });
  }
  const size_t begin = std::min<size_t>(matches.size(), query.offset);
  const size_t end = begin + std::min<size_t>(matches.size() - begin, query.limit);
  for (size_t i = begin; i < end; ++i) {
    caviar::v1::Trial& out = page.trials.emplace_back(*matches[i]);
    if (!query.with_measurements) out.clear_measurements();
  }
  return page;
}

absl::StatusOr<caviar::v1::Trial> MemoryStore::LoadTrial(int64_t id) {
  absl::MutexLock lock(&data_->mu);
  auto it = data_->trials.find(id);
  if (it == data_->trials.end())
    return absl::NotFoundError(absl::StrCat("LoadTrial: trial ", id, " not found"));
  return it->second;
}

absl::StatusOr<int64_t> MemoryStore::MaxTrialId() {
  absl::MutexLock lock(&data_->mu);
  return data_->max_trial_id;
}

}  // namespace caviar::storage
