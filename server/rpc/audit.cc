#include "server/rpc/audit.h"

#include <algorithm>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/log.h"

namespace caviar::rpc {
namespace {

// gRPC's status names, for a line an operator can grep.
absl::string_view CodeName(grpc::StatusCode code) {
  static constexpr absl::string_view kNames[] = {
      "OK",
      "CANCELLED",
      "UNKNOWN",
      "INVALID_ARGUMENT",
      "DEADLINE_EXCEEDED",
      "NOT_FOUND",
      "ALREADY_EXISTS",
      "PERMISSION_DENIED",
      "RESOURCE_EXHAUSTED",
      "FAILED_PRECONDITION",
      "ABORTED",
      "OUT_OF_RANGE",
      "UNIMPLEMENTED",
      "INTERNAL",
      "UNAVAILABLE",
      "DATA_LOSS",
      "UNAUTHENTICATED",
  };
  const int i = static_cast<int>(code);
  return i >= 0 && i < static_cast<int>(std::size(kNames)) ? kNames[i] : "UNKNOWN";
}

// Text from outside (a peer string, a message quoting a request) on one
// line, bounded, without control characters.
std::string Clean(absl::string_view text, size_t limit) {
  std::string escaped = absl::CHexEscape(text.substr(0, limit));
  if (text.size() > limit) escaped += "...";
  return escaped;
}

}  // namespace

AuditLog::AuditLog(Sink sink, double per_second, int burst)
    : sink_(sink ? std::move(sink)
                 : Sink([](const std::string& line) { CAVIAR_LOG(WARNING) << line; })),
      per_second_(per_second),
      burst_(burst),
      tokens_(burst),
      last_refill_(absl::Now()) {}

void AuditLog::Refused(absl::string_view method, absl::string_view peer,
                       absl::string_view credential, const grpc::Status& status) {
  int64_t left_out = 0;
  {
    absl::MutexLock lock(&mu_);
    const absl::Time now = absl::Now();
    tokens_ = std::min(burst_,
                       tokens_ + absl::ToDoubleSeconds(now - last_refill_) * per_second_);
    last_refill_ = now;
    if (tokens_ < 1) {
      ++suppressed_since_last_;
      ++suppressed_total_;
      return;
    }
    tokens_ -= 1;
    left_out = suppressed_since_last_;
    suppressed_since_last_ = 0;
  }
  std::string line =
      absl::StrCat("refused ", Clean(method, 128), " peer=", Clean(peer, 128),
                   " credential=", credential.empty() ? "-" : Clean(credential, 64),
                   " code=", CodeName(status.error_code()), " reason=\"",
                   Clean(status.error_message(), 300), "\"");
  if (left_out > 0) {
    absl::StrAppend(&line, " (", left_out,
                    " earlier refused calls not logged: rate limit)");
  }
  sink_(line);
}

int64_t AuditLog::suppressed() const {
  absl::MutexLock lock(&mu_);
  return suppressed_total_;
}

}  // namespace caviar::rpc
