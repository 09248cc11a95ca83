#include "server/search/pruner.h"

#include <cmath>
#include <limits>
#include <memory>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/search/study_loop.h"

namespace caviar::search {
namespace {

using ::caviar::search::testing::Number;
using ::caviar::search::testing::Struct;
using ::caviar::search::testing::Text;
using ::testing::HasSubstr;

// A study of trials reporting one metric per step.
class Study {
 public:
  explicit Study(caviar::v1::Goal goal, const std::string& metric = "dev_accuracy") {
    spec_.mutable_objective()->set_metric(metric);
    spec_.mutable_objective()->set_goal(goal);
  }

  caviar::v1::Trial& Add(const std::vector<double>& curve,
                         caviar::v1::TrialState state = caviar::v1::SUCCEEDED) {
    trials_.push_back(std::make_unique<caviar::v1::Trial>());
    caviar::v1::Trial& t = *trials_.back();
    t.set_id(static_cast<int64_t>(trials_.size()));
    t.set_state(state);
    for (size_t k = 0; k < curve.size(); ++k)
      Append(t, static_cast<int64_t>(k + 1), curve[k]);
    return t;
  }

  void Append(caviar::v1::Trial& t, int64_t step, double value,
              const std::string& metric = "") {
    caviar::v1::Measurement* m = t.add_measurements();
    m->set_step(step);
    (*m->mutable_metrics())[metric.empty() ? spec_.objective().metric() : metric] = value;
  }

  // A pruner for this study, given its trials so far as the coordinator
  // gives a new pruner the stored history at load.
  std::unique_ptr<Pruner> MakePruner(const std::string& name,
                                     const google::protobuf::Struct& options = {}) {
    caviar::v1::Pruner p;
    p.set_name(name);
    *p.mutable_options() = options;
    absl::StatusOr<std::unique_ptr<Pruner>> pruner = CreatePruner(p, spec_.objective());
    EXPECT_TRUE(pruner.ok()) << pruner.status();
    if (!pruner.ok()) return nullptr;
    for (const auto& t : trials_) (*pruner)->TakeIn(*t);
    return std::move(*pruner);
  }

  // `t` reports `value` at `step`, stored as the coordinator does it: the
  // pruner decides, then takes the report in. Returns the decision.
  PruneDecision Report(Pruner& pruner, caviar::v1::Trial& t, int64_t step, double value) {
    Append(t, step, value);
    PruneDecision decision = pruner.OnReport(Context(t));
    pruner.OnReportCommitted(Context(t));
    return decision;
  }

  PruneContext Context(const caviar::v1::Trial& t) {
    PruneContext c;
    c.spec = &spec_;
    c.trial = &t;
    return c;
  }

  std::vector<std::unique_ptr<caviar::v1::Trial>>& trials() { return trials_; }

