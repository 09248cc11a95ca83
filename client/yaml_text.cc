#include "client/yaml_text.h"

#include <cstdint>

#include "absl/strings/str_format.h"

namespace caviar::client {
namespace {

// Decodes the UTF-8 character at text[*at], advancing *at past it. Returns
// false (leaving *at) if the bytes there are not well-formed UTF-8 (RFC 3629:
// no overlong forms, no surrogates, nothing above U+10FFFF).
bool DecodeUtf8(std::string_view text, size_t* at, char32_t* code_point) {
  const auto byte = [&](size_t i) { return static_cast<uint8_t>(text[i]); };
  const uint8_t lead = byte(*at);
  if (lead < 0x80) {
    *code_point = lead;
    ++*at;
    return true;
  }
  size_t length = 0;
  char32_t value = 0;
  char32_t min = 0;
  if ((lead & 0xE0) == 0xC0) {
    length = 2, value = lead & 0x1F, min = 0x80;
  } else if ((lead & 0xF0) == 0xE0) {
    length = 3, value = lead & 0x0F, min = 0x800;
  } else if ((lead & 0xF8) == 0xF0) {
    length = 4, value = lead & 0x07, min = 0x10000;
  } else {
    return false;
  }
  if (*at + length > text.size()) return false;
  for (size_t i = 1; i < length; ++i) {
    const uint8_t continuation = byte(*at + i);
    if ((continuation & 0xC0) != 0x80) return false;
    value = (value << 6) | (continuation & 0x3F);
  }
  if (value < min || value > 0x10FFFF || (value >= 0xD800 && value <= 0xDFFF)) {
    return false;
  }
  *code_point = value;
  *at += length;
  return true;
}

// C0 control characters but tab, LF and CR (YAML excludes them; yaml-cpp
// allocates without bound on some). DEL and C1 controls, also outside YAML's
// printable set, are let through: yaml-cpp reads them.
bool IsAllowed(char32_t c) { return c >= 0x20 || c == '\t' || c == '\n' || c == '\r'; }

}  // namespace

absl::Status CheckYamlText(std::string_view text, std::string_view source) {
  if (text.size() > kMaxSpecYamlBytes) {
    return absl::InvalidArgumentError(
        absl::StrFormat("%s: %d bytes is over the %d-byte limit of a spec", source,
                        text.size(), kMaxSpecYamlBytes));
  }
  int line = 1;
  int column = 1;
  size_t at = 0;
  while (at < text.size()) {
    char32_t c = 0;
    if (!DecodeUtf8(text, &at, &c)) {
      return absl::InvalidArgumentError(
          absl::StrFormat("%s:%d:%d: not UTF-8 (byte 0x%02X); save the spec as UTF-8",
                          source, line, column, static_cast<uint8_t>(text[at])));
    }
    if (!IsAllowed(c)) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "%s:%d:%d: character U+%04X is not allowed in YAML (no control characters "
          "but tab, line feed and carriage return)",
          source, line, column, static_cast<uint32_t>(c)));
    }
    if (c == '\n') {
      ++line;
      column = 1;
    } else {
      ++column;
    }
  }
  return absl::OkStatus();
}

}  // namespace caviar::client
