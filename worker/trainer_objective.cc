#include "worker/trainer_objective.h"

#include <chrono>
#include <cmath>
#include <limits>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/status_macros.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/reflection.h"

namespace caviar::worker {
namespace {

using caviar::v1::ParameterSpec;
using caviar::v1::ParameterValue;
using caviar::v1::TrainerSettings;
using google::protobuf::FieldDescriptor;

constexpr double kInf = std::numeric_limits<double>::infinity();

// What values a setting accepts: numbers in [lo, hi] (an open end excludes
// the bound), or one of `names` for string settings.
struct SettingRule {
  const char* field;
  double lo = 0;
  double hi = kInf;
  bool lo_open = false;
  bool hi_open = false;
  std::vector<std::string> names = {};
};

const std::vector<SettingRule>& Rules() {
  static const auto* rules = new std::vector<SettingRule>{
      {"learning_rate", 0, kInf, true, true},
      {"optimizer", 0, 0, false, false, {"gd", "momentum", "rmsprop", "adam"}},
      {"beta1", 0, 1, false, true},
      {"beta2", 0, 1, false, true},
      {"epsilon", 0, kInf, true, true},
      {"layers", 0, 64},
      {"hidden_units", 1, 65536},
      {"batch_size", 1, 1 << 20},
      {"lr_decay", 0, kInf, false, true},
      {"lr_schedule", 0, 0, false, false, {"inverse", "exponential", "step"}},
      {"lr_step_epochs", 1, 1e9},
      {"activation", 0, 0, false, false, {"relu", "tanh", "sigmoid"}},
      {"batch_norm", 0, 1},
      {"bn_momentum", 0, 1, false, true},
      {"l2", 0, kInf, false, true},
      {"dropout", 0, 1, false, true},
      {"augment_flip", 0, 1},
      {"augment_shift", 0, 16},
      {"init", 0, 0, false, false, {"he", "xavier"}},
      {"seed", 0, 1.8e19},
      {"threads", 1, 1024},
  };
  return *rules;
}

const SettingRule* RuleFor(const std::string& field) {
  for (const SettingRule& rule : Rules()) {
    if (field == rule.field) return &rule;
  }
  return nullptr;
}

std::string KnownSettings() {
  std::vector<std::string> names;
  for (const SettingRule& rule : Rules()) names.push_back(rule.field);
  return absl::StrJoin(names, ", ");
}

absl::Status Invalid(const std::string& where, const std::string& reason) {
  return absl::InvalidArgumentError(absl::StrCat(where, ": ", reason));
}

bool IsInteger(const FieldDescriptor* field) {
  return field->cpp_type() == FieldDescriptor::CPPTYPE_INT32 ||
         field->cpp_type() == FieldDescriptor::CPPTYPE_UINT64 ||
         field->cpp_type() == FieldDescriptor::CPPTYPE_INT64;
}

absl::Status CheckNumber(const std::string& where, const SettingRule& rule,
                         const FieldDescriptor* field, double value) {
  if (!std::isfinite(value)) return Invalid(where, absl::StrCat("must be finite, got ", value));
  if (IsInteger(field) && value != std::floor(value)) {
    return Invalid(where, absl::StrCat("must be an integer, got ", value));
  }
  const bool low = rule.lo_open ? value <= rule.lo : value < rule.lo;
  const bool high = rule.hi_open ? value >= rule.hi : value > rule.hi;
  if (low || high) {
    return Invalid(where, absl::StrCat("must be in ", rule.lo_open ? "(" : "[", rule.lo, ", ",
                                       rule.hi, rule.hi_open ? ")" : "]", ", got ", value));
  }
  return absl::OkStatus();
}

absl::Status CheckName(const std::string& where, const SettingRule& rule,
                       const std::string& value) {
  for (const std::string& name : rule.names) {
    if (value == name) return absl::OkStatus();
  }
  return Invalid(where, absl::StrCat("unknown value \"", value, "\" (known: ",
                                     absl::StrJoin(rule.names, ", "), ")"));
}

absl::Status CheckBoolName(const std::string& where, const std::string& value) {
  if (value == "true" || value == "false") return absl::OkStatus();
  return Invalid(where, absl::StrCat("a boolean setting takes \"true\" or \"false\", got \"",
                                     value, "\""));
}

// A searched parameter's domain against the setting it overrides.
absl::Status CheckParameter(const std::string& where, const ParameterSpec& parameter) {
  const FieldDescriptor* field =
      TrainerSettings::descriptor()->FindFieldByName(parameter.name());
  const SettingRule* rule = RuleFor(parameter.name());
  if (field == nullptr || rule == nullptr) {
    return Invalid(where, absl::StrCat("not a trainer setting (known: ", KnownSettings(), ")"));
  }
  const bool is_bool = field->cpp_type() == FieldDescriptor::CPPTYPE_BOOL;
  const bool is_string = field->cpp_type() == FieldDescriptor::CPPTYPE_STRING;
  switch (parameter.domain_case()) {
    case ParameterSpec::kCategorical:
      if (!is_string && !is_bool) {
        return Invalid(where, "a numeric setting needs a double, integer or discrete domain");
      }
      for (const std::string& value : parameter.categorical().values()) {
        CAVIAR_RETURN_IF_ERROR(is_bool ? CheckBoolName(where, value)
                                       : CheckName(where, *rule, value));
      }
      return absl::OkStatus();
    case ParameterSpec::kDouble:
      if (is_string || is_bool || IsInteger(field)) {
        return Invalid(where, absl::StrCat(is_string ? "a string" : "an integer",
                                           " setting cannot take a double range; use ",
                                           is_string ? "a categorical" : "an integer or discrete",
                                           " domain"));
      }
      CAVIAR_RETURN_IF_ERROR(CheckNumber(where, *rule, field, parameter.double_().min()));
      return CheckNumber(where, *rule, field, parameter.double_().max());
    case ParameterSpec::kInteger:
      if (is_string) return Invalid(where, "a string setting needs a categorical domain");
      CAVIAR_RETURN_IF_ERROR(CheckNumber(where, *rule, field, double(parameter.integer().min())));
      return CheckNumber(where, *rule, field, double(parameter.integer().max()));
    case ParameterSpec::kDiscrete:
      if (is_string) return Invalid(where, "a string setting needs a categorical domain");
      for (double value : parameter.discrete().values()) {
        CAVIAR_RETURN_IF_ERROR(CheckNumber(where, *rule, field, value));
      }
      return absl::OkStatus();
    case ParameterSpec::DOMAIN_NOT_SET:
      return Invalid(where, "has no domain");
  }
  return absl::OkStatus();
}

// Every fixed setting that is present.
absl::Status CheckSettings(const std::string& prefix, const TrainerSettings& settings) {
  const auto* reflection = settings.GetReflection();
  std::vector<const FieldDescriptor*> fields;
  reflection->ListFields(settings, &fields);
  for (const FieldDescriptor* field : fields) {
    const std::string where = absl::StrCat(prefix, field->name());
    const SettingRule* rule = RuleFor(field->name());
    if (rule == nullptr) continue;  // A setting this worker does not know yet.
    switch (field->cpp_type()) {
      case FieldDescriptor::CPPTYPE_DOUBLE:
        CAVIAR_RETURN_IF_ERROR(
            CheckNumber(where, *rule, field, reflection->GetDouble(settings, field)));
        break;
      case FieldDescriptor::CPPTYPE_INT32:
        CAVIAR_RETURN_IF_ERROR(
            CheckNumber(where, *rule, field, reflection->GetInt32(settings, field)));
        break;
      case FieldDescriptor::CPPTYPE_UINT64:
        CAVIAR_RETURN_IF_ERROR(
            CheckNumber(where, *rule, field, double(reflection->GetUInt64(settings, field))));
        break;
      case FieldDescriptor::CPPTYPE_STRING:
        CAVIAR_RETURN_IF_ERROR(CheckName(where, *rule, reflection->GetString(settings, field)));
        break;
      default:
        break;
    }
  }
  return absl::OkStatus();
}

// Sets one settings field from a trial's parameter value.
absl::Status ApplyParameter(const std::string& name, const ParameterValue& value,
                            TrainerSettings* settings) {
  const std::string where = absl::StrCat("parameter ", name);
  const FieldDescriptor* field = TrainerSettings::descriptor()->FindFieldByName(name);
  if (field == nullptr || RuleFor(name) == nullptr) {
    return Invalid(where, "not a trainer setting");
  }
  const auto* reflection = settings->GetReflection();
  const bool numeric = value.value_case() == ParameterValue::kDoubleValue ||
                       value.value_case() == ParameterValue::kIntValue;
  const double number = value.value_case() == ParameterValue::kIntValue
                            ? double(value.int_value())
                            : value.double_value();
  auto need_integer = [&]() -> absl::Status {
    if (!numeric || number != std::floor(number)) {
      return Invalid(where, "needs an integer value");
    }
    return absl::OkStatus();
  };
  switch (field->cpp_type()) {
    case FieldDescriptor::CPPTYPE_DOUBLE:
      if (!numeric) return Invalid(where, "needs a number");
      reflection->SetDouble(settings, field, number);
      return absl::OkStatus();
    case FieldDescriptor::CPPTYPE_INT32:
      CAVIAR_RETURN_IF_ERROR(need_integer());
      reflection->SetInt32(settings, field, int32_t(number));
      return absl::OkStatus();
    case FieldDescriptor::CPPTYPE_UINT64:
      CAVIAR_RETURN_IF_ERROR(need_integer());
      reflection->SetUInt64(settings, field,
                            value.value_case() == ParameterValue::kIntValue
                                ? uint64_t(value.int_value())
                                : uint64_t(number));
      return absl::OkStatus();
    case FieldDescriptor::CPPTYPE_STRING:
      if (value.value_case() != ParameterValue::kStringValue) {
        return Invalid(where, "needs a string value");
      }
      reflection->SetString(settings, field, value.string_value());
      return absl::OkStatus();
    case FieldDescriptor::CPPTYPE_BOOL:
      if (value.value_case() == ParameterValue::kStringValue &&
          (value.string_value() == "true" || value.string_value() == "false")) {
        reflection->SetBool(settings, field, value.string_value() == "true");
        return absl::OkStatus();
      }
      if (numeric && (number == 0 || number == 1)) {
        reflection->SetBool(settings, field, number == 1);
        return absl::OkStatus();
      }
      return Invalid(where, "needs true/false or 0/1");
    default:
      return Invalid(where, "has an unsupported type");
  }
}

absl::Status CheckDatasetSpec(const caviar::v1::Dataset& dataset) {
  switch (dataset.source_case()) {
    case caviar::v1::Dataset::kIdx:
      if (dataset.idx().train_images().empty() || dataset.idx().train_labels().empty()) {
        return Invalid("trainer.dataset.idx", "needs train_images and train_labels");
      }
      if (dataset.idx().test_images().empty() != dataset.idx().test_labels().empty()) {
        return Invalid("trainer.dataset.idx", "test_images and test_labels go together");
      }
      break;
    case caviar::v1::Dataset::kCsv:
      if (dataset.csv().train_path().empty()) {
        return Invalid("trainer.dataset.csv.train_path", "must be set");
      }
      if (dataset.csv().label_column().empty()) {
        return Invalid("trainer.dataset.csv.label_column", "must be set (a name or an index)");
      }
      if (dataset.csv().num_classes() < 0 || dataset.csv().num_classes() == 1) {
        return Invalid("trainer.dataset.csv.num_classes",
                       absl::StrCat("must be 0 (from the labels) or >= 2, got ",
                                    dataset.csv().num_classes()));
      }
      break;
    case caviar::v1::Dataset::SOURCE_NOT_SET:
      return Invalid("trainer.dataset", "needs a source: idx or csv");
  }
  if (dataset.dev_size() < 0) {
    return Invalid("trainer.dataset.dev_size",
                   absl::StrCat("must be >= 0, got ", dataset.dev_size()));
  }
  if (dataset.train_limit() < 0) {
    return Invalid("trainer.dataset.train_limit",
                   absl::StrCat("must be >= 0, got ", dataset.train_limit()));
  }
  if (dataset.test_limit() < 0) {
    return Invalid("trainer.dataset.test_limit",
                   absl::StrCat("must be >= 0, got ", dataset.test_limit()));
  }
  return absl::OkStatus();
}

const std::vector<std::string>& ReportedMetrics() {
  static const auto* metrics = new std::vector<std::string>{
      "train_loss", "train_accuracy", "dev_loss",      "dev_accuracy",
      "test_loss",  "test_accuracy",  "learning_rate", "seconds"};
  return *metrics;
}

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

TrialOutcome Failure(caviar::v1::FailureKind kind, std::string reason) {
  TrialOutcome outcome;
  outcome.failure_kind = kind;
  outcome.failure_reason = std::move(reason);
  return outcome;
}

// Augmentation moves pixels, so it needs images: an IDX dataset.
absl::Status CheckAugmentationHasImages(const caviar::v1::StudySpec& spec) {
  if (spec.trainer().dataset().has_idx()) return absl::OkStatus();
  const TrainerSettings& settings = spec.trainer().settings();
  if (settings.augment_flip()) {
    return Invalid("trainer.settings.augment_flip", "needs images: an IDX dataset");
  }
  if (settings.augment_shift() > 0) {
    return Invalid("trainer.settings.augment_shift", "needs images: an IDX dataset");
  }
  for (int i = 0; i < spec.parameters_size(); ++i) {
    const std::string& name = spec.parameters(i).name();
    if (name == "augment_flip" || name == "augment_shift") {
      return Invalid(absl::StrCat("parameters[", i, "] (", name, ")"),
                     "needs images: an IDX dataset");
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ValidateTrainerSpec(const caviar::v1::StudySpec& spec) {
  if (!spec.has_trainer()) return absl::OkStatus();
  const caviar::v1::TrainerObjective& trainer = spec.trainer();
  if (trainer.epochs() < 1) {
    return Invalid("trainer.epochs", absl::StrCat("must be >= 1, got ", trainer.epochs()));
  }
  CAVIAR_RETURN_IF_ERROR(CheckDatasetSpec(trainer.dataset()));
  CAVIAR_RETURN_IF_ERROR(CheckSettings("trainer.settings.", trainer.settings()));
  for (int i = 0; i < spec.parameters_size(); ++i) {
    const ParameterSpec& parameter = spec.parameters(i);
    CAVIAR_RETURN_IF_ERROR(
        CheckParameter(absl::StrCat("parameters[", i, "] (", parameter.name(), ")"), parameter));
  }
  CAVIAR_RETURN_IF_ERROR(CheckAugmentationHasImages(spec));
  const std::string& metric = spec.objective().metric();
  bool known = false;
  for (const std::string& name : ReportedMetrics()) known = known || metric == name;
  if (!known) {
    return Invalid("objective.metric",
                   absl::StrCat("the trainer reports no metric \"", metric, "\" (it reports: ",
                                absl::StrJoin(ReportedMetrics(), ", "), ")"));
  }
  return absl::OkStatus();
}

absl::StatusOr<TrainerSettings> EffectiveSettings(const TrainerSettings& fixed,
                                                  const ParameterMap& parameters) {
  TrainerSettings settings = fixed;
  for (const auto& [name, value] : parameters) {
    CAVIAR_RETURN_IF_ERROR(ApplyParameter(name, value, &settings));
  }
  CAVIAR_RETURN_IF_ERROR(CheckSettings("", settings));
  return settings;
}

absl::StatusOr<trainer::TrainerConfig> ConfigFromSettings(const TrainerSettings& s,
                                                          uint64_t default_seed) {
  CAVIAR_RETURN_IF_ERROR(CheckSettings("", s));
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
  CAVIAR_RETURN_IF_ERROR(CheckDatasetSpec(dataset));
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

  const bool has_dev = sets.dev.size() > 0;
  TrialOutcome outcome;
  caviar::v1::Measurement last;
  const trainer::TrainResult result = (*trainer)->Train(
      sets.train, sets.dev, objective.epochs(),
      [&](const trainer::EpochMetrics& metrics) {
        const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
        last = ToMeasurement(metrics, has_dev, elapsed);
        const ProgressReply reply = reporter->Report(last);
        trainer::EpochDecision decision;
        decision.stop = reply.stop;
        auto update = reply.parameter_updates.find("learning_rate");
        if (update != reply.parameter_updates.end()) {
          const ParameterValue& value = update->second;
          const double lr = value.value_case() == ParameterValue::kIntValue
                                ? double(value.int_value())
                                : value.double_value();
          if (lr > 0 && std::isfinite(lr)) decision.learning_rate = lr;
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
