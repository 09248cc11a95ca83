#include "worker/trainer_objective.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/log.h"
#include "common/status_macros.h"
#include "common/trainer_settings/nudge_rules.h"

namespace caviar::worker {
namespace {

using caviar::v1::TrainerSettings;

caviar::v1::Measurement ToMeasurement(const trainer::EpochMetrics& m, bool has_dev,
                                      double elapsed) {
  caviar::v1::Measurement measurement;
  measurement.set_step(m.epoch);
  measurement.set_elapsed_seconds(elapsed);
  auto& metrics = *measurement.mutable_metrics();
  metrics["train_loss"] = m.train_loss;
  metrics["train_accuracy"] = m.train_accuracy;
  if (has_dev) {
    metrics["dev_loss"] = m.dev_loss;
    metrics["dev_accuracy"] = m.dev_accuracy;
  }
  metrics["learning_rate"] = m.learning_rate;
  metrics["seconds"] = m.seconds;
  return measurement;
}

// Epochs between checkpoints: the spec's checkpoint.every_steps, 1 when
// unset, 0 for none.
int CheckpointEvery(const caviar::v1::StudySpec& spec) {
  return spec.checkpoint().has_every_steps() ? spec.checkpoint().every_steps() : 1;
}

TrialOutcome Failure(caviar::v1::FailureKind kind, std::string reason) {
  TrialOutcome outcome;
  outcome.failure_kind = kind;
  outcome.failure_reason = std::move(reason);
  return outcome;
}

// The trainer's changes for nudged settings (checked by the same rules as
// the coordinator's).
absl::StatusOr<trainer::SettingChanges> ChangesOf(const ParameterMap& parameters) {
  CAVIAR_ASSIGN_OR_RETURN(const TrainerSettings s,
                          trainer_settings::NudgedSettings(parameters));
  trainer::SettingChanges c;
  if (s.has_learning_rate()) c.learning_rate = s.learning_rate();
  if (s.has_lr_schedule()) {
    trainer::LrSchedule schedule;
    if (trainer::ParseLrSchedule(s.lr_schedule(), &schedule)) c.lr_schedule = schedule;
  }
  if (s.has_lr_decay()) c.lr_decay = s.lr_decay();
  if (s.has_lr_step_epochs()) c.lr_step_epochs = s.lr_step_epochs();
  if (s.has_beta1()) c.beta1 = s.beta1();
  if (s.has_beta2()) c.beta2 = s.beta2();
  if (s.has_epsilon()) c.epsilon = s.epsilon();
  if (s.has_l2()) c.l2 = s.l2();
  if (s.has_dropout()) c.dropout = s.dropout();
  if (s.has_bn_momentum()) c.bn_momentum = s.bn_momentum();
  if (s.has_batch_size()) c.batch_size = s.batch_size();
  return c;
}

// Applies nudges from the next epoch on and acknowledges each one applied;
// one the trainer refuses stays unacknowledged (logged).
void ApplyNudges(const std::vector<caviar::v1::Nudge>& nudges, const caviar::v1::Trial& trial,
                 trainer::Trainer& trainer, ProgressReporter* reporter) {
  for (const caviar::v1::Nudge& nudge : nudges) {
    absl::StatusOr<trainer::SettingChanges> changes = ChangesOf(nudge.parameters());
    const absl::Status applied = changes.ok() ? trainer.Change(*changes) : changes.status();
    if (applied.ok()) {
      reporter->AcknowledgeNudge(nudge.id());
    } else {
      CAVIAR_LOG(WARNING) << "trial " << trial.id() << ": nudge " << nudge.id()
                          << " not applied: " << applied;
    }
  }
}

// A reply from a coordinator that sends no nudge ids: its updates as one
// nudge without an id.
std::vector<caviar::v1::Nudge> NudgesOf(const ProgressReply& reply) {
  if (!reply.nudges.empty() || reply.parameter_updates.empty()) return reply.nudges;
  caviar::v1::Nudge nudge;
  *nudge.mutable_parameters() = reply.parameter_updates;
  return {nudge};
}

}  // namespace

absl::StatusOr<trainer::TrainerConfig> ConfigFromSettings(const TrainerSettings& s,
                                                          uint64_t default_seed) {
  CAVIAR_RETURN_IF_ERROR(EffectiveSettings(s, {}).status());
  trainer::TrainerConfig config;
  const int layers = s.has_layers() ? s.layers() : 2;
  const int units = s.has_hidden_units() ? s.hidden_units() : 256;
  config.hidden.assign(layers, units);
  if (s.has_activation()) trainer::ParseActivation(s.activation(), &config.activation);
  if (s.has_batch_norm()) config.batch_norm = s.batch_norm();
  if (s.has_bn_momentum()) config.bn_momentum = s.bn_momentum();
  if (s.has_init()) {
    trainer::ParseInitKind(s.init(), &config.init);
  } else if (config.activation != trainer::Activation::kRelu) {
    config.init = trainer::InitKind::kXavier;
  }
  if (s.has_optimizer()) trainer::ParseOptimizerKind(s.optimizer(), &config.optimizer.kind);
  if (s.has_beta1()) config.optimizer.beta1 = s.beta1();
  if (s.has_beta2()) config.optimizer.beta2 = s.beta2();
  if (s.has_epsilon()) config.optimizer.epsilon = s.epsilon();
  if (s.has_l2()) config.optimizer.l2 = s.l2();
  if (s.has_dropout()) config.dropout = s.dropout();
  if (s.has_augment_flip()) config.augment_flip = s.augment_flip();
  if (s.has_augment_shift()) config.augment_shift = s.augment_shift();
  if (s.has_learning_rate()) config.learning_rate = s.learning_rate();
  if (s.has_lr_schedule()) trainer::ParseLrSchedule(s.lr_schedule(), &config.lr_schedule);
  if (s.has_lr_decay()) config.lr_decay = s.lr_decay();
  if (s.has_lr_step_epochs()) config.lr_step_epochs = s.lr_step_epochs();
  if (s.has_batch_size()) config.batch_size = s.batch_size();
  config.seed = s.has_seed() ? s.seed() : (default_seed != 0 ? default_seed : 1);
  if (s.has_threads()) config.threads = s.threads();
  CAVIAR_RETURN_IF_ERROR(trainer::ValidateConfig(config));
  return config;
}

absl::StatusOr<LoadedData> LoadDataset(const caviar::v1::Dataset& dataset) {
  CAVIAR_RETURN_IF_ERROR(trainer_settings::CheckDatasetSpec(dataset));
  trainer::Dataset train_file;
  LoadedData data;
  if (dataset.has_idx()) {
    const auto& idx = dataset.idx();
    CAVIAR_ASSIGN_OR_RETURN(train_file, trainer::ReadIdx(idx.train_images(), idx.train_labels()));
    if (!idx.test_images().empty()) {
      CAVIAR_ASSIGN_OR_RETURN(data.test, trainer::ReadIdx(idx.test_images(), idx.test_labels(),
                                                          train_file.num_classes));
    }
  } else {
    const auto& csv = dataset.csv();
    trainer::CsvOptions options{csv.label_column(), csv.has_header(), csv.num_classes()};
    CAVIAR_ASSIGN_OR_RETURN(train_file, trainer::ReadCsv(csv.train_path(), options));
    if (!csv.test_path().empty()) {
      options.num_classes = train_file.num_classes;
      CAVIAR_ASSIGN_OR_RETURN(data.test, trainer::ReadCsv(csv.test_path(), options));
    }
  }
  if (data.test.size() > 0 && data.test.num_features() != train_file.num_features()) {
    return absl::InvalidArgumentError(absl::StrCat("test set has ", data.test.num_features(),
                                                   " features, training set ",
                                                   train_file.num_features()));
  }
  CAVIAR_ASSIGN_OR_RETURN(
      trainer::TrainDevSplit split,
      trainer::SplitTrainDev(train_file, dataset.dev_size(), dataset.split_seed()));
  data.train = trainer::Head(split.train, dataset.train_limit());
  data.dev = std::move(split.dev);
  data.test = trainer::Head(data.test, dataset.test_limit());
  return data;
}

int TrainerObjective::dataset_loads() const {
  absl::MutexLock lock(&mu_);
  return loads_;
}

absl::StatusOr<std::shared_ptr<const LoadedData>> TrainerObjective::Data(
    const caviar::v1::Dataset& spec) {
  std::string key;
  spec.SerializeToString(&key);
  absl::MutexLock lock(&mu_);
  if (cached_ != nullptr && key == cached_key_) return cached_;
  // One dataset at a time: a worker serves one study's trials in a row, and
  // Fashion-MNIST alone is ~200 MB as floats.
  cached_.reset();
  CAVIAR_ASSIGN_OR_RETURN(LoadedData data, LoadDataset(spec));
  ++loads_;
  cached_ = std::make_shared<const LoadedData>(std::move(data));
  cached_key_ = key;
  return cached_;
}

namespace {

// The trainer's GEMM choice (measured per product shape at its creation),
// logged once per process for each distinct answer.
void LogGemmChoice(const trainer::Trainer& trainer) {
  static std::mutex mu;
  static auto& logged = *new std::set<std::string>();
  std::string summary = trainer.GemmSummary();
  std::lock_guard<std::mutex> lock(mu);
  if (logged.insert(summary).second) CAVIAR_LOG(INFO) << "trainer GEMM: " << summary;
}

}  // namespace

TrialOutcome TrainerObjective::Run(const caviar::v1::StudySpec& spec,
                                   const caviar::v1::Trial& trial,
                                   ProgressReporter* reporter) {
  using Clock = std::chrono::steady_clock;
  const auto start = Clock::now();
  if (!spec.has_trainer()) {
    return Failure(caviar::v1::INFEASIBLE, "the study has no trainer objective");
  }
  const caviar::v1::TrainerObjective& objective = spec.trainer();
  absl::StatusOr<TrainerSettings> settings =
      EffectiveSettings(objective.settings(), trial.parameters());
  if (!settings.ok()) return Failure(caviar::v1::INFEASIBLE, settings.status().ToString());
  absl::StatusOr<trainer::TrainerConfig> config = ConfigFromSettings(*settings, trial.seed());
  if (!config.ok()) return Failure(caviar::v1::INFEASIBLE, config.status().ToString());
  absl::StatusOr<std::shared_ptr<const LoadedData>> data = Data(objective.dataset());
  if (!data.ok()) return Failure(caviar::v1::INFEASIBLE, data.status().ToString());
  const LoadedData& sets = **data;
  absl::StatusOr<std::unique_ptr<trainer::Trainer>> trainer =
      trainer::Trainer::Create(*config, sets.train);
  if (!trainer.ok()) return Failure(caviar::v1::INFEASIBLE, trainer.status().ToString());
  LogGemmChoice(**trainer);

  const bool has_dev = sets.dev.size() > 0;
  TrialOutcome outcome;
  caviar::v1::Measurement last;
  if (const ResumePoint* resume = reporter->resume()) {
    if (absl::Status restored = (*trainer)->RestoreState(resume->bytes); !restored.ok()) {
      return Failure(caviar::v1::CRASHED,
                     absl::StrCat("the checkpoint at step ", resume->step,
                                  " does not restore: ", restored.message()));
    }
    if (!resume->curve.empty()) last = resume->curve.back();
  }
  ApplyNudges(reporter->initial_nudges(), trial, **trainer, reporter);
  const int every = CheckpointEvery(spec);
  const trainer::TrainResult result = (*trainer)->Train(
      sets.train, sets.dev, std::max(0, objective.epochs() - (*trainer)->epoch()),
      [&](const trainer::EpochMetrics& metrics) {
        const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
        last = ToMeasurement(metrics, has_dev, elapsed);
        const ProgressReply reply = reporter->Report(last);
        trainer::EpochDecision decision;
        decision.stop = reply.stop;
        // Applied now rather than by Train, so that a checkpoint taken
        // below holds them.
        ApplyNudges(NudgesOf(reply), trial, **trainer, reporter);
        if (reply.checkpoint_and_release ||
            (!decision.stop && every > 0 && metrics.epoch % every == 0)) {
          reporter->SaveCheckpoint(metrics.epoch, (*trainer)->SaveState());
        }
        return decision;
      },
      [reporter] { return reporter->StopRequested(); });

  if (result.outcome == trainer::TrainResult::Outcome::kDiverged) {
    outcome = Failure(caviar::v1::DIVERGED, result.message);
    outcome.final_measurement = last;
    return outcome;
  }
  outcome.stopped = result.outcome == trainer::TrainResult::Outcome::kStopped;
  outcome.final_measurement = last;
  if (sets.test.size() > 0 && (*trainer)->epoch() > 0) {
    const trainer::Evaluation test = (*trainer)->Evaluate(sets.test);
    (*outcome.final_measurement.mutable_metrics())["test_loss"] = test.loss;
    (*outcome.final_measurement.mutable_metrics())["test_accuracy"] = test.accuracy;
    if (!std::isfinite(test.loss)) {
      outcome.failure_kind = caviar::v1::DIVERGED;
      outcome.failure_reason = absl::StrCat("test loss is ", test.loss);
    }
  }
  outcome.final_measurement.set_elapsed_seconds(
      std::chrono::duration<double>(Clock::now() - start).count());
  return outcome;
}

}  // namespace caviar::worker
