#include "server/rpc/auth.h"

#include <fstream>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace caviar::rpc {
namespace {

bool ConstantTimeEquals(std::string_view a, std::string_view b) {
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  const size_t n = std::min(a.size(), b.size());
  for (size_t i = 0; i < n; ++i) diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  return diff == 0;
}

}  // namespace

grpc::Status Authorizer::Check(const grpc::CallbackServerContext& context,
                               Role role) const {
  const bool worker_open = worker_token_.empty();
  const bool admin_open = admin_token_.empty();
  if (role == Role::kAdmin ? admin_open : (worker_open || admin_open))
    return grpc::Status::OK;
  const auto& metadata = context.client_metadata();
  auto it = metadata.find("authorization");
  if (it == metadata.end()) {
    return grpc::Status(grpc::StatusCode::UNAUTHENTICATED,
                        "this coordinator needs a bearer token (set CAVIAR_TOKEN)");
  }
  const std::string_view value(it->second.data(), it->second.size());
  constexpr std::string_view kBearer = "Bearer ";
  if (value.substr(0, kBearer.size()) != kBearer) {
    return grpc::Status(grpc::StatusCode::UNAUTHENTICATED,
                        "authorization metadata must be \"Bearer <token>\"");
  }
  const std::string_view token = value.substr(kBearer.size());
  if (!admin_open && ConstantTimeEquals(token, admin_token_)) return grpc::Status::OK;
  if (role == Role::kWorker && !worker_open && ConstantTimeEquals(token, worker_token_)) {
    return grpc::Status::OK;
  }
  return grpc::Status(
      grpc::StatusCode::PERMISSION_DENIED,
      role == Role::kAdmin
          ? "this call needs the admin token"
          : "the token is neither this coordinator's worker nor admin token");
}

absl::StatusOr<std::string> ReadTokenFile(const std::string& path) {
  std::ifstream in(path);
  if (!in)
    return absl::InvalidArgumentError(absl::StrCat(path, ": cannot read token file"));
  std::string line;
  std::getline(in, line);
  std::string token(absl::StripAsciiWhitespace(line));
  if (token.empty())
    return absl::InvalidArgumentError(absl::StrCat(path, ": token file is empty"));
  return token;
}

}  // namespace caviar::rpc
