// Clock: the coordinator's source of time, injectable so that lease logic is
// tested without sleeping. Two readings:
//   Now()        wall-clock time: what is stored and shown (create, end and
//                deadline timestamps). It may jump (NTP, an operator).
//   Monotonic()  a steady clock that never jumps: what leases are measured
//                on, so a clock step neither expires healthy leases nor keeps
//                a dead worker's. Its epoch is arbitrary; only differences
//                between its readings mean anything.
// Thread-safe.
#ifndef CAVIAR_COMMON_CLOCK_H_
#define CAVIAR_COMMON_CLOCK_H_

#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace caviar {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual absl::Time Now() const = 0;
  virtual absl::Time Monotonic() const = 0;

  // The process-wide real clock; never destroyed.
  static Clock* Real();
};

// A clock that moves only when told to.
class FakeClock : public Clock {
 public:
  explicit FakeClock(absl::Time start = absl::FromUnixSeconds(1'700'000'000))
      : now_(start), monotonic_(absl::UnixEpoch() + absl::Hours(1)) {}
  absl::Time Now() const override {
    absl::MutexLock lock(&mu_);
    return now_;
  }
  absl::Time Monotonic() const override {
    absl::MutexLock lock(&mu_);
    return monotonic_;
  }
  // Time passes: both readings move.
  void Advance(absl::Duration d) {
    absl::MutexLock lock(&mu_);
    now_ += d;
    monotonic_ += d;
  }
  // The wall clock is set (forward or back); no time passes.
  void StepWallClock(absl::Duration d) {
    absl::MutexLock lock(&mu_);
    now_ += d;
  }

 private:
  mutable absl::Mutex mu_;
  absl::Time now_;
  absl::Time monotonic_;
};

}  // namespace caviar

#endif  // CAVIAR_COMMON_CLOCK_H_
