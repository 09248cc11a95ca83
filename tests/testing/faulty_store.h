// FaultyStore: a Store decorator that makes commits fail on demand, to show
// that a failed commit changes nothing above the store, and to stop a
// "process" at an exact write (every commit from some point on fails, as if
// the process had been killed there; reopen the inner store to restart).
//
// Thread-safety: as the inner store; the fault settings are atomic.
#ifndef CAVIAR_TESTS_TESTING_FAULTY_STORE_H_
#define CAVIAR_TESTS_TESTING_FAULTY_STORE_H_

#include <atomic>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "tests/testing/forwarding_store.h"

namespace caviar::testing {

class FaultyStore : public ForwardingStore {
 public:
  explicit FaultyStore(storage::Store* inner) : ForwardingStore(inner) {}

  // The n-th commit from now (1 = the next one) fails; the others pass.
  void FailCommit(int n) { fail_at_ = commits_ + n; }
  // The next `n` commits pass, every later one fails (a kill after them).
  void CrashAfter(int n) { crash_after_ = commits_ + n; }
  void Heal() { fail_at_ = -1, crash_after_ = -1; }
  int commits() const { return commits_; }

  absl::Status CreateStudy(const caviar::v1::Study& study) override {
    if (Fails()) return Injected();
    return inner()->CreateStudy(study);
  }
  absl::Status Commit(const storage::WriteBatch& batch) override {
    if (Fails()) return Injected();
    return inner()->Commit(batch);
  }

 private:
  bool Fails() {
    const int n = ++commits_;
    return n == fail_at_ || (crash_after_ >= 0 && n > crash_after_);
  }
  static absl::Status Injected() { return absl::UnavailableError("injected commit failure"); }

  std::atomic<int> commits_{0};
  std::atomic<int> fail_at_{-1};
  std::atomic<int> crash_after_{-1};
};

}  // namespace caviar::testing

#endif  // CAVIAR_TESTS_TESTING_FAULTY_STORE_H_
