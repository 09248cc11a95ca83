#include "worker/trainer/gemm.h"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <map>
#include <mutex>
#include <string>
#include <tuple>

#include "Eigen/Core"
#include "worker/trainer/ops.h"
#include "worker/trainer/thread_team.h"

#ifdef CAVIAR_TRAINER_OPENBLAS
#include <cblas.h>  // Declarations only: the library is dlopen()ed.
#include <dlfcn.h>
#include <strings.h>
#endif

namespace caviar::trainer {
namespace {

using Clock = std::chrono::steady_clock;

// Within this margin Eigen is kept: a BLAS must be clearly faster to be
// worth a product computed differently from the reference path.
constexpr double kBlasMargin = 1.03;

double Seconds(Clock::time_point since) {
  return std::chrono::duration<double>(Clock::now() - since).count();
}

// Best GFLOP/s over the rounds, each repeating the product for at least
// `round_seconds`.
struct Timer {
  double best = 0;
  template <typename Run>
  void Round(const GemmShape& shape, const Run& product, double round_seconds) {
    const auto start = Clock::now();
    int reps = 0;
    do {
      product();
      ++reps;
    } while (Seconds(start) < round_seconds);
    best = std::max(best, 2.0 * shape.m * shape.n * shape.k * reps / Seconds(start) / 1e9);
  }
};

GemmTiming Measure(const GemmShape& shape, ThreadTeam* team) {
  GemmTiming timing;
  const Eigen::MatrixXf lhs = shape.lhs_transposed ? Eigen::MatrixXf::Random(shape.k, shape.m)
                                                   : Eigen::MatrixXf::Random(shape.m, shape.k);
  const Eigen::MatrixXf rhs = shape.rhs_transposed ? Eigen::MatrixXf::Random(shape.n, shape.k)
                                                   : Eigen::MatrixXf::Random(shape.k, shape.n);
  Eigen::MatrixXf out(shape.m, shape.n);
  auto product = [&](GemmKind kind) {
    return [&, kind] {
      Product<float>(kind, out, lhs, shape.lhs_transposed, rhs, shape.rhs_transposed, team);
    };
  };
  Timer eigen, blas;
  // Alternating rounds, so that a burst of other load hits both alike; the
  // first round of each warms caches and packing buffers.
  for (int round = 0; round < 8; ++round) {
    eigen.Round(shape, product(GemmKind::kEigen), 3e-4);
    if (HaveBlas()) blas.Round(shape, product(GemmKind::kBlas), 3e-4);
  }
  timing.eigen_gflops = eigen.best;
  timing.blas_gflops = blas.best;
  timing.kind = HaveBlas() && blas.best > kBlasMargin * eigen.best ? GemmKind::kBlas
                                                                    : GemmKind::kEigen;
  return timing;
}

}  // namespace

const char* GemmKindName(GemmKind kind) {
  return kind == GemmKind::kBlas ? "openblas" : "eigen";
}

#ifdef CAVIAR_TRAINER_OPENBLAS

namespace {

// OpenBLAS, opened at first use rather than linked, so that a worker built
// with it still runs (Eigen only) on a host without libopenblas0. It picks its
// kernels by CPU model as it loads, or as OPENBLAS_CORETYPE says (with it
// unset, 0.3.21 runs "Cooperlake", AVX-512, kernels on the project's Zen 5
// machine). Which products it then computes is ChooseGemm's rule.
struct OpenBlas {
  decltype(&cblas_sgemm) sgemm = nullptr;
  decltype(&openblas_set_num_threads) set_num_threads = nullptr;
  decltype(&openblas_get_corename) corename = nullptr;
  decltype(&openblas_get_config) config = nullptr;
};

const OpenBlas* LoadOpenBlas() {
  static const OpenBlas* const blas = []() -> const OpenBlas* {
    auto* loaded = new OpenBlas;
    void* library = dlopen("libopenblas.so.0", RTLD_NOW | RTLD_LOCAL);
    if (library == nullptr) return nullptr;
    loaded->sgemm = reinterpret_cast<decltype(&cblas_sgemm)>(dlsym(library, "cblas_sgemm"));
    loaded->set_num_threads = reinterpret_cast<decltype(&openblas_set_num_threads)>(
        dlsym(library, "openblas_set_num_threads"));
    loaded->corename = reinterpret_cast<decltype(&openblas_get_corename)>(
        dlsym(library, "openblas_get_corename"));
    loaded->config =
        reinterpret_cast<decltype(&openblas_get_config)>(dlsym(library, "openblas_get_config"));
    if (!loaded->sgemm || !loaded->set_num_threads || !loaded->corename || !loaded->config) {
      return nullptr;
    }
    // The pthread build would otherwise start a thread per core for every
    // call, on top of the trainer's own split.
    loaded->set_num_threads(1);
    return loaded;
  }();
  return blas;
}

}  // namespace

bool HaveBlas() { return LoadOpenBlas() != nullptr; }

std::string BlasDescription() {
  const OpenBlas* blas = LoadOpenBlas();
  if (blas == nullptr) return "none (libopenblas.so.0 did not load)";
  return std::string(blas->config()) + " (core " + blas->corename() + ")";
}

bool BlasHasAvx512Kernels() {
  static const bool avx512 = [] {
    const OpenBlas* blas = LoadOpenBlas();
    if (blas == nullptr) return false;
    const std::string core = blas->corename();
    for (const char* name : {"skylakex", "cooperlake", "sapphirerapids"}) {
      if (strcasecmp(core.c_str(), name) == 0) return true;
    }
    return false;
  }();
  return avx512;
}

void BlasSgemm(bool lhs_transposed, bool rhs_transposed, int m, int n, int k, const float* lhs,
               int ld_lhs, const float* rhs, int ld_rhs, float* out, int ld_out) {
  LoadOpenBlas()->sgemm(CblasColMajor, lhs_transposed ? CblasTrans : CblasNoTrans,
                        rhs_transposed ? CblasTrans : CblasNoTrans, m, n, k, 1.0f, lhs, ld_lhs,
                        rhs, ld_rhs, 0.0f, out, ld_out);
}

#else

bool HaveBlas() { return false; }

std::string BlasDescription() { return "none"; }

bool BlasHasAvx512Kernels() { return false; }

void BlasSgemm(bool, bool, int, int, int, const float*, int, const float*, int, float*, int) {
  std::abort();  // Precondition: HaveBlas().
}

#endif

GemmKind ChooseGemm(const GemmShape& shape) {
  if (!HaveBlas()) return GemmKind::kEigen;
  if (BlasHasAvx512Kernels()) return GemmKind::kBlas;
  const bool thin_weight_grad =
      shape.rhs_transposed && !shape.lhs_transposed && shape.m <= kBlasMaxRows;
  return thin_weight_grad ? GemmKind::kBlas : GemmKind::kEigen;
}

GemmTiming FastestGemm(const GemmShape& shape, ThreadTeam* team) {
  using Key = std::tuple<int, int, int, bool, bool, int>;
  static std::mutex mu;
  static auto& known = *new std::map<Key, GemmTiming>();
  const Key key{shape.m,
                shape.n,
                shape.k,
                shape.lhs_transposed,
                shape.rhs_transposed,
                team == nullptr ? 1 : team->threads()};
  std::lock_guard<std::mutex> lock(mu);
  auto it = known.find(key);
  if (it == known.end()) it = known.emplace(key, Measure(shape, team)).first;
  return it->second;
}

}  // namespace caviar::trainer
