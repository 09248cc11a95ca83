// The starting point of a panda study's one trial (panda_sampler.cc): the
// values of algorithm.options.start exactly as given (0.03 stays 0.03
// instead of coming back from its point on the unit cube as
// 0.030000000000000013), the middle of its range on its scale for every
// parameter left out. INVALID_ARGUMENT naming "algorithm.options.start.NAME"
// for a name the study does not search or a value outside its range.
// Thread-safe (pure).
#ifndef CAVIAR_SERVER_SEARCH_PANDA_START_H_
#define CAVIAR_SERVER_SEARCH_PANDA_START_H_

#include "absl/status/statusor.h"
#include "google/protobuf/struct.pb.h"
#include "server/search/space.h"

namespace caviar::search {

absl::StatusOr<ParameterMap> PandaStart(const SearchSpace& space,
                                        const google::protobuf::Struct& options);

}  // namespace caviar::search

#endif  // CAVIAR_SERVER_SEARCH_PANDA_START_H_
