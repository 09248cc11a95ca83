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

std::vector<ImageTransform> AllImageTransforms(bool flip, int max_shift) {
  std::vector<ImageTransform> transforms;
  for (bool mirrored : {false, true}) {
    if (mirrored && !flip) continue;
    for (int down = -max_shift; down <= max_shift; ++down) {
      for (int right = -max_shift; right <= max_shift; ++right) {
        transforms.push_back({mirrored, down, right});
      }
    }
  }
  return transforms;
}

}  // namespace caviar::trainer
