// MetricsParser: reads the metrics an external command prints on its
// standard output, one line at a time.
//
// Format (the README quotes this block):
//
//   A metrics line is either
//     caviar: [step=N] NAME=VALUE [NAME=VALUE ...]
//   e.g.  caviar: step=3 dev_accuracy=0.912 loss=0.31
//   or one JSON object on one line
//   e.g.  {"step": 3, "dev_accuracy": 0.912, "loss": 0.31}
//
//   - "caviar:" must start the line (leading spaces are allowed); pairs are
//     separated by spaces or tabs; no spaces around '='.
//   - A JSON line is a line whose first non-blank character is '{'. Every
//     member is a metric whose value is a JSON number; NaN, Infinity and
//     -Infinity (as Python's json.dumps writes them) and the strings "nan",
//     "inf", "-inf", "infinity", "-infinity" (any case) are accepted too.
//   - NAME: letters, digits and _ . - / (e.g. dev_accuracy, train/loss),
//     starting with a letter or '_'; at most 128 characters.
//   - VALUE: a decimal number: 0.91, -3, 1e-4, +2.5; nan, inf, -inf,
//     infinity (any case) are accepted so divergence can be reported.
//   - step: a non-negative integer (3, or 3.0 in JSON). Without it, a line's
//     step is the previous line's step + 1, the first line's being 1.
//   - Every other line is not a metrics line and is ignored, so a command
//     can print whatever else it likes.
//
// A malformed metrics line (a bad value, a bad or repeated name, a line with
// no metric, JSON that does not parse) yields INVALID_ARGUMENT saying what
// is wrong and where; it changes no state (the step counter does not move).
// CommandObjective logs the error and skips the line (one typo must not
// waste hours of training); if the command then never reports the study's
// objective metric, the trial fails and the first such error is part of its
// failure reason.
//
// Thread-compatible: one parser per command run.
#ifndef CAVIAR_WORKER_METRICS_PARSER_H_
#define CAVIAR_WORKER_METRICS_PARSER_H_

#include <cstdint>
#include <optional>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "caviar/v1/trial.pb.h"

namespace caviar::worker {

class MetricsParser {
 public:
  // nullopt: not a metrics line. A Measurement (step and metrics set,
  // elapsed_seconds left 0): a metrics line. INVALID_ARGUMENT: a malformed
  // metrics line.
  absl::StatusOr<std::optional<caviar::v1::Measurement>> Parse(absl::string_view line);

 private:
  int64_t last_step_ = 0;
};

// Parses a metric value ("0.91", "-inf", "NaN"); false if it is not one.
bool ParseMetricValue(absl::string_view text, double* value);

}  // namespace caviar::worker

#endif  // CAVIAR_WORKER_METRICS_PARSER_H_
