// The trainer's two GEMMs (gemm.h): Eigen's and the BLAS's products agree on
// every operand layout the network uses, split over 1 and 2 threads and on
// strided blocks; the default per-shape choice is a rule of the shape, the
// timed one (on request) follows its timings and is remembered, both are
// visible per product; a trainer forced onto either GEMM learns the same.
#include <atomic>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "worker/trainer/gemm.h"
#include "worker/trainer/ops.h"
#include "worker/trainer/thread_team.h"
#include "worker/trainer/trainer.h"

namespace caviar::trainer {
namespace {

struct Layout {
  bool lhs_transposed;
  bool rhs_transposed;
};

// out = op(lhs) * op(rhs) with `kind`, every operand a block of a larger
// matrix (leading dimension > rows), as the trainer's leftCols views are not
// but a caller's might be.
Eigen::MatrixXf ProductOf(GemmKind kind, int m, int n, int k, Layout layout, ThreadTeam* team) {
  Eigen::MatrixXf lhs_store = Eigen::MatrixXf::Random(layout.lhs_transposed ? k + 3 : m + 3,
                                                      layout.lhs_transposed ? m : k);
  Eigen::MatrixXf rhs_store = Eigen::MatrixXf::Random(layout.rhs_transposed ? n + 5 : k + 5,
                                                      layout.rhs_transposed ? k : n);
  Eigen::MatrixXf out_store = Eigen::MatrixXf::Constant(m + 2, n, 7.0f);
  const ConstMatrixRef<float> lhs =
      lhs_store.topRows(layout.lhs_transposed ? k : m);
  const ConstMatrixRef<float> rhs =
      rhs_store.topRows(layout.rhs_transposed ? n : k);
  Product<float>(kind, out_store.topRows(m), lhs, layout.lhs_transposed, rhs,
                 layout.rhs_transposed, team);
  EXPECT_TRUE((out_store.bottomRows(2).array() == 7.0f).all()) << "wrote outside its block";
  return out_store.topRows(m);
}

TEST(GemmTest, BlasAndEigenGiveTheSameProducts) {
  if (!HaveBlas()) GTEST_SKIP() << "built without a BLAS: Eigen only";
  for (int threads : {1, 2}) {
    ThreadTeam team(threads);
    // The network's products (forward, weight and input gradients) at a
    // small batch, plus shapes the split cuts by rows and by columns.
    for (auto [m, n, k] : {std::tuple{256, 128, 784}, std::tuple{256, 784, 128},
                           std::tuple{10, 128, 256}, std::tuple{256, 128, 10},
                           std::tuple{300, 40, 17}, std::tuple{1, 1, 1}}) {
      for (Layout layout : {Layout{false, false}, Layout{false, true}, Layout{true, false},
                            Layout{true, true}}) {
        std::srand(m * 7 + n * 3 + k);
        const Eigen::MatrixXf eigen = ProductOf(GemmKind::kEigen, m, n, k, layout, &team);
        std::srand(m * 7 + n * 3 + k);
        const Eigen::MatrixXf blas = ProductOf(GemmKind::kBlas, m, n, k, layout, &team);
        const float scale = eigen.cwiseAbs().maxCoeff() + 1e-6f;
        EXPECT_LT((eigen - blas).cwiseAbs().maxCoeff() / scale, 1e-5f)
            << m << "x" << n << "x" << k << " lhs^T=" << layout.lhs_transposed
            << " rhs^T=" << layout.rhs_transposed << " threads=" << threads;
      }
    }
  }
}

TEST(GemmTest, FastestFollowsItsTimingsAndIsRemembered) {
  ThreadTeam team(2);
  const GemmShape shape{64, 48, 40, false, true};
  const GemmTiming first = FastestGemm(shape, &team);
  EXPECT_GT(first.eigen_gflops, 0);
  if (HaveBlas()) {
    EXPECT_GT(first.blas_gflops, 0);
    EXPECT_EQ(first.kind == GemmKind::kBlas, first.blas_gflops > 1.03 * first.eigen_gflops);
  } else {
    EXPECT_EQ(first.blas_gflops, 0);
    EXPECT_EQ(first.kind, GemmKind::kEigen);
  }
  const GemmTiming again = FastestGemm(shape, &team);
  EXPECT_EQ(again.kind, first.kind);
  EXPECT_EQ(again.eigen_gflops, first.eigen_gflops);
  // Another thread count is another measurement.
  EXPECT_GT(FastestGemm(shape, nullptr).eigen_gflops, 0);
}

Dataset RandomData(int64_t n, int features, int classes) {
  Dataset data;
  data.num_classes = classes;
  Random random(3);
  data.features.resize(features, n);
  for (Eigen::Index i = 0; i < data.features.size(); ++i) {
    data.features.data()[i] = float(random.Normal());
  }
  // Labels a linear function of the features can learn.
  for (int64_t j = 0; j < n; ++j) {
    data.labels.push_back(int32_t(data.features.col(j).head(classes).maxCoeff() > 1.0
                                      ? 0
                                      : (data.features(classes, j) > 0 ? 1 : 2)));
  }
  return data;
}

// The default choice is a function of the shape alone, so that two
// processes (a trial and its resumption, two runs of one seed) compute every
// product alike however loaded the machine is when each starts: only a thin
// weight gradient dW = dZ A^T (at most kBlasMaxRows rows) goes to the BLAS.
TEST(GemmTest, TheDefaultChoiceIsARuleOfTheShape) {
  // Without a BLAS: Eigen. With AVX-512 kernels: the BLAS for all. With
  // others: the BLAS for thin weight gradients only.
  const GemmKind thin = HaveBlas() ? GemmKind::kBlas : GemmKind::kEigen;
  const GemmKind other = BlasHasAvx512Kernels() ? GemmKind::kBlas : GemmKind::kEigen;
  EXPECT_TRUE(HaveBlas() || !BlasHasAvx512Kernels());
  EXPECT_EQ(ChooseGemm(GemmShape{10, 256, 128, false, true}), thin);
  EXPECT_EQ(ChooseGemm(GemmShape{kBlasMaxRows, 256, 32, false, true}), thin);
  EXPECT_EQ(ChooseGemm(GemmShape{kBlasMaxRows + 1, 256, 32, false, true}), other);
  EXPECT_EQ(ChooseGemm(GemmShape{10, 128, 256, false, false}), other);  // forward
  EXPECT_EQ(ChooseGemm(GemmShape{256, 128, 10, true, false}), other);   // input grad
  EXPECT_EQ(ChooseGemm(GemmShape{256, 784, 128, false, true}), other);
  // Whatever the timings say under load, a trainer's choices stay the rule's.
  std::atomic<bool> stop{false};
  std::thread load([&] {
    volatile double sink = 0;
    while (!stop) sink = sink + 1;
  });
  TrainerConfig config;
  config.hidden = {256};
  config.batch_size = 128;
  const Dataset train = RandomData(300, 784, 10);
  for (int round = 0; round < 3; ++round) {
    auto trainer = Trainer::Create(config, train).value();
    for (const auto& choice : trainer->network().gemm_choices()) {
      EXPECT_EQ(choice.timing.kind, ChooseGemm(choice.shape))
          << "round " << round << " layer " << choice.layer << " " << choice.product;
    }
  }
  stop = true;
  load.join();
}

TEST(GemmTest, EveryProductOfTheNetworkGetsAVisibleChoice) {
  TrainerConfig config;
  config.hidden = {64, 32};
  config.batch_size = 48;
  const Dataset train = RandomData(200, 20, 3);
  auto trainer = Trainer::Create(config, train).value();
  const auto& choices = trainer->network().gemm_choices();
  // forward and weight gradient of 3 layers, input gradient of the upper 2.
  ASSERT_EQ(choices.size(), 8u);
  EXPECT_EQ(choices[0].layer, 0);
  EXPECT_STREQ(choices[0].product, "forward");
  EXPECT_EQ(choices[0].shape.m, 64);
  EXPECT_EQ(choices[0].shape.n, 48);
  EXPECT_EQ(choices[0].shape.k, 20);
  EXPECT_STREQ(choices[1].product, "weight_grad");
  EXPECT_EQ(choices[1].shape.n, 20);
  EXPECT_TRUE(choices[1].shape.rhs_transposed);
  EXPECT_STREQ(choices.back().product, "input_grad");
  EXPECT_EQ(choices.back().layer, 2);
  EXPECT_EQ(choices.back().shape.m, 32);
  EXPECT_TRUE(choices.back().shape.lhs_transposed);
  // By the rule (the default), nothing timed: with AVX2 kernels the output
  // layer's weight gradient (3 x 32 x 48) on the BLAS, the rest on Eigen.
  for (const auto& choice : choices) {
    EXPECT_EQ(choice.timing.kind, ChooseGemm(choice.shape))
        << choice.layer << " " << choice.product;
    EXPECT_EQ(choice.timing.eigen_gflops, 0) << choice.product;
  }
  // The worker logs this line.
  const std::string blas_description =
      absl::StrCat("(by shape; BLAS: ", BlasDescription(), ")");
  if (!HaveBlas()) {
    EXPECT_EQ(trainer->GemmSummary(), "eigen for all 8 products " + blas_description);
  } else if (BlasHasAvx512Kernels()) {
    EXPECT_EQ(trainer->GemmSummary(), "openblas for all 8 products " + blas_description);
  } else {
    EXPECT_EQ(trainer->GemmSummary(),
              "openblas for 1 of 8 products (layer 2 weight_grad 3x32x48), eigen for the "
              "rest " +
                  blas_description);
  }
  // Timed on request: every product measured, the log line says so.
  config.time_gemms = true;
  auto timed = Trainer::Create(config, train).value();
  int blas = 0;
  for (const auto& choice : timed->network().gemm_choices()) {
    EXPECT_GT(choice.timing.eigen_gflops, 0) << choice.product;
    blas += choice.timing.kind == GemmKind::kBlas;
  }
  const std::string summary = timed->GemmSummary();
  if (blas == 0 || blas == 8) {
    EXPECT_EQ(summary.rfind(absl::StrCat(blas == 0 ? "eigen" : "openblas",
                                         " for all 8 products (measured; BLAS: "),
                            0),
              0u)
        << summary;
  } else {
    EXPECT_EQ(summary.rfind(absl::StrCat("openblas for ", blas, " of 8 products (layer "), 0), 0u)
        << summary;
  }
  // Forced: no timings, none listed.
  config.gemm = GemmKind::kEigen;
  auto forced = Trainer::Create(config, train).value();
  EXPECT_TRUE(forced->network().gemm_choices().empty());
  EXPECT_EQ(forced->GemmSummary(), "eigen for all products (forced)");
}

TEST(GemmTest, TrainingOnEitherGemmLearnsTheSame) {
  if (!HaveBlas()) {
    TrainerConfig config;
    config.gemm = GemmKind::kBlas;
    EXPECT_EQ(ValidateConfig(config).message(),
              "gemm: openblas was asked for, but this build has no BLAS (libopenblas-dev)");
    GTEST_SKIP() << "built without a BLAS: Eigen only";
  }
  const Dataset train = RandomData(1000, 30, 3);
  const Dataset dev = RandomData(300, 30, 3);
  for (int threads : {1, 2}) {
    std::vector<EpochMetrics> curves[2];
    for (GemmKind kind : {GemmKind::kEigen, GemmKind::kBlas}) {
      TrainerConfig config;
      config.hidden = {64, 64};
      config.batch_size = 50;
      config.dropout = 0.2;
      config.threads = threads;
      config.gemm = kind;
      auto trainer = Trainer::Create(config, train).value();
      trainer->Train(train, dev, 5, [&](const EpochMetrics& m) {
        curves[int(kind)].push_back(m);
        return EpochDecision{};
      });
    }
    ASSERT_EQ(curves[0].size(), 5u);
    ASSERT_EQ(curves[1].size(), 5u);
    for (int e = 0; e < 5; ++e) {
      // Rounding differs in the last bits; over 100 steps it stays small.
      EXPECT_NEAR(curves[0][e].train_loss, curves[1][e].train_loss, 2e-3) << "epoch " << e;
      EXPECT_NEAR(curves[0][e].dev_loss, curves[1][e].dev_loss, 2e-3) << "epoch " << e;
      EXPECT_NEAR(curves[0][e].dev_accuracy, curves[1][e].dev_accuracy, 0.01) << "epoch " << e;
    }
    // It learned: the majority class is about 0.41.
    EXPECT_GT(curves[1].back().dev_accuracy, 0.6);
  }
}

}  // namespace
}  // namespace caviar::trainer
