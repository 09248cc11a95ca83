// A training step allocates nothing: the trainer's sources are compiled into
// this test with EIGEN_RUNTIME_NO_MALLOC and assertions on, so any Eigen heap
// allocation (temporaries, GEMM blocking buffers) while allocation is
// forbidden aborts the test.
#include <tuple>
#include <vector>

#include "gtest/gtest.h"
#include "worker/trainer/trainer.h"

namespace caviar::trainer {
namespace {

Dataset RandomData(int64_t n, int features, int classes) {
  Dataset data;
  data.num_classes = classes;
  data.features = Eigen::MatrixXf::Random(features, n);
  Random random(1);
  for (int64_t j = 0; j < n; ++j) data.labels.push_back(int32_t(random.Below(classes)));
  return data;
}

TEST(NoAllocationTest, TrainingEpochsAllocateNothingAfterTheFirst) {
  ASSERT_TRUE(Eigen::internal::is_malloc_allowed());
  // The benchmark's shape, with a smaller first layer to keep the test fast;
  // 1000 examples in batches of 128: the last batch is smaller.
  const Dataset train = RandomData(1000, 300, 10);
  for (OptimizerKind kind : {OptimizerKind::kAdam, OptimizerKind::kMomentum,
                             OptimizerKind::kRmsprop, OptimizerKind::kGradientDescent}) {
    for (auto [batch_norm, threads, dropout] :
         {std::tuple{true, 1, 0.0}, std::tuple{false, 1, 0.0}, std::tuple{true, 2, 0.0},
          std::tuple{true, 1, 0.3}}) {
      TrainerConfig config;
      config.threads = threads;
      config.dropout = dropout;
      config.hidden = {256, 256};
      config.batch_norm = batch_norm;
      config.optimizer.kind = kind;
      config.optimizer.l2 = 1e-4;
      auto trainer = Trainer::Create(config, train).value();
      trainer->Train(train, Dataset(), 1, nullptr);
      Eigen::internal::set_is_malloc_allowed(false);
      const TrainResult result = trainer->Train(train, Dataset(), 2, nullptr,
                                                [] { return false; });
      Eigen::internal::set_is_malloc_allowed(true);
      EXPECT_EQ(result.outcome, TrainResult::Outcome::kCompleted);
      EXPECT_EQ(result.epochs_completed, 2);
    }
  }
}

#ifndef NDEBUG
TEST(NoAllocationTest, TheGuardWorks) {
  EXPECT_DEATH(
      {
        Eigen::internal::set_is_malloc_allowed(false);
        Eigen::MatrixXf m(100, 100);
        m.setZero();
      },
      "");
}
#endif

}  // namespace
}  // namespace caviar::trainer
