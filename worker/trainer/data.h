// Datasets for the trainer: readers for IDX (the MNIST format, gzip or raw)
// and CSV files, and the train/dev split.
//
// Every error names the file and what is wrong with it:
//   INVALID_ARGUMENT  bad magic, truncated data, image/label count mismatch,
//                     non-numeric CSV cell, ragged CSV row, label out of range,
//                     bad split sizes;
//   NOT_FOUND         the file cannot be opened.
//
// Thread-safety: the readers are pure functions; a Dataset is a value that can
// be shared read-only between threads.
#ifndef CAVIAR_WORKER_TRAINER_DATA_H_
#define CAVIAR_WORKER_TRAINER_DATA_H_

#include <cstdint>
#include <string>
#include <vector>

#include "Eigen/Core"
#include "absl/status/statusor.h"

namespace caviar::trainer {

struct Dataset {
  // features x examples, one column per example.
  Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic> features;
  std::vector<int32_t> labels;  // In [0, num_classes).
  int num_classes = 0;
  // For images (IDX): each column is an image_height x image_width image,
  // row by row. 0 when the examples are not images (CSV).
  int image_height = 0;
  int image_width = 0;

  int64_t size() const { return static_cast<int64_t>(labels.size()); }
  int64_t num_features() const { return features.rows(); }
};

// Reads an IDX image file (magic 0x00000803: unsigned bytes, a count, rows and
// columns; each image flattened row by row, which also sets the dataset's
// image shape) and its IDX label file (0x00000801). Files may be
// gzip-compressed or raw. Pixels are scaled to [0, 1].
// num_classes = max label + 1, or `num_classes` if > 0 (then labels must be
// below it).
absl::StatusOr<Dataset> ReadIdx(const std::string& images_path,
                                const std::string& labels_path, int num_classes = 0);

struct CsvOptions {
  // Column name (needs has_header) or 0-based index.
  std::string label_column;
  bool has_header = false;
  int num_classes = 0;  // 0 = max label + 1.
};

// Reads a CSV file of numbers (comma-separated; blank lines skipped). Labels
// must be non-negative integers.
absl::StatusOr<Dataset> ReadCsv(const std::string& path, const CsvOptions& options);

// The first `count` examples (all when count <= 0 or >= size).
Dataset Head(const Dataset& data, int64_t count);

struct TrainDevSplit {
  Dataset train;
  Dataset dev;
};

// Holds out `dev_size` examples chosen by a seeded shuffle as the dev set;
// the rest, in their original order, is the training set.
absl::StatusOr<TrainDevSplit> SplitTrainDev(const Dataset& data, int64_t dev_size,
                                            uint64_t seed);

}  // namespace caviar::trainer

#endif  // CAVIAR_WORKER_TRAINER_DATA_H_
