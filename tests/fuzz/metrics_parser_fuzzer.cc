// libFuzzer target: the worker's metrics-line parser on arbitrary command
// output, fed line by line to one parser as CommandObjective does.
#include <cstdint>
#include <cstdlib>
#include "absl/strings/string_view.h"

#include "absl/strings/str_split.h"
#include "worker/metrics_parser.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view output(reinterpret_cast<const char*>(data), size);
  caviar::worker::MetricsParser parser;
  int64_t last_step = 0;
  for (absl::string_view line : absl::StrSplit(output, '\n')) {
    auto parsed = parser.Parse(line);
    if (!parsed.ok()) {
      if (parsed.status().code() != absl::StatusCode::kInvalidArgument) std::abort();
      continue;
    }
    if (!parsed->has_value()) continue;
    // The header's contract: a measurement has a non-negative step and at
    // least one metric, each named by at most 128 characters.
    const caviar::v1::Measurement& m = **parsed;
    if (m.step() < 0 || m.metrics().empty()) std::abort();
    for (const auto& [name, value] : m.metrics()) {
      if (name.empty() || name.size() > 128) std::abort();
    }
    last_step = m.step();
  }
  (void)last_step;
  double value;
  caviar::worker::ParseMetricValue(output, &value);
  return 0;
}
