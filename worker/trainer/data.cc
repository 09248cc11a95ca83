#include "worker/trainer/data.h"

#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/status_macros.h"
#include "worker/trainer/random.h"

namespace caviar::trainer {
namespace {

constexpr uint32_t kIdxImagesMagic = 0x00000803;
constexpr uint32_t kIdxLabelsMagic = 0x00000801;

// Reads a whole file, gunzipping it if it is gzip-compressed (zlib's gzread
// passes raw files through unchanged).
absl::StatusOr<std::string> ReadMaybeGzipped(const std::string& path) {
  gzFile file = gzopen(path.c_str(), "rb");
  if (file == nullptr) {
    return absl::NotFoundError(absl::StrCat(path, ": cannot open: ", std::strerror(errno)));
  }
  std::string bytes;
  char buffer[1 << 16];
  while (true) {
    const int got = gzread(file, buffer, sizeof buffer);
    if (got < 0) {
      int code = 0;
      const std::string message = gzerror(file, &code);
      gzclose(file);
      return absl::InvalidArgumentError(
          absl::StrCat(path, ": corrupt or truncated gzip data: ", message));
    }
    if (got == 0) break;
    bytes.append(buffer, got);
  }
  gzclose(file);
  return bytes;
}

uint32_t BigEndian32(const std::string& bytes, size_t at) {
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data() + at);
  return (uint32_t(p[0]) << 24) | (uint32_t(p[1]) << 16) | (uint32_t(p[2]) << 8) | p[3];
}

struct IdxHeader {
  uint32_t count = 0;
  uint64_t item_size = 1;  // Product of the dimensions after the count.
  std::vector<uint32_t> item_dims;
  size_t data_offset = 0;
};

absl::StatusOr<IdxHeader> ParseIdxHeader(const std::string& path, const std::string& bytes,
                                         uint32_t expected_magic, const char* what) {
  if (bytes.size() < 8) {
    return absl::InvalidArgumentError(absl::StrCat(
        path, ": truncated: ", bytes.size(), " bytes, shorter than an IDX header"));
  }
  const uint32_t magic = BigEndian32(bytes, 0);
  if (magic != expected_magic) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "%s: bad magic number 0x%08x (expected 0x%08x for IDX %s)", path, magic,
        expected_magic, what));
  }
  const int dims = int(magic & 0xff);
  const size_t header_size = 4 + 4 * size_t(dims);
  if (bytes.size() < header_size) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": truncated: header of ", dims, " dimensions cut short"));
  }
  IdxHeader header;
  header.count = BigEndian32(bytes, 4);
  for (int d = 1; d < dims; ++d) {
    header.item_dims.push_back(BigEndian32(bytes, 4 + 4 * d));
    header.item_size *= header.item_dims.back();
  }
  header.data_offset = header_size;
  const uint64_t expected = uint64_t(header.count) * header.item_size;
  const uint64_t present = bytes.size() - header_size;
  if (present < expected) {
    return absl::InvalidArgumentError(absl::StrCat(
        path, ": truncated: header announces ", header.count, " items of ",
        header.item_size, " bytes (", expected, " bytes) but only ", present,
        " bytes follow"));
  }
  if (present > expected) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": ", present - expected,
                                                   " bytes of trailing data after ",
                                                   header.count, " items"));
  }
  return header;
}

absl::Status CheckLabels(const std::string& path, const std::vector<int32_t>& labels,
                         int* num_classes, const std::string& where_prefix) {
  int max_label = -1;
  for (size_t i = 0; i < labels.size(); ++i) {
    if (*num_classes > 0 && labels[i] >= *num_classes) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ": ", where_prefix, i + 1, ": label ", labels[i],
                       " out of range [0, ", *num_classes, ")"));
    }
    max_label = std::max(max_label, labels[i]);
  }
  if (*num_classes <= 0) *num_classes = max_label + 1;
  if (*num_classes < 2) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": needs at least 2 classes, found ", *num_classes));
  }
  return absl::OkStatus();
}

// A dataset with no examples and `data`'s classes and image shape.
Dataset ShapeOnly(const Dataset& data) {
  Dataset empty;
  empty.num_classes = data.num_classes;
  empty.image_height = data.image_height;
  empty.image_width = data.image_width;
  return empty;
}

}  // namespace

absl::StatusOr<Dataset> ReadIdx(const std::string& images_path,
                                const std::string& labels_path, int num_classes) {
  CAVIAR_ASSIGN_OR_RETURN(const std::string images, ReadMaybeGzipped(images_path));
  CAVIAR_ASSIGN_OR_RETURN(const std::string labels, ReadMaybeGzipped(labels_path));
  CAVIAR_ASSIGN_OR_RETURN(const IdxHeader image_header,
                          ParseIdxHeader(images_path, images, kIdxImagesMagic, "images"));
  CAVIAR_ASSIGN_OR_RETURN(const IdxHeader label_header,
                          ParseIdxHeader(labels_path, labels, kIdxLabelsMagic, "labels"));
  if (image_header.count != label_header.count) {
    return absl::InvalidArgumentError(
        absl::StrCat(images_path, " has ", image_header.count, " images but ", labels_path,
                     " has ", label_header.count, " labels"));
  }
  Dataset data;
  const int64_t n = image_header.count;
  const int64_t features = int64_t(image_header.item_size);
  data.features.resize(features, n);
  const auto* pixels =
      reinterpret_cast<const unsigned char*>(images.data() + image_header.data_offset);
  for (int64_t j = 0; j < n; ++j) {
    for (int64_t i = 0; i < features; ++i) {
      data.features(i, j) = float(pixels[j * features + i]) * (1.0f / 255.0f);
    }
  }
  data.labels.resize(n);
  for (int64_t j = 0; j < n; ++j) {
    data.labels[j] = static_cast<unsigned char>(labels[label_header.data_offset + j]);
  }
  data.num_classes = num_classes;
  data.image_height = int(image_header.item_dims[0]);  // The magic promises 2 dims.
  data.image_width = int(image_header.item_dims[1]);
  CAVIAR_RETURN_IF_ERROR(CheckLabels(labels_path, data.labels, &data.num_classes, "item "));
  return data;
}

