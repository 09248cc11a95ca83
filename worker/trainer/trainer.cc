#include "worker/trainer/trainer.h"

#include <chrono>
#include <cmath>
#include <cstring>
#include <sstream>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/status_macros.h"
#include "common/trainer_settings/setting_rules.h"
#include "worker/trainer/augment.h"

namespace caviar::trainer {
namespace {

// 03 adds the settings a nudge may change; 02 checkpoints (without them)
// still restore.
constexpr char kCheckpointMagic[8] = {'C', 'A', 'V', 'T', 'R', 'N', '0', '3'};
constexpr char kCheckpointMagic02[8] = {'C', 'A', 'V', 'T', 'R', 'N', '0', '2'};
// Evaluation runs in chunks of this many examples.
constexpr int64_t kEvalChunk = 1024;

bool Augments(const TrainerConfig& config) {
  return config.augment_flip || config.augment_shift > 0;
}

NetworkShape ShapeOf(const TrainerConfig& config, const Dataset& train) {
  NetworkShape shape;
  shape.inputs = int(train.num_features());
  shape.hidden = config.hidden;
  shape.classes = train.num_classes;
  shape.activation = config.activation;
  shape.batch_norm = config.batch_norm;
  shape.bn_momentum = config.bn_momentum;
  shape.bn_epsilon = config.bn_epsilon;
  shape.dropout = config.dropout;
  return shape;
}

// Appends raw bytes; reads them back with bounds checks.
class ByteWriter {
 public:
  template <typename T>
  void Put(const T& value) {
    bytes_.append(reinterpret_cast<const char*>(&value), sizeof value);
  }
  template <typename T>
  void PutArray(const T* data, int64_t count) {
    Put(count);
    bytes_.append(reinterpret_cast<const char*>(data), sizeof(T) * size_t(count));
  }
  void PutString(const std::string& s) { PutArray(s.data(), int64_t(s.size())); }
  std::string Take() { return std::move(bytes_); }

 private:
  std::string bytes_;
};

class ByteReader {
 public:
  explicit ByteReader(absl::string_view bytes) : bytes_(bytes) {}
  template <typename T>
  bool Get(T* value) {
    if (bytes_.size() < sizeof(T)) return false;
    std::memcpy(value, bytes_.data(), sizeof(T));
    bytes_.remove_prefix(sizeof(T));
    return true;
  }
  // Reads an array that must have exactly `count` elements.
  template <typename T>
  bool GetArray(T* data, int64_t count) {
    int64_t stored;
    if (!Get(&stored) || stored != count) return false;
    const size_t size = sizeof(T) * size_t(count);
    if (bytes_.size() < size) return false;
    // An empty vector's data() may be null, and memcpy's may not.
    if (size > 0) std::memcpy(data, bytes_.data(), size);
    bytes_.remove_prefix(size);
    return true;
  }
  bool GetString(std::string* s) {
    int64_t size;
    if (!Get(&size) || size < 0 || bytes_.size() < size_t(size)) return false;
    s->assign(bytes_.data(), size_t(size));
    bytes_.remove_prefix(size_t(size));
    return true;
  }
  bool done() const { return bytes_.empty(); }

