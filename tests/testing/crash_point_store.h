// CrashPointStore: a Store decorator that kills its own process (SIGKILL) at
// a named commit point, so tests can stop the real coordinator at an exact
// write. Compiled only into the test build of the coordinator
// (caviar-coordinator-crashpoints); configured by the environment:
//
//   CAVIAR_CRASH_AT=<when>:<what>[:<n>]
//     when  before | after      the commit is not / is durable when it dies
//     what  any                 every commit
//           study_end           a commit that ends a study (COMPLETED)
//           trial_final         a commit that writes a finished trial
//           measurement         a commit that appends a measurement
//     n     the n-th such commit (default 1)
//
// Thread-safety: as the inner store.
#ifndef CAVIAR_TESTS_TESTING_CRASH_POINT_STORE_H_
#define CAVIAR_TESTS_TESTING_CRASH_POINT_STORE_H_

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "tests/testing/forwarding_store.h"

namespace caviar::testing {

class CrashPointStore : public ForwardingStore {
 public:
  // The decorator CAVIAR_CRASH_AT asks for, or nullptr when it is unset.
  static std::unique_ptr<CrashPointStore> FromEnvironment(storage::Store* inner) {
    const char* spec = std::getenv("CAVIAR_CRASH_AT");
    if (spec == nullptr || *spec == '\0') return nullptr;
    std::vector<std::string> parts = absl::StrSplit(spec, ':');
    auto store = std::unique_ptr<CrashPointStore>(new CrashPointStore(inner));
    store->after_ = !parts.empty() && parts[0] == "after";
    store->what_ = parts.size() > 1 ? parts[1] : "any";
    int n = 1;
    if (parts.size() > 2 && absl::SimpleAtoi(parts[2], &n)) store->n_ = n;
    return store;
  }

  absl::Status Commit(const storage::WriteBatch& batch) override {
    const bool hit = Matches(batch) && ++seen_ == n_;
    if (hit && !after_) Die();
    absl::Status status = inner()->Commit(batch);
    if (hit && after_) Die();
    return status;
  }

 private:
  explicit CrashPointStore(storage::Store* inner) : ForwardingStore(inner) {}

  bool Matches(const storage::WriteBatch& batch) const {
    if (what_ == "any") return true;
    if (what_ == "measurement") return !batch.measurements().empty();
    if (what_ == "study_end") {
      for (const auto& s : batch.studies())
        if (s.state() == caviar::v1::STUDY_COMPLETED) return true;
      return false;
    }
    if (what_ == "trial_final") {
      for (const auto& t : batch.trials()) {
        if (t.state() == caviar::v1::SUCCEEDED || t.state() == caviar::v1::FAILED ||
            t.state() == caviar::v1::STOPPED)
          return true;
      }
    }
    return false;
  }
  [[noreturn]] static void Die() {
    ::kill(::getpid(), SIGKILL);
    ::_exit(137);
  }

  bool after_ = false;
  std::string what_;
  int n_ = 1;
  std::atomic<int> seen_{0};
};

}  // namespace caviar::testing

#endif  // CAVIAR_TESTS_TESTING_CRASH_POINT_STORE_H_
