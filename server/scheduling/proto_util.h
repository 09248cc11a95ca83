// Small conversions shared by the scheduling layer's files.
#ifndef CAVIAR_SERVER_SCHEDULING_PROTO_UTIL_H_
#define CAVIAR_SERVER_SCHEDULING_PROTO_UTIL_H_

#include <algorithm>

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

}  // namespace caviar::scheduling

#endif  // CAVIAR_SERVER_SCHEDULING_PROTO_UTIL_H_
