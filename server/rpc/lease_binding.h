// How a worker call is bound to the lease it acts on (see services.h,
// "Identity of workers"): the worker id the coordinator sees, and the check
// that the caller's credential is the one that took the trial's lease.
//
// Thread-safety: as the Coordinator.
#ifndef CAVIAR_SERVER_RPC_LEASE_BINDING_H_
#define CAVIAR_SERVER_RPC_LEASE_BINDING_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "server/rpc/auth.h"
#include "server/scheduling/coordinator.h"

namespace caviar::rpc {

// The worker id the coordinator sees: "<credential>/<worker_id>" when
// credentials are configured, `worker_id` itself on an open coordinator.
std::string ScopedWorkerId(const Caller& caller, const std::string& worker_id);

// PERMISSION_DENIED if trial `id`'s lease was taken under another
// credential; NOT_FOUND for an unknown trial.
absl::Status CheckLeaseCredential(scheduling::Coordinator& coordinator,
                                  const Caller& caller, int64_t id);

}  // namespace caviar::rpc

#endif  // CAVIAR_SERVER_RPC_LEASE_BINDING_H_
