// Trainer behaviour: overfitting a small batch, determinism, inference with
// running averages and without dropout, checkpoints, stop, divergence and the
// learning-rate schedule.
#include "worker/trainer/trainer.h"

#include <cmath>
#include <set>
#include <tuple>
#include <vector>

#include "gtest/gtest.h"
#include "worker/trainer/augment.h"

namespace caviar::trainer {
namespace {

// Gaussian blobs: class c centred at a random point; learnable but not trivial.
Dataset Blobs(int examples, int features, int classes, uint64_t seed, double spread = 1.0) {
  Random random(seed);
  Eigen::MatrixXf centres(features, classes);
  Random centre_random(1234);
  for (Eigen::Index i = 0; i < centres.size(); ++i) {
    centres.data()[i] = float(2 * centre_random.Normal());
  }
  Dataset data;
  data.num_classes = classes;
  data.features.resize(features, examples);
  for (int j = 0; j < examples; ++j) {
    const int label = int(random.Below(classes));
    data.labels.push_back(label);
    for (int i = 0; i < features; ++i) {
      data.features(i, j) = centres(i, label) + float(spread * random.Normal());
    }
  }
  return data;
}

TrainerConfig SmallConfig() {
  TrainerConfig config;
  config.hidden = {32, 16};
  config.batch_size = 16;
  config.learning_rate = 0.01;
  config.seed = 5;
  return config;
}

TEST(TrainerTest, OverfitsASmallBatch) {
  // Pure noise labels: only memorization can get them all right.
  Dataset data = Blobs(32, 10, 4, 1, /*spread=*/5.0);
  Random random(2);
  for (auto& label : data.labels) label = int32_t(random.Below(4));
  TrainerConfig config = SmallConfig();
  config.hidden = {64};
  config.batch_size = 32;
  auto trainer = Trainer::Create(config, data).value();
  EpochMetrics last;
  trainer->Train(data, Dataset(), 300, [&](const EpochMetrics& m) {
    last = m;
    return EpochDecision{};
  });
  EXPECT_LT(last.train_loss, 0.02);
  EXPECT_EQ(last.train_accuracy, 1.0);
  EXPECT_EQ(trainer->Evaluate(data).accuracy, 1.0);
}

TEST(TrainerTest, LearnsBlobsAndGeneralizes) {
  const Dataset train = Blobs(2000, 20, 5, 1);
  const Dataset dev = Blobs(500, 20, 5, 2);
  for (bool batch_norm : {true, false}) {
    TrainerConfig config = SmallConfig();
    config.batch_norm = batch_norm;
    auto trainer = Trainer::Create(config, train).value();
    std::vector<EpochMetrics> epochs;
    const TrainResult result = trainer->Train(train, dev, 5, [&](const EpochMetrics& m) {
      epochs.push_back(m);
      return EpochDecision{};
    });
    EXPECT_EQ(result.outcome, TrainResult::Outcome::kCompleted);
    ASSERT_EQ(epochs.size(), 5u);
    EXPECT_GT(epochs.back().dev_accuracy, 0.97) << "batch_norm=" << batch_norm;
    EXPECT_LT(epochs.back().train_loss, epochs.front().train_loss);
    EXPECT_EQ(epochs.back().steps, 5 * 125);
    EXPECT_GT(epochs.back().seconds, 0);
  }
}

TEST(TrainerTest, SameSeedGivesIdenticalResultsDifferentSeedDoesNot) {
  const Dataset train = Blobs(300, 8, 3, 1);
  const Dataset dev = Blobs(100, 8, 3, 2);
  auto run = [&](uint64_t seed) {
    TrainerConfig config = SmallConfig();
    config.seed = seed;
    auto trainer = Trainer::Create(config, train).value();
    std::vector<double> losses;
    trainer->Train(train, dev, 3, [&](const EpochMetrics& m) {
      losses.push_back(m.train_loss);
      losses.push_back(m.dev_loss);
      return EpochDecision{};
    });
    return std::make_pair(losses, trainer->SaveState());
  };
  const auto a = run(9), b = run(9), c = run(10);
  EXPECT_EQ(a.first, b.first);
  EXPECT_EQ(a.second, b.second);
  EXPECT_NE(a.second, c.second);
}

TEST(TrainerTest, TwoThreadsComputeWhatOneThreadComputesUpToRounding) {
  const Dataset train = Blobs(700, 300, 10, 1);
  const Dataset dev = Blobs(200, 300, 10, 2);
  std::vector<double> dev_losses;
  for (int threads : {1, 2}) {
    TrainerConfig config;
    config.hidden = {256, 96};
    config.threads = threads;
    auto trainer = Trainer::Create(config, train).value();
    trainer->Train(train, dev, 2, [&](const EpochMetrics& m) {
      dev_losses.push_back(m.dev_loss);
      return EpochDecision{};
    });
  }
  // Splitting a product changes Eigen's blocking and so the order of float
  // additions: equal up to rounding, not bit for bit.
  EXPECT_NEAR(dev_losses[0], dev_losses[2], 1e-4 * dev_losses[0]);
  EXPECT_NEAR(dev_losses[1], dev_losses[3], 1e-3 * dev_losses[1]);
}

// If inference used the batch's statistics, a column's prediction would
// depend on the other columns of the batch, and would not match the formula
// with running averages.
TEST(TrainerTest, InferenceUsesRunningAveragesNotBatchStatistics) {
  const Dataset train = Blobs(400, 6, 3, 1);
  TrainerConfig config = SmallConfig();
  config.hidden = {8};
  auto trainer = Trainer::Create(config, train).value();
  trainer->Train(train, Dataset(), 2, nullptr);
  Network<float>& net = trainer->network();
  ASSERT_TRUE(net.has_batch_norm(0));
  // Running averages moved away from their initial 0 and 1.
  EXPECT_GT(net.running_mean(0).cwiseAbs().maxCoeff(), 0.01);
  EXPECT_GT((net.running_var(0).array() - 1).abs().maxCoeff(), 0.05);

  Random random(4);
  Eigen::MatrixXf x(6, 5);
  for (Eigen::Index i = 0; i < x.size(); ++i) x.data()[i] = float(3 * random.Normal() + 1);
  Eigen::MatrixXf batch_probs(3, 5);
  net.Predict(x, batch_probs);
  for (int j = 0; j < 5; ++j) {
    Eigen::MatrixXf single_probs(3, 1);
    net.Predict(x.col(j), single_probs);
    EXPECT_TRUE(single_probs.isApprox(batch_probs.col(j), 1e-5f)) << "column " << j;
  }
  // By hand, with the running averages.
  const Eigen::VectorXf z = net.weight(0) * x.col(2);
  const Eigen::VectorXf z_norm = (z - net.running_mean(0)).array() /
                                 (net.running_var(0).array() + 1e-5f).sqrt();
  const Eigen::VectorXf a =
      (z_norm.cwiseProduct(net.gamma(0).col(0)) + net.beta(0).col(0)).cwiseMax(0.0f);
  Eigen::VectorXf logits = net.weight(1) * a + net.bias(1).col(0);
  Eigen::VectorXf p = (logits.array() - logits.maxCoeff()).exp();
  p /= p.sum();
  EXPECT_TRUE(p.isApprox(batch_probs.col(2), 1e-4f)) << p.transpose() << " vs "
                                                     << batch_probs.col(2).transpose();
  // A single example in training mode has zero batch variance: if inference
  // used batch statistics every prediction would be the same.
  EXPECT_FALSE(batch_probs.col(0).isApprox(batch_probs.col(1), 1e-3f));
}

TEST(TrainerTest, DropoutMasksAreInvertedAndDeterministic) {
  Random random(3), same(3);
  Eigen::MatrixXf mask(200, 50), again(200, 50);
  DrawDropoutMask<float>(0.25, random, mask);
  DrawDropoutMask<float>(0.25, same, again);
  EXPECT_EQ(mask, again);
  const float scale = 1 / 0.75f;
  EXPECT_TRUE((mask.array() == 0 || mask.array() == scale).all());
  const double kept = double((mask.array() > 0).count()) / double(mask.size());
  EXPECT_NEAR(kept, 0.75, 0.02);  // 10,000 draws: 5 standard deviations.
  // Columns differ: a mask per example, not one per batch.
  EXPECT_NE(mask.col(0), mask.col(1));
  DrawDropoutMask<float>(0.0, random, mask);
  EXPECT_TRUE((mask.array() == 1).all());
}

TEST(TrainerTest, DropoutTrainsButInferenceUsesTheWholeNetwork) {
  const Dataset train = Blobs(400, 6, 3, 1);
  TrainerConfig config = SmallConfig();
  config.dropout = 0.5;
  // The same GEMM as `plain` below, so that equal means bit for bit.
  config.gemm = GemmKind::kEigen;
  auto trainer = Trainer::Create(config, train).value();
  double train_accuracy = 0;
  trainer->Train(train, Dataset(), 3, [&](const EpochMetrics& m) {
    train_accuracy = m.train_accuracy;
    return EpochDecision{};
  });
  EXPECT_GT(train_accuracy, 0.8);
  // The same parameters without dropout predict exactly the same: inference
  // neither drops units nor rescales them.
  Network<float>& net = trainer->network();
  NetworkShape plain_shape = net.shape();
  plain_shape.dropout = 0;
  Network<float> plain(plain_shape);
  plain.params() = net.params();
  plain.running_stats() = net.running_stats();
  Random random(4);
  Eigen::MatrixXf x(6, 20);
  for (Eigen::Index i = 0; i < x.size(); ++i) x.data()[i] = float(random.Normal());
  Eigen::MatrixXf probs(3, 20), plain_probs(3, 20);
  net.Predict(x, probs);
  plain.Predict(x, plain_probs);
  EXPECT_EQ(probs, plain_probs);
  // Training mode does drop: two draws give two different losses.
  std::vector<int32_t> labels(20, 1);
  net.DrawDropoutMasks(20, random);
  const float first = net.ForwardTrain(x, labels.data(), false, nullptr);
  net.DrawDropoutMasks(20, random);
  EXPECT_NE(net.ForwardTrain(x, labels.data(), false, nullptr), first);
}

TEST(AugmentTest, FlipsAndShiftsWithBlackFill) {
  // 2 x 3 image: 1 2 3 / 4 5 6.
  const float image[6] = {1, 2, 3, 4, 5, 6};
  float out[6];
  auto transformed = [&](ImageTransform t) {
    TransformImage(t, 2, 3, image, out);
    return std::vector<float>(out, out + 6);
  };
  EXPECT_EQ(transformed({}), (std::vector<float>{1, 2, 3, 4, 5, 6}));
  EXPECT_EQ(transformed({true, 0, 0}), (std::vector<float>{3, 2, 1, 6, 5, 4}));
  EXPECT_EQ(transformed({false, 1, 0}), (std::vector<float>{0, 0, 0, 1, 2, 3}));
  EXPECT_EQ(transformed({false, 0, -1}), (std::vector<float>{2, 3, 0, 5, 6, 0}));
  // Mirrored, then moved right by one.
  EXPECT_EQ(transformed({true, -1, 1}), (std::vector<float>{0, 6, 5, 0, 0, 0}));
}

TEST(AugmentTest, DrawsEveryTransformWithinBounds) {
  Random random(8);
  std::set<std::tuple<bool, int, int>> seen;
  for (int i = 0; i < 2000; ++i) {
    const ImageTransform t = DrawImageTransform(true, 1, random);
    ASSERT_LE(std::abs(t.down), 1);
    ASSERT_LE(std::abs(t.right), 1);
    seen.insert({t.flip, t.down, t.right});
  }
  EXPECT_EQ(seen.size(), 18u);  // 2 flips x 3 x 3 shifts.
  std::set<std::tuple<bool, int, int>> all;
  for (const ImageTransform& t : AllImageTransforms(true, 1)) all.insert({t.flip, t.down, t.right});
  EXPECT_EQ(all, seen);
  EXPECT_EQ(AllImageTransforms(true, 1).size(), 18u);  // No transform twice.
  EXPECT_EQ(AllImageTransforms(false, 0).size(), 1u);
  const ImageTransform none = DrawImageTransform(false, 0, random);
  EXPECT_FALSE(none.flip);
  EXPECT_EQ(none.down, 0);
  EXPECT_EQ(none.right, 0);
}

// Images whose class is the column of a bright vertical bar: a flip or a
// shift changes where the bar is, so augmentation must show in training.
Dataset BarImages(int examples, uint64_t seed) {
  Random random(seed);
  Dataset data;
  data.num_classes = 2;
  data.image_height = 6;
  data.image_width = 6;
  data.features = Eigen::MatrixXf::Zero(36, examples);
  for (int j = 0; j < examples; ++j) {
    const int label = int(random.Below(2));
    data.labels.push_back(label);
    for (int row = 0; row < 6; ++row) {
      data.features(row * 6 + (label == 0 ? 1 : 4), j) = 1;
      data.features(row * 6 + int(random.Below(6)), j) += float(0.3 * random.Uniform());
    }
  }
  return data;
}

TEST(TrainerTest, AugmentationChangesTrainingDeterministicallyAndNeedsImages) {
  const Dataset train = BarImages(200, 1);
  auto curve = [&](bool flip, int shift) {
    TrainerConfig config = SmallConfig();
    config.augment_flip = flip;
    config.augment_shift = shift;
    auto trainer = Trainer::Create(config, train).value();
    std::vector<double> losses;
    trainer->Train(train, Dataset(), 3, [&](const EpochMetrics& m) {
      losses.push_back(m.train_loss);
      return EpochDecision{};
    });
    return losses;
  };
  const std::vector<double> plain = curve(false, 0);
  const std::vector<double> flipped = curve(true, 0);
  EXPECT_EQ(curve(true, 1), curve(true, 1));
  EXPECT_NE(flipped, plain);
  EXPECT_NE(curve(false, 1), plain);
  // Mirroring swaps the bars' columns (1 <-> 4): half the training labels
  // contradict the images, so the training loss stays high.
  EXPECT_LT(plain.back(), 0.1);
  EXPECT_GT(flipped.back(), 0.5);

  TrainerConfig config = SmallConfig();
  config.augment_flip = true;
  Dataset vectors = train;
  vectors.image_height = vectors.image_width = 0;
  EXPECT_EQ(Trainer::Create(config, vectors).status().message(),
            "augment_flip: the training set has no image shape (augmentation needs 2-D "
            "images from an IDX file)");
  config.augment_flip = false;
  config.augment_shift = 6;
  EXPECT_EQ(Trainer::Create(config, train).status().message(),
            "augment_shift 6: must be below the image size 6x6");
}

TEST(TrainerTest, AugmentedTrainingIsStandardizedWithTheAugmentedImagesStatistics) {
  const Dataset train = BarImages(50, 2);
  TrainerConfig config = SmallConfig();
  config.augment_flip = true;
  config.augment_shift = 1;
  auto trainer = Trainer::Create(config, train).value();
  // By brute force: every image under every transform, equally weighted.
  const std::vector<ImageTransform> transforms = AllImageTransforms(true, 1);
  Eigen::VectorXd sum = Eigen::VectorXd::Zero(36), sum_sq = Eigen::VectorXd::Zero(36);
  Eigen::VectorXf moved(36);
  for (int64_t j = 0; j < train.size(); ++j) {
    for (const ImageTransform& t : transforms) {
      TransformImage(t, 6, 6, train.features.col(j).data(), moved.data());
      sum += moved.cast<double>();
      sum_sq += moved.cast<double>().cwiseAbs2();
    }
  }
  const double count = double(train.size() * transforms.size());
  const Eigen::VectorXd mean = sum / count;
  const Eigen::VectorXd var = sum_sq / count - mean.cwiseAbs2();
  for (int i = 0; i < 36; ++i) {
    EXPECT_NEAR(trainer->feature_mean()[i], mean[i], 1e-6) << "pixel " << i;
    EXPECT_NEAR(trainer->feature_inv_std()[i], 1 / std::sqrt(var[i]), 1e-4 / std::sqrt(var[i]))
        << "pixel " << i;
  }
  // Without augmentation the bars' columns (1 and 4) stand out; with flips
  // and shifts the mean spreads over columns 0-5 symmetrically.
  EXPECT_NEAR(trainer->feature_mean()[0], trainer->feature_mean()[5], 1e-6);
  EXPECT_GT(trainer->feature_mean()[0], 0.05);
  auto plain = Trainer::Create(SmallConfig(), train).value();
  EXPECT_LT(plain->feature_mean()[0], 0.2 * plain->feature_mean()[1]);
}

TEST(TrainerTest, SaveAndRestoreContinueExactly) {
  const Dataset train = Blobs(300, 8, 3, 1);
  const Dataset dev = Blobs(100, 8, 3, 2);
  TrainerConfig config = SmallConfig();
  config.dropout = 0.2;  // The masks' random stream is part of the state.
  auto first = Trainer::Create(config, train).value();
  first->Train(train, dev, 2, nullptr);
  const std::string checkpoint = first->SaveState();
  std::vector<double> continued, resumed;
  first->Train(train, dev, 2, [&](const EpochMetrics& m) {
    continued.push_back(m.dev_loss);
    return EpochDecision{};
  });
  config.seed = 77;  // Different init and shuffling, all overwritten by the restore.
  auto second = Trainer::Create(config, train).value();
  ASSERT_TRUE(second->RestoreState(checkpoint).ok());
  EXPECT_EQ(second->epoch(), 2);
  EXPECT_EQ(second->SaveState(), checkpoint);
  second->Train(train, dev, 2, [&](const EpochMetrics& m) {
    resumed.push_back(m.dev_loss);
    return EpochDecision{};
  });
  EXPECT_EQ(continued, resumed);
  EXPECT_EQ(first->SaveState(), second->SaveState());
}

TEST(TrainerTest, RestoreRejectsForeignBytesAndChangesNothing) {
  const Dataset train = Blobs(100, 8, 3, 1);
  auto trainer = Trainer::Create(SmallConfig(), train).value();
  const std::string before = trainer->SaveState();
  EXPECT_EQ(trainer->RestoreState("garbage").code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(trainer->RestoreState(before.substr(0, before.size() - 3)).code(),
            absl::StatusCode::kInvalidArgument);
  TrainerConfig other = SmallConfig();
  other.hidden = {32, 17};
  auto different = Trainer::Create(other, train).value();
  EXPECT_EQ(trainer->RestoreState(different->SaveState()).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(trainer->SaveState(), before);
}

TEST(TrainerTest, StopFlagIsPolledBetweenMiniBatches) {
  const Dataset train = Blobs(320, 8, 3, 1);  // 20 batches of 16.
  auto trainer = Trainer::Create(SmallConfig(), train).value();
  int polls = 0;
  bool epoch_reported = false;
  const TrainResult result = trainer->Train(
      train, Dataset(), 5,
      [&](const EpochMetrics&) {
        epoch_reported = true;
        return EpochDecision{};
      },
      [&] { return ++polls > 7; });
  EXPECT_EQ(result.outcome, TrainResult::Outcome::kStopped);
  EXPECT_EQ(polls, 8);
  EXPECT_FALSE(epoch_reported);
  EXPECT_EQ(result.epochs_completed, 0);
}

TEST(TrainerTest, CallbackCanStopAfterAnEpoch) {
  const Dataset train = Blobs(64, 8, 3, 1);
  auto trainer = Trainer::Create(SmallConfig(), train).value();
  const TrainResult result = trainer->Train(train, Dataset(), 10, [](const EpochMetrics& m) {
    return EpochDecision{m.epoch == 3, std::nullopt};
  });
  EXPECT_EQ(result.outcome, TrainResult::Outcome::kStopped);
  EXPECT_EQ(result.epochs_completed, 3);
}

TEST(TrainerTest, HugeLearningRateIsReportedAsDivergence) {
  const Dataset train = Blobs(200, 8, 3, 1);
  TrainerConfig config = SmallConfig();
  config.batch_norm = false;
  config.optimizer.kind = OptimizerKind::kGradientDescent;
  config.learning_rate = 1e30;
  auto trainer = Trainer::Create(config, train).value();
  const TrainResult result = trainer->Train(train, Dataset(), 3, nullptr);
  EXPECT_EQ(result.outcome, TrainResult::Outcome::kDiverged);
  EXPECT_NE(result.message.find("loss is"), std::string::npos) << result.message;
}

TEST(TrainerTest, LearningRateScheduleAndNudges) {
  const Dataset train = Blobs(32, 4, 3, 1);
  TrainerConfig config = SmallConfig();
  config.learning_rate = 0.1;
  config.lr_decay = 1.0;
  std::vector<double> rates;
  auto trainer = Trainer::Create(config, train).value();
  trainer->Train(train, Dataset(), 3, [&](const EpochMetrics& m) {
    rates.push_back(m.learning_rate);
    return EpochDecision{};
  });
  EXPECT_DOUBLE_EQ(rates[0], 0.1);
  EXPECT_DOUBLE_EQ(rates[1], 0.05);
  EXPECT_DOUBLE_EQ(rates[2], 0.1 / 3);
  // A nudge sets the rate of the next epoch and restarts the decay there.
  rates.clear();
  trainer->Train(train, Dataset(), 2, [&](const EpochMetrics& m) {
    rates.push_back(m.learning_rate);
    return EpochDecision{false, m.epoch == 4 ? std::optional<double>(0.02) : std::nullopt};
  });
  EXPECT_DOUBLE_EQ(rates[0], 0.025);
  EXPECT_DOUBLE_EQ(rates[1], 0.02);

  config.lr_schedule = LrSchedule::kStep;
  config.lr_decay = 0.5;
  config.lr_step_epochs = 2;
  rates.clear();
  trainer = Trainer::Create(config, train).value();
  trainer->Train(train, Dataset(), 5, [&](const EpochMetrics& m) {
    rates.push_back(m.learning_rate);
    return EpochDecision{};
  });
  EXPECT_EQ(rates, (std::vector<double>{0.1, 0.1, 0.05, 0.05, 0.025}));

  config.lr_schedule = LrSchedule::kExponential;
  config.lr_decay = 0.1;
  rates.clear();
  trainer = Trainer::Create(config, train).value();
  trainer->Train(train, Dataset(), 2, [&](const EpochMetrics& m) {
    rates.push_back(m.learning_rate);
    return EpochDecision{};
  });
  EXPECT_DOUBLE_EQ(rates[1], 0.1 * std::exp(-0.1));
}

TEST(TrainerTest, EveryOptimizerLearns) {
  const Dataset train = Blobs(600, 10, 3, 1);
  const Dataset dev = Blobs(200, 10, 3, 2);
  for (auto [kind, lr] : {std::pair{OptimizerKind::kGradientDescent, 0.1},
                          std::pair{OptimizerKind::kMomentum, 0.1},
                          std::pair{OptimizerKind::kRmsprop, 0.003},
                          std::pair{OptimizerKind::kAdam, 0.003}}) {
    TrainerConfig config = SmallConfig();
    config.optimizer.kind = kind;
    config.learning_rate = lr;
    config.optimizer.l2 = 1e-4;
    auto trainer = Trainer::Create(config, train).value();
    double accuracy = 0;
    trainer->Train(train, dev, 4, [&](const EpochMetrics& m) {
      accuracy = m.dev_accuracy;
      return EpochDecision{};
    });
    EXPECT_GT(accuracy, 0.95) << "optimizer " << int(kind);
  }
}

TEST(TrainerTest, InvalidConfigNamesTheSetting) {
  const Dataset train = Blobs(32, 4, 3, 1);
  TrainerConfig config = SmallConfig();
  config.batch_size = 0;
  auto trainer = Trainer::Create(config, train);
  ASSERT_EQ(trainer.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(trainer.status().message().find("batch_size"), std::string::npos);
  config = SmallConfig();
  config.optimizer.beta1 = 1.0;
  EXPECT_NE(Trainer::Create(config, train).status().message().find("beta1"),
            std::string::npos);
  config = SmallConfig();
  config.dropout = 1.0;
  EXPECT_EQ(Trainer::Create(config, train).status().message(),
            "dropout: must be in [0, 1), got 1");
}

}  // namespace
}  // namespace caviar::trainer

namespace caviar::trainer {
namespace {

// One more epoch's training loss.
double NextEpochLoss(Trainer& trainer, const Dataset& train) {
  double loss = 0;
  trainer.Train(train, Dataset(), 1, [&](const EpochMetrics& m) {
    loss = m.train_loss;
    return EpochDecision();
  });
  return loss;
}

TEST(TrainerChangeTest, NudgeableSettingsApplyFromTheNextEpochAndTravelInCheckpoints) {
  const Dataset train = Blobs(256, 10, 4, 3);
  TrainerConfig config = SmallConfig();
  config.optimizer.kind = OptimizerKind::kMomentum;
  config.dropout = 0.1;
  auto nudged = Trainer::Create(config, train).value();
  auto plain = Trainer::Create(config, train).value();
  ASSERT_EQ(NextEpochLoss(*nudged, train), NextEpochLoss(*plain, train));

  SettingChanges changes;
  changes.dropout = 0.3;
  changes.l2 = 0.001;
  changes.beta1 = 0.5;
  changes.batch_size = 32;
  changes.bn_momentum = 0.8;
  ASSERT_TRUE(nudged->Change(changes).ok());
  EXPECT_EQ(nudged->config().dropout, 0.3);
  EXPECT_EQ(nudged->config().optimizer.l2, 0.001);
  EXPECT_EQ(nudged->config().optimizer.beta1, 0.5);
  EXPECT_EQ(nudged->config().batch_size, 32);
  EXPECT_EQ(nudged->network().shape().dropout, 0.3);
  EXPECT_EQ(nudged->network().shape().bn_momentum, 0.8);
  EXPECT_NE(NextEpochLoss(*nudged, train), NextEpochLoss(*plain, train));

  // A checkpoint holds the changed settings: a trainer created with the
  // original config and restored from it goes on exactly as the nudged one.
  auto restored = Trainer::Create(config, train).value();
  ASSERT_TRUE(restored->RestoreState(nudged->SaveState()).ok());
  EXPECT_EQ(restored->config().dropout, 0.3);
  EXPECT_EQ(restored->config().batch_size, 32);
  EXPECT_EQ(restored->config().optimizer.beta1, 0.5);
  EXPECT_EQ(NextEpochLoss(*restored, train), NextEpochLoss(*nudged, train));
}

TEST(TrainerChangeTest, ABadValueChangesNothing) {
  const Dataset train = Blobs(64, 10, 4, 3);
  auto trainer = Trainer::Create(SmallConfig(), train).value();
  SettingChanges changes;
  changes.l2 = 0.5;
  changes.dropout = 1.5;
  const absl::Status status = trainer->Change(changes);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(status.message(), "dropout: must be in [0, 1), got 1.5");
  EXPECT_EQ(trainer->config().optimizer.l2, 0);
  EXPECT_EQ(trainer->config().dropout, 0);
}

TEST(TrainerChangeTest, AChangedScheduleStartsAtTheCurrentLearningRate) {
  const Dataset train = Blobs(64, 10, 4, 3);
  TrainerConfig config = SmallConfig();
  config.lr_decay = 1;  // Inverse: lr / (1 + e).
  auto trainer = Trainer::Create(config, train).value();
  NextEpochLoss(*trainer, train);
  NextEpochLoss(*trainer, train);
  EXPECT_DOUBLE_EQ(trainer->CurrentLearningRate(), 0.01 / 3);
  SettingChanges changes;
  changes.lr_schedule = LrSchedule::kExponential;
  changes.lr_decay = 0.5;
  ASSERT_TRUE(trainer->Change(changes).ok());
  EXPECT_DOUBLE_EQ(trainer->CurrentLearningRate(), 0.01 / 3);
  NextEpochLoss(*trainer, train);
  EXPECT_DOUBLE_EQ(trainer->CurrentLearningRate(), 0.01 / 3 * std::exp(-0.5));
}

}  // namespace
}  // namespace caviar::trainer
