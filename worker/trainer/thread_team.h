// ThreadTeam: the calling thread plus `threads - 1` helper threads sharing
// the tasks of one parallel loop at a time.
//
// Why not OpenMP: on a shared machine (several workers, builds, other jobs)
// a fork-join team waits at every join for a thread that the OS has not
// scheduled yet, and a training step has ~10 joins: a busy core turns two
// threads into far less than one. Here the caller takes tasks itself from
// the same counter as the helpers, so a helper that is not running delays
// only a task it has already taken; if it never wakes up, the caller simply
// does all the work.
//
// Helpers spin briefly between loops (a training step's loops follow each
// other within microseconds), then sleep on a condition variable.
//
// Thread-safety: Run must be called from one thread at a time (the owner).
#ifndef CAVIAR_WORKER_TRAINER_THREAD_TEAM_H_
#define CAVIAR_WORKER_TRAINER_THREAD_TEAM_H_

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>
#include <vector>

namespace caviar::trainer {

class ThreadTeam {
 public:
  // threads >= 1; 1 runs everything on the caller.
  explicit ThreadTeam(int threads);
  ~ThreadTeam();
  ThreadTeam(const ThreadTeam&) = delete;
  ThreadTeam& operator=(const ThreadTeam&) = delete;

  int threads() const { return static_cast<int>(helpers_.size()) + 1; }

  // Calls task(i) once for every i in [0, tasks); returns when all are done.
  template <typename Task>
  void Run(int tasks, const Task& task) {
    if (helpers_.empty() || tasks <= 1) {
      for (int i = 0; i < tasks; ++i) task(i);
      return;
    }
    RunErased(tasks, [](const void* t, int i) { (*static_cast<const Task*>(t))(i); },
              &task);
  }

 private:
  using Function = void (*)(const void* context, int task);
  void RunErased(int tasks, Function function, const void* context);
  void HelperLoop();
  // Takes and runs tasks of the current loop until none is left.
  void Work();

  std::vector<std::thread> helpers_;
  // The current loop. Written by the owner before `generation_` is bumped;
  // read by helpers after they see the new generation.
  std::atomic<Function> function_{nullptr};
  std::atomic<const void*> context_{nullptr};
  std::atomic<int> tasks_{0};
  std::atomic<int> next_{0};
  std::atomic<int> done_{0};
  // Odd while a loop is open for helpers to join; even otherwise.
  std::atomic<uint64_t> generation_{0};
  // Helpers inside Work(): the owner waits for them to leave before it
  // reuses the fields above.
  std::atomic<int> active_{0};
  std::atomic<int> sleeping_{0};
  std::atomic<bool> stop_{false};
  std::mutex mu_;
  std::condition_variable wake_;
};

}  // namespace caviar::trainer

#endif  // CAVIAR_WORKER_TRAINER_THREAD_TEAM_H_
