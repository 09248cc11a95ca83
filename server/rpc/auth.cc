#include "server/rpc/auth.h"

#include <string_view>

#include "absl/strings/str_cat.h"

namespace caviar::rpc {
namespace {

// Equal strings, in time that depends on the lengths only.
bool ConstantTimeEquals(std::string_view a, std::string_view b) {
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  const size_t n = std::min(a.size(), b.size());
  for (size_t i = 0; i < n; ++i) diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  return diff == 0;
}

bool RoleAllows(Role role, Access access) {
  switch (access) {
    case Access::kRead:
      return role == Role::kViewer || role == Role::kAdmin;
    case Access::kWorker:
      return role == Role::kWorker || role == Role::kAdmin;
    case Access::kWrite:
    case Access::kAdmin:
      return role == Role::kAdmin;
  }
  return false;
}

const char* AccessName(Access access) {
  switch (access) {
    case Access::kRead:
      return "a viewer or admin token";
    case Access::kWorker:
      return "a worker or admin token";
    case Access::kWrite:
    case Access::kAdmin:
      return "an admin token";
  }
  return "?";
}

}  // namespace

Authorizer::Authorizer(std::vector<Credential> credentials,
                       bool require_worker_client_certificate)
    : require_worker_client_certificate_(require_worker_client_certificate),
      credentials_(std::make_shared<const Credentials>(std::move(credentials))) {}

void Authorizer::Replace(std::vector<Credential> credentials) {
  auto next = std::make_shared<const Credentials>(std::move(credentials));
  absl::MutexLock lock(&mu_);
  credentials_ = std::move(next);
}

std::shared_ptr<const Authorizer::Credentials> Authorizer::Snapshot() const {
  absl::MutexLock lock(&mu_);
  return credentials_;
}

bool Authorizer::open() const { return Snapshot()->empty(); }

absl::Status Authorizer::Check(const grpc::ServerContextBase& context, Access access,
                               Caller* caller) const {
  *caller = Caller();
  if (access == Access::kWorker && require_worker_client_certificate_) {
    std::shared_ptr<const grpc::AuthContext> auth = context.auth_context();
    if (auth == nullptr || !auth->IsPeerAuthenticated()) {
      return absl::UnauthenticatedError(
          "worker calls need a client certificate signed by this "
          "coordinator's client CA (caviar-worker --tls-cert/--tls-key)");
    }
  }
  const auto& metadata = context.client_metadata();
  auto it = metadata.find("authorization");
  if (it == metadata.end()) return CheckAuthorization(nullptr, access, caller);
  const std::string_view value(it->second.data(), it->second.size());
  return CheckAuthorization(&value, access, caller);
}

absl::Status Authorizer::CheckAuthorization(const std::string_view* authorization,
                                            Access access, Caller* caller) const {
  *caller = Caller();
  std::shared_ptr<const Credentials> credentials = Snapshot();
  if (credentials->empty()) {
    caller->anonymous = true;
    return absl::OkStatus();
  }
  if (authorization == nullptr) {
    return absl::UnauthenticatedError(
        "this coordinator needs a bearer token (set CAVIAR_TOKEN)");
  }
  const std::string_view value = *authorization;
  constexpr std::string_view kBearer = "Bearer ";
  if (value.substr(0, kBearer.size()) != kBearer) {
    return absl::UnauthenticatedError("authorization must be \"Bearer <token>\"");
  }
  const std::string_view token = value.substr(kBearer.size());
  const Credential* match = nullptr;
  for (const Credential& credential : *credentials) {
    // No early exit: every token is compared, whichever matches.
    if (ConstantTimeEquals(token, credential.token)) match = &credential;
  }
  if (match == nullptr) {
    return absl::UnauthenticatedError(
        "the bearer token matches none of this coordinator's tokens");
  }
  caller->credential = match->name;
  if (!RoleAllows(match->role, access)) {
    return absl::PermissionDeniedError(
        absl::StrCat("this call needs ", AccessName(access), "; credential \"",
                     match->name, "\" is a ", RoleName(match->role)));
  }
  return absl::OkStatus();
}

}  // namespace caviar::rpc
