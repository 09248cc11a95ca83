// Store: the durable home of studies, trials and measurements.
//
// A narrow interface; the coordinator keeps only the working set in memory
// (running and waiting trials, and what samplers and pruners need of the
// others) and writes through on every change. Finished trials, their full
// records and learning curves, are read back on demand (QueryTrials,
// LoadTrial). Nothing outside storage/ speaks SQL.
//
// Thread-safety: implementations are safe to call from many threads; writes
// are serialized (one writer) and each call is one transaction: when it
// returns OK the change survives a kill -9 of the process.
//
// Status codes:
//   ALREADY_EXISTS  CreateStudy with a taken name; PutTrial with an id that
//                   belongs to another study (a trial never changes study).
//   NOT_FOUND       UpdateStudy of an unknown study, PutTrial into an unknown
//                   study, AddMeasurement to an unknown trial.
//   INVALID_ARGUMENT  a message missing its key (empty study name, trial
//                   id <= 0, trial without study, measurement trial_id <= 0).
//   INTERNAL / UNAVAILABLE  the database failed (message says how).
// A call that fails changes nothing.
#ifndef CAVIAR_STORAGE_STORE_H_
#define CAVIAR_STORAGE_STORE_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "caviar/v1/study.pb.h"
#include "caviar/v1/trial.pb.h"

namespace caviar::storage {

// A group of writes applied atomically by Store::Commit.
class WriteBatch {
 public:
  struct Measurement {
    int64_t trial_id;
    caviar::v1::Measurement measurement;
  };

  // Replaces a stored study (must exist).
  void UpdateStudy(const caviar::v1::Study& study) { studies_.push_back(study); }
  // Inserts or replaces a trial row; its measurements field is ignored
  // (measurements are appended with AddMeasurement).
  void PutTrial(const caviar::v1::Trial& trial) { trials_.push_back(trial); }
  // Appends one point to a trial's learning curve.
  void AddMeasurement(int64_t trial_id, const caviar::v1::Measurement& m) {
    measurements_.push_back({trial_id, m});
  }

  bool empty() const {
    return studies_.empty() && trials_.empty() && measurements_.empty();
  }
  const std::vector<caviar::v1::Study>& studies() const { return studies_; }
  const std::vector<caviar::v1::Trial>& trials() const { return trials_; }
  const std::vector<Measurement>& measurements() const { return measurements_; }

 private:
  std::vector<caviar::v1::Study> studies_;
  std::vector<caviar::v1::Trial> trials_;
  std::vector<Measurement> measurements_;
};

// INVALID_ARGUMENT naming the first write of `batch` that misses its key
// (empty study name, trial id <= 0, trial without study, measurement
// trial_id <= 0). Every Store checks this before writing anything.
absl::Status ValidateBatchKeys(const WriteBatch& batch);

// Which trials of one study QueryTrials returns, in which order.
struct TrialQuery {
  enum class Order {
    kId,
    // Trials with an objective value first, by value; ties and trials
    // without one by id.
    kObjectiveAscending,
    kObjectiveDescending,
  };
  std::string study;
  std::vector<caviar::v1::TrialState> states;  // Empty: every state.
  Order order = Order::kId;
  int64_t after_id = 0;  // Only trials with a larger id (any order).
  int64_t offset = 0;    // Matches skipped before the first returned (>= 0).
  int64_t limit = 100;   // Most trials returned (>= 0).
  bool with_measurements = false;  // Fill each trial's learning curve.
  bool count_total = false;        // Fill TrialPage::total.
};

struct TrialPage {
  std::vector<caviar::v1::Trial> trials;
  // Matches of study and states, ignoring after_id, offset and limit; -1
  // unless count_total.
  int64_t total = -1;
};

// INVALID_ARGUMENT "TrialQuery: offset ..." / "... limit ..." when negative.
absl::Status ValidateTrialQuery(const TrialQuery& query);

class Store {
 public:
  virtual ~Store() = default;

  // Inserts a new study; ALREADY_EXISTS if its spec.name is taken.
  virtual absl::Status CreateStudy(const caviar::v1::Study& study) = 0;

  // Applies every write of the batch in one transaction, or none of them:
  // study updates first, then trial puts, then measurement appends, each
  // kind in the order added (so one batch can put a trial and append to it).
  virtual absl::Status Commit(const WriteBatch& batch) = 0;

  // All studies, in creation order.
  virtual absl::StatusOr<std::vector<caviar::v1::Study>> LoadStudies() = 0;

  // All trials of a study, by id, each with its measurements in the order
  // they were appended (empty for an unknown study).
  virtual absl::StatusOr<std::vector<caviar::v1::Trial>> LoadTrials(
      std::string_view study) = 0;

  // One page of a study's trials (see TrialQuery); an unknown study has
  // none. INVALID_ARGUMENT for a negative offset or limit.
  virtual absl::StatusOr<TrialPage> QueryTrials(const TrialQuery& query) = 0;

  // One trial with its learning curve; NOT_FOUND for an unknown id.
  virtual absl::StatusOr<caviar::v1::Trial> LoadTrial(int64_t id) = 0;

  // Largest trial id ever stored (0 when none), so ids are never reused.
  virtual absl::StatusOr<int64_t> MaxTrialId() = 0;
};

}  // namespace caviar::storage

#endif  // CAVIAR_STORAGE_STORE_H_
