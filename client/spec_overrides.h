// `caviar submit SPEC --set KEY=VALUE`: changes to a YAML spec given on the
// command line, so one file serves a short and a full run
// (--set trainer.epochs=20). KEY is a dotted path of mapping keys and
// sequence indices (parameters.0.double.max); VALUE is read as YAML (a
// number, a word, [a, b], {min: 1, max: 2}). A missing mapping key is
// created; an out-of-range index or a path through a scalar is an error.
// Pure function; thread-safe.
#ifndef CAVIAR_CLIENT_SPEC_OVERRIDES_H_
#define CAVIAR_CLIENT_SPEC_OVERRIDES_H_

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace caviar::client {

// The YAML text with each override applied in order. INVALID_ARGUMENT
// naming the override ("--set trainer.epochs: ...") on a bad one.
absl::StatusOr<std::string> ApplyOverrides(std::string_view yaml,
                                           const std::vector<std::string>& overrides);

}  // namespace caviar::client

#endif  // CAVIAR_CLIENT_SPEC_OVERRIDES_H_
