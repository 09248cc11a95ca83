// The list of samplers. Adding one: its file, its factory in samplers.h, and
// one line here.
#include <map>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/splitmix64.h"
#include "server/search/guard.h"
#include "server/search/pbt.h"
#include "server/search/sampler.h"
#include "server/search/samplers.h"

namespace caviar::search {
namespace {

const std::map<std::string, SamplerFactory>& Registry() {
  static const auto* const registry = new std::map<std::string, SamplerFactory>{
      {"coarse_to_fine", NewCoarseToFineSampler},
      {"grid", NewGridSampler},
      {"panda", NewPandaSampler},
      {"pbt", NewPbtSampler},
      {"quasi_random", NewQuasiRandomSampler},
      {"random", NewRandomSampler},
      {"tpe", NewTpeSampler},
  };
  return *registry;
}

}  // namespace

absl::StatusOr<std::unique_ptr<Sampler>> CreateSampler(
    const caviar::v1::Algorithm& algorithm, const SearchSpace& space) {
  const std::string name = algorithm.name().empty() ? "random" : algorithm.name();
  auto it = Registry().find(name);
  if (it == Registry().end()) {
    return absl::InvalidArgumentError(
        absl::StrCat("algorithm.name: unknown algorithm \"", name,
                     "\" (known: ", absl::StrJoin(SamplerNames(), ", "), ")"));
  }
  absl::StatusOr<std::unique_ptr<Sampler>> sampler =
      it->second(space, algorithm.options());
  if (!sampler.ok()) return sampler;
  return GuardSampler(space, *std::move(sampler));
}

std::vector<std::string> SamplerNames() {
  std::vector<std::string> names;
  for (const auto& [name, factory] : Registry()) names.push_back(name);
  return names;
}

uint64_t MixSeed(uint64_t seed, uint64_t index) {
  // The index-th output of SplitMix64 started at `seed`.
  uint64_t state = seed + 0x9e3779b97f4a7c15ULL * index;
  return SplitMix64(state);
}

}  // namespace caviar::search
