#include "client/spec_loader.h"

#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <limits>

#include "absl/strings/str_cat.h"
#include "client/yaml_text.h"
#include "gmock/gmock.h"
#include "google/protobuf/text_format.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"

namespace caviar::client {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::Not;

const char kMinimal[] = R"(name: s
objective: {metric: acc, goal: MAXIMIZE}
parameters:
  - name: lr
    double: {min: 1e-4, max: 1}
    scale: LOG
budget: {max_trials: 5}
command: {argv: [run, "{lr}"]}
)";

std::string ErrorOf(std::string_view yaml) {
  absl::StatusOr<caviar::v1::StudySpec> spec = ParseSpecYaml(yaml, "spec.yaml");
  EXPECT_FALSE(spec.ok()) << yaml;
  if (spec.ok()) return "";
  EXPECT_EQ(spec.status().code(), absl::StatusCode::kInvalidArgument);
  return std::string(spec.status().message());
}

TEST(SpecLoader, MinimalSpecMapsOntoTheProto) {
  absl::StatusOr<caviar::v1::StudySpec> spec = ParseSpecYaml(kMinimal);
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_EQ(spec->name(), "s");
  EXPECT_EQ(spec->objective().goal(), caviar::v1::MAXIMIZE);
  ASSERT_EQ(spec->parameters_size(), 1);
  EXPECT_EQ(spec->parameters(0).scale(), caviar::v1::LOG);
  EXPECT_DOUBLE_EQ(spec->parameters(0).double_().min(), 1e-4);
  EXPECT_DOUBLE_EQ(spec->parameters(0).double_().max(), 1.0);
  EXPECT_EQ(spec->budget().max_trials(), 5);
  ASSERT_TRUE(spec->has_command());
  EXPECT_EQ(spec->command().argv(1), "{lr}");
}

TEST(SpecLoader, BundledQuadraticExampleLoadsWithAbsoluteWorkingDir) {
  const std::string path = std::string(CAVIAR_EXAMPLES_DIR) + "/quadratic.yaml";
  absl::StatusOr<caviar::v1::StudySpec> spec = LoadSpecFile(path);
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_EQ(spec->name(), "quadratic");
  EXPECT_EQ(spec->objective().metric(), "dev_accuracy");
  ASSERT_EQ(spec->parameters_size(), 4);
  EXPECT_EQ(spec->parameters(0).scale(), caviar::v1::LOG);
  EXPECT_EQ(spec->parameters(1).scale(), caviar::v1::LOG1M);
  EXPECT_TRUE(spec->parameters(2).has_integer());
  EXPECT_TRUE(spec->parameters(3).has_categorical());
  EXPECT_EQ(spec->budget().max_trials(), 20);
  EXPECT_EQ(spec->budget().max_parallel_trials(), 2);
  const std::filesystem::path working_dir = spec->command().working_dir();
  EXPECT_TRUE(working_dir.is_absolute()) << working_dir;
  EXPECT_TRUE(std::filesystem::equivalent(working_dir, CAVIAR_EXAMPLES_DIR));
  // The argv's script is found from the working directory.
  EXPECT_TRUE(std::filesystem::exists(working_dir / spec->command().argv(1)));
}

TEST(SpecLoader, OtherBundledExamplesLoad) {
  int loaded = 0;
  for (const auto& entry : std::filesystem::directory_iterator(CAVIAR_EXAMPLES_DIR)) {
    if (entry.path().extension() != ".yaml") continue;
    absl::StatusOr<caviar::v1::StudySpec> spec = LoadSpecFile(entry.path().string());
    EXPECT_TRUE(spec.ok()) << entry.path() << ": " << spec.status();
    ++loaded;
  }
  EXPECT_GE(loaded, 1);
}

TEST(SpecLoader, UnknownTopLevelKeyIsNamedWithItsLine) {
  std::string error = ErrorOf(std::string(kMinimal) + "nmae: x\n");
  EXPECT_THAT(error, HasSubstr("spec.yaml:9:1: nmae: unknown field"));
  EXPECT_THAT(error, HasSubstr("did you mean 'name'"));
}

