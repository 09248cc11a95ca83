// ProtoJson (server/http/proto_json.h) says the same as protobuf's own JSON
// printer with proto field names, on caviar's messages: both outputs parse
// to equal JSON values.
#include "server/http/proto_json.h"

#include <cmath>

#include "caviar/v1/service.pb.h"
#include "caviar/v1/study.pb.h"
#include "caviar/v1/trial.pb.h"
#include "google/protobuf/text_format.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace caviar::http {
namespace {

using Json = nlohmann::json;

Json Protobufs(const google::protobuf::Message& message) {
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  std::string text;
  EXPECT_TRUE(google::protobuf::util::MessageToJsonString(message, &text, options).ok());
  return Json::parse(text);
}

template <typename Message>
void ExpectSameJson(const std::string& text_format) {
  Message message;
  ASSERT_TRUE(google::protobuf::TextFormat::ParseFromString(text_format, &message))
      << text_format;
  const std::string ours = ProtoJson(message);
  EXPECT_EQ(Json::parse(ours), Protobufs(message)) << ours;
}

TEST(ProtoJsonTest, TrialsWithEveryKindOfField) {
  ExpectSameJson<caviar::v1::Trial>("");  // Nothing set: {}.
  ExpectSameJson<caviar::v1::Trial>(R"pb(
    id: 9007199254740993
    study: "s\"t\\u\n\t\001é"
    state: SUCCEEDED
    parameters {
      key: "lr"
      value { double_value: 0.000123456789012345 }
    }
    parameters {
      key: "units"
      value { int_value: -64 }
    }
    parameters {
      key: "opt"
      value { string_value: "adam" }
    }
    parameters {
      key: "zero"
      value { double_value: 0 }
    }
    measurements {
      step: 1
      elapsed_seconds: 0.5
      metrics { key: "acc" value: 0.1 }
    }
    measurements {
      step: 2
      elapsed_seconds: 1e-7
      metrics { key: "acc" value: 1e300 }
      metrics { key: "loss" value: -2.5 }
      attempt: 2
    }
    objective_value: 0
    failure_reason: ""
    stop_reason: "pruned"
    worker_id: "w/1"
    attempt: 3
    create_time { seconds: 1796055712 nanos: 261177131 }
    start_time { seconds: 1796055713 nanos: 5000000 }
    end_time { seconds: 0 nanos: 7000 }
    lease_deadline { seconds: 253402300799 }
    round: 2
    retest_of: 7
    seed: 18446744073709551615
    nudges {
      parameters {
        key: "lr"
        value { double_value: 1e-4 }
      }
      create_time { seconds: 1 }
      delivered_after_step: 0
    }
  )pb");
}

TEST(ProtoJsonTest, NonFiniteNumbersAreStrings) {
  caviar::v1::Trial trial;
  trial.set_objective_value(NAN);
  auto* m = trial.add_measurements();
  (*m->mutable_metrics())["a"] = INFINITY;
  (*m->mutable_metrics())["b"] = -INFINITY;
  EXPECT_EQ(Json::parse(ProtoJson(trial)), Protobufs(trial)) << ProtoJson(trial);
}

TEST(ProtoJsonTest, StudiesWithStructOptionsAndRegions) {
  ExpectSameJson<caviar::v1::Study>(R"pb(
    spec {
      name: "quad"
      description: "a study"
      objective { metric: "acc" goal: MAXIMIZE }
      parameters {
        name: "lr"
        double { min: 1e-4 max: 1 }
        scale: LOG
      }
      parameters {
        name: "n"
        integer { min: 50 max: 100 }
      }
      parameters {
        name: "b"
        discrete { values: [ 32, 64, 128 ] }
      }
      parameters {
        name: "o"
        categorical { values: [ "a", "b" ] }
      }
      algorithm {
        name: "tpe"
        options {
          fields {
            key: "n_startup"
            value { number_value: 10 }
          }
          fields {
            key: "liar"
            value { string_value: "worst" }
          }
          fields {
            key: "multivariate"
            value { bool_value: false }
          }
          fields {
            key: "none"
            value { null_value: NULL_VALUE }
          }
          fields {
            key: "list"
            value {
              list_value {
                values { number_value: 1.5 }
                values { string_value: "x" }
              }
            }
          }
          fields {
            key: "nested"
            value {
              struct_value {
                fields {
                  key: "k"
                  value { number_value: -3 }
                }
              }
            }
          }
        }
      }
      budget { max_trials: 20 max_parallel_trials: 2 }
      trial_policy { lease_seconds: 0 max_retries: 2 }
      seed: 7
      command {
        argv: [ "python3", "{lr}" ]
        env { key: "A" value: "1" }
      }
    }
    state: STUDY_ACTIVE
    create_time { seconds: 1796055712 nanos: 100000000 }
    succeeded_trials: 3
    regions {
      round: 1
      lo { key: "lr" value: 0.25 }
      hi { key: "lr" value: 0.75 }
      origin: "sampler"
    }
  )pb");
}

TEST(ProtoJsonTest, ImportanceAnswers) {
  ExpectSameJson<caviar::v1::GetImportanceResponse>(R"pb(
    parameters { name: "lr" importance: 0.75 stddev: 0.01 }
    parameters { name: "n" importance: 0 }
    trials_used: 40
    method: "fanova"
  )pb");
}

}  // namespace
}  // namespace caviar::http
