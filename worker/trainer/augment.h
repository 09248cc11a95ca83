// Data augmentation of training images: random left-right mirroring and
// translation, the cheap regularizers of the course notes for image data
// (they make more training examples out of the ones there are).
//
// An image is height x width floats, row by row (a Dataset column).
//
// Thread-safety: pure functions, apart from the Random they draw from.
#ifndef CAVIAR_WORKER_TRAINER_AUGMENT_H_
#define CAVIAR_WORKER_TRAINER_AUGMENT_H_

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

// target = the source image mirrored, then shifted; pixels that come from
// outside the source are 0 (the background of IDX images). target and source
// must not overlap.
void TransformImage(const ImageTransform& transform, int height, int width,
                    const float* source, float* target);

}  // namespace caviar::trainer

#endif  // CAVIAR_WORKER_TRAINER_AUGMENT_H_