TEST(SpecLoader, UnknownNestedKeyIsNamedWithItsPath) {
  std::string error = ErrorOf(R"(name: s
parameters:
  - name: a
    double: {min: 0, max: 1}
  - name: b
    double: {min: 0, max: 1}
    scael: LOG
)");
  EXPECT_THAT(error, HasSubstr("spec.yaml:7:5: parameters[1].scael: unknown field"));
  EXPECT_THAT(error, HasSubstr("did you mean 'scale'"));
  EXPECT_THAT(ErrorOf("command: {argv: [x], wrking_dir: /tmp}\n"),
              HasSubstr("command.wrking_dir: unknown field"));
  EXPECT_THAT(ErrorOf("budget: {max_trials: 3, zzzzzzzz: 1}\n"),
              AllOf(HasSubstr("budget.zzzzzzzz: unknown field"),
                    HasSubstr("max_parallel_trials")));  // Lists the real fields.
}

TEST(SpecLoader, WrongTypesAreNamed) {
  EXPECT_THAT(ErrorOf("budget: {max_trials: many}\n"),
              HasSubstr("budget.max_trials: expected an integer, got 'many'"));
  EXPECT_THAT(ErrorOf("budget: {max_trials: 2.5}\n"),
              HasSubstr("budget.max_trials: expected an integer, got '2.5'"));
  EXPECT_THAT(ErrorOf("budget: {max_trials: \"20\"}\n"),
              HasSubstr("budget.max_trials: expected an integer, got the string \"20\""));
  EXPECT_THAT(ErrorOf("budget: {max_trials: 3000000000}\n"),
              HasSubstr("budget.max_trials: 3000000000 is out of range"));
  EXPECT_THAT(ErrorOf("seed: -1\n"), HasSubstr("seed: -1 is out of range"));
  EXPECT_THAT(ErrorOf("parameters:\n  - name: a\n    double: {min: '1e-4', max: 1}\n"),
              HasSubstr("spec.yaml:3:19: parameters[0].double.min: expected a number"));
  EXPECT_THAT(ErrorOf("parameters: {name: a}\n"),
              HasSubstr("parameters: expected a list, got a mapping"));
  EXPECT_THAT(ErrorOf("objective: maximize\n"),
              HasSubstr("objective: expected a mapping (Objective), got 'maximize'"));
  EXPECT_THAT(ErrorOf("name: [a, b]\n"),
              HasSubstr("name: expected a string, got a list"));
  EXPECT_THAT(
      ErrorOf("trainer: {settings: {batch_norm: yes}}\n"),
      HasSubstr("trainer.settings.batch_norm: expected true or false, got 'yes'"));
  EXPECT_THAT(ErrorOf("algorithm: {name: tpe, options: [1, 2]}\n"),
              HasSubstr("algorithm.options: expected a mapping, got a list"));
}

TEST(SpecLoader, EnumsByNameCaseInsensitive) {
  EXPECT_THAT(
      ErrorOf("parameters:\n  - name: a\n    scale: LOGG\n"),
      AllOf(HasSubstr("spec.yaml:3:12: parameters[0].scale: unknown value 'LOGG'"),
            HasSubstr("LINEAR, LOG, LOG1M"), Not(HasSubstr("UNSPECIFIED"))));
  EXPECT_THAT(ErrorOf("objective: {goal: BIGGER}\n"),
              HasSubstr("objective.goal: unknown value 'BIGGER'"));
  absl::StatusOr<caviar::v1::StudySpec> spec = ParseSpecYaml(
      "objective: {goal: minimize}\nparameters: [{name: a, scale: log1m}]\n");
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_EQ(spec->objective().goal(), caviar::v1::MINIMIZE);
  EXPECT_EQ(spec->parameters(0).scale(), caviar::v1::LOG1M);
}

TEST(SpecLoader, YamlSyntaxErrorHasLineAndColumn) {
  std::string error = ErrorOf("name: s\nparameters: [a, b\nbudget: {max_trials: 3}\n");
  EXPECT_THAT(error, HasSubstr("spec.yaml:"));
  EXPECT_THAT(error, HasSubstr("YAML syntax error"));
  EXPECT_THAT(ErrorOf("name: s\n  bad: indent\n"), HasSubstr("spec.yaml:2:"));
}

