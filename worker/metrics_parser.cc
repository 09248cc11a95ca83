#include "worker/metrics_parser.h"

#include <cmath>
#include <cstdlib>
#include <limits>
#include <string>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/charconv.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "nlohmann/json.hpp"

namespace caviar::worker {
namespace {

constexpr absl::string_view kPrefix = "caviar:";
constexpr size_t kMaxNameLength = 128;
// Steps beyond this lose integer precision as doubles in JSON.
constexpr double kMaxStep = 9007199254740992.0;  // 2^53

std::string Quote(absl::string_view text) {
  constexpr size_t kMax = 80;
  if (text.size() <= kMax) return absl::StrCat("\"", text, "\"");
  return absl::StrCat("\"", text.substr(0, kMax), "...\"");
}

absl::Status Malformed(absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat("malformed metrics line: ", what));
}

absl::Status CheckName(absl::string_view name) {
  if (name.empty()) return Malformed("empty metric name");
  if (name.size() > kMaxNameLength) {
    return Malformed(absl::StrCat("metric name ", Quote(name), " is longer than ",
                                  kMaxNameLength, " characters"));
  }
  const char first = name.front();
  if (!absl::ascii_isalpha(first) && first != '_') {
    return Malformed(
        absl::StrCat("metric name ", Quote(name), " must start with a letter or '_'"));
  }
  for (char c : name) {
    if (!absl::ascii_isalnum(c) && c != '_' && c != '.' && c != '-' && c != '/') {
      return Malformed(absl::StrCat("metric name ", Quote(name),
                                    " may hold only letters, digits and _ . - /"));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<int64_t> StepFromDouble(double value, absl::string_view text) {
  if (!(value >= 0) || value > kMaxStep || value != std::floor(value)) {
    return Malformed(
        absl::StrCat("step must be a non-negative integer, got ", Quote(text)));
  }
  return static_cast<int64_t>(value);
}

// Outside JSON strings, turns the bare tokens NaN, Infinity and -Infinity
// (which Python's json.dumps writes, but which are not JSON) into strings.
std::string QuoteNonFiniteTokens(absl::string_view line) {
  std::string out;
  out.reserve(line.size() + 8);
  bool in_string = false;
  for (size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (in_string) {
      out.push_back(c);
      if (c == '\\' && i + 1 < line.size()) {
        out.push_back(line[++i]);
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
      out.push_back(c);
      continue;
    }
    bool replaced = false;
    for (absl::string_view token : {"-Infinity", "Infinity", "NaN"}) {
      if (line.substr(i, token.size()) == token) {
        const size_t end = i + token.size();
        if (end < line.size() && absl::ascii_isalnum(line[end])) continue;
        absl::StrAppend(&out, "\"", token, "\"");
        i = end - 1;
        replaced = true;
        break;
      }
    }
    if (!replaced) out.push_back(c);
  }
  return out;
}

absl::StatusOr<double> JsonNumber(const std::string& key, const nlohmann::json& value) {
  if (value.is_number()) return value.get<double>();
  if (value.is_string()) {
    const std::string& text = value.get_ref<const std::string&>();
    double number;
    if (ParseMetricValue(text, &number) && !std::isfinite(number)) return number;
  }
  return Malformed(absl::StrCat(
      "value of ", Quote(key), " is not a number: ",
      Quote(value.is_string() ? value.get_ref<const std::string&>() : value.dump())));
}

absl::StatusOr<caviar::v1::Measurement> ParseJson(absl::string_view line,
                                                  int64_t last_step) {
  nlohmann::json object;
  try {
    object = nlohmann::json::parse(QuoteNonFiniteTokens(line));
  } catch (const nlohmann::json::exception& e) {
    return Malformed(absl::StrCat("invalid JSON (", e.what(), ")"));
  }
  if (!object.is_object()) return Malformed("JSON line is not an object");
  caviar::v1::Measurement measurement;
  measurement.set_step(last_step + 1);
  for (const auto& [key, value] : object.items()) {
    if (key == "step") {
      if (!value.is_number()) {
        return Malformed(absl::StrCat("step must be a non-negative integer, got ",
                                      Quote(value.dump())));
      }
      auto step = StepFromDouble(value.get<double>(), value.dump());
      if (!step.ok()) return step.status();
      measurement.set_step(*step);
      continue;
    }
    if (absl::Status s = CheckName(key); !s.ok()) return s;
    auto number = JsonNumber(key, value);
    if (!number.ok()) return number.status();
    (*measurement.mutable_metrics())[key] = *number;
  }
  if (measurement.metrics().empty()) return Malformed("no metric on the line");
  return measurement;
}

absl::StatusOr<caviar::v1::Measurement> ParsePairs(absl::string_view rest,
                                                   int64_t last_step) {
  caviar::v1::Measurement measurement;
  measurement.set_step(last_step + 1);
  bool has_step = false;
  for (absl::string_view token :
       absl::StrSplit(rest, absl::ByAnyChar(" \t\r"), absl::SkipEmpty())) {
    const size_t eq = token.find('=');
    if (eq == absl::string_view::npos) {
      return Malformed(absl::StrCat(Quote(token), " is not NAME=VALUE"));
    }
    const absl::string_view name = token.substr(0, eq);
    const absl::string_view text = token.substr(eq + 1);
    double value;
    if (name == "step") {
      if (has_step) return Malformed("step given twice");
      has_step = true;
      if (!ParseMetricValue(text, &value)) {
        return Malformed(
            absl::StrCat("step must be a non-negative integer, got ", Quote(text)));
      }
      auto step = StepFromDouble(value, text);
      if (!step.ok()) return step.status();
      measurement.set_step(*step);
      continue;
    }
    if (absl::Status s = CheckName(name); !s.ok()) return s;
    if (!ParseMetricValue(text, &value)) {
      return Malformed(
          absl::StrCat("value of ", Quote(name), " is not a number: ", Quote(text)));
    }
    auto [it, inserted] =
        measurement.mutable_metrics()->insert({std::string(name), value});
    if (!inserted) return Malformed(absl::StrCat("metric ", Quote(name), " given twice"));
  }
  if (measurement.metrics().empty()) return Malformed("no metric on the line");
  return measurement;
}

}  // namespace

bool ParseMetricValue(absl::string_view text, double* value) {
  absl::string_view body = text;
  bool negative = false;
  if (absl::ConsumePrefix(&body, "+")) {
  } else if (absl::ConsumePrefix(&body, "-")) {
    negative = true;
  }
  if (body.empty() || body.front() == '+' || body.front() == '-') return false;
  if (absl::EqualsIgnoreCase(body, "nan")) {
    *value = std::numeric_limits<double>::quiet_NaN();
    return true;
  }
  if (absl::EqualsIgnoreCase(body, "inf") || absl::EqualsIgnoreCase(body, "infinity")) {
    *value = negative ? -std::numeric_limits<double>::infinity()
                      : std::numeric_limits<double>::infinity();
    return true;
  }
  // Only decimal digits, '.', and an exponent: from_chars alone would also
  // take "nan(...)" and hexadecimal forms.
  for (char c : body) {
    if (!absl::ascii_isdigit(c) && c != '.' && c != 'e' && c != 'E' && c != '+' &&
        c != '-') {
      return false;
    }
  }
  double parsed = 0;
  const absl::from_chars_result result =
      absl::from_chars(body.data(), body.data() + body.size(), parsed);
  if (result.ptr != body.data() + body.size()) return false;
  if (result.ec == std::errc::result_out_of_range) {
    // Overflow reads as inf and underflow as 0, as strtod does.
    parsed = std::strtod(std::string(body).c_str(), nullptr);
  } else if (result.ec != std::errc()) {
    return false;
  }
  *value = negative ? -parsed : parsed;
  return true;
}

absl::StatusOr<std::optional<caviar::v1::Measurement>> MetricsParser::Parse(
    absl::string_view line) {
  const absl::string_view trimmed = absl::StripAsciiWhitespace(line);
  absl::StatusOr<caviar::v1::Measurement> parsed;
  if (absl::StartsWith(trimmed, kPrefix)) {
    parsed = ParsePairs(trimmed.substr(kPrefix.size()), last_step_);
  } else if (absl::StartsWith(trimmed, "{")) {
    parsed = ParseJson(trimmed, last_step_);
  } else {
    return std::nullopt;
  }
  if (!parsed.ok()) return parsed.status();
  last_step_ = parsed->step();
  return std::optional<caviar::v1::Measurement>(*std::move(parsed));
}

}  // namespace caviar::worker
