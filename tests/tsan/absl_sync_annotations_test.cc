// Data handed between threads under Debian's Abseil synchronization: TSan
// sees the hand-over only through tests/tsan/absl_sync_annotations.cc (run
// without it, tsan_absl_annotations_needed_test expects TSan to fail this).
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"

namespace {

TEST(TsanAbslAnnotations, MutexGuardedCounter) {
  absl::Mutex mu;
  int counter = 0;  // Guarded by mu; a plain int, so TSan checks it.
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 1000; ++i) {
        absl::MutexLock lock(&mu);
        ++counter;
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  absl::MutexLock lock(&mu);
  EXPECT_EQ(counter, 4000);
}

TEST(TsanAbslAnnotations, ReaderLockSeesTheWriter) {
  absl::Mutex mu;
  int value = 0;
  std::thread writer([&] {
    absl::MutexLock lock(&mu);
    value = 7;
  });
  int seen = 0;
  while (seen == 0) {
    absl::ReaderMutexLock lock(&mu);
    seen = value;
  }
  writer.join();
  EXPECT_EQ(seen, 7);
}

TEST(TsanAbslAnnotations, CondVarAndAwait) {
  absl::Mutex mu;
  absl::CondVar changed;
  int stage = 0;
  std::thread other([&] {
    absl::MutexLock lock(&mu);
    while (stage != 1) changed.WaitWithTimeout(&mu, absl::Seconds(1));
    stage = 2;
    changed.SignalAll();
  });
  {
    absl::MutexLock lock(&mu);
    stage = 1;
    changed.SignalAll();
  }
  {
    absl::MutexLock lock(&mu);
    mu.Await(absl::Condition(
        +[](int* s) { return *s == 2; }, &stage));
    EXPECT_EQ(stage, 2);
  }
  other.join();
}

TEST(TsanAbslAnnotations, NotificationHandsOverData) {
  int payload = 0;
  absl::Notification ready;
  std::thread producer([&] {
    payload = 42;
    ready.Notify();
  });
  ready.WaitForNotification();
  EXPECT_EQ(payload, 42);
  producer.join();

  int second = 0;
  absl::Notification done;
  std::thread other([&] {
    second = 5;
    done.Notify();
  });
  ASSERT_TRUE(done.WaitForNotificationWithTimeout(absl::Seconds(30)));
  EXPECT_EQ(second, 5);
  other.join();
}

}  // namespace