// Debian's yaml-cpp 0.7 loops forever in LoadAll on these (fuzz finding 6):
// each must be refused, promptly.
TEST(SpecLoader, ACommaWhereADocumentValueWouldStartIsRefusedNotAHang) {
  for (const char* text : {",}\n", ",a\n", "  name: s\n,x\n", "\"a\"\n,x\n"}) {
    EXPECT_THAT(ErrorOf(text), HasSubstr("expected one YAML document")) << text;
  }
}

TEST(SpecLoader, StructureErrors) {
  EXPECT_THAT(ErrorOf(""), HasSubstr("spec.yaml: the document is empty"));
  EXPECT_THAT(ErrorOf("- a\n- b\n"), HasSubstr("spec: expected a mapping (StudySpec)"));
  EXPECT_THAT(ErrorOf("name: a\n---\nname: b\n"),
              HasSubstr("expected one YAML document"));
  EXPECT_THAT(ErrorOf("name: a\nname: b\n"),
              HasSubstr("spec.yaml:2:1: name: duplicate key"));
  EXPECT_THAT(
      ErrorOf(
          "parameters:\n  - name: a\n    double: {min: 0, max: 1}\n    integer: {}\n"),
      AllOf(HasSubstr("spec.yaml:4:5: parameters[0].integer: 'double' is already set"),
            HasSubstr("one of: double, integer, discrete, categorical")));
  EXPECT_THAT(ErrorOf("command: {argv: [x]}\ntrainer: {epochs: 1}\n"),
              HasSubstr("trainer: 'command' is already set"));
}

TEST(SpecLoader, ReportsEveryErrorAtOnce) {
  std::string error = ErrorOf("nme: s\nbudget: {max_trials: x}\nseed: y\n");
  EXPECT_THAT(error, HasSubstr("nme: unknown field"));
  EXPECT_THAT(error, HasSubstr("budget.max_trials: expected an integer"));
  EXPECT_THAT(error, HasSubstr("seed: expected a non-negative integer"));
}

TEST(SpecLoader, ScalarsKeepTheirTypes) {
  absl::StatusOr<caviar::v1::StudySpec> spec = ParseSpecYaml(R"(
name: 123
description: true
seed: 18446744073709551615
budget: {max_trials: 1e3}
parameters:
  - name: d
    discrete: {values: [1, 2.5, -3e-2, 1.5e308]}
command:
  argv: [python3, 0.1, "{x}", 'quoted']
  env: {A: 1, B: "two"}
algorithm:
  name: tpe
  options: {n_startup: 10, gamma: 0.25, mode: fast, flag: false, quoted: "10",
            list: [1, a], nothing: ~, nested: {k: 1}}
trainer_unused_check: null
)");
  ASSERT_FALSE(spec.ok());  // trainer_unused_check is unknown...
  EXPECT_THAT(std::string(spec.status().message()),
              HasSubstr("trainer_unused_check: unknown field"));
  spec = ParseSpecYaml(R"(
name: 123
description: true
seed: 18446744073709551615
budget: {max_trials: 1e3}
parameters:
  - name: d
    discrete: {values: [1, 2.5, -3e-2, 1.5e308]}
command:
  argv: [python3, 0.1, "{x}", 'quoted']
  env: {A: 1, B: "two"}
algorithm:
  name: tpe
  options: {n_startup: 10, gamma: 0.25, mode: fast, flag: false, quoted: "10",
            list: [1, a], nothing: ~, nested: {k: 1}}
)");
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_EQ(spec->name(), "123");
  EXPECT_EQ(spec->description(), "true");
  EXPECT_EQ(spec->seed(), std::numeric_limits<uint64_t>::max());
  EXPECT_EQ(spec->budget().max_trials(), 1000);
  ASSERT_EQ(spec->parameters(0).discrete().values_size(), 4);
  EXPECT_DOUBLE_EQ(spec->parameters(0).discrete().values(2), -0.03);
  EXPECT_EQ(spec->parameters(0).discrete().values(3), 1.5e308);
  EXPECT_EQ(spec->command().argv(1), "0.1");
  EXPECT_EQ(spec->command().env().at("A"), "1");
  const auto& options = spec->algorithm().options().fields();
  EXPECT_EQ(options.at("n_startup").number_value(), 10);
  EXPECT_EQ(options.at("gamma").number_value(), 0.25);
  EXPECT_EQ(options.at("mode").string_value(), "fast");
  EXPECT_FALSE(options.at("flag").bool_value());
  EXPECT_TRUE(options.at("flag").has_bool_value());
  EXPECT_EQ(options.at("quoted").string_value(), "10");
  EXPECT_EQ(options.at("list").list_value().values(1).string_value(), "a");
  EXPECT_TRUE(options.at("nothing").has_null_value());
  EXPECT_EQ(options.at("nested").struct_value().fields().at("k").number_value(), 1);
}

