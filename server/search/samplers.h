// Factories of the built-in samplers, one per file; registry.cc lists them.
#ifndef CAVIAR_SERVER_SEARCH_SAMPLERS_H_
#define CAVIAR_SERVER_SEARCH_SAMPLERS_H_

#include <memory>

#include "absl/status/statusor.h"
#include "google/protobuf/struct.pb.h"
#include "server/search/sampler.h"

namespace caviar::search {

absl::StatusOr<std::unique_ptr<Sampler>> NewRandomSampler(
    const SearchSpace& space, const google::protobuf::Struct& options);
absl::StatusOr<std::unique_ptr<Sampler>> NewGridSampler(
    const SearchSpace& space, const google::protobuf::Struct& options);
absl::StatusOr<std::unique_ptr<Sampler>> NewQuasiRandomSampler(
    const SearchSpace& space, const google::protobuf::Struct& options);
absl::StatusOr<std::unique_ptr<Sampler>> NewCoarseToFineSampler(
    const SearchSpace& space, const google::protobuf::Struct& options);
absl::StatusOr<std::unique_ptr<Sampler>> NewPandaSampler(
    const SearchSpace& space, const google::protobuf::Struct& options);
absl::StatusOr<std::unique_ptr<Sampler>> NewTpeSampler(
    const SearchSpace& space, const google::protobuf::Struct& options);

}  // namespace caviar::search

#endif  // CAVIAR_SERVER_SEARCH_SAMPLERS_H_
