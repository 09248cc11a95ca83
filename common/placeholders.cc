#include "common/placeholders.h"

#include "absl/strings/str_cat.h"

namespace caviar {

absl::StatusOr<std::string> ExpandPlaceholders(const std::string& text,
                                               const PlaceholderLookup& lookup,
                                               const std::string& owner) {
  std::string out;
  for (size_t pos = 0; pos < text.size(); ++pos) {
    const char c = text[pos];
    if (c != '{' && c != '}') {
      out.push_back(c);
      continue;
    }
    if (pos + 1 < text.size() && text[pos + 1] == c) {
      out.push_back(c);
      ++pos;
      continue;
    }
    if (c == '}') {
      return absl::InvalidArgumentError("unmatched '}' (write '}}' for a literal brace)");
    }
    const size_t close = text.find('}', pos);
    if (close == std::string::npos) return absl::InvalidArgumentError("unclosed '{'");
    const std::string name = text.substr(pos + 1, close - pos - 1);
    std::optional<std::string> value = lookup(name);
    if (!value.has_value()) {
      return absl::InvalidArgumentError(
          absl::StrCat("placeholder {", name, "} names no parameter of the ", owner));
    }
    out += *value;
    pos = close;
  }
  return out;
}

}  // namespace caviar
