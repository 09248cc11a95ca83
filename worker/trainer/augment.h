// Data augmentation of training images: random left-right mirroring and
// translation, the cheap regularizers of the course notes for image data
// (they make more training examples out of the ones there are).
//
// An image is height x width floats, row by row (a Dataset column).
//
// Thread-safety: pure functions, apart from the Random they draw from.
#ifndef CAVIAR_WORKER_TRAINER_AUGMENT_H_
#define CAVIAR_WORKER_TRAINER_AUGMENT_H_

#include <vector>

#include "worker/trainer/random.h"

namespace caviar::trainer {

struct ImageTransform {
  bool flip = false;  // Mirror left-right.
  int down = 0;       // Rows moved down (negative: up).
  int right = 0;      // Columns moved right (negative: left).
};

// Mirrors with probability 1/2 when `flip`; shifts uniformly in
// [-max_shift, max_shift] rows and columns.
ImageTransform DrawImageTransform(bool flip, int max_shift, Random& random);

// Every transform DrawImageTransform can return, each as likely as the
// others (so averages over them are expectations over the draws).
std::vector<ImageTransform> AllImageTransforms(bool flip, int max_shift);

// target = the source image mirrored, then shifted; pixels that come from
// outside the source are 0 (the background of IDX images). target and source
// must not overlap. For float images and double per-pixel statistics.
template <typename T>
void TransformImage(const ImageTransform& transform, int height, int width, const T* source,
                    T* target) {
  for (int row = 0; row < height; ++row) {
    const int source_row = row - transform.down;
    const bool row_inside = source_row >= 0 && source_row < height;
    for (int col = 0; col < width; ++col) {
      const int unshifted = col - transform.right;
      const int source_col = transform.flip ? width - 1 - unshifted : unshifted;
      const bool inside = row_inside && source_col >= 0 && source_col < width;
      target[row * width + col] = inside ? source[source_row * width + source_col] : T(0);
    }
  }
}

}  // namespace caviar::trainer

#endif  // CAVIAR_WORKER_TRAINER_AUGMENT_H_
