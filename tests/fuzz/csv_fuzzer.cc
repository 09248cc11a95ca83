// libFuzzer target: the CSV reader (worker/trainer/data.h) on arbitrary
// files. Input: byte 0 picks the options (bit 0: has_header; bits 1-3: the
// label column, an index 0-6 or 7 = the name "label"; bits 4-7:
// num_classes), the rest is the file.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "tests/fuzz/memory_file.h"
#include "worker/trainer/data.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return -1;
  caviar::trainer::CsvOptions options;
  options.has_header = data[0] & 1;
  const int column = (data[0] >> 1) & 7;
  options.label_column = column == 7 ? "label" : std::to_string(column);
  options.num_classes = data[0] >> 4;
  caviar::fuzz::MemoryFile file(data + 1, size - 1);
  auto dataset = caviar::trainer::ReadCsv(file.path(), options);
  if (!dataset.ok()) {
    if (dataset.status().code() != absl::StatusCode::kInvalidArgument) std::abort();
    return 0;
  }
  if (dataset->features.cols() != dataset->size()) std::abort();
  for (int32_t label : dataset->labels) {
    if (label < 0 || label >= dataset->num_classes) std::abort();
  }
  return 0;
}