TEST(SpecLoader, MissingFileIsNotFoundAndNamed) {
  absl::StatusOr<caviar::v1::StudySpec> spec = LoadSpecFile("/nonexistent/study.yaml");
  ASSERT_FALSE(spec.ok());
  EXPECT_EQ(spec.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(spec.status().message()),
              HasSubstr("cannot read spec file '/nonexistent/study.yaml'"));
  spec = LoadSpecFile(CAVIAR_EXAMPLES_DIR);
  ASSERT_FALSE(spec.ok());
  EXPECT_THAT(std::string(spec.status().message()), HasSubstr("is a directory"));
}

TEST(SpecLoader, FileErrorsNameTheFile) {
  const std::filesystem::path dir = std::filesystem::path(::testing::TempDir()) /
                                    ("spec_loader_" + std::to_string(getpid()));
  std::filesystem::create_directories(dir / "sub");
  const std::string path = (dir / "bad.yaml").string();
  std::ofstream(path) << "name: s\nbudget: {max_trails: 3}\n";
  absl::StatusOr<caviar::v1::StudySpec> spec = LoadSpecFile(path);
  ASSERT_FALSE(spec.ok());
  EXPECT_THAT(std::string(spec.status().message()),
              HasSubstr(path + ":2:10: budget.max_trails: unknown field (did you mean "
                               "'max_trials'?)"));

  const std::string relative = (dir / "relative.yaml").string();
  std::ofstream(relative) << "name: s\ncommand: {argv: [x], working_dir: sub/./}\n";
  spec = LoadSpecFile(relative);
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_EQ(spec->command().working_dir(), (dir / "sub").string());
  std::filesystem::remove_all(dir);
}

// Fuzz finding 5 (tests/fuzz/README.md): a 735-byte spec with control
// characters made yaml-cpp allocate without bound. Refused before parsing.
TEST(SpecLoader, ControlCharactersAreRefusedBeforeYamlCppSeesThem) {
  absl::StatusOr<caviar::v1::StudySpec> spec =
      LoadSpecFile(std::string(CAVIAR_FUZZ_CORPUS_DIR) +
                   "/regression-yaml-cpp-hang-control-chars.yaml");
  ASSERT_FALSE(spec.ok());
  EXPECT_EQ(spec.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(spec.status().message()),
              AllOf(HasSubstr("regression-yaml-cpp-hang-control-chars.yaml:"),
                    HasSubstr("is not allowed in YAML")));
  EXPECT_EQ(ErrorOf("name: s\nobjective: {metric: a\x01"
                    "b}\n"),
            "spec.yaml:2:22: character U+0001 is not allowed in YAML (no control "
            "characters but tab, line feed and carriage return)");
  EXPECT_THAT(ErrorOf("# x\nname: \x1f"), HasSubstr("spec.yaml:2:7: character U+001F "));
  EXPECT_THAT(ErrorOf(std::string("name: a\0", 9)),
              HasSubstr("spec.yaml:1:8: character U+0000 "));
  // Columns count characters, not bytes.
  EXPECT_THAT(ErrorOf("name: \xc3\xa9t\xc3\xa9\x02"), HasSubstr("spec.yaml:1:10: "));
  // Tabs, CR LF line ends, a byte order mark and UTF-8 beyond ASCII are fine.
  std::string crlf = std::string("\xef\xbb\xbf") + kMinimal;
  for (size_t at = 0; (at = crlf.find('\n', at)) != std::string::npos; at += 2) {
    crlf.insert(at, "\r");
  }
  crlf += "#\tcaf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\n";
  EXPECT_TRUE(ParseSpecYaml(crlf).ok()) << ParseSpecYaml(crlf).status();
}

