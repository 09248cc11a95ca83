// Network: a multilayer perceptron with optional batch norm, softmax output
// and cross-entropy loss, over one flat parameter vector (so optimizers and
// checkpoints handle a single array).
//
// Layer l (0-based) maps units[l] inputs to units[l+1] outputs: hidden layers
// are dense -> [batch norm] -> activation -> [dropout, in training only]; a
// dense layer followed by batch norm has no bias (beta replaces it). The
// output layer is dense with bias, then softmax. Instantiated for float
// (training) and double (gradient checks).
//
// Buffers for every cache are kept for the largest batch seen
// (Reserve/grown on demand), so a training step allocates nothing.
//
// Thread-safety: not thread-safe; one network per training thread.
#ifndef CAVIAR_WORKER_TRAINER_NETWORK_H_
#define CAVIAR_WORKER_TRAINER_NETWORK_H_

#include <cstdint>
#include <string>
#include <vector>

#include "worker/trainer/ops.h"
#include "worker/trainer/random.h"

namespace caviar::trainer {

struct NetworkShape {
  int inputs = 0;
  std::vector<int> hidden;  // Units per hidden layer.
  int classes = 0;
  Activation activation = Activation::kRelu;
  bool batch_norm = true;
  double bn_momentum = 0.9;  // Weight of the past in the running averages.
  double bn_epsilon = 1e-5;
  // Probability of dropping each hidden unit's output in training (inverted
  // dropout, ops.h); 0 turns dropout off. In [0, 1).
  double dropout = 0;
};

enum class InitKind {
  kHe,      // N(0, 2 / fan_in): for ReLU.
  kXavier,  // N(0, 1 / fan_in): for tanh and sigmoid (the course notes' form).
};

// One parameter tensor inside the flat vector.
struct TensorSlot {
  Eigen::Index offset = 0;
  Eigen::Index rows = 0;
  Eigen::Index cols = 1;
  bool is_weight = false;  // L2 applies to weights only.
  Eigen::Index size() const { return rows * cols; }
};

template <typename T>
class Network {
 public:
  explicit Network(const NetworkShape& shape);

  const NetworkShape& shape() const { return shape_; }
  int num_layers() const { return static_cast<int>(layers_.size()); }
  bool has_batch_norm(int layer) const { return layers_[layer].gamma.size() > 0; }

  // All trainable parameters and their gradients, same layout.
  Vector<T>& params() { return params_; }
  const Vector<T>& params() const { return params_; }
  Vector<T>& grads() { return grads_; }
  const std::vector<TensorSlot>& slots() const { return slots_; }
  // Running means and variances of every batch-norm layer (not trained).
  Vector<T>& running_stats() { return running_; }
  const Vector<T>& running_stats() const { return running_; }

  // Views of one layer's tensors; an absent tensor (e.g. the bias of a
  // batch-normalized layer) has size 0.
  Eigen::Map<Matrix<T>> weight(int layer) { return Tensor(params_, layers_[layer].w); }
  Eigen::Map<Matrix<T>> bias(int layer) { return Tensor(params_, layers_[layer].b); }
  Eigen::Map<Matrix<T>> gamma(int layer) { return Tensor(params_, layers_[layer].gamma); }
  Eigen::Map<Matrix<T>> beta(int layer) { return Tensor(params_, layers_[layer].beta); }
  Eigen::Map<Matrix<T>> weight_grad(int layer) { return Tensor(grads_, layers_[layer].w); }
  Eigen::Map<Matrix<T>> bias_grad(int layer) { return Tensor(grads_, layers_[layer].b); }
  Eigen::Map<Matrix<T>> gamma_grad(int layer) { return Tensor(grads_, layers_[layer].gamma); }
  Eigen::Map<Matrix<T>> beta_grad(int layer) { return Tensor(grads_, layers_[layer].beta); }
  Eigen::Map<Vector<T>> running_mean(int layer);
  Eigen::Map<Vector<T>> running_var(int layer);

  // Weights from N(0, c / fan_in), biases and betas 0, gammas 1, running
  // means 0 and variances 1. Deterministic for a seed on every platform.
  void Initialize(InitKind init, uint64_t seed);

  // Threads that share the matrix products (not owned; nullptr = the
  // calling thread alone, the default).
  void set_team(ThreadTeam* team) { team_ = team; }

