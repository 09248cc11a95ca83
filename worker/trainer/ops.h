// The trainer's operations, each with its forward and backward pass side by
// side and an explicit cache of what the backward pass needs.
//
// Layout: a mini-batch is features x examples, column-major (one column per
// example), so a dense layer is Z = W * A. Every op is a template over the
// scalar type: float for training, double for gradient checks.
//
// Outputs are written into caller-owned buffers (Eigen::Ref), so nothing here
// allocates: the network keeps one buffer per cache for the largest batch.
// Each op's comment names its cache: what the forward pass leaves for the
// backward pass. Network<T>::Layer (network.h) is the struct holding them:
//   dense:               A_prev (the layer below's `a`, or the input)
//   batch norm + act.:   z_norm (in place of z), inv_std, a
//   activation alone:    a
//   dropout:             mask (and its output, the next layer's input)
//   softmax + CE:        probabilities (the output layer's `a`)
//
// Thread-safety: pure functions of their arguments.
#ifndef CAVIAR_WORKER_TRAINER_OPS_H_
#define CAVIAR_WORKER_TRAINER_OPS_H_

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <type_traits>

#include "Eigen/Core"
#include "common/splitmix64.h"
#include "worker/trainer/gemm.h"
#include "worker/trainer/random.h"
#include "worker/trainer/thread_team.h"