// Fuzz finding 4: a string that is not UTF-8 ended the CLI (nlohmann's dump
// threw). Refused with its position instead.
TEST(SpecLoader, TextThatIsNotUtf8IsRefusedWithItsPosition) {
  EXPECT_EQ(ErrorOf("name: caf\xe9\nobjective: {metric: m}\n"),
            "spec.yaml:1:10: not UTF-8 (byte 0xE9); save the spec as UTF-8");
  absl::StatusOr<caviar::v1::StudySpec> spec = LoadSpecFile(
      std::string(CAVIAR_FUZZ_CORPUS_DIR) + "/regression-invalid-utf8-string.yaml");
  ASSERT_FALSE(spec.ok());
  EXPECT_THAT(
      std::string(spec.status().message()),
      HasSubstr("regression-invalid-utf8-string.yaml:1:10: not UTF-8 (byte 0xE9)"));
  // Overlong forms, surrogates, truncated and stray continuation bytes.
  EXPECT_THAT(ErrorOf("name: \xc0\xaf"),
              HasSubstr("spec.yaml:1:7: not UTF-8 (byte 0xC0)"));
  EXPECT_THAT(ErrorOf("name: \xed\xa0\x80"), HasSubstr("spec.yaml:1:7: not UTF-8"));
  EXPECT_THAT(ErrorOf("name: ab\xe2\x82"), HasSubstr("spec.yaml:1:9: not UTF-8"));
  EXPECT_THAT(ErrorOf("name: \x80"), HasSubstr("spec.yaml:1:7: not UTF-8 (byte 0x80)"));
  EXPECT_THAT(ErrorOf("name: \xf4\x90\x80\x80"), HasSubstr("spec.yaml:1:7: not UTF-8"));
}

TEST(SpecLoader, SpecsOverTheSizeCapAreRefusedUnread) {
  std::string big = kMinimal;
  big += "# " + std::string(kMaxSpecYamlBytes, 'x') + "\n";
  EXPECT_THAT(ErrorOf(big), HasSubstr(absl::StrCat("spec.yaml: ", big.size(),
                                                   " bytes is over the 2097152-byte "
                                                   "limit of a spec")));
  std::string fits = kMinimal;
  fits += "# " + std::string(kMaxSpecYamlBytes - fits.size() - 3, 'x') + "\n";
  ASSERT_EQ(fits.size(), kMaxSpecYamlBytes);
  EXPECT_TRUE(ParseSpecYaml(fits).ok());
  // An endless file is read only up to the cap.
  absl::StatusOr<caviar::v1::StudySpec> spec = LoadSpecFile("/dev/zero");
  ASSERT_FALSE(spec.ok());
  EXPECT_THAT(std::string(spec.status().message()),
              HasSubstr("/dev/zero: 2097153 bytes is over the 2097152-byte limit"));
}

