#include "server/rpc/lease_binding.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace caviar::rpc {

std::string ScopedWorkerId(const Caller& caller, const std::string& worker_id) {
  if (caller.anonymous || worker_id.empty()) return worker_id;
  return absl::StrCat(caller.credential, "/", worker_id);
}

absl::Status CheckLeaseCredential(scheduling::Coordinator& coordinator,
                                  const Caller& caller, int64_t id) {
  if (caller.anonymous) return absl::OkStatus();
  absl::StatusOr<std::string> holder = coordinator.LeaseHolder(id);
  if (!holder.ok()) return holder.status();
  if (holder->empty() ||
      absl::StartsWith(*holder, absl::StrCat(caller.credential, "/"))) {
    return absl::OkStatus();
  }
  return absl::PermissionDeniedError(
      absl::StrCat("trial ", id,
                   " is leased under another credential; only the credential that took "
                   "a lease may report, complete or release its trial"));
}

}  // namespace caviar::rpc
