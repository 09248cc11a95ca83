// Credentials of caviar-coordinator: named bearer tokens, each with a role,
// read from files.
//
// Roles:
//   admin   everything: the StudyService (create, stop, steer studies), the
//           WorkerService, and the AdminService (backup).
//   worker  the WorkerService only (take, report, complete trials).
//   viewer  the read-only StudyService calls (GetStudy, ListStudies,
//           ListTrials, GetTrial, BestTrials, GetImportance): dashboards,
//           CI jobs, notebooks.
//
// Token file (--tokens-file), one credential per line:
//
//   # role    name      token
//   admin     alice     3q9Xh0...   (any non-blank characters)
//   worker    pool-gpu  Zr51sd...
//   viewer    grafana   k2P0aa...
//
// Blank lines and lines starting with '#' are ignored. Names are 1-64 of
// [A-Za-z0-9._-] and unique; tokens are at least 16 characters and unique.
// The single-token files of --worker-token-file / --admin-token-file hold
// just the token (first line) and become the credentials "worker" and
// "admin". Every token file must not be readable or writable by others
// (chmod 600 or 640): a world-readable file is refused.
//
// Thread-safety: plain functions and values.
#ifndef CAVIAR_SERVER_RPC_CREDENTIALS_H_
#define CAVIAR_SERVER_RPC_CREDENTIALS_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace caviar::rpc {

enum class Role { kViewer, kWorker, kAdmin };

const char* RoleName(Role role);

struct Credential {
  std::string name;
  Role role = Role::kViewer;
  std::string token;
};

// Parses the token file format above. INVALID_ARGUMENT naming `source`, the
// line and the field ("tokens.txt:3: role: unknown role \"root\" ...").
absl::StatusOr<std::vector<Credential>> ParseTokens(absl::string_view text,
                                                    absl::string_view source);

// INVALID_ARGUMENT naming the file if it cannot be read, or
// PERMISSION_DENIED if others may read or write it.
absl::Status CheckTokenFilePermissions(const std::string& path);

// Where the coordinator's credentials come from (empty: not used).
struct TokenFiles {
  std::string tokens_file;        // Several credentials (format above).
  std::string worker_token_file;  // One token: credential "worker".
  std::string admin_token_file;   // One token: credential "admin".
  bool empty() const {
    return tokens_file.empty() && worker_token_file.empty() && admin_token_file.empty();
  }
};

// Reads and checks every configured file; names and tokens must be unique
// across all of them. An empty result means no tokens (an open coordinator).
absl::StatusOr<std::vector<Credential>> LoadCredentials(const TokenFiles& files);

}  // namespace caviar::rpc

#endif  // CAVIAR_SERVER_RPC_CREDENTIALS_H_
