// Trainer: trains a Network<float> on a Dataset with mini-batches, an
// optimizer and a learning-rate schedule, reporting each epoch.
//
//   TrainerConfig config;  config.hidden = {256, 256};
//   CAVIAR_ASSIGN_OR_RETURN(auto trainer, Trainer::Create(config, train));
//   TrainResult result = trainer->Train(train, dev, epochs, on_epoch, should_stop);
//
// - Inputs are standardized with the training set's per-feature mean and
//   variance (fitted in Create; with augmentation, those of the augmented
//   images), applied to every batch and evaluation set.
// - Mini-batches are reshuffled each epoch from the seed; the last batch of an
//   epoch may be smaller.
// - train_loss/train_accuracy are means over the epoch's mini-batches (in
//   training mode, as the batches were seen); dev metrics use inference mode.
// - Dropout masks and augmentations are drawn from the seed (a stream of
//   their own), new for each mini-batch; train metrics include them, dev and
//   test metrics do not.
// - A NaN/inf batch loss ends training with Outcome::kDiverged.
// - The learning rate of epoch e (0-based, since the last SetLearningRate) is
//     inverse:     lr / (1 + decay * e)
//     exponential: lr * exp(-decay * e)
//     step:        lr * (1 - decay)^floor(e / step_epochs)
//
// Thread-safety: not thread-safe; one Trainer per thread. `threads` is the
// number of threads (the caller's plus helpers the Trainer starts) that share
// each matrix product and optimizer update.
#ifndef CAVIAR_WORKER_TRAINER_TRAINER_H_
#define CAVIAR_WORKER_TRAINER_TRAINER_H_

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include "absl/strings/string_view.h"
#include <vector>

#include "absl/status/statusor.h"
#include "worker/trainer/data.h"
#include "worker/trainer/network.h"
#include "worker/trainer/optimizer.h"
#include "worker/trainer/random.h"
#include "worker/trainer/thread_team.h"

namespace caviar::trainer {

enum class LrSchedule { kInverse, kExponential, kStep };

// The library's own settings (the worker maps study specs onto it).
struct TrainerConfig {
  std::vector<int> hidden = {256, 256};
  Activation activation = Activation::kRelu;
  bool batch_norm = true;
  double bn_momentum = 0.9;
  double bn_epsilon = 1e-5;
  double dropout = 0;  // Probability of dropping a hidden unit in training.
  // Data augmentation of training images (the dataset must have an image
  // shape): mirror left-right with probability 1/2, and translate by up to
  // augment_shift pixels in each direction (vacated pixels are 0, the IDX
  // images' background).
  bool augment_flip = false;
  int augment_shift = 0;
  InitKind init = InitKind::kHe;
  OptimizerSettings optimizer;
  double learning_rate = 1e-3;
  LrSchedule lr_schedule = LrSchedule::kInverse;
  double lr_decay = 0;
  int lr_step_epochs = 1;
  int batch_size = 128;
  uint64_t seed = 1;
  int threads = 1;
  // The GEMM for every matrix product; unset: for each product shape
  // ChooseGemm's fixed rule (gemm.h), the same in every process, so that a
  // seed reproduces its run and a resumed trial its uninterrupted twin.
  // Forcing kBlas needs a build with a BLAS.
  std::optional<GemmKind> gemm;
  // With gemm unset: the faster of Eigen and the BLAS for each product shape,
  // timed at Create (FastestGemm), instead of the rule. For benchmarks: a
  // choice by timing may differ between processes, and with it the last bits
  // of every result.
  bool time_gemms = false;
};

// Names as used in study specs ("adam", "relu", ...); false if unknown.
bool ParseOptimizerKind(absl::string_view name, OptimizerKind* kind);
bool ParseActivation(absl::string_view name, Activation* activation);
bool ParseLrSchedule(absl::string_view name, LrSchedule* schedule);
bool ParseInitKind(absl::string_view name, InitKind* init);

// INVALID_ARGUMENT naming the setting and the reason.
absl::Status ValidateConfig(const TrainerConfig& config);

struct EpochMetrics {
  int epoch = 0;      // 1-based, counted over all Train calls.
  int64_t steps = 0;  // Optimizer steps so far.
  double learning_rate = 0;
  double train_loss = 0;
  double train_accuracy = 0;
  double dev_loss = 0;
  double dev_accuracy = 0;
  double seconds = 0;  // Wall time of this epoch (training and evaluation).
};

struct EpochDecision {
  bool stop = false;
  std::optional<double> learning_rate;  // New base learning rate from now on.
};

using EpochCallback = std::function<EpochDecision(const EpochMetrics&)>;

// Settings that may change while a trainer trains (a user's nudge); unset
// ones stay. The others (hidden layers, activation, batch norm, optimizer
// kind, init, seed, threads, augmentation) fix the network's shape, the
// optimizer state's layout, the initial weights or the input
// standardization, so they cannot change (see
// common/trainer_settings/nudge_rules.h).
struct SettingChanges {
  std::optional<double> learning_rate;  // Restarts the schedule from here.
  std::optional<LrSchedule> lr_schedule;
  std::optional<double> lr_decay;
  std::optional<int> lr_step_epochs;
  std::optional<double> beta1;
  std::optional<double> beta2;
  std::optional<double> epsilon;
  std::optional<double> l2;
  std::optional<double> dropout;
  std::optional<double> bn_momentum;
  std::optional<int> batch_size;
};

struct Evaluation {
  double loss = 0;
  double accuracy = 0;
};

struct TrainResult {
  enum class Outcome { kCompleted, kStopped, kDiverged };
  Outcome outcome = Outcome::kCompleted;
  int epochs_completed = 0;  // In this call.
  std::string message;       // Why it stopped or diverged.
};

class Trainer {
 public:
  // INVALID_ARGUMENT for a bad config, an empty training set, or
  // augmentation of a training set that has no image shape.
  static absl::StatusOr<std::unique_ptr<Trainer>> Create(const TrainerConfig& config,
                                                         const Dataset& train);

