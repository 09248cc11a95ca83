// The scheduling layer without the network: the cost of one suggestion (and
// of the completion that follows) in a study that already holds N trials,
// over a real SQLite file. A flat line from N = 1,000 to N = 100,000 is the
// point: no request re-reads history.
//
//   build/bench/coordinator/caviar-suggest-bench
#include <cmath>
#include <filesystem>
#include <string>

#include "absl/synchronization/mutex.h"
#include "bench/coordinator/bench_spec.h"
#include "benchmark/benchmark.h"
#include "common/clock.h"
#include "server/scheduling/coordinator.h"
#include "storage/sqlite_store.h"

namespace caviar {
namespace {

// One trial's life: suggest, one report, complete.
void Lifecycle(scheduling::Coordinator& coordinator, int64_t* suggest_nanos) {
  v1::SuggestTrialRequest suggest;
  suggest.set_worker_id("w");
  const absl::Time start = absl::Now();
  auto suggestion = coordinator.SuggestTrial(suggest);
  *suggest_nanos += absl::ToInt64Nanoseconds(absl::Now() - start);
  const v1::Trial& t = suggestion->trial();
  v1::ReportProgressRequest report;
  report.set_trial_id(t.id());
  report.set_worker_id("w");
  report.set_attempt(t.attempt());
  report.mutable_measurement()->set_step(1);
  (*report.mutable_measurement()->mutable_metrics())["score"] = 0.5;
  (void)coordinator.ReportProgress(report);
  v1::CompleteTrialRequest complete;
  complete.set_trial_id(t.id());
  complete.set_worker_id("w");
  complete.set_attempt(t.attempt());
  (*complete.mutable_final_measurement()->mutable_metrics())["score"] =
      std::sin(static_cast<double>(t.id()));
  (void)coordinator.CompleteTrial(complete);
}

void BM_TrialLifecycleAtHistorySize(benchmark::State& state) {
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  const int history = static_cast<int>(state.range(0));
  const std::string path =
      (std::filesystem::temp_directory_path() / "caviar-suggest-bench.db").string();
  for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path + suffix);
  auto store = storage::SqliteStore::Open(path);
  auto coordinator = scheduling::Coordinator::Create(store->get(), Clock::Real(), {});
  (void)(*coordinator)->CreateStudy(bench::BenchSpec("bench", history + 10'000'000));
  int64_t ignored = 0;
  for (int i = 0; i < history; ++i) Lifecycle(**coordinator, &ignored);
  int64_t suggest_nanos = 0;
  for (auto _ : state) Lifecycle(**coordinator, &suggest_nanos);
  state.counters["suggest_us"] =
      benchmark::Counter(suggest_nanos / 1e3 / state.iterations());
  state.counters["lifecycles_per_s"] =
      benchmark::Counter(state.iterations(), benchmark::Counter::kIsRate);
  coordinator->reset();
  store->reset();
  for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path + suffix);
}
BENCHMARK(BM_TrialLifecycleAtHistorySize)
    ->Arg(1'000)
    ->Arg(10'000)
    ->Arg(100'000)
    ->Unit(benchmark::kMicrosecond)
    ->MinTime(2.0);

}  // namespace
}  // namespace caviar

BENCHMARK_MAIN();