  // Which GEMM computes each matrix product (gemm.h); Eigen for all until
  // one of these is called. ChooseGemms picks for every product of a batch
  // of `examples` columns by ChooseGemm's rule, or with `timed` the faster
  // of the two timed over the current team (FastestGemm; not reproducible
  // across processes). Float only: double stays on Eigen. SetGemms forces
  // one for all.
  void ChooseGemms(Eigen::Index examples, bool timed = false);
  void SetGemms(GemmKind kind);
  // One line per product: layer, which product, shape, the GEMM and the
  // timings behind the choice (zero timings unless timed).
  struct GemmChoice {
    int layer = 0;
    const char* product = "";  // "forward", "weight_grad" or "input_grad".
    GemmShape shape;
    GemmTiming timing;
  };
  const std::vector<GemmChoice>& gemm_choices() const { return gemm_choices_; }

  // Makes room for batches of up to `examples` columns.
  void Reserve(Eigen::Index examples);

  bool has_dropout() const { return shape_.dropout > 0; }
  // Settings that may change between steps (a nudge): the dropout rate (the
  // next DrawDropoutMasks uses it; turning dropout on makes room for masks)
  // and the running averages' momentum.
  void set_dropout(double dropout);
  void set_bn_momentum(double momentum) { shape_.bn_momentum = momentum; }
  // Draws the dropout masks that the following ForwardTrain calls apply, for
  // batches of up to `examples` columns. Until the first draw every mask
  // keeps all units. A no-op without dropout.
  void DrawDropoutMasks(Eigen::Index examples, Random& random);
  // The mask of hidden layer `layer` for the first `examples` columns (0 or
  // 1 / (1 - dropout) per entry), to read or to set (tests set PyTorch's).
  auto dropout_mask(int layer, Eigen::Index examples) {
    Reserve(examples);
    return layers_[layer].mask.leftCols(examples);
  }

  // Training mode: batch statistics and the current dropout masks. Returns
  // the mean cross-entropy loss over the batch (no L2 term); `correct`
  // (optional) gets the number of correct predictions. Updates the running
  // averages when update_running_stats.
  T ForwardTrain(const ConstMatrixRef<T>& x, const int32_t* labels, bool update_running_stats,
                 int64_t* correct);
  // Gradients of the last ForwardTrain's loss into grads(); and into *dx with
  // respect to the input when dx != nullptr. Call with the same x and labels.
  void Backward(const ConstMatrixRef<T>& x, const int32_t* labels, MatrixRef<T>* dx);

  // Inference mode (running averages): class probabilities, classes x n.
  void Predict(const ConstMatrixRef<T>& x, MatrixRef<T> probs);
  // Inference-mode mean loss and number of correct predictions of a batch.
  T EvaluateBatch(const ConstMatrixRef<T>& x, const int32_t* labels, int64_t* correct);

 private:
  struct Layer {
    TensorSlot w, b, gamma, beta;
    DenseGemms gemms;
    Eigen::Index running_offset = -1;  // Mean at offset, variance after it.
    // Cache of the forward pass, one column per example (capacity columns):
    Matrix<T> z;  // Pre-activation; holds z_norm after a batch-norm forward.
    Matrix<T> a;  // Activation output (probabilities for the output layer).
    Matrix<T> d;  // Gradient wrt a, turned into the gradient wrt z in place.
    // Dropout (hidden layers, when on): the mask and a * mask, which is then
    // the next layer's input in training.
    Matrix<T> mask;
    Matrix<T> dropped;
    Vector<T> inv_std;  // Batch norm: 1 / sqrt(var + eps) of the last batch.
    Vector<T> mean;     // Batch norm: scratch for the batch mean.
  };

  static Eigen::Map<Matrix<T>> Tensor(Vector<T>& flat, const TensorSlot& slot) {
    return Eigen::Map<Matrix<T>>(flat.data() + slot.offset, slot.rows, slot.cols);
  }
  // What layer `layer` reads: x, or the layer below's output (after dropout
  // in training).
  Eigen::Ref<const Matrix<T>> LayerInput(int layer, const ConstMatrixRef<T>& x, Eigen::Index n,
                                         bool training) const;
  // Runs every layer up to the logits (in the output layer's z).
  void ForwardHidden(const ConstMatrixRef<T>& x, bool training, bool update_running_stats);

  NetworkShape shape_;
  std::vector<Layer> layers_;
  std::vector<TensorSlot> slots_;
  Vector<T> params_;
  Vector<T> grads_;
  Vector<T> running_;
  Eigen::Index capacity_ = 0;
  ThreadTeam* team_ = nullptr;
  std::vector<GemmChoice> gemm_choices_;
};

extern template class Network<float>;
extern template class Network<double>;

}  // namespace caviar::trainer

#endif  // CAVIAR_WORKER_TRAINER_NETWORK_H_
