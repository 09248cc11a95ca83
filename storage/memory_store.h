// MemoryStore: a Store that keeps everything in this process's memory, for
// tests and fuzzing that want the coordinator without a disk. Same contract
// as every Store (status codes, atomic batches, ordering), minus durability:
// stores opened with the same name in one process share their data (so a
// "reopen" finds it), and nothing survives the process.
//
// Thread-safety: safe from many threads (one mutex per name).
#ifndef CAVIAR_STORAGE_MEMORY_STORE_H_
#define CAVIAR_STORAGE_MEMORY_STORE_H_

#include <memory>
#include <string>

#include "storage/store.h"

namespace caviar::storage {

class MemoryStore : public Store {
 public:
  // The store named `name` in this process, created empty on first use.
  static std::unique_ptr<MemoryStore> Open(const std::string& name);
  ~MemoryStore() override;

  absl::Status CreateStudy(const caviar::v1::Study& study) override;
  absl::Status Commit(const WriteBatch& batch) override;
  absl::StatusOr<std::vector<caviar::v1::Study>> LoadStudies() override;
  absl::StatusOr<std::vector<caviar::v1::Trial>> LoadTrials(std::string_view study) override;
  absl::StatusOr<TrialPage> QueryTrials(const TrialQuery& query) override;
  absl::StatusOr<caviar::v1::Trial> LoadTrial(int64_t id) override;
  absl::StatusOr<int64_t> MaxTrialId() override;

  struct Data;

 private:
  explicit MemoryStore(std::shared_ptr<Data> data);
  std::shared_ptr<Data> data_;
};

}  // namespace caviar::storage

#endif  // CAVIAR_STORAGE_MEMORY_STORE_H_
