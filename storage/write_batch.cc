#include "absl/strings/str_cat.h"
#include "storage/store.h"

namespace caviar::storage {

absl::Status ValidateBatchKeys(const WriteBatch& batch) {
  for (size_t i = 0; i < batch.studies().size(); ++i) {
    if (batch.studies()[i].spec().name().empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("WriteBatch: UpdateStudy #", i, ": spec.name is empty"));
    }
  }
  for (size_t i = 0; i < batch.trials().size(); ++i) {
    const caviar::v1::Trial& trial = batch.trials()[i];
    if (trial.id() <= 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          "WriteBatch: PutTrial #", i, ": id must be > 0, got ", trial.id()));
    }
    if (trial.study().empty()) {
      return absl::InvalidArgumentError(absl::StrCat("WriteBatch: PutTrial #", i, " (id ",
                                                     trial.id(), "): study is empty"));
    }
  }
  for (size_t i = 0; i < batch.measurements().size(); ++i) {
    int64_t id = batch.measurements()[i].trial_id;
    if (id <= 0) {
      return absl::InvalidArgumentError(absl::StrCat("WriteBatch: AddMeasurement #", i,
                                                     ": trial_id must be > 0, got ", id));
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateTrialQuery(const TrialQuery& query) {
  if (query.offset < 0)
    return absl::InvalidArgumentError(
        absl::StrCat("TrialQuery: offset must be >= 0, got ", query.offset));
  if (query.limit < 0)
    return absl::InvalidArgumentError(
        absl::StrCat("TrialQuery: limit must be >= 0, got ", query.limit));
  return absl::OkStatus();
}

}  // namespace caviar::storage
