// libFuzzer target: the "{name}" placeholder grammar (common/placeholders.h)
// on arbitrary text, with a lookup that knows a few names.
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>

#include "common/placeholders.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  auto lookup = [](const std::string& name) -> std::optional<std::string> {
    if (name == "lr") return "0.001";
    if (name == "braces") return "{lr}}";  // Values are not expanded again.
    if (name.empty()) return "empty";
    return std::nullopt;
  };
  auto expanded = caviar::ExpandPlaceholders(text, lookup, "study");
  if (!expanded.ok()) {
    if (expanded.status().code() != absl::StatusCode::kInvalidArgument) std::abort();
    if (expanded.status().message().empty()) std::abort();
    return 0;
  }
  // Text without braces is left alone.
  if (text.find_first_of("{}") == std::string::npos && *expanded != text) std::abort();
  return 0;
}
