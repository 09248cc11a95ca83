#include "worker/trainer/network.h"

#include <cmath>
#include <optional>
#include <type_traits>

#include "worker/trainer/random.h"

namespace caviar::trainer {
namespace {

template <typename T>
Eigen::Map<Vector<T>> AsVector(Vector<T>& flat, const TensorSlot& slot) {
  return Eigen::Map<Vector<T>>(flat.data() + slot.offset, slot.size());
}

}  // namespace

template <typename T>
Network<T>::Network(const NetworkShape& shape) : shape_(shape) {
  std::vector<int> units;
  units.push_back(shape.inputs);
  units.insert(units.end(), shape.hidden.begin(), shape.hidden.end());
  units.push_back(shape.classes);
  const int num_layers = static_cast<int>(units.size()) - 1;
  layers_.resize(num_layers);

  Eigen::Index offset = 0;
  Eigen::Index running_offset = 0;
  auto add = [&](Eigen::Index rows, Eigen::Index cols, bool is_weight) {
    TensorSlot slot{offset, rows, cols, is_weight};
    offset += rows * cols;
    slots_.push_back(slot);
    return slot;
  };
  for (int l = 0; l < num_layers; ++l) {
    Layer& layer = layers_[l];
    const bool output = l == num_layers - 1;
    const bool batch_norm = shape.batch_norm && !output;
    layer.w = add(units[l + 1], units[l], /*is_weight=*/true);
    if (batch_norm) {
      layer.gamma = add(units[l + 1], 1, false);
      layer.beta = add(units[l + 1], 1, false);
      layer.running_offset = running_offset;
      running_offset += 2 * units[l + 1];
      layer.inv_std.resize(units[l + 1]);
      layer.mean.resize(units[l + 1]);
    } else {
      layer.b = add(units[l + 1], 1, false);
    }
  }
  params_ = Vector<T>::Zero(offset);
  grads_ = Vector<T>::Zero(offset);
  running_ = Vector<T>::Zero(running_offset);
}

template <typename T>
Eigen::Map<Vector<T>> Network<T>::running_mean(int layer) {
  return Eigen::Map<Vector<T>>(running_.data() + layers_[layer].running_offset,
                               layers_[layer].w.rows);
}

template <typename T>
Eigen::Map<Vector<T>> Network<T>::running_var(int layer) {
  return Eigen::Map<Vector<T>>(
      running_.data() + layers_[layer].running_offset + layers_[layer].w.rows,
      layers_[layer].w.rows);
}

template <typename T>
void Network<T>::Initialize(InitKind init, uint64_t seed) {
  Random random(seed);
  const double gain = init == InitKind::kHe ? 2.0 : 1.0;
  params_.setZero();
  for (int l = 0; l < num_layers(); ++l) {
    Layer& layer = layers_[l];
    const double stddev = std::sqrt(gain / double(layer.w.cols));
    auto w = AsVector(params_, layer.w);
    for (Eigen::Index i = 0; i < w.size(); ++i) w[i] = T(stddev * random.Normal());
    if (has_batch_norm(l)) {
      AsVector(params_, layer.gamma).setOnes();
      running_mean(l).setZero();
      running_var(l).setOnes();
    }
  }
}

template <typename T>
void Network<T>::Reserve(Eigen::Index examples) {
  if (examples <= capacity_) return;
  capacity_ = examples;
  for (int l = 0; l < num_layers(); ++l) {
    Layer& layer = layers_[l];
    layer.z.resize(layer.w.rows, examples);
    layer.a.resize(layer.w.rows, examples);
    layer.d.resize(layer.w.rows, examples);
    if (has_dropout() && l + 1 < num_layers()) {
      // Growing keeps no mask: all units are kept until the next draw.
      layer.mask.setOnes(layer.w.rows, examples);
      layer.dropped.resize(layer.w.rows, examples);
    }
  }
}

template <typename T>
void Network<T>::ChooseGemms(Eigen::Index examples, bool timed) {
  gemm_choices_.clear();
  if constexpr (!std::is_same_v<T, float>) return;
  const int n = int(examples);
  for (int l = 0; l < num_layers(); ++l) {
    Layer& layer = layers_[l];
    const int out = int(layer.w.rows);
    const int in = int(layer.w.cols);
    auto choose = [&](const char* product, GemmShape shape) {
      const GemmTiming timing =
          timed ? FastestGemm(shape, team_) : GemmTiming{ChooseGemm(shape), 0, 0};
      gemm_choices_.push_back(GemmChoice{l, product, shape, timing});
      return timing.kind;
    };
    layer.gemms.forward = choose("forward", GemmShape{out, n, in, false, false});
    layer.gemms.weight_grad = choose("weight_grad", GemmShape{out, in, n, false, true});
    // The first layer's input gradient is never computed in training.
    if (l > 0) layer.gemms.input_grad = choose("input_grad", GemmShape{in, n, out, true, false});
  }
}

template <typename T>
void Network<T>::SetGemms(GemmKind kind) {
  gemm_choices_.clear();
  for (Layer& layer : layers_) layer.gemms = DenseGemms{kind, kind, kind};
}

template <typename T>
void Network<T>::set_dropout(double dropout) {
  const bool had = has_dropout();
  shape_.dropout = dropout;
  if (had || !has_dropout()) return;
  for (int l = 0; l + 1 < num_layers(); ++l) {
    layers_[l].mask.setOnes(layers_[l].w.rows, capacity_);
    layers_[l].dropped.resize(layers_[l].w.rows, capacity_);
  }
}

template <typename T>
void Network<T>::DrawDropoutMasks(Eigen::Index examples, Random& random) {
  if (!has_dropout()) return;
  Reserve(examples);
  for (int l = 0; l + 1 < num_layers(); ++l) {
    DrawDropoutMask<T>(shape_.dropout, random, layers_[l].mask.leftCols(examples));
  }
}

template <typename T>
Eigen::Ref<const Matrix<T>> Network<T>::LayerInput(int layer, const ConstMatrixRef<T>& x,
                                                   Eigen::Index n, bool training) const {
  if (layer == 0) return x;
  const Layer& below = layers_[layer - 1];
  return training && has_dropout() ? below.dropped.leftCols(n) : below.a.leftCols(n);
}

template <typename T>
void Network<T>::ForwardHidden(const ConstMatrixRef<T>& x, bool training,
                               bool update_running_stats) {
  const Eigen::Index n = x.cols();
  Reserve(n);
  const Activation activation = shape_.activation;
  const T eps = T(shape_.bn_epsilon);
  // A momentum of 1 keeps the running averages as they are.
  const T momentum = update_running_stats ? T(shape_.bn_momentum) : T(1);
  for (int l = 0; l + 1 < num_layers(); ++l) {
    Layer& layer = layers_[l];
    auto z = layer.z.leftCols(n);
    auto a = layer.a.leftCols(n);
    const bool batch_norm = has_batch_norm(l);
    DenseForward<T>(weight(l), batch_norm ? nullptr : bias(l).data(),
                    LayerInput(l, x, n, training), z, team_, layer.gemms);
    const bool dropout = training && has_dropout();
    if (!batch_norm) {
      ActivationForward<T>(activation, z, a);
      if (dropout) DropoutForward<T>(layer.mask.leftCols(n), a, layer.dropped.leftCols(n));
    } else if (training) {
      // Dropout rides along in the same pass over each column.
      std::optional<Dropout<T>> folded;
      if (dropout) folded.emplace(layer.mask.leftCols(n), layer.dropped.leftCols(n));
      BatchNormActivationForwardTrain<T>(activation, z, AsVector(params_, layer.gamma),
                                         AsVector(params_, layer.beta), eps, momentum,
                                         running_mean(l), running_var(l), layer.inv_std,
                                         layer.mean, a, folded ? &*folded : nullptr);
    } else {
      BatchNormActivationForwardInference<T>(activation, z, AsVector(params_, layer.gamma),
                                             AsVector(params_, layer.beta), eps,
                                             running_mean(l), running_var(l), a);
    }
  }
  const int out = num_layers() - 1;
  DenseForward<T>(weight(out), bias(out).data(), LayerInput(out, x, n, training),
                  layers_[out].z.leftCols(n), team_, layers_[out].gemms);
}

template <typename T>
T Network<T>::ForwardTrain(const ConstMatrixRef<T>& x, const int32_t* labels,
                           bool update_running_stats, int64_t* correct) {
  ForwardHidden(x, /*training=*/true, update_running_stats);
  Layer& out = layers_.back();
  const Eigen::Index n = x.cols();
  return SoftmaxCrossEntropyForward<T>(out.z.leftCols(n), labels, out.a.leftCols(n),
                                       correct);
}

template <typename T>
void Network<T>::Backward(const ConstMatrixRef<T>& x, const int32_t* labels,
                          MatrixRef<T>* dx) {
  const Eigen::Index n = x.cols();
  const int out = num_layers() - 1;
  SoftmaxCrossEntropyBackward<T>(layers_[out].a.leftCols(n), labels,
                                 layers_[out].d.leftCols(n));
  for (int l = out; l >= 0; --l) {
    Layer& layer = layers_[l];
    const bool batch_norm = has_batch_norm(l);
    T* dbias = batch_norm ? nullptr : bias_grad(l).data();
    if (l == 0) {
      DenseBackward<T>(weight(l), x, layer.d.leftCols(n), weight_grad(l), dbias, dx, team_,
                       layer.gemms);
      break;
    }
    Layer& below = layers_[l - 1];
    MatrixRef<T> d_below(below.d.leftCols(n));
    DenseBackward<T>(weight(l), LayerInput(l, x, n, /*training=*/true), layer.d.leftCols(n),
                     weight_grad(l), dbias, &d_below, team_, layer.gemms);
    // Turn the gradient wrt the layer below's output (after dropout) into its
    // gradient wrt z.
    if (has_batch_norm(l - 1)) {
      const ConstMatrixRef<T> mask(below.mask.leftCols(has_dropout() ? n : 0));
      BatchNormActivationBackward<T>(shape_.activation, below.z.leftCols(n),
                                     below.a.leftCols(n), AsVector(params_, below.gamma),
                                     below.inv_std, d_below, AsVector(grads_, below.gamma),
                                     AsVector(grads_, below.beta),
                                     has_dropout() ? &mask : nullptr);
    } else {
      if (has_dropout()) DropoutBackward<T>(below.mask.leftCols(n), d_below);
      ActivationBackward<T>(shape_.activation, below.a.leftCols(n), d_below, d_below);
    }
  }
}

template <typename T>
void Network<T>::Predict(const ConstMatrixRef<T>& x, MatrixRef<T> probs) {
  ForwardHidden(x, /*training=*/false, false);
  const Eigen::Index n = x.cols();
  const auto logits = layers_.back().z.leftCols(n);
  for (Eigen::Index j = 0; j < n; ++j) {
    probs.col(j) = (logits.col(j).array() - logits.col(j).maxCoeff()).exp();
    probs.col(j) /= probs.col(j).sum();
  }
}

template <typename T>
T Network<T>::EvaluateBatch(const ConstMatrixRef<T>& x, const int32_t* labels,
                            int64_t* correct) {
  ForwardHidden(x, /*training=*/false, false);
  Layer& out = layers_.back();
  const Eigen::Index n = x.cols();
  return SoftmaxCrossEntropyForward<T>(out.z.leftCols(n), labels, out.a.leftCols(n),
                                       correct);
}

template class Network<float>;
template class Network<double>;

}  // namespace caviar::trainer
