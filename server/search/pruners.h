// Factories of the built-in pruners, one per file; pruner_registry.cc lists
// them. Plus the helpers they share for reading a trial's objective.
#ifndef CAVIAR_SERVER_SEARCH_PRUNERS_H_
#define CAVIAR_SERVER_SEARCH_PRUNERS_H_

#include <memory>
#include <optional>

#include "absl/status/statusor.h"
#include "caviar/v1/study.pb.h"
#include "caviar/v1/trial.pb.h"
#include "google/protobuf/struct.pb.h"
#include "server/search/pruner.h"

namespace caviar::search {

// Each built-in pruner's factory: its options and the study's objective.
absl::StatusOr<std::unique_ptr<Pruner>> NewMedianPruner(
    const google::protobuf::Struct& options, const caviar::v1::Objective& objective);
absl::StatusOr<std::unique_ptr<Pruner>> NewAshaPruner(
    const google::protobuf::Struct& options, const caviar::v1::Objective& objective);
absl::StatusOr<std::unique_ptr<Pruner>> NewDivergencePruner(
    const google::protobuf::Struct& options, const caviar::v1::Objective& objective);

// The objective of a measurement oriented for minimization (negated when the
// goal is MAXIMIZE), or nullopt if the measurement lacks the metric. May be
// NaN or infinite.
std::optional<double> MeasuredLoss(const caviar::v1::Objective& objective,
                                   const caviar::v1::Measurement& measurement);

// A loss back in the user's orientation, for messages.
double UserValue(const caviar::v1::Objective& objective, double loss);

}  // namespace caviar::search

#endif  // CAVIAR_SERVER_SEARCH_PRUNERS_H_
