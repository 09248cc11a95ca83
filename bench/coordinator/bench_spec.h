// The study both coordinator benchmarks run: three parameters (a LOG
// double, an integer, a categorical), random search, a trivial command.
#ifndef CAVIAR_BENCH_COORDINATOR_BENCH_SPEC_H_
#define CAVIAR_BENCH_COORDINATOR_BENCH_SPEC_H_

#include <string>

#include "caviar/v1/study.pb.h"

namespace caviar::bench {

inline caviar::v1::StudySpec BenchSpec(const std::string& name, int trials) {
  caviar::v1::StudySpec spec;
  spec.set_name(name);
  spec.mutable_objective()->set_metric("score");
  spec.mutable_objective()->set_goal(caviar::v1::MAXIMIZE);
  auto* lr = spec.add_parameters();
  lr->set_name("learning_rate");
  lr->mutable_double_()->set_min(1e-4);
  lr->mutable_double_()->set_max(1);
  lr->set_scale(caviar::v1::LOG);
  auto* units = spec.add_parameters();
  units->set_name("units");
  units->mutable_integer()->set_min(50);
  units->mutable_integer()->set_max(100);
  auto* opt = spec.add_parameters();
  opt->set_name("optimizer");
  opt->mutable_categorical()->add_values("adam");
  opt->mutable_categorical()->add_values("momentum");
  spec.mutable_algorithm()->set_name("random");
  spec.mutable_budget()->set_max_trials(trials);
  spec.mutable_command()->add_argv("true");
  return spec;
}

}  // namespace caviar::bench

#endif  // CAVIAR_BENCH_COORDINATOR_BENCH_SPEC_H_
