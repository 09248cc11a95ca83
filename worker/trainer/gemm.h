// The trainer's GEMMs: Eigen's own float GEMM, or a BLAS's cblas_sgemm
// (Debian's OpenBLAS, when the build found libopenblas-dev), chosen for each
// product shape of a network by a fixed rule (ChooseGemm).
//
// Why per shape and kernel: neither wins everywhere. OpenBLAS 0.3.21 picks
// its kernels by CPU model when it loads, or as OPENBLAS_CORETYPE says (some
// machines set it to "Haswell", AVX2, for older builds' sake). With AVX-512
// kernels it beats Eigen (-march=native) on nearly every product; with AVX2
// ones only on thin products (10 x 256 x 128), Eigen on the square-ish ones.
//
// Why a rule and not the timings: the two compute a product in different
// orders, so their floats differ in the last bits. A choice by timing can
// flip between two processes on a loaded machine, and then a seed no longer
// reproduces its run, nor a resumed trial its uninterrupted twin (the resume
// bar of README "Checkpoints and resume"; a trial resumed on a host whose
// BLAS runs other kernels is not bit-identical either). FastestGemm still
// times both, for benchmarks and for a trainer asked to
// (TrainerConfig::time_gemms).
//
// Only float products use a BLAS; double (gradient checks) is always Eigen.
// Every BLAS call runs on the calling thread (OpenBLAS's own threads are set
// to 1 on first use): the trainer splits products over its ThreadTeam itself.
//
// Thread-safety: all functions may be called from any thread.
#ifndef CAVIAR_WORKER_TRAINER_GEMM_H_
#define CAVIAR_WORKER_TRAINER_GEMM_H_

#include <string>

namespace caviar::trainer {

class ThreadTeam;

enum class GemmKind { kEigen, kBlas };

// "eigen", or the BLAS's name ("openblas").
const char* GemmKindName(GemmKind kind);

// Whether this build has a BLAS (kBlas is usable).
bool HaveBlas();
// Whether the BLAS runs AVX-512 kernels (OpenBLAS's SkylakeX, Cooperlake or
// SapphireRapids core); false without a BLAS.
bool BlasHasAvx512Kernels();
// The BLAS and the kernels it runs, e.g. "OpenBLAS 0.3.21 ... (core Haswell)";
// "none" without one.
std::string BlasDescription();

// out (m x n, leading dimension ld_out) = op(lhs) * op(rhs), column-major,
// op transposing when *_transposed; k is the inner dimension. Runs the BLAS
// on the calling thread. Precondition: HaveBlas().
void BlasSgemm(bool lhs_transposed, bool rhs_transposed, int m, int n, int k, const float* lhs,
               int ld_lhs, const float* rhs, int ld_rhs, float* out, int ld_out);

// One product of a network: out (m x n) = op(lhs) * op(rhs), inner size k.
struct GemmShape {
  int m = 0;
  int n = 0;
  int k = 0;
  bool lhs_transposed = false;
  bool rhs_transposed = false;
};

// The trainer's GEMM for `shape`, a function of the shape and of the BLAS
// (whether it loads, which kernels it runs), never of timings:
// - a BLAS with AVX-512 kernels (BlasHasAvx512Kernels): the BLAS for every
//   product. Measured with trainer_bench on a 2-vCPU EPYC (Zen 5),
//   OpenBLAS's SkylakeX kernels against Eigen (-march=native), 784-256-256-10
//   at batch 128: 165-200 against 127-150 GFLOP/s on the large products at
//   1 thread, and ahead on all 8 products at 1 and 2 threads; at batch 32 a
//   tie or Eigen up to 10% ahead on 2 of the 8;
// - a BLAS with AVX2 kernels (OpenBLAS's Haswell, what 0.3.21 falls back to
//   on CPUs it does not know, or what OPENBLAS_CORETYPE asks for): the BLAS
//   only for a thin weight gradient (dW = dZ A^T with at most kBlasMaxRows
//   output rows: a classifier's output layer), 57-76 against 36-59 GFLOP/s
//   on 10x256xbatch; Eigen 3-45% ahead on every other product, the 10-row
//   forward within 3-12%;
// - no BLAS: Eigen for all.
constexpr int kBlasMaxRows = 16;
GemmKind ChooseGemm(const GemmShape& shape);

struct GemmTiming {
  GemmKind kind = GemmKind::kEigen;  // The faster one (Eigen without a BLAS).
  double eigen_gflops = 0;
  double blas_gflops = 0;  // 0 without a BLAS.
};

// Times `shape` with each GEMM, split over `team` (nullptr: one thread) the
// way the trainer splits it, and returns the faster. The first call for a
// (shape, threads) measures (best of several rounds, a few ms); later calls
// return the remembered answer, so every network of a process makes the same
// choice for the same shape.
GemmTiming FastestGemm(const GemmShape& shape, ThreadTeam* team);

}  // namespace caviar::trainer

#endif  // CAVIAR_WORKER_TRAINER_GEMM_H_
