#include "worker/trainer/augment.h"

namespace caviar::trainer {

ImageTransform DrawImageTransform(bool flip, int max_shift, Random& random) {
  ImageTransform transform;
  transform.flip = flip && random.Below(2) == 1;
  if (max_shift > 0) {
    transform.down = int(random.Below(2 * max_shift + 1)) - max_shift;
    transform.right = int(random.Below(2 * max_shift + 1)) - max_shift;
  }
  return transform;
}

void TransformImage(const ImageTransform& transform, int height, int width,
                    const float* source, float* target) {
  for (int row = 0; row < height; ++row) {
    const int source_row = row - transform.down;
    const bool row_inside = source_row >= 0 && source_row < height;
    for (int col = 0; col < width; ++col) {
      const int unshifted = col - transform.right;
      const int source_col = transform.flip ? width - 1 - unshifted : unshifted;
      const bool inside = row_inside && source_col >= 0 && source_col < width;
      target[row * width + col] = inside ? source[source_row * width + source_col] : 0.0f;
    }
  }
}

}  // namespace caviar::trainer
