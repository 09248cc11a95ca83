// libFuzzer target: the IDX reader (worker/trainer/data.h) on arbitrary image
// and label files, raw or gzip. Input: byte 0 = num_classes argument, bytes
// 1-2 = length of the image file (little endian, clamped), then the image
// file, then the label file.
#include <algorithm>
#include <cstdint>
#include <cstdlib>

#include "tests/fuzz/memory_file.h"
#include "worker/trainer/data.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 3) return -1;
  const int num_classes = data[0] % 16;
  const size_t images_size = std::min<size_t>(data[1] | data[2] << 8, size - 3);
  caviar::fuzz::MemoryFile images(data + 3, images_size);
  caviar::fuzz::MemoryFile labels(data + 3 + images_size, size - 3 - images_size);
  auto dataset = caviar::trainer::ReadIdx(images.path(), labels.path(), num_classes);
  if (!dataset.ok()) {
    if (dataset.status().code() != absl::StatusCode::kInvalidArgument) std::abort();
    return 0;
  }
  // The contract of a Dataset: one column and one label per example, labels
  // in [0, num_classes), pixels in [0, 1], an image shape that fits.
  if (dataset->features.cols() != dataset->size()) std::abort();
  if (static_cast<int64_t>(dataset->image_height) * dataset->image_width !=
      dataset->num_features()) {
    std::abort();
  }
  for (int32_t label : dataset->labels) {
    if (label < 0 || label >= dataset->num_classes) std::abort();
  }
  if (dataset->size() > 0 &&
      (dataset->features.minCoeff() < 0 || dataset->features.maxCoeff() > 1)) {
    std::abort();
  }
  return 0;
}
