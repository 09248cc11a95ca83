#include "worker/trainer/thread_team.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

#include <chrono>

namespace caviar::trainer {
namespace {

// How long an idle helper spins before it sleeps: longer than the gap
// between two loops of a training step, far shorter than an epoch's end.
constexpr auto kSpin = std::chrono::microseconds(200);

void Pause() {
#if defined(__x86_64__) || defined(__i386__)
  _mm_pause();
#else
  std::this_thread::yield();
#endif
}

}  // namespace

ThreadTeam::ThreadTeam(int threads) {
  for (int i = 1; i < threads; ++i) helpers_.emplace_back([this] { HelperLoop(); });
}

ThreadTeam::~ThreadTeam() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_.store(true);
  }
  wake_.notify_all();
  for (std::thread& helper : helpers_) helper.join();
}

void ThreadTeam::Work() {
  const Function function = function_.load(std::memory_order_acquire);
  const void* context = context_.load(std::memory_order_acquire);
  const int tasks = tasks_.load(std::memory_order_acquire);
  for (int i = next_.fetch_add(1); i < tasks; i = next_.fetch_add(1)) {
    function(context, i);
    done_.fetch_add(1, std::memory_order_release);
  }
}

void ThreadTeam::RunErased(int tasks, Function function, const void* context) {
  function_.store(function, std::memory_order_relaxed);
  context_.store(context, std::memory_order_relaxed);
  tasks_.store(tasks, std::memory_order_relaxed);
  next_.store(0, std::memory_order_relaxed);
  done_.store(0, std::memory_order_relaxed);
  generation_.fetch_add(1);  // Now odd: open. Publishes the fields above.
  if (sleeping_.load() > 0) {
    std::lock_guard<std::mutex> lock(mu_);
    wake_.notify_all();
  }
  Work();
  // Only tasks a helper has taken can still be running.
  while (done_.load(std::memory_order_acquire) < tasks) Pause();
  generation_.fetch_add(1);  // Even: closed.
  // A helper that entered Work() may still be about to touch next_.
  while (active_.load() > 0) Pause();
}

void ThreadTeam::HelperLoop() {
  uint64_t seen = 0;
  while (true) {
    // Wait for an open loop we have not joined yet.
    uint64_t generation = generation_.load();
    auto spin_until = std::chrono::steady_clock::now() + kSpin;
    while ((generation % 2 == 0 || generation == seen) && !stop_.load()) {
      if (std::chrono::steady_clock::now() < spin_until) {
        for (int i = 0; i < 32; ++i) Pause();
      } else {
        std::unique_lock<std::mutex> lock(mu_);
        sleeping_.fetch_add(1);
        wake_.wait(lock, [&] {
          const uint64_t g = generation_.load();
          return stop_.load() || (g % 2 == 1 && g != seen);
        });
        sleeping_.fetch_sub(1);
        spin_until = std::chrono::steady_clock::now() + kSpin;
      }
      generation = generation_.load();
    }
    if (stop_.load()) return;
    seen = generation;
    active_.fetch_add(1);
    // The loop may have closed (and the owner moved on) since we looked.
    if (generation_.load() == generation) Work();
    active_.fetch_sub(1);
  }
}

}  // namespace caviar::trainer
