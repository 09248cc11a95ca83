// Optimizers over a flat parameter vector: gradient descent, momentum,
// RMSprop and Adam, in the course notes' forms:
//   momentum: v = b1 v + (1 - b1) g;           p -= lr v
//   rmsprop:  s = b2 s + (1 - b2) g^2;         p -= lr g / (sqrt(s) + eps)
//   adam:     m, s as above; p -= lr m^ / (sqrt(s^) + eps) with the bias
//             corrections m^ = m / (1 - b1^t), s^ = s / (1 - b2^t).
// L2 (coefficient l2) adds l2 * W to the gradient of every weight matrix
// (never to biases or batch-norm gammas/betas) before the update.
//
// Each update is one fused pass over parameters, gradients and state, in
// chunks that stay in L1. No allocation after construction.
//
// Thread-safety: not thread-safe.
#ifndef CAVIAR_WORKER_TRAINER_OPTIMIZER_H_
#define CAVIAR_WORKER_TRAINER_OPTIMIZER_H_

#include <cstdint>
#include <vector>

#include "worker/trainer/network.h"
#include "worker/trainer/thread_team.h"

namespace caviar::trainer {

enum class OptimizerKind { kGradientDescent, kMomentum, kRmsprop, kAdam };

struct OptimizerSettings {
  OptimizerKind kind = OptimizerKind::kAdam;
  double beta1 = 0.9;
  double beta2 = 0.999;
  double epsilon = 1e-8;
  double l2 = 0;
};

template <typename T>
class Optimizer {
 public:
  Optimizer(const OptimizerSettings& settings, std::vector<TensorSlot> slots);

  // One update with learning rate lr. `grads` gets the L2 term added.
  void Step(Vector<T>& params, Vector<T>& grads, double lr);

  const OptimizerSettings& settings() const { return settings_; }
  // Betas, epsilon and l2 may change between steps (a nudge); the kind may
  // not (the state's layout depends on it), so it is kept.
  void set_settings(const OptimizerSettings& settings) {
    const OptimizerKind kind = settings_.kind;
    settings_ = settings;
    settings_.kind = kind;
  }
  int64_t steps() const { return steps_; }
  // First and second moment estimates (empty when the optimizer has none).
  Vector<T>& first_moment() { return first_; }
  Vector<T>& second_moment() { return second_; }
  void set_steps(int64_t steps) { steps_ = steps; }
  // Threads that share each update (not owned; nullptr = the caller alone).
  void set_team(ThreadTeam* team) { team_ = team; }

 private:
  OptimizerSettings settings_;
  std::vector<TensorSlot> slots_;
  Vector<T> first_;
  Vector<T> second_;
  int64_t steps_ = 0;
  ThreadTeam* team_ = nullptr;
};

extern template class Optimizer<float>;
extern template class Optimizer<double>;

}  // namespace caviar::trainer

#endif  // CAVIAR_WORKER_TRAINER_OPTIMIZER_H_
