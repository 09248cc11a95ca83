// Small helpers for absl::Status / absl::StatusOr propagation, since Debian's
// Abseil 20220623 ships none.
//
//   CAVIAR_RETURN_IF_ERROR(DoThing());
//   CAVIAR_ASSIGN_OR_RETURN(auto value, ComputeValue());
#ifndef CAVIAR_COMMON_STATUS_MACROS_H_
#define CAVIAR_COMMON_STATUS_MACROS_H_

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define CAVIAR_RETURN_IF_ERROR(expr)                 \
  do {                                               \
    ::absl::Status caviar_status_ = (expr);          \
    if (!caviar_status_.ok()) return caviar_status_; \
  } while (false)

#define CAVIAR_STATUS_CONCAT_INNER_(a, b) a##b
#define CAVIAR_STATUS_CONCAT_(a, b) CAVIAR_STATUS_CONCAT_INNER_(a, b)

#define CAVIAR_ASSIGN_OR_RETURN(lhs, expr)                                              \
  CAVIAR_ASSIGN_OR_RETURN_IMPL_(CAVIAR_STATUS_CONCAT_(caviar_statusor_, __LINE__), lhs, \
                                expr)

#define CAVIAR_ASSIGN_OR_RETURN_IMPL_(statusor, lhs, expr) \
  auto statusor = (expr);                                  \
  if (!statusor.ok()) return statusor.status();            \
  lhs = std::move(statusor).value()

#endif  // CAVIAR_COMMON_STATUS_MACROS_H_
