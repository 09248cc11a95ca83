// ForwardingStore: a Store that passes every call to another one, the base of
// the test decorators (FaultyStore, CrashPointStore), which override only
// the writes they interfere with.
//
// Thread-safety: as the inner store.
#ifndef CAVIAR_TESTS_TESTING_FORWARDING_STORE_H_
#define CAVIAR_TESTS_TESTING_FORWARDING_STORE_H_

#include <string_view>
#include <vector>

#include "storage/store.h"

namespace caviar::testing {

class ForwardingStore : public storage::Store {
 public:
  explicit ForwardingStore(storage::Store* inner) : inner_(inner) {}

  absl::Status CreateStudy(const caviar::v1::Study& study) override {
    return inner_->CreateStudy(study);
  }
  absl::Status Commit(const storage::WriteBatch& batch) override {
    return inner_->Commit(batch);
  }
  absl::StatusOr<std::vector<caviar::v1::Study>> LoadStudies() override {
    return inner_->LoadStudies();
  }
  absl::StatusOr<std::vector<caviar::v1::Trial>> LoadTrials(std::string_view study) override {
    return inner_->LoadTrials(study);
  }
  absl::StatusOr<storage::TrialPage> QueryTrials(const storage::TrialQuery& query) override {
    return inner_->QueryTrials(query);
  }
  absl::StatusOr<caviar::v1::Trial> LoadTrial(int64_t id) override {
    return inner_->LoadTrial(id);
  }
  absl::StatusOr<int64_t> MaxTrialId() override { return inner_->MaxTrialId(); }

 protected:
  storage::Store* inner() const { return inner_; }

 private:
  storage::Store* const inner_;
};

}  // namespace caviar::testing

#endif  // CAVIAR_TESTS_TESTING_FORWARDING_STORE_H_