TEST(SpecLoader, OverridesAreCheckedBeforeTheyAreParsed) {
  const std::filesystem::path dir = std::filesystem::path(::testing::TempDir()) /
                                    ("spec_loader_set_" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  const std::string path = (dir / "spec.yaml").string();
  std::ofstream(path) << kMinimal;
  absl::StatusOr<caviar::v1::StudySpec> spec =
      LoadSpecFile(path, {"budget.max_trials=3", "name=a\x03"});
  ASSERT_FALSE(spec.ok());
  EXPECT_THAT(std::string(spec.status().message()),
              HasSubstr("--set #2:1:7: character U+0003 is not allowed in YAML"));
  std::filesystem::remove_all(dir);
}

TEST(SpecLoader, ResolveRelativePathsLeavesAbsoluteAndEmptyAlone) {
  caviar::v1::StudySpec spec;
  spec.mutable_command()->set_working_dir("/abs/dir");
  ResolveRelativePaths("/base", &spec);
  EXPECT_EQ(spec.command().working_dir(), "/abs/dir");
  spec.mutable_command()->set_working_dir("");
  ResolveRelativePaths("/base", &spec);
  EXPECT_EQ(spec.command().working_dir(), "");
  spec.mutable_command()->set_working_dir("../x");
  ResolveRelativePaths("/base/examples", &spec);
  EXPECT_EQ(spec.command().working_dir(), "/base/x");
}

caviar::v1::StudySpec FullSpec() {
  caviar::v1::StudySpec spec;
  const bool parsed = google::protobuf::TextFormat::ParseFromString(
      R"pb(
        name: "full"
        description: "every kind of field: a: b, #not a comment"
        objective { metric: "dev_accuracy" goal: MINIMIZE }
        parameters {
          name: "lr"
          double { min: 0.0001 max: 0.1 }
          scale: LOG
          grid_points: 7
        }
        parameters {
          name: "beta"
          double { min: 0.9 max: 0.999 }
          scale: LOG1M
        }
        parameters {
          name: "units"
          integer { min: -5 max: 9007199254740993 }
        }
        parameters {
          name: "size"
          discrete { values: [ 1, 2.5, 1e-300, 3.141592653589793 ] }
        }
        parameters {
          name: "opt"
          categorical { values: [ "adam", "true", "0.5", "", "null", "{x}" ] }
        }
        algorithm {
          name: "coarse_to_fine"
          options {
            fields {
              key: "rounds"
              value { number_value: 3 }
            }
            fields {
              key: "mode"
              value { string_value: "12" }
            }
            fields {
              key: "on"
              value { bool_value: true }
            }
            fields {
              key: "l"
              value {
                list_value {
                  values { number_value: 0.5 }
                  values { string_value: "x" }
                }
              }
            }
            fields {
              key: "s"
              value {
                struct_value {
                  fields {
                    key: "k"
                    value { number_value: -1 }
                  }
                }
              }
            }
          }
        }
        pruner {
          name: "median"
          options {
            fields {
              key: "warmup"
              value { number_value: 2 }
            }
          }
        }
        budget { max_trials: 100 max_parallel_trials: 4 }
        trial_policy { lease_seconds: 60 max_retries: 3 }
        seed: 18446744073709551615
        command {
          argv: [ "python3", "train.py", "--lr", "{lr}", "--flag", "yes", "1e-4" ]
          env { key: "OMP_NUM_THREADS" value: "1" }
          env { key: "MODE" value: "fast: really" }
          working_dir: "/srv/work dir"
          grace_seconds: 9
        }
      )pb",
      &spec);
  EXPECT_TRUE(parsed);
  return spec;
}

TEST(SpecLoader, RoundTripThroughYaml) {
  const caviar::v1::StudySpec spec = FullSpec();
  const std::string yaml = SpecToYaml(spec);
  absl::StatusOr<caviar::v1::StudySpec> back = ParseSpecYaml(yaml, "round-trip");
  ASSERT_TRUE(back.ok()) << back.status() << "\n" << yaml;
  std::string differences;
  google::protobuf::util::MessageDifferencer differencer;
  differencer.ReportDifferencesToString(&differences);
  EXPECT_TRUE(differencer.Compare(spec, *back)) << differences << "\n" << yaml;
  // Readable: flow style for small messages, enums by name.
  EXPECT_THAT(yaml, HasSubstr("double: {min: 0.0001, max: 0.1}"));
  EXPECT_THAT(yaml, HasSubstr("scale: LOG1M"));
  EXPECT_THAT(yaml, HasSubstr("seed: 18446744073709551615"));
}

