#include "worker/trainer/optimizer.h"

#include <algorithm>
#include <cmath>

namespace caviar::trainer {
namespace {

// 512 floats per array: four arrays of a chunk fit in L1 together.
constexpr Eigen::Index kChunk = 512;

}  // namespace

template <typename T>
Optimizer<T>::Optimizer(const OptimizerSettings& settings, std::vector<TensorSlot> slots)
    : settings_(settings), slots_(std::move(slots)) {
  Eigen::Index size = 0;
  for (const TensorSlot& slot : slots_) size = std::max(size, slot.offset + slot.size());
  const bool needs_first =
      settings.kind == OptimizerKind::kMomentum || settings.kind == OptimizerKind::kAdam;
  const bool needs_second =
      settings.kind == OptimizerKind::kRmsprop || settings.kind == OptimizerKind::kAdam;
  if (needs_first) first_ = Vector<T>::Zero(size);
  if (needs_second) second_ = Vector<T>::Zero(size);
}

template <typename T>
void Optimizer<T>::Step(Vector<T>& params, Vector<T>& grads, double lr) {
  ++steps_;
  const T b1 = T(settings_.beta1);
  const T b2 = T(settings_.beta2);
  const T eps = T(settings_.epsilon);
  const T l2 = T(settings_.l2);
  // Adam's bias corrections folded into the step size and epsilon:
  // lr m^ / (sqrt(s^) + eps) = (lr / c1) m / (sqrt(s) / sqrt(c2) + eps).
  const double c1 = 1.0 - std::pow(settings_.beta1, double(steps_));
  const double c2 = 1.0 - std::pow(settings_.beta2, double(steps_));
  const T adam_rate = T(lr / c1);
  const T inv_sqrt_c2 = T(1.0 / std::sqrt(c2));
  const T rate = T(lr);

  // Updates params[start, start + len) in L1-sized chunks.
  auto update = [&](Eigen::Index start, Eigen::Index len, bool decay) {
    for (Eigen::Index end = start + len; start < end; start += kChunk) {
      const Eigen::Index n = std::min(kChunk, end - start);
      auto p = params.segment(start, n).array();
      auto g = grads.segment(start, n).array();
      if (decay) g += l2 * p;
      switch (settings_.kind) {
        case OptimizerKind::kGradientDescent:
          p -= rate * g;
          break;
        case OptimizerKind::kMomentum: {
          auto v = first_.segment(start, n).array();
          v = b1 * v + (T(1) - b1) * g;
          p -= rate * v;
          break;
        }
        case OptimizerKind::kRmsprop: {
          auto s = second_.segment(start, n).array();
          s = b2 * s + (T(1) - b2) * g.square();
          p -= rate * g / (s.sqrt() + eps);
          break;
        }
        case OptimizerKind::kAdam: {
          auto m = first_.segment(start, n).array();
          auto s = second_.segment(start, n).array();
          m = b1 * m + (T(1) - b1) * g;
          s = b2 * s + (T(1) - b2) * g.square();
          p -= adam_rate * m / (s.sqrt() * inv_sqrt_c2 + eps);
          break;
        }
      }
    }
  };

  for (const TensorSlot& slot : slots_) {
    const bool decay = slot.is_weight && settings_.l2 > 0;
    const Eigen::Index chunks = (slot.size() + kChunk - 1) / kChunk;
    // Small tensors are not worth handing to other threads.
    const int tasks = team_ == nullptr || chunks < 16 ? 1 : 2 * team_->threads();
    if (tasks == 1) {
      update(slot.offset, slot.size(), decay);
      continue;
    }
    team_->Run(tasks, [&](int t) {
      const Eigen::Index begin = chunks * t / tasks * kChunk;
      const Eigen::Index end = std::min(slot.size(), chunks * (t + 1) / tasks * kChunk);
      if (end > begin) update(slot.offset + begin, end - begin, decay);
    });
  }
}

template class Optimizer<float>;
template class Optimizer<double>;

}  // namespace caviar::trainer
