// Small conversions shared by the scheduling layer's files.
#ifndef CAVIAR_SERVER_SCHEDULING_PROTO_UTIL_H_
#define CAVIAR_SERVER_SCHEDULING_PROTO_UTIL_H_

#include <algorithm>
#include <map>

#include "absl/time/time.h"
#include "caviar/v1/trial.pb.h"
#include "google/protobuf/timestamp.pb.h"

namespace caviar::scheduling {

inline google::protobuf::Timestamp ToProto(absl::Time t) {
  google::protobuf::Timestamp ts;
  const int64_t nanos = absl::ToUnixNanos(t);
  ts.set_seconds(nanos / 1'000'000'000);
  ts.set_nanos(static_cast<int32_t>(nanos % 1'000'000'000));
  return ts;
}

inline absl::Time FromProto(const google::protobuf::Timestamp& ts) {
  return absl::FromUnixSeconds(ts.seconds()) + absl::Nanoseconds(ts.nanos());
}

// The trial without its learning curve (stored apart, and long): the curve
// is set aside while the rest is copied, so it costs nothing to skip.
// `trial` is as it was on return.
inline caviar::v1::Trial WithoutMeasurements(caviar::v1::Trial* trial) {
  google::protobuf::RepeatedPtrField<caviar::v1::Measurement> curve;
  curve.Swap(trial->mutable_measurements());
  caviar::v1::Trial copy = *trial;
  curve.Swap(trial->mutable_measurements());
  return copy;
}

// Drops the points of the trial's earlier attempts from its learning curve
// (the Store keeps every attempt's; only the latest one is the trial's).
inline void KeepCurrentAttemptCurve(caviar::v1::Trial& trial) {
  auto* curve = trial.mutable_measurements();
  curve->erase(std::remove_if(curve->begin(), curve->end(),
                              [&](const caviar::v1::Measurement& m) {
                                return m.attempt() != 0 && m.attempt() != trial.attempt();
                              }),
               curve->end());
}

// For showing a trial: the current branch's curve as KeepCurrentAttemptCurve
// keeps it, and each earlier rollback branch's (Measurement.branch) points
// of the latest attempt that ran it, so the history shows what was tried.
// A trial never rolled back gets exactly KeepCurrentAttemptCurve's curve.
inline void KeepBranchCurves(caviar::v1::Trial& trial) {
  std::map<int32_t, int32_t> latest_attempt;  // Of each earlier branch.
  for (const caviar::v1::Measurement& m : trial.measurements()) {
    if (m.branch() == trial.branch()) continue;
    int32_t& latest = latest_attempt[m.branch()];
    latest = std::max(latest, m.attempt());
  }
  auto* curve = trial.mutable_measurements();
  curve->erase(std::remove_if(curve->begin(), curve->end(),
                              [&](const caviar::v1::Measurement& m) {
                                const int32_t keep = m.branch() == trial.branch()
                                                         ? trial.attempt()
                                                         : latest_attempt[m.branch()];
                                return m.attempt() != 0 && m.attempt() != keep;
                              }),
               curve->end());
}

}  // namespace caviar::scheduling

#endif  // CAVIAR_SERVER_SCHEDULING_PROTO_UTIL_H_
