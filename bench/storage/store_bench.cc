// store_bench: commits per second of SqliteStore under the coordinator's
// write pattern, one trial lifecycle = three commits:
//   1. PutTrial (new trial, ACTIVE, leased to a worker)
//   2. AddMeasurement (one ReportProgress)
//   3. PutTrial (SUCCEEDED, final measurement, objective value; the proto
//      carries the in-memory learning curve of --curve points, which the
//      store drops from the row)
// Every configuration runs in the same process, interleaved over rounds,
// so the figures compare as ratios on a shared, noisy machine.
//
//   store_bench [--seconds=1.5] [--rounds=3] [--dir=/tmp] [--curve=1]
//               [--only=N] [--load_trials=20000] [--load_curve=20]
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "storage/sqlite_store.h"

namespace caviar::storage {
namespace {

struct Config {
  const char* name;
  int threads;
  bool group_commit;
  SqliteStore::Durability durability;
  bool exclusive = true;
  int page_size = 1024;
};

struct Result {
  double lifecycles_per_second = 0;
  // Process CPU time (user + system) per lifecycle: steadier than wall
  // time when other jobs share the machine.
  double cpu_us_per_lifecycle = 0;
  double batches_per_transaction = 0;
};

caviar::v1::Measurement SampleMeasurement(int64_t step) {
  caviar::v1::Measurement m;
  m.set_step(step);
  m.set_elapsed_seconds(1.5 * static_cast<double>(step));
  (*m.mutable_metrics())["dev_accuracy"] = 0.9;
  (*m.mutable_metrics())["train_loss"] = 0.3;
  (*m.mutable_metrics())["train_accuracy"] = 0.92;
  return m;
}

caviar::v1::Trial SampleTrial(int64_t id) {
  caviar::v1::Trial trial;
  trial.set_id(id);
  trial.set_study("bench");
  trial.set_state(caviar::v1::ACTIVE);
  auto& params = *trial.mutable_parameters();
  params["learning_rate"].set_double_value(0.0031);
  params["beta1"].set_double_value(0.93);
  params["hidden_units"].set_int_value(64);
  params["layers"].set_int_value(3);
  params["activation"].set_string_value("relu");
  trial.set_worker_id("node17-worker-3");
  trial.set_attempt(1);
  trial.mutable_create_time()->set_seconds(1700000000);
  trial.mutable_start_time()->set_seconds(1700000001);
  trial.mutable_lease_deadline()->set_seconds(1700000061);
  trial.set_origin(caviar::v1::SAMPLED);
  trial.set_seed(static_cast<uint64_t>(id) * 2654435761u);
  return trial;
}

void Check(const absl::Status& status, const char* what) {
  if (status.ok()) return;
  std::fprintf(stderr, "%s: %s\n", what, status.ToString().c_str());
  std::exit(1);
}

double CpuSeconds() {
  rusage usage;
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_utime.tv_sec + usage.ru_stime.tv_sec +
         1e-6 * (usage.ru_utime.tv_usec + usage.ru_stime.tv_usec);
}

Result RunOnce(const Config& config, double seconds, const std::string& dir, int curve) {
  const std::string path =
      dir + "/caviar_store_bench_" + std::to_string(getpid()) + ".db";
  for (const char* suffix : {"", "-wal", "-shm"}) {
    std::filesystem::remove(path + suffix);
  }
  SqliteStore::Options options;
  options.group_commit = config.group_commit;
  options.durability = config.durability;
  options.exclusive = config.exclusive;
  options.page_size = config.page_size;
  auto opened = SqliteStore::Open(path, options);
  Check(opened.status(), "open");
  SqliteStore& store = **opened;
  caviar::v1::Study study;
  study.mutable_spec()->set_name("bench");
  study.set_state(caviar::v1::STUDY_ACTIVE);
  Check(store.CreateStudy(study), "CreateStudy");

  std::atomic<bool> stop{false};
  std::atomic<int64_t> next_id{1};
  std::atomic<int64_t> lifecycles{0};
  auto start = std::chrono::steady_clock::now();
  const double cpu_start = CpuSeconds();
  std::vector<std::thread> threads;
  for (int t = 0; t < config.threads; ++t) {
    threads.emplace_back([&] {
      int64_t done = 0;
      while (!stop.load(std::memory_order_relaxed)) {
        int64_t id = next_id.fetch_add(1);
        caviar::v1::Trial trial = SampleTrial(id);
        {
          WriteBatch batch;
          batch.PutTrial(trial);
          Check(store.Commit(batch), "insert trial");
        }
        caviar::v1::Measurement m = SampleMeasurement(1);
        {
          WriteBatch batch;
          batch.AddMeasurement(id, m);
          Check(store.Commit(batch), "append measurement");
        }
        trial.set_state(caviar::v1::SUCCEEDED);
        for (int step = 1; step <= curve; ++step) {
          *trial.add_measurements() = SampleMeasurement(step);
        }
        *trial.mutable_final_measurement() = m;
        trial.set_objective_value(0.9);
        trial.mutable_end_time()->set_seconds(1700000100);
        {
          WriteBatch batch;
          batch.PutTrial(trial);
          Check(store.Commit(batch), "update trial");
        }
        ++done;
      }
      lifecycles += done;
    });
  }
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  stop = true;
  for (std::thread& thread : threads) thread.join();
  double elapsed =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const double cpu = CpuSeconds() - cpu_start;
  SqliteStore::CommitStats stats = store.commit_stats();
  opened->reset();
  for (const char* suffix : {"", "-wal", "-shm"}) {
    std::filesystem::remove(path + suffix);
  }
  Result result;
  result.lifecycles_per_second = lifecycles.load() / elapsed;
  result.cpu_us_per_lifecycle = 1e6 * cpu / std::max<int64_t>(1, lifecycles);
  result.batches_per_transaction =
      static_cast<double>(stats.batches) / std::max<int64_t>(1, stats.transactions);
  return result;
}

// Start-up cost: LoadTrials of one study of `trials` trials with `curve`
// measurements each (written in large batches beforehand).
void RunLoad(const std::string& dir, int trials, int curve) {
  const std::string path =
      dir + "/caviar_store_bench_load_" + std::to_string(getpid()) + ".db";
  for (const char* suffix : {"", "-wal", "-shm"}) {
    std::filesystem::remove(path + suffix);
  }
  {
    auto opened = SqliteStore::Open(path);
    Check(opened.status(), "open");
    caviar::v1::Study study;
    study.mutable_spec()->set_name("bench");
    Check((*opened)->CreateStudy(study), "CreateStudy");
    WriteBatch batch;
    for (int id = 1; id <= trials; ++id) {
      caviar::v1::Trial trial = SampleTrial(id);
      trial.set_state(caviar::v1::SUCCEEDED);
      trial.set_objective_value(0.9);
      batch.PutTrial(trial);
      for (int step = 1; step <= curve; ++step) {
        batch.AddMeasurement(id, SampleMeasurement(step));
      }
      if (id % 1000 == 0 || id == trials) {
        Check((*opened)->Commit(batch), "load commit");
        batch = WriteBatch();
      }
    }
  }
  auto start = std::chrono::steady_clock::now();
  auto opened = SqliteStore::Open(path);
  Check(opened.status(), "reopen");
  auto loaded = (*opened)->LoadTrials("bench");
  Check(loaded.status(), "LoadTrials");
  double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (static_cast<int>(loaded->size()) != trials) {
    std::fprintf(stderr, "loaded %zu trials, wrote %d\n", loaded->size(), trials);
    std::exit(1);
  }
  std::printf(
      "open + LoadTrials of %d trials x %d measurements: %.0f ms "
      "(%.0f trials/s)\n",
      trials, curve, 1e3 * seconds, trials / seconds);
  opened->reset();
  for (const char* suffix : {"", "-wal", "-shm"}) {
    std::filesystem::remove(path + suffix);
  }
}

double FlagValue(int argc, char** argv, const char* name, double fallback) {
  std::string prefix = std::string("--") + name + "=";
  for (int i = 1; i < argc; ++i) {
    if (std::strncmp(argv[i], prefix.c_str(), prefix.size()) == 0) {
      return std::atof(argv[i] + prefix.size());
    }
  }
  return fallback;
}

std::string FlagText(int argc, char** argv, const char* name, const char* fallback) {
  std::string prefix = std::string("--") + name + "=";
  for (int i = 1; i < argc; ++i) {
    if (std::strncmp(argv[i], prefix.c_str(), prefix.size()) == 0) {
      return argv[i] + prefix.size();
    }
  }
  return fallback;
}

int Main(int argc, char** argv) {
  // As caviar-coordinator does: Debian's Abseil would otherwise check the
  // lock order on every mutex acquisition.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  const double seconds = FlagValue(argc, argv, "seconds", 1.5);
  const int rounds = static_cast<int>(FlagValue(argc, argv, "rounds", 3));
  const int curve = static_cast<int>(FlagValue(argc, argv, "curve", 1));
  const std::string dir = FlagText(argc, argv, "dir", "/tmp");
  // --only=N runs configuration N alone (for profiling).
  const int only = static_cast<int>(FlagValue(argc, argv, "only", -1));
  const int load_trials = static_cast<int>(FlagValue(argc, argv, "load_trials", 20000));
  const int load_curve = static_cast<int>(FlagValue(argc, argv, "load_curve", 20));
  using D = SqliteStore::Durability;
  const std::vector<Config> configs = {
      {"NORMAL, 1 thread,  one txn per commit", 1, false, D::kProcessCrash},
      {"NORMAL, 1 thread,  group commit", 1, true, D::kProcessCrash},
      {"NORMAL, 1 thread,  shared lock", 1, true, D::kProcessCrash, false},
      {"NORMAL, 1 thread,  4 KiB pages", 1, true, D::kProcessCrash, true, 4096},
      {"NORMAL, 1 thread,  4 KiB pages, shared", 1, true, D::kProcessCrash, false, 4096},
      {"NORMAL, 8 threads, one txn per commit", 8, false, D::kProcessCrash},
      {"NORMAL, 8 threads, group commit", 8, true, D::kProcessCrash},
      {"FULL,   1 thread,  one txn per commit", 1, false, D::kPowerLoss},
      {"FULL,   8 threads, one txn per commit", 8, false, D::kPowerLoss},
      {"FULL,   8 threads, group commit", 8, true, D::kPowerLoss},
  };
  std::vector<std::vector<Result>> results(configs.size());
  for (int round = 0; round < rounds; ++round) {
    for (size_t c = 0; c < configs.size(); ++c) {
      if (only >= 0 && static_cast<int>(c) != only) continue;
      results[c].push_back(RunOnce(configs[c], seconds, dir, curve));
    }
  }
  std::printf("dir=%s seconds=%.1f rounds=%d curve=%d (median of rounds)\n", dir.c_str(),
              seconds, rounds, curve);
  std::printf("%-40s %12s %12s %10s %14s\n", "configuration", "lifecycles/s", "commits/s",
              "batch/txn", "cpu us/lifecy");
  for (size_t c = 0; c < configs.size(); ++c) {
    std::vector<Result>& r = results[c];
    if (r.empty()) continue;
    std::sort(r.begin(), r.end(), [](const Result& a, const Result& b) {
      return a.lifecycles_per_second < b.lifecycles_per_second;
    });
    const Result& median = r[r.size() / 2];
    std::printf("%-40s %12.0f %12.0f %10.2f %14.1f\n", configs[c].name,
                median.lifecycles_per_second, 3 * median.lifecycles_per_second,
                median.batches_per_transaction, median.cpu_us_per_lifecycle);
  }
  if (only < 0 && load_trials > 0) RunLoad(dir, load_trials, load_curve);
  return 0;
}

}  // namespace
}  // namespace caviar::storage

int main(int argc, char** argv) { return caviar::storage::Main(argc, argv); }
