// Trainer throughput and the machine's float32 GEMM ceiling, measured in one
// process. Prints one line per measurement:
//   gemm      threads=1 m=1024 n=1024 k=1024 gflops=...
//   train     threads=1 net=784-256-256-10 batch=128 samples_per_s=... gflops=...
//
//   trainer_bench [--threads N] [--seconds S] [--what gemm|train|all]
//                 [--data DIR]   (Fashion-MNIST IDX files; random data if absent)
//                 [--dropout P]  (dropout after both hidden layers; default 0)
//                 [--gemm fastest|eigen|openblas]  (the trainer's GEMMs: timed per
//                                product shape at start, the default, or forced)
//
// The training step's cost is counted as the matrix products only: forward
// (2 * sum of W sizes per example), weight gradients (same), and the input
// gradients of every layer but the first: 1.21 MFLOP per example for
// 784-256-256-10. Batch norm, activations, softmax and Adam are the overhead
// that keeps achieved GFLOP/s below the GEMM peak.
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "Eigen/Core"
#include "worker/trainer/data.h"
#include "worker/trainer/gemm.h"
#include "worker/trainer/ops.h"
#include "worker/trainer/thread_team.h"
#include "worker/trainer/trainer.h"

namespace caviar::trainer {
namespace {

using Clock = std::chrono::steady_clock;

double Seconds(Clock::time_point since) {
  return std::chrono::duration<double>(Clock::now() - since).count();
}

struct GemmRate {
  double gflops = 0;          // Best round, wall time.
  double gflops_per_cpu = 0;  // All rounds, process CPU time.
};

double CpuSeconds();

// Timed rounds of C = A * B (m x k times k x n), split over the team the
// way the trainer splits its products (a single-threaded GEMM per block).
GemmRate Gemm(GemmKind kind, ThreadTeam* team, int m, int n, int k, double seconds,
              bool transpose_b = false) {
  Eigen::MatrixXf a = Eigen::MatrixXf::Random(m, k);
  Eigen::MatrixXf b = transpose_b ? Eigen::MatrixXf::Random(n, k) : Eigen::MatrixXf::Random(k, n);
  Eigen::MatrixXf c(m, n);
  GemmRate rate;
  int64_t total_reps = 0;
  const auto start = Clock::now();
  const double cpu_start = CpuSeconds();
  while (Seconds(start) < seconds) {
    const auto round = Clock::now();
    int reps = 0;
    do {
      Product<float>(kind, c, a, false, b, transpose_b, team);
      ++reps;
    } while (Seconds(round) < 0.2);
    total_reps += reps;
    rate.gflops = std::max(rate.gflops, 2.0 * m * n * k * reps / Seconds(round) / 1e9);
  }
  rate.gflops_per_cpu = 2.0 * m * n * k * total_reps / (CpuSeconds() - cpu_start) / 1e9;
  return rate;
}

// CPU seconds of the whole process (all threads): with one thread, less
// sensitive than wall time to other processes taking the core away.
double CpuSeconds() {
  rusage usage;
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_utime.tv_sec + usage.ru_stime.tv_sec +
         1e-6 * (usage.ru_utime.tv_usec + usage.ru_stime.tv_usec);
}

Dataset RandomData(int64_t n) {
  Dataset data;
  data.num_classes = 10;
  data.features = Eigen::MatrixXf::Random(784, n);
  Random random(1);
  for (int64_t j = 0; j < n; ++j) data.labels.push_back(int32_t(random.Below(10)));
  return data;
}

}  // namespace
}  // namespace caviar::trainer

