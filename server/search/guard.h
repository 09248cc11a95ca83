// The wrapper CreateSampler puts around every sampler, so that two rules
// hold whatever the algorithm:
//
//  - Regions: a sampler that does not sample regions itself
//    (SamplesRegions() false) has its point mapped into the latest region of
//    the study (e.g. after `caviar refine`), and the suggestion takes that
//    region's round. The wrapper reports SamplesRegions() true, so the
//    scheduler does not map it again.
//  - Finite spaces: no configuration that any trial of the study already
//    has (in any state) is proposed again. A taken proposal is replaced by a
//    free configuration drawn at random (from the suggestion's seed), inside
//    the current region if one is free there, else anywhere; OUT_OF_RANGE
//    once every configuration is taken.
//
// Not thread-safe (called under the study's lock, like any sampler).
#ifndef CAVIAR_SERVER_SEARCH_GUARD_H_
#define CAVIAR_SERVER_SEARCH_GUARD_H_

#include <memory>

#include "server/search/sampler.h"
#include "server/search/space.h"

namespace caviar::search {

std::unique_ptr<Sampler> GuardSampler(const SearchSpace& space,
                                      std::unique_ptr<Sampler> inner);

}  // namespace caviar::search

#endif  // CAVIAR_SERVER_SEARCH_GUARD_H_