namespace caviar::trainer {

template <typename T>
using Matrix = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic>;
template <typename T>
using Vector = Eigen::Matrix<T, Eigen::Dynamic, 1>;
template <typename T>
using MatrixRef = Eigen::Ref<Matrix<T>>;
template <typename T>
using ConstMatrixRef = Eigen::Ref<const Matrix<T>>;
template <typename T>
using VectorRef = Eigen::Ref<Vector<T>>;
template <typename T>
using ConstVectorRef = Eigen::Ref<const Vector<T>>;

enum class Activation { kRelu, kTanh, kSigmoid };

// ---------------------------------------------------------------------------
// Matrix products: out = op(lhs) * op(rhs), op transposing the stored
// (column-major) matrix when *_transposed, computed by `kind` (gemm.h; double
// is always Eigen). With a team of several threads the output is cut into
// blocks (of columns, or of rows when it is taller than wide), each computed
// by a single-threaded GEMM as one task of the team. Two blocks per thread, so
// that the caller can take over the share of a helper the OS has not
// scheduled. Eigen's own (OpenMP) parallel GEMM is not used: it allocates its
// shared packing buffer at every call; here each task packs on its thread's
// stack (EIGEN_STACK_ALLOCATION_LIMIT in CMakeLists.txt), so a step allocates
// nothing.

// Which GEMM computes each of a dense layer's products.
struct DenseGemms {
  GemmKind forward = GemmKind::kEigen;      // Z = W A_prev
  GemmKind weight_grad = GemmKind::kEigen;  // dW = dZ A_prev^T
  GemmKind input_grad = GemmKind::kEigen;   // dA_prev = W^T dZ
};

template <typename T>
int LeadingDimension(const ConstMatrixRef<T>& m) {
  return int(std::max<Eigen::Index>({m.outerStride(), m.rows(), 1}));
}

// One block on the calling thread.
template <typename T>
void ProductOnThisThread(GemmKind kind, MatrixRef<T> out, const ConstMatrixRef<T>& lhs,
                         bool lhs_transposed, const ConstMatrixRef<T>& rhs,
                         bool rhs_transposed) {
  if constexpr (std::is_same_v<T, float>) {
    if (kind == GemmKind::kBlas) {
      BlasSgemm(lhs_transposed, rhs_transposed, int(out.rows()), int(out.cols()),
                int(lhs_transposed ? lhs.rows() : lhs.cols()), lhs.data(),
                LeadingDimension<T>(lhs), rhs.data(), LeadingDimension<T>(rhs), out.data(),
                LeadingDimension<T>(out));
      return;
    }
  }
  if (lhs_transposed && rhs_transposed) {
    out.noalias() = lhs.transpose() * rhs.transpose();
  } else if (lhs_transposed) {
    out.noalias() = lhs.transpose() * rhs;
  } else if (rhs_transposed) {
    out.noalias() = lhs * rhs.transpose();
  } else {
    out.noalias() = lhs * rhs;
  }
}

template <typename T>
void Product(GemmKind kind, MatrixRef<T> out, const ConstMatrixRef<T>& lhs, bool lhs_transposed,
             const ConstMatrixRef<T>& rhs, bool rhs_transposed, ThreadTeam* team) {
  const int threads = team == nullptr ? 1 : team->threads();
  const bool by_columns = out.cols() >= out.rows();
  const Eigen::Index extent = by_columns ? out.cols() : out.rows();
  // Blocks of at least 32 rows or columns, cut at multiples of 16 (a 512-bit
  // vector of floats).
  // One thread (or no team) computes the whole product in one call.
  const int blocks = threads == 1 ? 1 : int(std::min<Eigen::Index>(2 * threads, extent / 32));
  if (blocks <= 1) {
    ProductOnThisThread<T>(kind, out, lhs, lhs_transposed, rhs, rhs_transposed);
    return;
  }
  auto cut = [&](int b) -> Eigen::Index {
    if (b == blocks) return extent;
    return (extent * b / blocks + 8) / 16 * 16;
  };
  team->Run(blocks, [&](int b) {
    const Eigen::Index begin = cut(b);
    const Eigen::Index size = cut(b + 1) - begin;
    if (size <= 0) return;
    if (by_columns) {
      ProductOnThisThread<T>(
          kind, out.middleCols(begin, size), lhs, lhs_transposed,
          rhs_transposed ? ConstMatrixRef<T>(rhs.middleRows(begin, size))
                         : ConstMatrixRef<T>(rhs.middleCols(begin, size)),
          rhs_transposed);
    } else {
      ProductOnThisThread<T>(
          kind, out.middleRows(begin, size),
          lhs_transposed ? ConstMatrixRef<T>(lhs.middleCols(begin, size))
                         : ConstMatrixRef<T>(lhs.middleRows(begin, size)),
          lhs_transposed, rhs, rhs_transposed);
    }
  });
}

// ---------------------------------------------------------------------------
// Dense: Z = W * A_prev (+ b). No bias when batch norm follows: its beta
// plays that role. Cache: A_prev.

template <typename T>
void DenseForward(const ConstMatrixRef<T>& w, const T* bias, const ConstMatrixRef<T>& a_prev,
                  MatrixRef<T> z, ThreadTeam* team = nullptr, const DenseGemms& gemms = {}) {
  Product<T>(gemms.forward, z, w, false, a_prev, false, team);
  if (bias != nullptr) {
    z.colwise() += Eigen::Map<const Vector<T>>(bias, z.rows());
  }
}

// dW = dZ * A_prev^T; db = sum over examples of dZ (if bias != nullptr);
// dA_prev = W^T * dZ (if d_a_prev != nullptr: the first layer skips it).
template <typename T>
void DenseBackward(const ConstMatrixRef<T>& w, const ConstMatrixRef<T>& a_prev,
                   const ConstMatrixRef<T>& dz, MatrixRef<T> dw, T* dbias,
                   MatrixRef<T>* d_a_prev, ThreadTeam* team = nullptr,
                   const DenseGemms& gemms = {}) {
  Product<T>(gemms.weight_grad, dw, dz, false, a_prev, true, team);
  if (dbias != nullptr) {
    Eigen::Map<Vector<T>>(dbias, dz.rows()) = dz.rowwise().sum();
  }
  if (d_a_prev != nullptr) Product<T>(gemms.input_grad, *d_a_prev, w, true, dz, false, team);
}

// ---------------------------------------------------------------------------
// Activations. Each derivative is written in terms of the output a = g(z), so
// the backward pass needs only the activation's output in its cache.

template <typename T, typename In, typename Out>
void ActivationForward(Activation kind, const In& z, Out&& a) {
  switch (kind) {
    case Activation::kRelu:
      a = z.array().max(T(0));
      break;
    case Activation::kTanh:
      a = z.array().tanh();
      break;
    case Activation::kSigmoid:
      // 1 / (1 + e^-z) overflows gracefully (e^-z = inf gives 0), so it is
      // stable for every z.
      a = (T(1) + (-z.array()).exp()).inverse();
      break;
  }
}

// dZ = dA * g'(z), with g' computed from a = g(z).
template <typename T, typename A, typename DA, typename DZ>
void ActivationBackward(Activation kind, const A& a, const DA& da, DZ&& dz) {
  switch (kind) {
    case Activation::kRelu:
      dz = (a.array() > T(0)).select(da.array(), T(0));
      break;
    case Activation::kTanh:
      dz = da.array() * (T(1) - a.array().square());
      break;
    case Activation::kSigmoid:
      dz = da.array() * a.array() * (T(1) - a.array());
      break;
  }
}

// ---------------------------------------------------------------------------
// Batch norm over the mini-batch, per unit (row):
//   mu = mean(z), var = mean((z - mu)^2), z_norm = (z - mu) / sqrt(var + eps),
//   out = gamma * z_norm + beta.
// Training uses the batch's mu and var and updates the running averages
//   running = momentum * running + (1 - momentum) * batch
// (the running variance uses the unbiased batch variance, as PyTorch does);
// inference uses the running averages only.

// Dropout folded into the batch-norm/activation pass (see "Inverted dropout"
// below): its mask and where a * mask goes.
template <typename T>
struct Dropout {
  Dropout(const ConstMatrixRef<T>& mask, const MatrixRef<T>& out) : mask(mask), out(out) {}
  ConstMatrixRef<T> mask;
  MatrixRef<T> out;
};

// Training forward, fused with the activation that follows and, when
// `dropout` is given, with dropout after it:
//   z (in) is overwritten with z_norm; a = g(gamma * z_norm + beta);
//   dropout->out = a * dropout->mask (DropoutForward), column by column while
//   the column is in cache.
// Cache: z_norm, inv_std, a (and the mask).
template <typename T>
void BatchNormActivationForwardTrain(Activation kind, MatrixRef<T> z,
                                     const ConstVectorRef<T>& gamma,
                                     const ConstVectorRef<T>& beta, T eps, T momentum,
                                     VectorRef<T> running_mean, VectorRef<T> running_var,
                                     VectorRef<T> inv_std, VectorRef<T> mean_scratch,
                                     MatrixRef<T> a, Dropout<T>* dropout = nullptr) {
  const Eigen::Index n = z.cols();
  auto& mean = mean_scratch;
  mean = z.rowwise().sum() / T(n);
  // Two passes for the variance: one-pass sum of squares loses precision in
  // float when |mu| >> sigma.
  inv_std.setZero();
  for (Eigen::Index j = 0; j < n; ++j) inv_std.array() += (z.col(j) - mean).array().square();
  const T biased_to_unbiased = n > 1 ? T(n) / T(n - 1) : T(1);
  running_mean = momentum * running_mean + (T(1) - momentum) * mean;
  running_var = momentum * running_var +
                ((T(1) - momentum) * biased_to_unbiased / T(n)) * inv_std;
  inv_std = (inv_std.array() / T(n) + eps).rsqrt();
  for (Eigen::Index j = 0; j < n; ++j) {
    z.col(j) = (z.col(j) - mean).cwiseProduct(inv_std);
    ActivationForward<T>(kind, z.col(j).cwiseProduct(gamma) + beta, a.col(j));
    if (dropout != nullptr) dropout->out.col(j) = a.col(j).cwiseProduct(dropout->mask.col(j));
  }
}

// Inference forward: a = g(gamma * (z - running_mean) / sqrt(running_var + eps)
// + beta), folded into one scale and shift per unit.
template <typename T>
void BatchNormActivationForwardInference(Activation kind, const ConstMatrixRef<T>& z,
                                         const ConstVectorRef<T>& gamma,
                                         const ConstVectorRef<T>& beta, T eps,
                                         const ConstVectorRef<T>& running_mean,
                                         const ConstVectorRef<T>& running_var,
                                         MatrixRef<T> a) {
  const Vector<T> scale = gamma.cwiseProduct((running_var.array() + eps).rsqrt().matrix());
  const Vector<T> shift = beta - scale.cwiseProduct(running_mean);
  for (Eigen::Index j = 0; j < z.cols(); ++j) {
    ActivationForward<T>(kind, z.col(j).cwiseProduct(scale) + shift, a.col(j));
  }
}

// Backward through [dropout,] the activation and batch norm, fused:
//   dA = dOut * mask                        (with dropout: DropoutBackward)
//   d_out = dA * g'(a)                      (per element)
//   dbeta = sum_j d_out, dgamma = sum_j d_out * z_norm
//   dz = gamma * inv_std / n * (n * d_out - dbeta - z_norm * dgamma)
// d (in) holds dA (dOut, the gradient wrt the dropout's output, when
// dropout_mask is given) and is overwritten with dz.
template <typename T>
void BatchNormActivationBackward(Activation kind, const ConstMatrixRef<T>& z_norm,
                                 const ConstMatrixRef<T>& a, const ConstVectorRef<T>& gamma,
                                 const ConstVectorRef<T>& inv_std, MatrixRef<T> d,
                                 VectorRef<T> dgamma, VectorRef<T> dbeta,
                                 const ConstMatrixRef<T>* dropout_mask = nullptr) {
  const Eigen::Index n = d.cols();
  dgamma.setZero();
  dbeta.setZero();
  for (Eigen::Index j = 0; j < n; ++j) {
    if (dropout_mask != nullptr) d.col(j).array() *= dropout_mask->col(j).array();
    ActivationBackward<T>(kind, a.col(j), d.col(j), d.col(j));
    dbeta += d.col(j);
    dgamma += d.col(j).cwiseProduct(z_norm.col(j));
  }
  const T inv_n = T(1) / T(n);
  for (Eigen::Index j = 0; j < n; ++j) {
    d.col(j) = gamma.cwiseProduct(inv_std).cwiseProduct(
        d.col(j) - inv_n * dbeta - z_norm.col(j).cwiseProduct(inv_n * dgamma));
  }
}

// ---------------------------------------------------------------------------
// Inverted dropout (the course notes' form): in training, each unit's output
// is kept with probability keep = 1 - rate and scaled by 1 / keep, so that
// its expected value is unchanged and inference uses the network as it is.
// The mask holds 0 or 1 / keep per unit and example. Cache: the mask.

// Draws a new mask from one draw of `random`, which seeds a SplitMix64
// stream for this mask alone (the trainer's generator is too slow to call for
// every four units). Each 64 bits decide four elements by 16 bits each, so
// `rate` acts rounded to a multiple of 2^-16. Deterministic for the Random's
// state.
template <typename T>
void DrawDropoutMask(double rate, Random& random, MatrixRef<T> mask) {
  const uint64_t keep_below = uint64_t(std::lround((1.0 - rate) * 65536.0));
  const T scale = T(1) / T(1.0 - rate);
  uint64_t state = random.engine()();
  const Eigen::Index rows = mask.rows();
  for (Eigen::Index j = 0; j < mask.cols(); ++j) {
    T* column = mask.col(j).data();
    for (Eigen::Index i = 0; i < rows; i += 4) {
      uint64_t bits = SplitMix64(state);
      const Eigen::Index lanes = std::min<Eigen::Index>(4, rows - i);
      for (Eigen::Index k = 0; k < lanes; ++k, bits >>= 16) {
        column[i + k] = T((bits & 0xffff) < keep_below) * scale;
      }
    }
  }
}

// out = a * mask (element-wise).
template <typename T>
void DropoutForward(const ConstMatrixRef<T>& mask, const ConstMatrixRef<T>& a,
                    MatrixRef<T> out) {
  out = a.cwiseProduct(mask);
}

// d (in) holds the gradient wrt the dropout's output and is overwritten with
// the gradient wrt its input: d * mask.
template <typename T>
void DropoutBackward(const ConstMatrixRef<T>& mask, MatrixRef<T> d) {
  d.array() *= mask.array();
}

// ---------------------------------------------------------------------------
// Softmax cross-entropy over k classes, mean over the batch:
//   p = softmax(z) computed as exp(z - max z) / sum exp(z - max z),
//   loss = -mean_j log p[y_j, j], computed as log-sum-exp minus z[y_j, j] so it
//   never takes the log of an underflowed probability.
// Backward: dZ = (p - onehot(y)) / n. Returns the loss; `correct` gets the
// number of columns whose argmax equals the label.

template <typename T>
T SoftmaxCrossEntropyForward(const ConstMatrixRef<T>& logits, const int32_t* labels,
                             MatrixRef<T> probs, int64_t* correct) {
  const Eigen::Index n = logits.cols();
  double total = 0;
  int64_t hits = 0;
  for (Eigen::Index j = 0; j < n; ++j) {
    Eigen::Index argmax;
    const T max = logits.col(j).maxCoeff(&argmax);
    probs.col(j) = (logits.col(j).array() - max).exp();
    const T sum = probs.col(j).sum();
    probs.col(j) /= sum;
    total += double(std::log(sum) + max - logits(labels[j], j));
    hits += (argmax == labels[j]);
  }
  if (correct != nullptr) *correct = hits;
  return T(total / double(n));
}

// dZ = (p - onehot(y)) / n, written into dz (may alias probs).
template <typename T>
void SoftmaxCrossEntropyBackward(const ConstMatrixRef<T>& probs, const int32_t* labels,
                                 MatrixRef<T> dz) {
  const Eigen::Index n = probs.cols();
  const T inv_n = T(1) / T(n);
  dz = probs * inv_n;
  for (Eigen::Index j = 0; j < n; ++j) dz(labels[j], j) -= inv_n;
}

}  // namespace caviar::trainer

#endif  // CAVIAR_WORKER_TRAINER_OPS_H_