absl::StatusOr<Dataset> ReadCsv(const std::string& path, const CsvOptions& options) {
  std::ifstream in(path);
  if (!in) {
    return absl::NotFoundError(absl::StrCat(path, ": cannot open: ", std::strerror(errno)));
  }
  std::string line;
  int64_t line_number = 0;
  int64_t label_index = -1;
  int64_t columns = -1;
  if (options.has_header) {
    if (!std::getline(in, line)) {
      return absl::InvalidArgumentError(absl::StrCat(path, ": empty file, expected a header"));
    }
    ++line_number;
    std::vector<std::string> names = absl::StrSplit(absl::StripAsciiWhitespace(line), ',');
    columns = int64_t(names.size());
    for (size_t c = 0; c < names.size(); ++c) {
      if (absl::StripAsciiWhitespace(names[c]) == options.label_column) label_index = c;
    }
  }
  if (label_index < 0 && !absl::SimpleAtoi(options.label_column, &label_index)) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": label column '", options.label_column, "' ",
                     options.has_header ? "is not in the header" : "is not a column index",
                     " (with has_header false, give a 0-based index)"));
  }
  std::vector<float> values;
  std::vector<int32_t> labels;
  while (std::getline(in, line)) {
    ++line_number;
    const absl::string_view text = absl::StripAsciiWhitespace(line);
    if (text.empty()) continue;
    std::vector<absl::string_view> cells = absl::StrSplit(text, ',');
    if (columns < 0) columns = int64_t(cells.size());
    if (int64_t(cells.size()) != columns) {
      return absl::InvalidArgumentError(absl::StrCat(path, ":", line_number, ": ",
                                                     cells.size(), " cells, expected ",
                                                     columns));
    }
    if (label_index >= columns || label_index < 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          path, ": label column ", label_index, " out of range: rows have ", columns,
          " columns"));
    }
    for (int64_t c = 0; c < columns; ++c) {
      const absl::string_view cell = absl::StripAsciiWhitespace(cells[c]);
      double value;
      if (!absl::SimpleAtod(cell, &value) || !std::isfinite(value)) {
        return absl::InvalidArgumentError(absl::StrCat(path, ":", line_number, ": column ",
                                                       c, ": non-numeric cell '", cell,
                                                       "'"));
      }
      if (c == label_index) {
        if (value < 0 || value != std::floor(value) || value > 1e9) {
          return absl::InvalidArgumentError(
              absl::StrCat(path, ":", line_number, ": label '", cell,
                           "' is not a non-negative integer"));
        }
        labels.push_back(int32_t(value));
      } else {
        values.push_back(float(value));
      }
    }
  }
  if (labels.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": no data rows"));
  }
  Dataset data;
  const int64_t features = columns - 1;
  data.features = Eigen::Map<Eigen::MatrixXf>(values.data(), features, int64_t(labels.size()));
  data.labels = std::move(labels);
  data.num_classes = options.num_classes;
  CAVIAR_RETURN_IF_ERROR(CheckLabels(path, data.labels, &data.num_classes, "data row "));
  return data;
}

Dataset Head(const Dataset& data, int64_t count) {
  if (count <= 0 || count >= data.size()) return data;
  Dataset head = ShapeOnly(data);
  head.features = data.features.leftCols(count);
  head.labels.assign(data.labels.begin(), data.labels.begin() + count);
  return head;
}

absl::StatusOr<TrainDevSplit> SplitTrainDev(const Dataset& data, int64_t dev_size,
                                            uint64_t seed) {
  if (dev_size < 0 || dev_size >= data.size()) {
    return absl::InvalidArgumentError(absl::StrCat("dev_size ", dev_size,
                                                   " must be in [0, ", data.size(),
                                                   ") for a training file of ",
                                                   data.size(), " examples"));
  }
  std::vector<int64_t> order(data.size());
  for (int64_t i = 0; i < data.size(); ++i) order[i] = i;
  Random random(seed);
  random.Shuffle(order);
  std::vector<bool> in_dev(data.size(), false);
  for (int64_t i = 0; i < dev_size; ++i) in_dev[order[i]] = true;

  TrainDevSplit split{ShapeOnly(data), ShapeOnly(data)};
  split.train.features.resize(data.num_features(), data.size() - dev_size);
  split.dev.features.resize(data.num_features(), dev_size);
  int64_t t = 0, d = 0;
  for (int64_t j = 0; j < data.size(); ++j) {
    Dataset& target = in_dev[j] ? split.dev : split.train;
    int64_t& column = in_dev[j] ? d : t;
    target.features.col(column++) = data.features.col(j);
    target.labels.push_back(data.labels[j]);
  }
  return split;
}

}  // namespace caviar::trainer
