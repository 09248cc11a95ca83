// What a study keeps in memory: live trials in full, finished ones only as
// counts and (for samplers that read history) points.
#include "server/scheduling/study_runtime.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/search/pruner.h"
#include "server/search/sampler.h"

namespace caviar::scheduling {
namespace {

using caviar::v1::Trial;
using ::testing::IsEmpty;
using ::testing::SizeIs;

std::unique_ptr<StudyRuntime> MakeStudy(const std::string& algorithm) {
  caviar::v1::Study study;
  caviar::v1::StudySpec& spec = *study.mutable_spec();
  spec.set_name("s");
  spec.mutable_objective()->set_metric("acc");
  spec.mutable_objective()->set_goal(caviar::v1::MAXIMIZE);
  auto* lr = spec.add_parameters();
  lr->set_name("lr");
  lr->mutable_double_()->set_min(0);
  lr->mutable_double_()->set_max(1);
  spec.mutable_algorithm()->set_name(algorithm);
  auto space = search::SearchSpace::Create(spec.parameters());
  auto sampler = search::CreateSampler(spec.algorithm(), *space);
  auto pruner = search::CreatePruner(spec.pruner(), spec.objective());
  EXPECT_TRUE(space.ok() && sampler.ok() && pruner.ok());
  return std::make_unique<StudyRuntime>(std::move(study), *std::move(space),
                                        *std::move(sampler), *std::move(pruner));
}

Trial At(int64_t id, caviar::v1::TrialState state, int attempt = 1) {
  Trial t;
  t.set_id(id);
  t.set_study("s");
  t.set_state(state);
  t.set_attempt(attempt);
  (*t.mutable_parameters())["lr"].set_double_value(0.25);
  return t;
}

TEST(StudyRuntimeTest, AFinishedTrialLeavesOnlyItsCountsAndPoint) {
  auto study = MakeStudy("tpe");
  ASSERT_TRUE(study->keeps_points());
  study->Apply(At(1, caviar::v1::ACTIVE));
  Trial* live = study->FindLive(1);
  ASSERT_NE(live, nullptr);
  caviar::v1::Measurement m;
  m.set_step(1);
  (*m.mutable_metrics())["acc"] = 0.5;
  study->AddMeasurement(live, m);
  Trial done = At(1, caviar::v1::SUCCEEDED);
  done.set_objective_value(0.9);
  const Trial returned = study->Apply(done);
  EXPECT_THAT(returned.measurements(), SizeIs(1));  // Handed back with its curve.
  EXPECT_EQ(study->FindLive(1), nullptr);          // And gone from memory.
  EXPECT_EQ(study->size(), 1);
  EXPECT_EQ(study->Count(caviar::v1::SUCCEEDED), 1);
  EXPECT_EQ(study->Count(caviar::v1::ACTIVE), 0);
  EXPECT_THAT(study->active(), IsEmpty());
  ASSERT_THAT(study->points(), SizeIs(1));
  EXPECT_EQ(study->points()[0].state, caviar::v1::SUCCEEDED);
  EXPECT_DOUBLE_EQ(*study->points()[0].loss, -0.9);  // Oriented for minimizing.
  EXPECT_DOUBLE_EQ(study->points()[0].unit[0], 0.25);
}

TEST(StudyRuntimeTest, ASamplerWithoutHistoryGetsNoPoints) {
  for (const char* algorithm : {"random", "quasi_random"}) {
    auto study = MakeStudy(algorithm);
    EXPECT_FALSE(study->keeps_points()) << algorithm;
    for (int64_t id = 1; id <= 100; ++id) {
      study->Apply(At(id, caviar::v1::ACTIVE));
      study->Apply(At(id, id % 2 ? caviar::v1::SUCCEEDED : caviar::v1::FAILED));
    }
    EXPECT_THAT(study->points(), IsEmpty()) << algorithm;
    EXPECT_EQ(study->size(), 100) << algorithm;
    EXPECT_EQ(study->Committed(), 50) << algorithm;
    EXPECT_EQ(study->FindLive(99), nullptr) << algorithm;
  }
}

TEST(StudyRuntimeTest, ANewAttemptStartsAnEmptyCurveAndTheSameAttemptKeepsIt) {
  auto study = MakeStudy("tpe");
  study->Apply(At(3, caviar::v1::ACTIVE));
  caviar::v1::Measurement m;
  m.set_step(1);
  study->AddMeasurement(study->FindLive(3), m);
  study->Apply(At(3, caviar::v1::ACTIVE));  // e.g. a nudge recorded: same attempt.
  EXPECT_THAT(study->FindLive(3)->measurements(), SizeIs(1));
  study->Apply(At(3, caviar::v1::PENDING, /*attempt=*/1));  // Lease expired.
  EXPECT_EQ(study->pending().count(3), 1u);
  study->Apply(At(3, caviar::v1::ACTIVE, /*attempt=*/2));  // Leased again.
  EXPECT_THAT(study->FindLive(3)->measurements(), IsEmpty());
  EXPECT_THAT(study->pending(), IsEmpty());
  EXPECT_EQ(study->size(), 1);
  ASSERT_THAT(study->points(), SizeIs(1));
}

}  // namespace
}  // namespace caviar::scheduling
