// The README cannot drift from the code: its CLI table lists every command of
// `caviar --help` with every option of `caviar COMMAND --help` (and nothing
// that does not exist), and its search tables list every option each
// sampler and pruner accepts (as their "unknown option" errors list them).
#include <cstdio>
#include <fstream>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/search/pruner.h"
#include "server/search/sampler.h"
#include "server/search/space.h"

namespace caviar {
namespace {

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// The README's section under "## TITLE", up to the next "## ".
std::string Section(const std::string& title) {
  const std::string readme = ReadFile(std::string(CAVIAR_SOURCE_DIR) + "/README.md");
  const size_t start = readme.find("\n## " + title + "\n");
  if (start == std::string::npos) return "";
  const size_t end = readme.find("\n## ", start + 1);
  return readme.substr(start, end == std::string::npos ? std::string::npos : end - start);
}

// The table row of a section whose first cell starts with `prefix`.
std::string Row(const std::string& section, const std::string& prefix) {
  for (absl::string_view line : absl::StrSplit(section, '\n')) {
    if (absl::StartsWith(line, "| " + prefix)) return std::string(line);
  }
  return "";
}

std::string RunCaviar(const std::string& arguments) {
  std::string out;
  std::unique_ptr<FILE, int (*)(FILE*)> pipe(
      popen((std::string(CAVIAR_CLI) + " " + arguments + " 2>&1").c_str(), "r"), pclose);
  char buffer[4096];
  size_t n;
  while (pipe && (n = fread(buffer, 1, sizeof buffer, pipe.get())) > 0) {
    out.append(buffer, n);
  }
  return out;
}

// The subcommands `caviar --help` lists.
std::vector<std::string> Commands() {
  std::vector<std::string> commands;
  bool listing = false;
  for (absl::string_view line : absl::StrSplit(RunCaviar("--help"), '\n')) {
    if (line == "Subcommands:") {
      listing = true;
    } else if (listing && absl::StartsWith(line, "  ") && line.size() > 2 &&
               line[2] != ' ') {
      std::vector<std::string> words =
          absl::StrSplit(absl::StripLeadingAsciiWhitespace(line), ' ');
      commands.push_back(words[0]);
    } else if (listing && line.empty()) {
      listing = false;
    }
  }
  return commands;
}

// The long options in a --help text's "Options:" part, --help left out.
std::vector<std::string> LongOptions(const std::string& help) {
  std::vector<std::string> options;
  bool in_options = false;
  for (absl::string_view line : absl::StrSplit(help, '\n')) {
    if (line == "Options:") {
      in_options = true;
      continue;
    }
    if (!in_options) continue;
    if (!absl::StartsWith(line, "  ") || absl::StartsWith(line, "   ")) {
      if (line.empty() || !absl::StartsWith(line, " ")) in_options = false;
      continue;
    }
    for (absl::string_view word :
         absl::StrSplit(absl::StripLeadingAsciiWhitespace(line), absl::ByAnyChar(", "))) {
      if (!absl::StartsWith(word, "--")) continue;
      if (word != "--help") options.emplace_back(word);
    }
  }
  return options;
}

TEST(ReadmeCli, ListsEveryCommandWithEveryOption) {
  const std::string section = Section("The CLI");
  ASSERT_FALSE(section.empty()) << "README.md has no '## The CLI' section";
  const std::vector<std::string> commands = Commands();
  ASSERT_GE(commands.size(), 10u) << RunCaviar("--help");
  for (const std::string& global : LongOptions(RunCaviar("--help"))) {
    EXPECT_THAT(section, ::testing::HasSubstr(global)) << "global option " << global;
  }
  for (const std::string& command : commands) {
    const std::string row = Row(section, "`caviar " + command + "`") +
                            Row(section, "`caviar " + command + " ");
    ASSERT_FALSE(row.empty()) << "README's CLI table has no row for `caviar " << command
                              << "`";
    for (const std::string& option : LongOptions(RunCaviar(command + " --help"))) {
      EXPECT_THAT(row, ::testing::HasSubstr(option))
          << "README's row of `caviar " << command << "` lacks " << option;
    }
  }
  // And no row for a command that does not exist.
  for (absl::string_view line : absl::StrSplit(section, '\n')) {
    if (!absl::StartsWith(line, "| `caviar ")) continue;
    std::vector<std::string> words =
        absl::StrSplit(line.substr(strlen("| `caviar ")), absl::ByAnyChar(" `"));
    EXPECT_THAT(commands, ::testing::Contains(words[0])) << line;
  }
}

// The option names an "unknown option" error lists ("(known: a, b)").
std::vector<std::string> KnownOptions(const absl::Status& status) {
  const std::string message(status.message());
  if (absl::StrContains(message, "takes none")) return {};
  const size_t start = message.find("(known: ");
  EXPECT_NE(start, std::string::npos) << message;
  if (start == std::string::npos) return {};
  const size_t end = message.find(')', start);
  return absl::StrSplit(message.substr(start + 8, end - start - 8), ", ");
}

google::protobuf::Struct UnknownOption() {
  google::protobuf::Struct options;
  (*options.mutable_fields())["no_such_option"].set_number_value(1);
  return options;
}

TEST(ReadmeSearch, ListsEveryOptionOfEverySampler) {
  const std::string section = Section("Search: samplers and pruners");
  ASSERT_FALSE(section.empty());
  google::protobuf::RepeatedPtrField<caviar::v1::ParameterSpec> parameters;
  caviar::v1::ParameterSpec* x = parameters.Add();
  x->set_name("x");
  x->mutable_double_()->set_min(0);
  x->mutable_double_()->set_max(1);
  absl::StatusOr<search::SearchSpace> space = search::SearchSpace::Create(parameters);
  ASSERT_TRUE(space.ok());
  for (const std::string& name : search::SamplerNames()) {
    const std::string row = Row(section, "`" + name + "`");
    ASSERT_FALSE(row.empty()) << "no row for algorithm " << name;
    caviar::v1::Algorithm algorithm;
    algorithm.set_name(name);
    *algorithm.mutable_options() = UnknownOption();
    auto sampler = search::CreateSampler(algorithm, *space);
    ASSERT_FALSE(sampler.ok()) << name << " accepted an unknown option";
    for (const std::string& option : KnownOptions(sampler.status())) {
      EXPECT_THAT(row, ::testing::HasSubstr("`" + option + "`"))
          << "README's row of algorithm " << name << " lacks option " << option;
    }
  }
}

TEST(ReadmeSearch, ListsEveryOptionOfEveryPruner) {
  const std::string section = Section("Search: samplers and pruners");
  caviar::v1::Objective objective;
  objective.set_metric("score");
  objective.set_goal(caviar::v1::MAXIMIZE);
  for (const std::string& name : search::PrunerNames()) {
    const std::string row = Row(section, "`" + name + "`");
    ASSERT_FALSE(row.empty()) << "no row for pruner " << name;
    caviar::v1::Pruner pruner;
    pruner.set_name(name);
    *pruner.mutable_options() = UnknownOption();
    auto created = search::CreatePruner(pruner, objective);
    ASSERT_FALSE(created.ok()) << name << " accepted an unknown option";
    for (const std::string& option : KnownOptions(created.status())) {
      EXPECT_THAT(row, ::testing::HasSubstr("`" + option + "`"))
          << "README's row of pruner " << name << " lacks option " << option;
    }
  }
}

}  // namespace
}  // namespace caviar
