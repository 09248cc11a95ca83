// What the YAML reader is allowed to see: a size cap, UTF-8, and no control
// characters but tab, line feed and carriage return. Checked before yaml-cpp parses
// anything, because Debian's yaml-cpp 0.7 allocates without bound on some
// inputs with control characters (tests/fuzz/README.md, finding 5) and a
// string that is not UTF-8 cannot become a proto string. Internal to
// client/; thread-safe (pure functions).
#ifndef CAVIAR_CLIENT_YAML_TEXT_H_
#define CAVIAR_CLIENT_YAML_TEXT_H_

#include <cstddef>
#include <string_view>

#include "absl/status/status.h"

namespace caviar::client {

// The largest spec text read: twice the coordinator's limit on a serialized
// spec (scheduling::kMaxSpecBytes, 1 MiB), room for comments and YAML's
// longer spelling of the same fields.
inline constexpr size_t kMaxSpecYamlBytes = 2 << 20;

// OK, or INVALID_ARGUMENT naming `source` and, for a bad character, its line
// and column (1-based, in characters) and code point or byte:
//   spec.yaml: 3145728 bytes is over the 2097152-byte limit of a spec
//   spec.yaml:4:9: character U+0001 is not allowed in YAML (no control
//       characters but tab, line feed and carriage return)
//   spec.yaml:2:10: not UTF-8 (byte 0xE9); save the spec as UTF-8
// Refused: bytes that are not UTF-8 (overlong forms and surrogates too) and
// C0 controls (U+0000 to U+001F) other than tab, LF and CR. A byte order mark
// is allowed.
absl::Status CheckYamlText(std::string_view text, std::string_view source);

}  // namespace caviar::client

#endif  // CAVIAR_CLIENT_YAML_TEXT_H_
