// TSan annotations for Debian's (uninstrumented) Abseil synchronization,
// preloaded into TSan test runs (scripts/sanitize.sh thread): LD_PRELOAD puts
// these definitions of absl::Mutex, absl::CondVar and absl::Notification
// members ahead of libabsl_synchronization.so's, so calls from our code, from
// gRPC and from Abseil itself (they go through the PLT) land here. Each calls
// the real member (dlsym RTLD_NEXT) and tells TSan about the happens-before
// edge it makes: a release on the object's address before an unlock, an
// acquire after a lock. Without them TSan sees none of these locks and
// reports every absl::Mutex-guarded access as a race.
//
// Built without TSan instrumentation (it is loaded into every process a test
// starts, shells included): the __tsan_* entry points are weak, taken from the
// executable's TSan runtime when it has one, skipped otherwise.
#include <dlfcn.h>

#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "absl/base/options.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"

extern "C" {
void __tsan_acquire(void* addr) __attribute__((weak));
void __tsan_release(void* addr) __attribute__((weak));
}

namespace {

#define CAVIAR_STRINGIFY_INNER(x) #x
#define CAVIAR_STRINGIFY(x) CAVIAR_STRINGIFY_INNER(x)
// The mangled names below name Debian 12's inline namespace.
static_assert(std::string_view(CAVIAR_STRINGIFY(ABSL_OPTION_INLINE_NAMESPACE_NAME)) ==
                  "debian3",
              "mangled names assume Abseil's inline namespace absl::debian3");

void Acquire(const void* addr) {
  if (__tsan_acquire != nullptr) __tsan_acquire(const_cast<void*>(addr));
}
void Release(const void* addr) {
  if (__tsan_release != nullptr) __tsan_release(const_cast<void*>(addr));
}

// The next definition of `symbol` (libabsl's), looked up once.
template <typename Function>
Function Real(const char* symbol) {
  void* address = dlsym(RTLD_NEXT, symbol);
  if (address == nullptr) {
    std::fprintf(stderr, "absl_sync_annotations: %s not found: %s\n", symbol, dlerror());
    std::abort();
  }
  return reinterpret_cast<Function>(address);
}

#define CAVIAR_REAL(type, symbol) static const auto real = Real<type>(symbol)

// Abseil evaluates a waiter's condition in whichever thread holds the mutex
// at the time (the waiter, or one unlocking), inside its own lock and unlock
// that TSan cannot see: the wrapped condition brackets each evaluation with
// an acquire and a release on the mutex.
struct AnnotatedCondition {
  const absl::Condition* condition;
  const absl::Mutex* mu;
  static bool Eval(AnnotatedCondition* self) {
    Acquire(self->mu);
    const bool holds = self->condition->Eval();
    Release(self->mu);
    return holds;
  }
};
#define CAVIAR_ANNOTATED(condition)                 \
  AnnotatedCondition annotated{&(condition), this}; \
  const absl::Condition wrapped(&AnnotatedCondition::Eval, &annotated)

}  // namespace

