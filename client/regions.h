// The regions of a coarse-to-fine search (caviar.v1.Region: boxes on the
// unit cube the samplers see) in parameter values, the one place the
// command line converts them: `caviar regions`, `caviar refine`, `caviar
// study` and every study's JSON show them through this.
//
// Thread-safety: pure functions.
#ifndef CAVIAR_CLIENT_REGIONS_H_
#define CAVIAR_CLIENT_REGIONS_H_

#include <string>
#include <vector>

#include "caviar/v1/study.pb.h"
#include "caviar/v1/trial.pb.h"
#include "server/search/space.h"

namespace caviar::client {

struct RegionValues {
  int round = 0;
  std::string origin;  // "whole space", "sampler" or "refine".
  google::protobuf::Timestamp create_time;
  // Per parameter of the space, in its order: the region's lowest and
  // highest value (for a discrete or categorical parameter, the first and
  // last value whose bin the region holds).
  std::vector<caviar::v1::ParameterValue> lo, hi;
};

// Round 0 first: the whole space, unless the study recorded its own round 0
// (a coarse-to-fine sampler does), then every recorded region, oldest
// first. A parameter a region leaves out keeps its extent from the round
// before.
std::vector<RegionValues> RegionsInValues(const caviar::v1::Study& study,
                                          const search::SearchSpace& space);

}  // namespace caviar::client

#endif  // CAVIAR_CLIENT_REGIONS_H_