int main(int argc, char** argv) {
  using namespace caviar::trainer;
  int threads = 1;
  double seconds = 5;
  std::string what = "all";
  std::string data_dir = "/usr/share/datasets/fashion-mnist";
  int batch = 128;
  double dropout = 0;
  std::string gemm = "rule";  // The worker's; or fastest, eigen, openblas.
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--threads")) threads = std::atoi(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--seconds")) seconds = std::atof(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--what")) what = argv[i + 1];
    else if (!std::strcmp(argv[i], "--data")) data_dir = argv[i + 1];
    else if (!std::strcmp(argv[i], "--batch")) batch = std::atoi(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--dropout")) dropout = std::atof(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--gemm")) gemm = argv[i + 1];
    else {
      std::fprintf(stderr, "unknown flag %s\n", argv[i]);
      return 2;
    }
  }
  std::printf("# blas: %s\n", BlasDescription().c_str());
  if (what == "gemm" || what == "all") {
    ThreadTeam team(threads);
    std::vector<GemmKind> kinds = {GemmKind::kEigen};
    if (HaveBlas()) kinds.push_back(GemmKind::kBlas);
    for (GemmKind kind : kinds) {
      auto print = [&](const char* shape, const GemmRate& rate) {
        std::printf("gemm lib=%s threads=%d %s gflops=%.1f gflops_per_cpu_s=%.1f\n",
                    GemmKindName(kind), threads, shape, rate.gflops, rate.gflops_per_cpu);
      };
      print("m=1024 n=1024 k=1024", Gemm(kind, &team, 1024, 1024, 1024, seconds / 2));
      // The step's largest products: layer 1 forward and its weight gradient.
      print("m=256 n=128 k=784", Gemm(kind, &team, 256, batch, 784, seconds / 4));
      print("m=256 n=784 k=128 (B^T)", Gemm(kind, &team, 256, 784, batch, seconds / 4, true));
      std::fflush(stdout);
    }
  }
  if (what == "train" || what == "all") {
    auto read = ReadIdx(data_dir + "/train-images-idx3-ubyte.gz",
                        data_dir + "/train-labels-idx1-ubyte.gz");
    const bool real = read.ok();
    Dataset train = real ? Head(*read, 20000) : RandomData(20000);
    TrainerConfig config;
    config.hidden = {256, 256};
    config.batch_size = batch;
    config.threads = threads;
    config.learning_rate = 1e-3;
    config.dropout = dropout;
    if (gemm == "eigen") config.gemm = GemmKind::kEigen;
    if (gemm == "openblas") config.gemm = GemmKind::kBlas;
    config.time_gemms = gemm == "fastest";
    auto trainer = Trainer::Create(config, train).value();
    // Which GEMM each product got, beside both timed (the rule's choice
    // against the timings it stands in for).
    ThreadTeam timing_team(threads);
    for (const auto& choice : trainer->network().gemm_choices()) {
      const GemmTiming timing = FastestGemm(choice.shape, &timing_team);
      std::printf(
          "# layer %d %s %dx%dx%d: eigen %.1f, blas %.1f GFLOP/s -> %s (faster: %s)\n",
          choice.layer, choice.product, choice.shape.m, choice.shape.n, choice.shape.k,
          timing.eigen_gflops, timing.blas_gflops, GemmKindName(choice.timing.kind),
          GemmKindName(timing.kind));
    }
    trainer->Train(train, Dataset(), 1, nullptr);  // Warm-up: page in, size caches.
    const auto start = Clock::now();
    const double cpu_start = CpuSeconds();
    int64_t samples = 0;
    double best = 0;
    while (Seconds(start) < seconds) {
      const auto round = Clock::now();
      trainer->Train(train, Dataset(), 1, nullptr);
      samples += train.size();
      best = std::max(best, double(train.size()) / Seconds(round));
    }
    const double flops_per_sample =
        2.0 * 2 * (784 * 256 + 256 * 256 + 256 * 10) + 2.0 * (256 * 256 + 256 * 10);
    std::printf(
        "train threads=%d net=784-256-256-10 bn=1 act=relu opt=adam dropout=%g batch=%d "
        "gemm=%s data=%s samples_per_s=%.0f mean_samples_per_s=%.0f samples_per_cpu_s=%.0f "
        "gflops=%.1f\n",
        threads, dropout, batch, gemm.c_str(), real ? "fashion-mnist" : "random", best, samples / Seconds(start),
        samples / (CpuSeconds() - cpu_start), best * flops_per_sample / 1e9);
  }
  return 0;
}
