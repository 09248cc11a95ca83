// The trainer's setting rules are one table (common/trainer_settings/
// setting_rules.h): whatever the coordinator accepts in a study the trainer
// accepts too, and the other way round. The two used to be separate tables
// and disagreed: the trainer took "sgd", which every study spec was refused
// for.
#include "common/trainer_settings/trainer_settings.h"

#include <cmath>
#include <string>
#include <vector>

#include "common/trainer_settings/setting_rules.h"
#include "gtest/gtest.h"
#include "worker/trainer/trainer.h"

namespace caviar::trainer_settings {
namespace {

using caviar::v1::TrainerSettings;

// Whether a study with `field` fixed to `value` is accepted.
bool StudyAccepts(const std::string& field, const std::string& value) {
  TrainerSettings settings;
  const auto* descriptor = TrainerSettings::descriptor()->FindFieldByName(field);
  settings.GetReflection()->SetString(&settings, descriptor, value);
  return EffectiveSettings(settings, {}).ok();
}

TEST(TrainerSettingsTest, TheTrainerParsesExactlyTheNamesStudiesMayUse) {
  const std::vector<std::string> candidates = {
      "gd",     "sgd",  "momentum", "rmsprop", "adam",    "Adam",        "adamw",
      "relu",   "tanh", "sigmoid",  "gelu",    "inverse", "exponential", "step",
      "cosine", "he",   "xavier",   "glorot",  ""};
  for (const std::string& name : candidates) {
    trainer::OptimizerKind optimizer;
    EXPECT_EQ(StudyAccepts("optimizer", name),
              trainer::ParseOptimizerKind(name, &optimizer))
        << "optimizer " << name;
    trainer::Activation activation;
    EXPECT_EQ(StudyAccepts("activation", name),
              trainer::ParseActivation(name, &activation))
        << "activation " << name;
    trainer::LrSchedule schedule;
    EXPECT_EQ(StudyAccepts("lr_schedule", name),
              trainer::ParseLrSchedule(name, &schedule))
        << "lr_schedule " << name;
    trainer::InitKind init;
    EXPECT_EQ(StudyAccepts("init", name), trainer::ParseInitKind(name, &init))
        << "init " << name;
  }
}

TEST(TrainerSettingsTest, EachNameMeansItsOwnThing) {
  std::vector<trainer::OptimizerKind> kinds;
  for (const std::string& name : RuleFor("optimizer")->names) {
    trainer::OptimizerKind kind;
    ASSERT_TRUE(trainer::ParseOptimizerKind(name, &kind)) << name;
    kinds.push_back(kind);
  }
  EXPECT_EQ(kinds, (std::vector<trainer::OptimizerKind>{
                       trainer::OptimizerKind::kGradientDescent,
                       trainer::OptimizerKind::kMomentum,
                       trainer::OptimizerKind::kRmsprop, trainer::OptimizerKind::kAdam}));
  trainer::Activation activation;
  ASSERT_TRUE(trainer::ParseActivation("tanh", &activation));
  EXPECT_EQ(activation, trainer::Activation::kTanh);
  trainer::LrSchedule schedule;
  ASSERT_TRUE(trainer::ParseLrSchedule("step", &schedule));
  EXPECT_EQ(schedule, trainer::LrSchedule::kStep);
  trainer::InitKind init;
  ASSERT_TRUE(trainer::ParseInitKind("xavier", &init));
  EXPECT_EQ(init, trainer::InitKind::kXavier);
}

// Sets a numeric setting both in a study's settings and in the trainer's
// own config.
struct NumericSetting {
  const char* field;
  void (*set_config)(trainer::TrainerConfig*, double);
};

const std::vector<NumericSetting>& NumericSettings() {
  using C = trainer::TrainerConfig;
  static const auto* settings = new std::vector<NumericSetting>{
      {"learning_rate", [](C* c, double v) { c->learning_rate = v; }},
      {"beta1", [](C* c, double v) { c->optimizer.beta1 = v; }},
      {"beta2", [](C* c, double v) { c->optimizer.beta2 = v; }},
      {"epsilon", [](C* c, double v) { c->optimizer.epsilon = v; }},
      {"layers", [](C* c, double v) { c->hidden.assign(size_t(v), 8); }},
      {"hidden_units", [](C* c, double v) { c->hidden.assign(2, int(v)); }},
      {"batch_size", [](C* c, double v) { c->batch_size = int(v); }},
      {"lr_decay", [](C* c, double v) { c->lr_decay = v; }},
      {"lr_step_epochs", [](C* c, double v) { c->lr_step_epochs = int(v); }},
      {"bn_momentum", [](C* c, double v) { c->bn_momentum = v; }},
      {"l2", [](C* c, double v) { c->optimizer.l2 = v; }},
      {"dropout", [](C* c, double v) { c->dropout = v; }},
      {"augment_shift", [](C* c, double v) { c->augment_shift = int(v); }},
      {"threads", [](C* c, double v) { c->threads = int(v); }},
  };
  return *settings;
}

bool StudyAcceptsNumber(const std::string& field, double value) {
  TrainerSettings settings;
  const auto* descriptor = TrainerSettings::descriptor()->FindFieldByName(field);
  const auto* reflection = settings.GetReflection();
  if (descriptor->cpp_type() == google::protobuf::FieldDescriptor::CPPTYPE_DOUBLE) {
    reflection->SetDouble(&settings, descriptor, value);
  } else {
    reflection->SetInt32(&settings, descriptor, int32_t(value));
  }
  return EffectiveSettings(settings, {}).ok();
}

// At each bound of each numeric rule, and just past it, the study and the
// trainer decide the same way (values an int cannot hold are skipped).
TEST(TrainerSettingsTest, TheTrainerEnforcesTheBoundsStudiesAreCheckedAgainst) {
  for (const NumericSetting& setting : NumericSettings()) {
    const SettingRule* rule = RuleFor(setting.field);
    ASSERT_NE(rule, nullptr) << setting.field;
    const bool integer =
        TrainerSettings::descriptor()->FindFieldByName(setting.field)->cpp_type() !=
        google::protobuf::FieldDescriptor::CPPTYPE_DOUBLE;
    const double step = integer ? 1 : 1e-9;
    std::vector<double> probes = {rule->lo, rule->lo - step, rule->lo + step};
    if (std::isfinite(rule->hi)) {
      probes.insert(probes.end(), {rule->hi, rule->hi - step, rule->hi + step});
    } else {
      probes.push_back(rule->hi);
    }
    for (double value : probes) {
      if (integer && (value < -2147483648.0 || value > 2147483647.0)) continue;
      // A negative count of layers has no config to stand for it.
      if (std::string(setting.field) == "layers" && value < 0) continue;
      trainer::TrainerConfig config;
      setting.set_config(&config, value);
      EXPECT_EQ(StudyAcceptsNumber(setting.field, value),
                trainer::ValidateConfig(config).ok())
          << setting.field << " = " << value;
    }
  }
}

TEST(TrainerSettingsTest, StepScheduleNeedsADecayBelowOne) {
  TrainerSettings settings;
  settings.set_lr_schedule("step");
  settings.set_lr_decay(1.5);
  EXPECT_EQ(EffectiveSettings(settings, {}).status().message(),
            "lr_decay: must be below 1 for the step schedule, got 1.5");
  trainer::TrainerConfig config;
  config.lr_schedule = trainer::LrSchedule::kStep;
  config.lr_decay = 1.5;
  EXPECT_EQ(trainer::ValidateConfig(config).message(),
            "lr_decay: must be below 1 for the step schedule, got 1.5");
}

}  // namespace
}  // namespace caviar::trainer_settings