  // Runs up to `epochs` more epochs. `on_epoch` (optional) is called after
  // each; `should_stop` (optional) is polled between mini-batches.
  TrainResult Train(const Dataset& train, const Dataset& dev, int epochs,
                    const EpochCallback& on_epoch,
                    const std::function<bool()>& should_stop = nullptr);

  // Inference-mode loss and accuracy.
  Evaluation Evaluate(const Dataset& data);

  // Takes effect from the next epoch; restarts the decay schedule there.
  void SetLearningRate(double learning_rate);
  // Applies `changes` from the next epoch on. A changed schedule (decay,
  // kind, step) restarts at the current learning rate. INVALID_ARGUMENT
  // naming the setting (ValidateConfig's rules) changes nothing. The
  // changed settings are part of SaveState.
  absl::Status Change(const SettingChanges& changes);
  double CurrentLearningRate() const;

  // Network parameters, running averages, optimizer state, schedule, epoch
  // and shuffling state, as bytes; RestoreState brings back exactly that
  // state (INVALID_ARGUMENT if the bytes are not a checkpoint of a trainer
  // with the same shape and optimizer).
  std::string SaveState() const;
  absl::Status RestoreState(absl::string_view bytes);

  // Which GEMM the products use, for a log line: "eigen for all 8 products"
  // or "openblas for 1 of 8 products (layer 2 weight_grad 10x256x128),
  // eigen for the rest (by shape; BLAS: OpenBLAS ... (core Haswell))" or
  // "openblas for all 8 products (by shape; ...)".
  // Timings per product (time_gemms): network().gemm_choices().
  std::string GemmSummary() const;

  Network<float>& network() { return network_; }
  // Per-feature standardization: x -> (x - mean) * inv_std.
  const Eigen::VectorXf& feature_mean() const { return feature_mean_; }
  const Eigen::VectorXf& feature_inv_std() const { return feature_inv_std_; }
  const TrainerConfig& config() const { return config_; }
  int epoch() const { return epoch_; }

 private:
  Trainer(const TrainerConfig& config, const NetworkShape& shape);
  void FitStandardization(const Dataset& train);
  // Makes `next` (same shape and optimizer kind) the config, resizing what
  // the batch size and dropout need.
  void ApplySettings(const TrainerConfig& next);
  // Standardized copies of the columns `indices[0..n)` into batch_,
  // augmented when the config asks for it.
  void GatherBatch(const Dataset& data, const int64_t* indices, int64_t n);

  TrainerConfig config_;
  std::unique_ptr<ThreadTeam> team_;  // Before the users it outlives.
  Network<float> network_;
  Optimizer<float> optimizer_;
  Random shuffle_random_;
  Random noise_random_;  // Dropout masks and augmentation.
  Eigen::VectorXf feature_mean_;
  Eigen::VectorXf feature_inv_std_;
  Matrix<float> batch_;
  std::vector<int32_t> batch_labels_;
  std::vector<int64_t> order_;
  double base_learning_rate_ = 0;
  int schedule_start_epoch_ = 0;
  int epoch_ = 0;
};

}  // namespace caviar::trainer

#endif  // CAVIAR_WORKER_TRAINER_TRAINER_H_
