// AuditLog: one line per refused call (failed authentication, a role that
// may not make the call, a lease held by another credential, bad input,
// unknown ids, stale leases: any call answered with a non-OK status), with
// the method, the peer's address, the credential's name (never its token)
// and the reason:
//
//   refused /caviar.v1.StudyService/CreateStudy peer=ipv4:10.0.0.7:51234
//     credential=grafana code=PERMISSION_DENIED reason="this call needs ..."
//
// (one line). Rate-limited by a token bucket (`burst` lines at once, then
// `per_second`): a flood of bad calls cannot fill the disk; the next line
// logged after a gap says how many were left out.
//
// Thread-safety: Refused may be called concurrently.
#ifndef CAVIAR_SERVER_RPC_AUDIT_H_
#define CAVIAR_SERVER_RPC_AUDIT_H_

#include <cstdint>
#include <functional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "grpcpp/support/status.h"

namespace caviar::rpc {

class AuditLog {
 public:
  // Receives each line; default: the coordinator's log (WARNING).
  using Sink = std::function<void(const std::string& line)>;

  explicit AuditLog(Sink sink = nullptr, double per_second = 10, int burst = 100);

  void Refused(absl::string_view method, absl::string_view peer,
               absl::string_view credential, const grpc::Status& status);

  // Lines left out by the rate limit so far.
  int64_t suppressed() const;

 private:
  const Sink sink_;
  const double per_second_;
  const double burst_;
  mutable absl::Mutex mu_;
  double tokens_ ABSL_GUARDED_BY(mu_);
  absl::Time last_refill_ ABSL_GUARDED_BY(mu_);
  int64_t suppressed_since_last_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t suppressed_total_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace caviar::rpc

#endif  // CAVIAR_SERVER_RPC_AUDIT_H_
