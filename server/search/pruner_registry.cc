// The list of pruners. Adding one: its file and one line here.
#include <functional>
#include <map>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "server/search/options.h"
#include "server/search/pruner.h"
#include "server/search/pruners.h"

namespace caviar::search {
namespace {

class NoPruner : public Pruner {
 public:
  PruneDecision OnReport(const PruneContext&) override { return {}; }
};

absl::StatusOr<std::unique_ptr<Pruner>> NewNoPruner(
    const google::protobuf::Struct& options, const caviar::v1::Objective&) {
  absl::Status s = Options(options, "pruner.options").CheckKnownKeys({});
  if (!s.ok()) return s;
  return std::make_unique<NoPruner>();
}

using PrunerFactory = std::function<absl::StatusOr<std::unique_ptr<Pruner>>(
    const google::protobuf::Struct& options, const caviar::v1::Objective& objective)>;

const std::map<std::string, PrunerFactory>& Registry() {
  static const auto* const registry = new std::map<std::string, PrunerFactory>{
      {"asha", NewAshaPruner},
      {"divergence", NewDivergencePruner},
      {"median", NewMedianPruner},
      {"none", NewNoPruner},
  };
  return *registry;
}

}  // namespace

std::optional<double> MeasuredLoss(const caviar::v1::Objective& objective,
                                   const caviar::v1::Measurement& measurement) {
  auto it = measurement.metrics().find(objective.metric());
  if (it == measurement.metrics().end()) return std::nullopt;
  return objective.goal() == caviar::v1::MAXIMIZE ? -it->second : it->second;
}

double UserValue(const caviar::v1::Objective& objective, double loss) {
  return objective.goal() == caviar::v1::MAXIMIZE ? -loss : loss;
}

absl::StatusOr<std::unique_ptr<Pruner>> CreatePruner(const caviar::v1::Pruner& pruner,
                                                     const caviar::v1::Objective& objective) {
  const std::string name = pruner.name().empty() ? "none" : pruner.name();
  auto it = Registry().find(name);
  if (it == Registry().end()) {
    return absl::InvalidArgumentError(
        absl::StrCat("pruner.name: unknown pruner \"", name,
                     "\" (known: ", absl::StrJoin(PrunerNames(), ", "), ")"));
  }
  return it->second(pruner.options(), objective);
}

std::vector<std::string> PrunerNames() {
  std::vector<std::string> names;
  for (const auto& [name, factory] : Registry()) names.push_back(name);
  return names;
}

}  // namespace caviar::search
