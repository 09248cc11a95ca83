// "{name}" placeholders in a command's arguments: the one grammar that the
// coordinator validates at CreateStudy and the worker expands per trial.
// "{{" and "}}" stand for literal braces. Pure function; thread-safe.
#ifndef CAVIAR_COMMON_PLACEHOLDERS_H_
#define CAVIAR_COMMON_PLACEHOLDERS_H_

#include <functional>
#include <optional>
#include <string>

#include "absl/status/statusor.h"

namespace caviar {

// The value of a placeholder, or nullopt when `name` is unknown.
using PlaceholderLookup =
    std::function<std::optional<std::string>(const std::string& name)>;

// `text` with every placeholder replaced. INVALID_ARGUMENT, without a field
// prefix (callers add theirs): "unclosed '{'", "unmatched '}' (write '}}'
// for a literal brace)", or "placeholder {x} names no parameter of the
// <owner>".
absl::StatusOr<std::string> ExpandPlaceholders(const std::string& text,
                                               const PlaceholderLookup& lookup,
                                               const std::string& owner);

}  // namespace caviar

#endif  // CAVIAR_COMMON_PLACEHOLDERS_H_