namespace absl {
ABSL_NAMESPACE_BEGIN

void Mutex::Lock() {
  CAVIAR_REAL(void (*)(Mutex*), "_ZN4absl7debian35Mutex4LockEv");
  real(this);
  Acquire(this);
}

void Mutex::Unlock() {
  CAVIAR_REAL(void (*)(Mutex*), "_ZN4absl7debian35Mutex6UnlockEv");
  Release(this);
  real(this);
}

bool Mutex::TryLock() {
  CAVIAR_REAL(bool (*)(Mutex*), "_ZN4absl7debian35Mutex7TryLockEv");
  const bool locked = real(this);
  if (locked) Acquire(this);
  return locked;
}

void Mutex::ReaderLock() {
  CAVIAR_REAL(void (*)(Mutex*), "_ZN4absl7debian35Mutex10ReaderLockEv");
  real(this);
  Acquire(this);
}

void Mutex::ReaderUnlock() {
  CAVIAR_REAL(void (*)(Mutex*), "_ZN4absl7debian35Mutex12ReaderUnlockEv");
  Release(this);
  real(this);
}

bool Mutex::ReaderTryLock() {
  CAVIAR_REAL(bool (*)(Mutex*), "_ZN4absl7debian35Mutex13ReaderTryLockEv");
  const bool locked = real(this);
  if (locked) Acquire(this);
  return locked;
}

// Await and the LockWhen family may unlock and lock again while waiting.
void Mutex::Await(const Condition& condition) {
  CAVIAR_REAL(void (*)(Mutex*, const Condition&),
              "_ZN4absl7debian35Mutex5AwaitERKNS0_9ConditionE");
  CAVIAR_ANNOTATED(condition);
  Release(this);
  real(this, wrapped);
  Acquire(this);
}

bool Mutex::AwaitWithTimeout(const Condition& condition, absl::Duration timeout) {
  CAVIAR_REAL(bool (*)(Mutex*, const Condition&, absl::Duration),
              "_ZN4absl7debian35Mutex16AwaitWithTimeoutERKNS0_9ConditionENS0_8DurationE");
  CAVIAR_ANNOTATED(condition);
  Release(this);
  const bool met = real(this, wrapped, timeout);
  Acquire(this);
  return met;
}

bool Mutex::AwaitWithDeadline(const Condition& condition, absl::Time deadline) {
  CAVIAR_REAL(bool (*)(Mutex*, const Condition&, absl::Time),
              "_ZN4absl7debian35Mutex17AwaitWithDeadlineERKNS0_9ConditionENS0_4TimeE");
  CAVIAR_ANNOTATED(condition);
  Release(this);
  const bool met = real(this, wrapped, deadline);
  Acquire(this);
  return met;
}

void Mutex::LockWhen(const Condition& condition) {
  CAVIAR_REAL(void (*)(Mutex*, const Condition&),
              "_ZN4absl7debian35Mutex8LockWhenERKNS0_9ConditionE");
  CAVIAR_ANNOTATED(condition);
  real(this, wrapped);
  Acquire(this);
}

void Mutex::ReaderLockWhen(const Condition& condition) {
  CAVIAR_REAL(void (*)(Mutex*, const Condition&),
              "_ZN4absl7debian35Mutex14ReaderLockWhenERKNS0_9ConditionE");
  CAVIAR_ANNOTATED(condition);
  real(this, wrapped);
  Acquire(this);
}

bool Mutex::LockWhenWithTimeout(const Condition& condition, absl::Duration timeout) {
  CAVIAR_REAL(
      bool (*)(Mutex*, const Condition&, absl::Duration),
      "_ZN4absl7debian35Mutex19LockWhenWithTimeoutERKNS0_9ConditionENS0_8DurationE");
  CAVIAR_ANNOTATED(condition);
  const bool met = real(this, wrapped, timeout);
  Acquire(this);
  return met;
}

bool Mutex::LockWhenWithDeadline(const Condition& condition, absl::Time deadline) {
  CAVIAR_REAL(bool (*)(Mutex*, const Condition&, absl::Time),
              "_ZN4absl7debian35Mutex20LockWhenWithDeadlineERKNS0_9ConditionENS0_4TimeE");
  CAVIAR_ANNOTATED(condition);
  const bool met = real(this, wrapped, deadline);
  Acquire(this);
  return met;
}

// A wait unlocks `mu` and locks it again before it returns.
void CondVar::Wait(Mutex* mu) {
  CAVIAR_REAL(void (*)(CondVar*, Mutex*), "_ZN4absl7debian37CondVar4WaitEPNS0_5MutexE");
  Release(mu);
  real(this, mu);
  Acquire(mu);
}

bool CondVar::WaitWithTimeout(Mutex* mu, absl::Duration timeout) {
  CAVIAR_REAL(bool (*)(CondVar*, Mutex*, absl::Duration),
              "_ZN4absl7debian37CondVar15WaitWithTimeoutEPNS0_5MutexENS0_8DurationE");
  Release(mu);
  const bool timed_out = real(this, mu, timeout);
  Acquire(mu);
  return timed_out;
}

bool CondVar::WaitWithDeadline(Mutex* mu, absl::Time deadline) {
  CAVIAR_REAL(bool (*)(CondVar*, Mutex*, absl::Time),
              "_ZN4absl7debian37CondVar16WaitWithDeadlineEPNS0_5MutexENS0_4TimeE");
  Release(mu);
  const bool timed_out = real(this, mu, deadline);
  Acquire(mu);
  return timed_out;
}

// Notify happens before every wait that sees it. (HasBeenNotified is inline
// in the header: an inline check that sees the notification gets no edge.)
void Notification::Notify() {
  CAVIAR_REAL(void (*)(Notification*), "_ZN4absl7debian312Notification6NotifyEv");
  Release(this);
  real(this);
}

void Notification::WaitForNotification() const {
  CAVIAR_REAL(void (*)(const Notification*),
              "_ZNK4absl7debian312Notification19WaitForNotificationEv");
  real(this);
  Acquire(this);
}

bool Notification::WaitForNotificationWithTimeout(absl::Duration timeout) const {
  CAVIAR_REAL(
      bool (*)(const Notification*, absl::Duration),
      "_ZNK4absl7debian312Notification30WaitForNotificationWithTimeoutENS0_8DurationE");
  const bool notified = real(this, timeout);
  if (notified) Acquire(this);
  return notified;
}

bool Notification::WaitForNotificationWithDeadline(absl::Time deadline) const {
  CAVIAR_REAL(
      bool (*)(const Notification*, absl::Time),
      "_ZNK4absl7debian312Notification31WaitForNotificationWithDeadlineENS0_4TimeE");
  const bool notified = real(this, deadline);
  if (notified) Acquire(this);
  return notified;
}

ABSL_NAMESPACE_END
}  // namespace absl
