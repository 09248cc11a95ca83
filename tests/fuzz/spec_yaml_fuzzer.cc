// libFuzzer target: the YAML spec loader (client/spec_loader.h) on arbitrary
// text. Beyond crashes it checks the header's round trip: a spec that parses
// is written back by SpecToYaml to YAML that parses to the same spec.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "client/spec_loader.h"
#include "tests/fuzz/message_diff.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view yaml(reinterpret_cast<const char*>(data), size);
  auto spec = caviar::client::ParseSpecYaml(yaml, "fuzz.yaml");
  if (!spec.ok()) {
    if (spec.status().code() != absl::StatusCode::kInvalidArgument) std::abort();
    return 0;
  }
  const std::string written = caviar::client::SpecToYaml(*spec);
  auto again = caviar::client::ParseSpecYaml(written, "written.yaml");
  if (!again.ok()) {
    std::fprintf(stderr, "SpecToYaml wrote YAML that does not parse: %s\n%s\n",
                 again.status().ToString().c_str(), written.c_str());
    std::abort();
  }
  const std::string diff = caviar::fuzz::MessageDiff(*spec, *again);
  if (!diff.empty()) {
    std::fprintf(stderr, "round trip changed the spec:\n%s\nYAML:\n%s\n", diff.c_str(),
                 written.c_str());
    std::abort();
  }
  return 0;
}
