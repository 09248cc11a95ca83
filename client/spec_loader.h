// Study specs in YAML: one schema, the proto. A YAML spec maps one to one onto
// caviar.v1.StudySpec: keys are the proto field names (snake_case), enums are
// given by name (scale: LOG, goal: MAXIMIZE; case-insensitive), oneof members
// are keys (`double: {min: 1e-4, max: 1}`, `command: {argv: [...]}`), and
// algorithm/pruner `options` are free-form maps (google.protobuf.Struct,
// checked by the coordinator).
//
// The YAML is walked against the message's Descriptor before protobuf's JSON
// parser sees it, so that every error names the YAML path and position:
//   spec.yaml:7:5: parameters[0].scael: unknown field (did you mean 'scale'?)
//   spec.yaml:9:12: budget.max_trials: expected an integer, got '2.5'
// Scalars are typed strictly: a number field takes an unquoted finite
// number (a quoted "1e-4" is a string and is refused), a bool field takes
// true/false, a string field takes any scalar as written. Numbers a double cannot hold
// (.inf, .nan, 1e400, 1e-400) are errors, not silently 0 or dropped. All
// errors found are reported, one per line.
//
// Before any parsing, the text is checked (client/yaml_text.h): at most
// kMaxSpecYamlBytes (2 MiB; a larger file is not read past that), UTF-8, no
// control characters but tab, LF and CR; a refusal names the line and column:
//   spec.yaml:2:10: not UTF-8 (byte 0xE9); save the spec as UTF-8
//
// Status codes: INVALID_ARGUMENT for anything wrong in the text (size, bytes,
// syntax, unknown keys, types, enum names), NOT_FOUND / PERMISSION_DENIED when the
// file cannot be read. Thread-safe (no shared state).
#ifndef CAVIAR_CLIENT_SPEC_LOADER_H_
#define CAVIAR_CLIENT_SPEC_LOADER_H_

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "caviar/v1/study.pb.h"
#include "google/protobuf/message.h"

namespace caviar::client {

// Parses YAML text into `message` (cleared first). `source` names the text
// in error messages (a file name, or "<stdin>").
absl::Status YamlToMessage(std::string_view yaml, std::string_view source,
                           google::protobuf::Message* message);

absl::StatusOr<caviar::v1::StudySpec> ParseSpecYaml(std::string_view yaml,
                                                    std::string_view source = "<spec>");

// Reads and parses a spec file ("-" reads standard input). Relative paths in
// the spec are relative to the spec file's directory, as in docker-compose:
// a relative command.working_dir is made absolute against it, so that
// `working_dir: .` next to a script works whatever the submitter's and the
// worker's current directories are (on one machine or a shared file
// system). An empty working_dir is left empty (the worker's own directory).
// `overrides` are applied first (spec_overrides.h); with any, error
// positions refer to the spec as changed.
absl::StatusOr<caviar::v1::StudySpec> LoadSpecFile(
    const std::string& path, const std::vector<std::string>& overrides = {});

// Makes a relative command.working_dir absolute against `base_dir`.
void ResolveRelativePaths(const std::string& base_dir, caviar::v1::StudySpec* spec);

// YAML for any message, in the same schema YamlToMessage reads (so
// ParseSpecYaml(SpecToYaml(spec)) == spec). Fields at their default values are
// omitted; map entries are sorted by key.
std::string MessageToYaml(const google::protobuf::Message& message);
std::string SpecToYaml(const caviar::v1::StudySpec& spec);

}  // namespace caviar::client

#endif  // CAVIAR_CLIENT_SPEC_LOADER_H_
