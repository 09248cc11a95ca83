#include "server/rpc/credentials.h"

#include <sys/stat.h>

#include <fstream>
#include <set>
#include <sstream>
#include <tuple>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "common/status_macros.h"

namespace caviar::rpc {
namespace {

constexpr size_t kMinTokenLength = 16;
constexpr size_t kMaxNameLength = 64;

absl::StatusOr<Role> ParseRole(absl::string_view text) {
  if (text == "admin") return Role::kAdmin;
  if (text == "worker") return Role::kWorker;
  if (text == "viewer") return Role::kViewer;
  return absl::InvalidArgumentError(absl::StrCat(
      "role: unknown role \"", text, "\" (expected admin, worker or viewer)"));
}

absl::Status CheckName(absl::string_view name) {
  if (name.empty() || name.size() > kMaxNameLength) {
    return absl::InvalidArgumentError(
        absl::StrCat("name: must be 1 to ", kMaxNameLength, " characters"));
  }
  for (char c : name) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '_' &&
        c != '-') {
      return absl::InvalidArgumentError(absl::StrCat(
          "name: \"", name, "\" may only hold letters, digits, '.', '_' and '-'"));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> ReadWholeFile(const std::string& path) {
  CAVIAR_RETURN_IF_ERROR(CheckTokenFilePermissions(path));
  std::ifstream in(path);
  if (!in) return absl::InvalidArgumentError(absl::StrCat(path, ": cannot read"));
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// A single-token file (--worker-token-file, --admin-token-file): its first line.
absl::StatusOr<Credential> ReadSingleToken(const std::string& path, std::string name,
                                           Role role) {
  CAVIAR_ASSIGN_OR_RETURN(std::string text, ReadWholeFile(path));
  std::string line = text.substr(0, text.find('\n'));
  std::string token(absl::StripAsciiWhitespace(line));
  if (token.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": token file is empty"));
  }
  return Credential{std::move(name), role, std::move(token)};
}

}  // namespace

const char* RoleName(Role role) {
  switch (role) {
    case Role::kAdmin:
      return "admin";
    case Role::kWorker:
      return "worker";
    case Role::kViewer:
      return "viewer";
  }
  return "?";
}

absl::StatusOr<std::vector<Credential>> ParseTokens(absl::string_view text,
                                                    absl::string_view source) {
  std::vector<Credential> credentials;
  int line_number = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    ++line_number;
    line = absl::StripAsciiWhitespace(line);
    if (line.empty() || line[0] == '#') continue;
    auto error = [&](const absl::Status& status) {
      return absl::InvalidArgumentError(
          absl::StrCat(source, ":", line_number, ": ", status.message()));
    };
    std::vector<absl::string_view> fields =
        absl::StrSplit(line, absl::ByAnyChar(" \t"), absl::SkipEmpty());
    if (fields.size() != 3) {
      return error(absl::InvalidArgumentError(
          absl::StrCat("expected 3 fields \"ROLE NAME TOKEN\", got ", fields.size())));
    }
    absl::StatusOr<Role> role = ParseRole(fields[0]);
    if (!role.ok()) return error(role.status());
    if (absl::Status name = CheckName(fields[1]); !name.ok()) return error(name);
    if (fields[2].size() < kMinTokenLength) {
      return error(absl::InvalidArgumentError(
          absl::StrCat("token: must be at least ", kMinTokenLength, " characters, got ",
                       fields[2].size(), " (make one with: openssl rand -hex 32)")));
    }
    credentials.push_back({std::string(fields[1]), *role, std::string(fields[2])});
  }
  return credentials;
}

absl::Status CheckTokenFilePermissions(const std::string& path) {
  struct stat info;
  if (::stat(path.c_str(), &info) != 0) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": cannot read token file"));
  }
  if ((info.st_mode & (S_IROTH | S_IWOTH)) != 0) {
    return absl::PermissionDeniedError(
        absl::StrCat(path, ": token file is readable or writable by every user (mode ",
                     absl::StrFormat("%03o", info.st_mode & 0777),
                     "); restrict it, e.g. chmod 600 ", path));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<Credential>> LoadCredentials(const TokenFiles& files) {
  std::vector<Credential> all;
  if (!files.tokens_file.empty()) {
    CAVIAR_ASSIGN_OR_RETURN(std::string text, ReadWholeFile(files.tokens_file));
    CAVIAR_ASSIGN_OR_RETURN(all, ParseTokens(text, files.tokens_file));
    if (all.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat(files.tokens_file, ": holds no credentials"));
    }
  }
  for (auto [path, name, role] :
       {std::tuple{&files.worker_token_file, "worker", Role::kWorker},
        std::tuple{&files.admin_token_file, "admin", Role::kAdmin}}) {
    if (path->empty()) continue;
    CAVIAR_ASSIGN_OR_RETURN(Credential credential, ReadSingleToken(*path, name, role));
    all.push_back(std::move(credential));
  }
  std::set<absl::string_view> names, tokens;
  for (const Credential& credential : all) {
    if (!names.insert(credential.name).second) {
      return absl::InvalidArgumentError(
          absl::StrCat("credential name \"", credential.name,
                       "\" is given twice (names must be unique across "
                       "--tokens-file, --worker-token-file and --admin-token-file)"));
    }
    if (!tokens.insert(credential.token).second) {
      return absl::InvalidArgumentError(absl::StrCat(
          "credential \"", credential.name,
          "\" has the same token as another credential (tokens must be unique)"));
    }
  }
  return all;
}

}  // namespace caviar::rpc