TEST(SpecLoader, RoundTripOfTrainerSpecKeepsExplicitDefaults) {
  caviar::v1::StudySpec spec;
  spec.set_name("trainer");
  auto* trainer = spec.mutable_trainer();
  trainer->set_epochs(3);
  trainer->mutable_dataset()->mutable_csv()->set_train_path("data/train.csv");
  trainer->mutable_dataset()->mutable_csv()->set_has_header(true);
  trainer->mutable_dataset()->set_split_seed(42);
  trainer->mutable_settings()->set_batch_norm(false);  // Explicitly false.
  trainer->mutable_settings()->set_learning_rate(0);   // Explicitly zero.
  trainer->mutable_settings()->set_optimizer("adam");
  const std::string yaml = SpecToYaml(spec);
  absl::StatusOr<caviar::v1::StudySpec> back = ParseSpecYaml(yaml);
  ASSERT_TRUE(back.ok()) << back.status() << "\n" << yaml;
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(spec, *back)) << yaml;
  EXPECT_TRUE(back->trainer().settings().has_batch_norm());
  EXPECT_TRUE(back->trainer().settings().has_learning_rate());
}

// A number a double cannot hold must not change the spec silently (1e400
// used to become 0, and vanish from a list).
TEST(SpecLoader, NumbersADoubleCannotHoldAreRefusedAndNamed) {
  EXPECT_THAT(ErrorOf(R"(parameters: [{name: x, double: {min: -1, max: 1e400}}])"),
              HasSubstr("spec.yaml:1:47: parameters[0].double.max: 1e400 is out of range "
                        "for a double"));
  EXPECT_THAT(
      ErrorOf(R"(parameters: [{name: x, discrete: {values: [1, 1e999, 2]}}])"),
      HasSubstr("parameters[0].discrete.values[1]: 1e999 is out of range for a double"));
  EXPECT_THAT(ErrorOf(R"(parameters: [{name: x, double: {min: 0, max: -1e-400}}])"),
              HasSubstr("parameters[0].double.max: -1e-400 is too small for a double "
                        "(it would read as 0)"));
  EXPECT_THAT(ErrorOf("trainer: {settings: {learning_rate: .inf}}"),
              HasSubstr("trainer.settings.learning_rate: .inf is not a finite number"));
  EXPECT_THAT(ErrorOf("parameters: [{name: x, double: {min: .nan, max: 1}}]"),
              HasSubstr("parameters[0].double.min: .nan is not a finite number"));
  EXPECT_THAT(ErrorOf("algorithm: {name: tpe, options: {gamma: 1e400}}"),
              HasSubstr("algorithm.options.gamma: 1e400 is out of range for a double"));
  // The largest and smallest normal doubles still read exactly.
  absl::StatusOr<caviar::v1::StudySpec> spec = ParseSpecYaml(
      "parameters: [{name: x, double: {min: -1.7976931348623157e308, max: "
      "2.2250738585072014e-308}}]");
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_EQ(spec->parameters(0).double_().min(), -std::numeric_limits<double>::max());
  EXPECT_EQ(spec->parameters(0).double_().max(), std::numeric_limits<double>::min());
}

// Zero is a value, not "unset": retries can be turned off, and the spec
// printed back says so.
TEST(SpecLoader, ExplicitZerosOfOptionalFieldsRoundTrip) {
  absl::StatusOr<caviar::v1::StudySpec> spec = ParseSpecYaml(
      "trial_policy: {max_retries: 0}\ncommand: {argv: [run], grace_seconds: 0}\n");
  ASSERT_TRUE(spec.ok()) << spec.status();
  const std::string yaml = SpecToYaml(*spec);
  EXPECT_THAT(yaml, HasSubstr("trial_policy: {max_retries: 0}"));
  EXPECT_THAT(yaml, HasSubstr("grace_seconds: 0"));
  absl::StatusOr<caviar::v1::StudySpec> back = ParseSpecYaml(yaml);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(*spec, *back)) << yaml;
  absl::StatusOr<caviar::v1::StudySpec> unset = ParseSpecYaml("command: {argv: [run]}");
  ASSERT_TRUE(unset.ok()) << unset.status();
  EXPECT_THAT(SpecToYaml(*unset), Not(HasSubstr("trial_policy")));
}

TEST(SpecLoader, EmptyMessageRoundTrips) {
  EXPECT_EQ(SpecToYaml(caviar::v1::StudySpec()), "{}\n");
}

}  // namespace
}  // namespace caviar::client