 private:
  absl::string_view bytes_;
};

}  // namespace

namespace {

// Names map to enums by their position in the setting's rule
// (common/trainer_settings/setting_rules.h): the trainer accepts exactly the
// names the coordinator accepts.
template <typename Enum, size_t N>
bool ParseByRule(absl::string_view field, absl::string_view name,
                 const Enum (&by_position)[N], Enum* out) {
  const int i = trainer_settings::NameIndex(field, name);
  if (i < 0 || i >= static_cast<int>(N)) return false;
  *out = by_position[i];
  return true;
}

// One setting against the table; `where` is the setting's name.
absl::Status Check(const char* field, double value) {
  const trainer_settings::SettingRule* rule = trainer_settings::RuleFor(field);
  if (rule == nullptr) return absl::InternalError(absl::StrCat("no rule for ", field));
  return trainer_settings::CheckNumber(field, *rule, value);
}

}  // namespace

bool ParseOptimizerKind(absl::string_view name, OptimizerKind* kind) {
  static constexpr OptimizerKind kByPosition[] = {
      OptimizerKind::kGradientDescent, OptimizerKind::kMomentum, OptimizerKind::kRmsprop,
      OptimizerKind::kAdam};
  return ParseByRule("optimizer", name, kByPosition, kind);
}

bool ParseActivation(absl::string_view name, Activation* activation) {
  static constexpr Activation kByPosition[] = {Activation::kRelu, Activation::kTanh,
                                               Activation::kSigmoid};
  return ParseByRule("activation", name, kByPosition, activation);
}

bool ParseLrSchedule(absl::string_view name, LrSchedule* schedule) {
  static constexpr LrSchedule kByPosition[] = {
      LrSchedule::kInverse, LrSchedule::kExponential, LrSchedule::kStep};
  return ParseByRule("lr_schedule", name, kByPosition, schedule);
}

bool ParseInitKind(absl::string_view name, InitKind* init) {
  static constexpr InitKind kByPosition[] = {InitKind::kHe, InitKind::kXavier};
  return ParseByRule("init", name, kByPosition, init);
}

absl::Status ValidateConfig(const TrainerConfig& config) {
  CAVIAR_RETURN_IF_ERROR(Check("layers", double(config.hidden.size())));
  for (int units : config.hidden) CAVIAR_RETURN_IF_ERROR(Check("hidden_units", units));
  CAVIAR_RETURN_IF_ERROR(Check("learning_rate", config.learning_rate));
  const OptimizerSettings& o = config.optimizer;
  CAVIAR_RETURN_IF_ERROR(Check("beta1", o.beta1));
  CAVIAR_RETURN_IF_ERROR(Check("beta2", o.beta2));
  CAVIAR_RETURN_IF_ERROR(Check("epsilon", o.epsilon));
  CAVIAR_RETURN_IF_ERROR(Check("l2", o.l2));
  CAVIAR_RETURN_IF_ERROR(Check("bn_momentum", config.bn_momentum));
  CAVIAR_RETURN_IF_ERROR(Check("dropout", config.dropout));
  CAVIAR_RETURN_IF_ERROR(Check("augment_shift", config.augment_shift));
  CAVIAR_RETURN_IF_ERROR(Check("lr_decay", config.lr_decay));
  CAVIAR_RETURN_IF_ERROR(trainer_settings::CheckStepDecay(
      "lr_decay", config.lr_schedule == LrSchedule::kStep, config.lr_decay));
  CAVIAR_RETURN_IF_ERROR(Check("lr_step_epochs", config.lr_step_epochs));
  CAVIAR_RETURN_IF_ERROR(Check("batch_size", config.batch_size));
  CAVIAR_RETURN_IF_ERROR(Check("threads", config.threads));
  if (config.gemm == GemmKind::kBlas && !HaveBlas()) {
    return absl::InvalidArgumentError(
        "gemm: openblas was asked for, but this build has no BLAS (libopenblas-dev)");
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<Trainer>> Trainer::Create(const TrainerConfig& config,
                                                         const Dataset& train) {
  CAVIAR_RETURN_IF_ERROR(ValidateConfig(config));
  if (train.size() == 0 || train.num_features() == 0) {
    return absl::InvalidArgumentError("training set is empty");
  }
  if (train.num_classes < 2) {
    return absl::InvalidArgumentError(
        absl::StrCat("training set has ", train.num_classes, " classes, needs >= 2"));
  }
  if (Augments(config) && train.image_width == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(config.augment_flip ? "augment_flip" : "augment_shift",
                     ": the training set has no image shape (augmentation needs 2-D "
                     "images from an IDX file)"));
  }
  if (config.augment_shift > 0 &&
      config.augment_shift >= std::min(train.image_height, train.image_width)) {
    return absl::InvalidArgumentError(
        absl::StrCat("augment_shift ", config.augment_shift, ": must be below the image size ",
                     train.image_height, "x", train.image_width));
  }
  std::unique_ptr<Trainer> trainer(new Trainer(config, ShapeOf(config, train)));
  trainer->FitStandardization(train);
  return trainer;
}

Trainer::Trainer(const TrainerConfig& config, const NetworkShape& shape)
    : config_(config),
      team_(std::make_unique<ThreadTeam>(config.threads)),
      network_(shape),
      optimizer_(config.optimizer, network_.slots()),
      // Shuffling has its own stream so that it does not depend on the
      // network's size.
      shuffle_random_(config.seed ^ 0x9e3779b97f4a7c15ULL),
      noise_random_(config.seed ^ 0xd1b54a32d192ed03ULL),
      base_learning_rate_(config.learning_rate) {
  network_.Initialize(config.init, config.seed);
  network_.set_team(team_.get());
  optimizer_.set_team(team_.get());
  if (config.gemm.has_value()) {
    network_.SetGemms(*config.gemm);
  } else {
    network_.ChooseGemms(config.batch_size, config.time_gemms);
  }
  network_.Reserve(config.batch_size);
  batch_.resize(shape.inputs, config.batch_size);
  batch_labels_.resize(config.batch_size);
}

std::string Trainer::GemmSummary() const {
  const auto& choices = network_.gemm_choices();
  if (choices.empty()) {
    const GemmKind forced = config_.gemm.value_or(GemmKind::kEigen);
    return absl::StrCat(GemmKindName(forced), " for all products (forced)");
  }
  const char* how = config_.time_gemms ? "measured" : "by shape";
  std::vector<std::string> blas;
  for (const auto& choice : choices) {
    if (choice.timing.kind != GemmKind::kBlas) continue;
    blas.push_back(absl::StrCat("layer ", choice.layer, " ", choice.product, " ", choice.shape.m,
                                "x", choice.shape.n, "x", choice.shape.k));
  }
  if (blas.empty() || blas.size() == choices.size()) {
    return absl::StrCat(GemmKindName(blas.empty() ? GemmKind::kEigen : GemmKind::kBlas),
                        " for all ", choices.size(), " products (", how,
                        "; BLAS: ", BlasDescription(), ")");
  }
  return absl::StrCat(GemmKindName(GemmKind::kBlas), " for ", blas.size(), " of ",
                      choices.size(), " products (", absl::StrJoin(blas, ", "),
                      "), eigen for the rest (", how, "; BLAS: ", BlasDescription(), ")");
}

void Trainer::FitStandardization(const Dataset& train) {
  const Eigen::VectorXd sum = train.features.cast<double>().rowwise().sum();
  Eigen::VectorXd mean = sum / double(train.size());
  Eigen::VectorXd var = Eigen::VectorXd::Zero(mean.size());
  for (int64_t j = 0; j < train.size(); ++j) {
    var += (train.features.col(j).cast<double>() - mean).array().square().matrix();
  }
  var /= double(train.size());
  if (Augments(config_)) {
    // The statistics of the images the network is shown: averages over every
    // transform of the per-pixel E[x] and E[x^2] (a transform moves pixels,
    // so it moves their moments with them). Otherwise a pixel that is almost
    // always background gets a tiny variance, and an augmented image that
    // moves ink onto it is scaled into a huge outlier.
    const std::vector<ImageTransform> transforms =
        AllImageTransforms(config_.augment_flip, config_.augment_shift);
    const Eigen::VectorXd second_moment = var + mean.cwiseAbs2();
    Eigen::VectorXd moved(mean.size());
    Eigen::VectorXd mean_sum = Eigen::VectorXd::Zero(mean.size());
    Eigen::VectorXd second_sum = Eigen::VectorXd::Zero(mean.size());
    for (const ImageTransform& t : transforms) {
      TransformImage(t, train.image_height, train.image_width, mean.data(), moved.data());
      mean_sum += moved;
      TransformImage(t, train.image_height, train.image_width, second_moment.data(),
                     moved.data());
      second_sum += moved;
    }
    mean = mean_sum / double(transforms.size());
    var = (second_sum / double(transforms.size()) - mean.cwiseAbs2()).cwiseMax(0.0);
  }
  feature_mean_ = mean.cast<float>();
  // A constant feature (e.g. an always-black border pixel) maps to 0.
  feature_inv_std_ = (var.array() > 1e-12).select(var.array().rsqrt(), 0.0).matrix().cast<float>();
}

void Trainer::GatherBatch(const Dataset& data, const int64_t* indices, int64_t n) {
  const bool augment = Augments(config_);
  for (int64_t j = 0; j < n; ++j) {
    if (augment) {
      const ImageTransform transform =
          DrawImageTransform(config_.augment_flip, config_.augment_shift, noise_random_);
      TransformImage(transform, data.image_height, data.image_width,
                     data.features.col(indices[j]).data(), batch_.col(j).data());
      batch_.col(j) = (batch_.col(j) - feature_mean_).cwiseProduct(feature_inv_std_);
    } else {
      batch_.col(j) =
          (data.features.col(indices[j]) - feature_mean_).cwiseProduct(feature_inv_std_);
    }
    batch_labels_[j] = data.labels[indices[j]];
  }
}

double Trainer::CurrentLearningRate() const {
  const int e = epoch_ - schedule_start_epoch_;
  switch (config_.lr_schedule) {
    case LrSchedule::kInverse:
      return base_learning_rate_ / (1.0 + config_.lr_decay * e);
    case LrSchedule::kExponential:
      return base_learning_rate_ * std::exp(-config_.lr_decay * e);
    case LrSchedule::kStep:
      return base_learning_rate_ *
             std::pow(1.0 - config_.lr_decay, double(e / config_.lr_step_epochs));
  }
  return base_learning_rate_;
}

void Trainer::SetLearningRate(double learning_rate) {
  base_learning_rate_ = learning_rate;
  schedule_start_epoch_ = epoch_;
}

absl::Status Trainer::Change(const SettingChanges& changes) {
  TrainerConfig next = config_;
  next.learning_rate = changes.learning_rate.value_or(CurrentLearningRate());
  if (changes.lr_schedule) next.lr_schedule = *changes.lr_schedule;
  if (changes.lr_decay) next.lr_decay = *changes.lr_decay;
  if (changes.lr_step_epochs) next.lr_step_epochs = *changes.lr_step_epochs;
  if (changes.beta1) next.optimizer.beta1 = *changes.beta1;
  if (changes.beta2) next.optimizer.beta2 = *changes.beta2;
  if (changes.epsilon) next.optimizer.epsilon = *changes.epsilon;
  if (changes.l2) next.optimizer.l2 = *changes.l2;
  if (changes.dropout) next.dropout = *changes.dropout;
  if (changes.bn_momentum) next.bn_momentum = *changes.bn_momentum;
  if (changes.batch_size) next.batch_size = *changes.batch_size;
  CAVIAR_RETURN_IF_ERROR(ValidateConfig(next));
  const bool schedule_changed = changes.learning_rate || changes.lr_schedule ||
                                changes.lr_decay || changes.lr_step_epochs;
  if (schedule_changed) SetLearningRate(next.learning_rate);
  next.learning_rate = config_.learning_rate;  // The initial one, as created.
  ApplySettings(next);
  return absl::OkStatus();
}

void Trainer::ApplySettings(const TrainerConfig& next) {
  config_ = next;
  optimizer_.set_settings(config_.optimizer);
  network_.set_dropout(config_.dropout);
  network_.set_bn_momentum(config_.bn_momentum);
  network_.Reserve(config_.batch_size);
  if (batch_.cols() < config_.batch_size) {
    batch_.resize(batch_.rows(), config_.batch_size);
    batch_labels_.resize(config_.batch_size);
  }
}

TrainResult Trainer::Train(const Dataset& train, const Dataset& dev, int epochs,
                           const EpochCallback& on_epoch,
                           const std::function<bool()>& should_stop) {
  using Clock = std::chrono::steady_clock;
  TrainResult result;
  const int64_t n = train.size();
  if (int64_t(order_.size()) != n) {
    order_.resize(n);
    for (int64_t i = 0; i < n; ++i) order_[i] = i;
  }
  for (int e = 0; e < epochs; ++e) {
    // Read each epoch: a nudge (Change) between epochs may set it.
    const int64_t batch_size = config_.batch_size;
    const auto start = Clock::now();
    const double lr = CurrentLearningRate();
    shuffle_random_.Shuffle(order_);
    double loss_sum = 0;
    int64_t correct_sum = 0;
    int64_t batches = 0;
    for (int64_t begin = 0; begin < n; begin += batch_size) {
      if (should_stop && should_stop()) {
        result.outcome = TrainResult::Outcome::kStopped;
        result.message = absl::StrCat("stop requested in epoch ", epoch_ + 1);
        return result;
      }
      const int64_t m = std::min(batch_size, n - begin);
      GatherBatch(train, order_.data() + begin, m);
      int64_t correct = 0;
      const auto x = batch_.leftCols(m);
      network_.DrawDropoutMasks(m, noise_random_);
      const float loss = network_.ForwardTrain(x, batch_labels_.data(), true, &correct);
      if (!std::isfinite(loss)) {
        result.outcome = TrainResult::Outcome::kDiverged;
        result.message = absl::StrCat("loss is ", loss, " at step ", optimizer_.steps() + 1,
                                      " (epoch ", epoch_ + 1, ")");
        return result;
      }
      network_.Backward(x, batch_labels_.data(), nullptr);
      optimizer_.Step(network_.params(), network_.grads(), lr);
      loss_sum += loss;
      correct_sum += correct;
      ++batches;
    }
    ++epoch_;
    ++result.epochs_completed;
    EpochMetrics metrics;
    metrics.epoch = epoch_;
    metrics.steps = optimizer_.steps();
    metrics.learning_rate = lr;
    metrics.train_loss = loss_sum / double(batches);
    metrics.train_accuracy = double(correct_sum) / double(n);
    if (dev.size() > 0) {
      const Evaluation eval = Evaluate(dev);
      metrics.dev_loss = eval.loss;
      metrics.dev_accuracy = eval.accuracy;
      if (!std::isfinite(eval.loss)) {
        result.outcome = TrainResult::Outcome::kDiverged;
        result.message = absl::StrCat("dev loss is ", eval.loss, " after epoch ", epoch_);
        return result;
      }
    }
    metrics.seconds = std::chrono::duration<double>(Clock::now() - start).count();
    if (on_epoch) {
      const EpochDecision decision = on_epoch(metrics);
      if (decision.learning_rate) SetLearningRate(*decision.learning_rate);
      if (decision.stop) {
        result.outcome = TrainResult::Outcome::kStopped;
        result.message = absl::StrCat("stopped after epoch ", epoch_);
        return result;
      }
    }
  }
  return result;
}

Evaluation Trainer::Evaluate(const Dataset& data) {
  Evaluation eval;
  if (data.size() == 0) return eval;
  const int64_t chunk = std::min<int64_t>(kEvalChunk, data.size());
  Matrix<float> x(feature_mean_.size(), chunk);
  std::vector<int64_t> indices(chunk);
  double loss_sum = 0;
  int64_t correct_sum = 0;
  for (int64_t begin = 0; begin < data.size(); begin += chunk) {
    const int64_t m = std::min(chunk, data.size() - begin);
    for (int64_t j = 0; j < m; ++j) {
      x.col(j) = (data.features.col(begin + j) - feature_mean_).cwiseProduct(feature_inv_std_);
    }
    int64_t correct = 0;
    const float loss =
        network_.EvaluateBatch(x.leftCols(m), data.labels.data() + begin, &correct);
    loss_sum += double(loss) * double(m);
    correct_sum += correct;
  }
  eval.loss = loss_sum / double(data.size());
  eval.accuracy = double(correct_sum) / double(data.size());
  return eval;
}

std::string Trainer::SaveState() const {
  ByteWriter out;
  out.PutArray(kCheckpointMagic, sizeof kCheckpointMagic);
  auto put_vector = [&out](const Vector<float>& v) { out.PutArray(v.data(), v.size()); };
  Network<float>& net = const_cast<Network<float>&>(network_);
  Optimizer<float>& opt = const_cast<Optimizer<float>&>(optimizer_);
  put_vector(net.params());
  put_vector(net.running_stats());
  out.Put(int32_t(opt.settings().kind));
  out.Put(opt.steps());
  put_vector(opt.first_moment());
  put_vector(opt.second_moment());
  out.Put(base_learning_rate_);
  out.Put(int32_t(schedule_start_epoch_));
  out.Put(int32_t(epoch_));
  for (const Random* random : {&shuffle_random_, &noise_random_}) {
    std::ostringstream engine;
    engine << const_cast<Random*>(random)->engine();
    out.PutString(engine.str());
  }
  out.PutArray(order_.data(), int64_t(order_.size()));
  // The settings a nudge may have changed.
  out.Put(int32_t(config_.lr_schedule));
  out.Put(config_.lr_decay);
  out.Put(int32_t(config_.lr_step_epochs));
  out.Put(config_.optimizer.beta1);
  out.Put(config_.optimizer.beta2);
  out.Put(config_.optimizer.epsilon);
  out.Put(config_.optimizer.l2);
  out.Put(config_.dropout);
  out.Put(config_.bn_momentum);
  out.Put(int32_t(config_.batch_size));
  return out.Take();
}

absl::Status Trainer::RestoreState(absl::string_view bytes) {
  ByteReader in(bytes);
  auto corrupt = [](absl::string_view what) {
    return absl::InvalidArgumentError(
        absl::StrCat("not a checkpoint of this trainer: ", what));
  };
  char magic[sizeof kCheckpointMagic];
  if (!in.GetArray(magic, sizeof magic) ||
      (std::memcmp(magic, kCheckpointMagic, sizeof magic) != 0 &&
       std::memcmp(magic, kCheckpointMagic02, sizeof magic) != 0)) {
    return corrupt("bad magic");
  }
  const bool has_settings = std::memcmp(magic, kCheckpointMagic, sizeof magic) == 0;
  // Read into copies first so that a bad checkpoint changes nothing.
  Vector<float> params(network_.params().size());
  Vector<float> running(network_.running_stats().size());
  Vector<float> first(optimizer_.first_moment().size());
  Vector<float> second(optimizer_.second_moment().size());
  int32_t kind, schedule_start, epoch;
  int64_t steps;
  double base_lr;
  std::string shuffle_text, noise_text;
  int64_t order_size;
  if (!in.GetArray(params.data(), params.size())) return corrupt("parameter count differs");
  if (!in.GetArray(running.data(), running.size())) return corrupt("running averages differ");
  if (!in.Get(&kind) || kind != int32_t(optimizer_.settings().kind)) {
    return corrupt("optimizer differs");
  }
  if (!in.Get(&steps) || !in.GetArray(first.data(), first.size()) ||
      !in.GetArray(second.data(), second.size())) {
    return corrupt("optimizer state differs");
  }
  if (!in.Get(&base_lr) || !in.Get(&schedule_start) || !in.Get(&epoch) ||
      !in.GetString(&shuffle_text) || !in.GetString(&noise_text)) {
    return corrupt("truncated");
  }
  ByteReader peek = in;
  if (!peek.Get(&order_size) || order_size < 0) return corrupt("truncated");
  std::vector<int64_t> order(order_size);
  if (!in.GetArray(order.data(), order_size)) return corrupt("truncated");
  TrainerConfig settings = config_;
  if (has_settings) {
    int32_t schedule, step_epochs, batch_size;
    if (!in.Get(&schedule) || !in.Get(&settings.lr_decay) || !in.Get(&step_epochs) ||
        !in.Get(&settings.optimizer.beta1) || !in.Get(&settings.optimizer.beta2) ||
        !in.Get(&settings.optimizer.epsilon) || !in.Get(&settings.optimizer.l2) ||
        !in.Get(&settings.dropout) || !in.Get(&settings.bn_momentum) ||
        !in.Get(&batch_size)) {
      return corrupt("truncated settings");
    }
    if (schedule < 0 || schedule > int32_t(LrSchedule::kStep)) return corrupt("bad schedule");
    settings.lr_schedule = LrSchedule(schedule);
    settings.lr_step_epochs = step_epochs;
    settings.batch_size = batch_size;
    if (!ValidateConfig(settings).ok()) return corrupt("bad settings");
  }
  if (!in.done()) return corrupt("trailing bytes");
  std::mt19937_64 shuffle_engine, noise_engine;
  std::istringstream shuffle_in(shuffle_text), noise_in(noise_text);
  if (!(shuffle_in >> shuffle_engine)) return corrupt("bad shuffle state");
  if (!(noise_in >> noise_engine)) return corrupt("bad noise state");

  network_.params() = params;
  network_.running_stats() = running;
  optimizer_.set_steps(steps);
  optimizer_.first_moment() = first;
  optimizer_.second_moment() = second;
  base_learning_rate_ = base_lr;
  schedule_start_epoch_ = schedule_start;
  epoch_ = epoch;
  shuffle_random_.engine() = shuffle_engine;
  noise_random_.engine() = noise_engine;
  order_ = std::move(order);
  ApplySettings(settings);
  return absl::OkStatus();
}

}  // namespace caviar::trainer