 private:
  caviar::v1::StudySpec spec_;
  std::vector<std::unique_ptr<caviar::v1::Trial>> trials_;
};

TEST(MedianPrunerTest, StopsATrialBelowTheMedianOfSucceededTrials) {
  Study study(caviar::v1::MAXIMIZE);
  for (double top : {0.80, 0.82, 0.85, 0.86, 0.90})
    study.Add({top - 0.2, top - 0.1, top});
  study.Add({0.1, 0.1, 0.1}, caviar::v1::STOPPED);  // Stopped trials do not count.
  auto pruner = study.MakePruner("median", Struct({{"warmup_steps", Number(2)}}));
  caviar::v1::Trial& good = study.Add({}, caviar::v1::ACTIVE);
  caviar::v1::Trial& bad = study.Add({}, caviar::v1::ACTIVE);
  EXPECT_FALSE(study.Report(*pruner, bad, 1, 0.3).stop);  // Warm-up.
  EXPECT_FALSE(study.Report(*pruner, good, 1, 0.7).stop);
  EXPECT_FALSE(study.Report(*pruner, good, 2, 0.76).stop);  // Median at step 2: 0.75.
  PruneDecision d = study.Report(*pruner, bad, 2, 0.5);
  EXPECT_TRUE(d.stop);
  EXPECT_THAT(d.reason,
              HasSubstr("median rule at step 2: best dev_accuracy so far 0.5 is worse "
                        "than the median 0.75 of 5 succeeded trials"));
}

TEST(MedianPrunerTest, ComparesTheBestValueSoFar) {
  Study study(caviar::v1::MINIMIZE, "loss");
  for (double end : {1.0, 1.1, 1.2}) study.Add({3, 2, end});
  auto pruner = study.MakePruner("median", Struct({{"min_trials", Number(3)}}));
  caviar::v1::Trial& t = study.Add({}, caviar::v1::ACTIVE);
  EXPECT_FALSE(study.Report(*pruner, t, 1, 1.5).stop);  // Median 3.
  EXPECT_FALSE(study.Report(*pruner, t, 2, 2.5).stop);  // Best so far 1.5 < 2.
  EXPECT_TRUE(study.Report(*pruner, t, 3, 1.4).stop);   // 1.4 > 1.1.
}

TEST(MedianPrunerTest, WaitsForMinTrials) {
  Study study(caviar::v1::MINIMIZE, "loss");
  study.Add({1, 1});
  auto pruner = study.MakePruner("median");  // min_trials 5.
  caviar::v1::Trial& t = study.Add({}, caviar::v1::ACTIVE);
  EXPECT_FALSE(study.Report(*pruner, t, 1, 100).stop);
}

TEST(MedianPrunerTest, RebuildsFromHistoryAndTakesInFinishedTrials) {
  Study study(caviar::v1::MINIMIZE, "loss");
  for (double v : {1.0, 2.0}) study.Add({v});
  auto incremental = study.MakePruner("median", Struct({{"min_trials", Number(3)}}));
  caviar::v1::Trial& probe = study.Add({}, caviar::v1::ACTIVE);
  EXPECT_FALSE(study.Report(*incremental, probe, 1, 2.5).stop);  // 2 trials only.
  caviar::v1::Trial& third = study.Add({3.0});
  incremental->OnTrialFinished(third);
  incremental->OnTrialFinished(third);  // Twice is harmless.
  caviar::v1::Trial& late = study.Add({}, caviar::v1::ACTIVE);
  EXPECT_TRUE(study.Report(*incremental, late, 1, 2.5).stop);  // Median 2.
  // A pruner created now (coordinator restart) decides the same from history.
  auto rebuilt = study.MakePruner("median", Struct({{"min_trials", Number(3)}}));
  EXPECT_TRUE(rebuilt->OnReport(study.Context(late)).stop);
  // A coordinator that replays finished trials at start, then reports: each
  // trial counts once.
  auto replayed = study.MakePruner("median", Struct({{"min_trials", Number(4)}}));
  for (const auto& t : study.trials()) replayed->OnTrialFinished(*t);
  EXPECT_FALSE(replayed->OnReport(study.Context(late)).stop);  // 3 succeeded < 4.
}

TEST(AshaPrunerTest, KeepsTheTopThirdAtEachRung) {
  Study study(caviar::v1::MINIMIZE, "loss");
  auto pruner = study.MakePruner(
      "asha", Struct({{"reduction_factor", Number(3)}, {"min_resource", Number(2)}}));
  // Rungs at steps 2, 6, 18. The first trial at a rung always goes on.
  caviar::v1::Trial& first = study.Add({}, caviar::v1::ACTIVE);
  EXPECT_FALSE(study.Report(*pruner, first, 1, 5.0).stop);
  EXPECT_FALSE(study.Report(*pruner, first, 2, 4.0).stop);
  // With fewer than 3 at a rung, only the best goes on.
  caviar::v1::Trial& worse = study.Add({}, caviar::v1::ACTIVE);
  PruneDecision d = study.Report(*pruner, worse, 2, 4.5);
  EXPECT_TRUE(d.stop);
  EXPECT_THAT(d.reason,
              HasSubstr("asha: at rung 0 (step 2) loss 4.5 is not in the best 1 of "
                        "the 2 trials"));
  for (double v : {3.0, 3.5, 6.0, 7.0}) {
    caviar::v1::Trial& t = study.Add({}, caviar::v1::ACTIVE);
    study.Report(*pruner, t, 2, v);
  }
  // Six at rung 0: values 3, 3.5, 4, 4.5, 6, 7; top two are 3 and 3.5. A
  // seventh at 3.2 is second of seven: kept; one at 5 is not.
  caviar::v1::Trial& good = study.Add({}, caviar::v1::ACTIVE);
  EXPECT_FALSE(study.Report(*pruner, good, 2, 3.2).stop);
  caviar::v1::Trial& mid = study.Add({}, caviar::v1::ACTIVE);
  EXPECT_TRUE(study.Report(*pruner, mid, 2, 5.0).stop);
  // Between rungs nothing is judged; a jump over a rung is judged there.
  EXPECT_FALSE(study.Report(*pruner, good, 5, 100.0).stop);
  // First at rung 1 (step 6), with its value at step 2, the latest by step 6.
  EXPECT_FALSE(study.Report(*pruner, first, 7, 1.0).stop);
  EXPECT_TRUE(
      study.Report(*pruner, good, 6, 4.1).stop);  // Second at rung 1, worse than 4.
}

TEST(AshaPrunerTest, RebuiltPrunerMatchesTheIncrementalOne) {
  Study study(caviar::v1::MAXIMIZE, "acc");
  auto incremental = study.MakePruner("asha");  // eta 3, min_resource 1: rungs 1, 3, 9.
  std::vector<caviar::v1::Trial*> trials;
  for (int k = 0; k < 9; ++k) trials.push_back(&study.Add({}, caviar::v1::ACTIVE));
  std::vector<bool> stopped(trials.size(), false);
  for (int64_t step = 1; step <= 4; ++step) {
    for (size_t k = 0; k < trials.size(); ++k) {
      if (stopped[k]) continue;
      const double acc = 0.1 * static_cast<double>((k * 7) % 9) + 0.01 * step;
      stopped[k] = study.Report(*incremental, *trials[k], step, acc).stop;
    }
  }
  // A trial reporting now gets the same answer from a pruner built afresh.
  for (size_t k = 0; k < trials.size(); ++k) {
    if (stopped[k]) continue;
    auto rebuilt = study.MakePruner("asha");  // From the stored history.
    study.Append(*trials[k], 9, 0.05 * static_cast<double>(k));
    EXPECT_EQ(rebuilt->OnReport(study.Context(*trials[k])).stop,
              incremental->OnReport(study.Context(*trials[k])).stop)
        << "trial " << k;
  }
}

// The coordinator asks before it stores: a report that was judged but never
// stored (its commit failed) leaves no trace in the pruner.
TEST(AshaPrunerTest, AJudgedReportIsTakenInOnlyOnceCommitted) {
  Study study(caviar::v1::MAXIMIZE, "acc");
  auto pruner = study.MakePruner("asha");  // eta 3: one of every three goes on at rung 1.
  caviar::v1::Trial& good = study.Add({}, caviar::v1::ACTIVE);
  caviar::v1::Trial& bad = study.Add({}, caviar::v1::ACTIVE);
  EXPECT_FALSE(study.Report(*pruner, good, 1, 0.9).stop);
  study.Append(bad, 1, 0.1);
  EXPECT_TRUE(pruner->OnReport(study.Context(bad)).stop);
  EXPECT_TRUE(pruner->OnReport(study.Context(bad)).stop);  // Judged again, the same.
}

TEST(DivergencePrunerTest, StopsOnNanInfAndBlowUp) {
  Study study(caviar::v1::MAXIMIZE);
  auto pruner = study.MakePruner("divergence", Struct({{"factor", Number(5)}}));
  caviar::v1::Trial& nan = study.Add({}, caviar::v1::ACTIVE);
  EXPECT_FALSE(study.Report(*pruner, nan, 1, 0.5).stop);
  PruneDecision d =
      study.Report(*pruner, nan, 2, std::numeric_limits<double>::quiet_NaN());
  EXPECT_TRUE(d.stop);
  EXPECT_THAT(d.reason, HasSubstr("diverged: dev_accuracy is nan at step 2"));

  caviar::v1::Trial& inf = study.Add({}, caviar::v1::ACTIVE);
  study.Append(inf, 1, std::numeric_limits<double>::infinity(), "train_loss");
  EXPECT_THAT(pruner->OnReport(study.Context(inf)).reason,
              HasSubstr("train_loss is inf"));

  caviar::v1::Trial& blow = study.Add({}, caviar::v1::ACTIVE);
  study.Append(blow, 1, 2.0, "loss");
  EXPECT_FALSE(pruner->OnReport(study.Context(blow)).stop);
  study.Append(blow, 2, 9.0, "loss");
  EXPECT_FALSE(pruner->OnReport(study.Context(blow)).stop);  // 9 < 5 x 2.
  study.Append(blow, 3, 11.0, "loss");
  EXPECT_THAT(pruner->OnReport(study.Context(blow)).reason,
              HasSubstr("diverged: loss 11 at step 3 is above 5 x its first value 2"));

  // A non-loss metric may be NaN (e.g. undefined precision) without a stop.
  caviar::v1::Trial& other = study.Add({}, caviar::v1::ACTIVE);
  study.Append(other, 1, std::numeric_limits<double>::quiet_NaN(), "precision");
  EXPECT_FALSE(pruner->OnReport(study.Context(other)).stop);
}

TEST(PrunerRegistryTest, NamesAndOptionErrors) {
  EXPECT_THAT(PrunerNames(),
              ::testing::ElementsAre("asha", "divergence", "median", "none"));
  caviar::v1::Pruner p;
  p.set_name("hyperband");
  EXPECT_THAT(CreatePruner(p, {}).status().message(),
              HasSubstr("pruner.name: unknown pruner \"hyperband\""));
  p.set_name("asha");
  *p.mutable_options() = Struct({{"reduction_factor", Number(1)}});
  EXPECT_THAT(CreatePruner(p, {}).status().message(),
              HasSubstr("pruner.options.reduction_factor: must be in [2, 1000], got 1"));
  p.set_name("median");
  *p.mutable_options() = Struct({{"warmup", Number(1)}});
  EXPECT_THAT(
      CreatePruner(p, {}).status().message(),
      HasSubstr(
          "pruner.options.warmup: unknown option (known: warmup_steps, min_trials)"));
  p.set_name("divergence");
  *p.mutable_options() = Struct({{"metric", Text("")}});
  EXPECT_THAT(CreatePruner(p, {}).status().message(),
              HasSubstr("pruner.options.metric: must not be empty"));
}

}  // namespace
}  // namespace caviar::search
