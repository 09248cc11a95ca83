#include "worker/metrics_parser.h"

#include <cmath>
#include <limits>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace caviar::worker {
namespace {

using ::testing::HasSubstr;

caviar::v1::Measurement ParseOk(MetricsParser& parser, absl::string_view line) {
  auto parsed = parser.Parse(line);
  EXPECT_TRUE(parsed.ok()) << line << ": " << parsed.status();
  if (!parsed.ok() || !parsed->has_value()) {
    ADD_FAILURE() << "not a metrics line: " << line;
    return {};
  }
  return **parsed;
}

std::string ParseError(MetricsParser& parser, absl::string_view line) {
  auto parsed = parser.Parse(line);
  EXPECT_FALSE(parsed.ok()) << line;
  if (parsed.ok()) return "";
  EXPECT_EQ(parsed.status().code(), absl::StatusCode::kInvalidArgument);
  return std::string(parsed.status().message());
}

TEST(MetricsParserTest, CaviarLineWithStep) {
  MetricsParser parser;
  const auto m = ParseOk(parser, "caviar: step=3 dev_accuracy=0.912 loss=0.31");
  EXPECT_EQ(m.step(), 3);
  EXPECT_EQ(m.metrics().size(), 2);
  EXPECT_DOUBLE_EQ(m.metrics().at("dev_accuracy"), 0.912);
  EXPECT_DOUBLE_EQ(m.metrics().at("loss"), 0.31);
  EXPECT_EQ(m.elapsed_seconds(), 0);
}

TEST(MetricsParserTest, StepsAutoIncrementFromTheLastOne) {
  MetricsParser parser;
  EXPECT_EQ(ParseOk(parser, "caviar: a=1").step(), 1);
  EXPECT_EQ(ParseOk(parser, "caviar: a=2").step(), 2);
  EXPECT_EQ(ParseOk(parser, "caviar: step=10 a=3").step(), 10);
  EXPECT_EQ(ParseOk(parser, "{\"a\": 4}").step(), 11);
  EXPECT_EQ(ParseOk(parser, "caviar: step=0 a=5").step(), 0);
  EXPECT_EQ(ParseOk(parser, "caviar: a=6").step(), 1);
}

TEST(MetricsParserTest, NumberForms) {
  MetricsParser parser;
  const auto m =
      ParseOk(parser, "  caviar:\ta=-3 b=+2.5 c=1e-4 d=NaN e=inf f=-Infinity g=7 h=.5\r");
  EXPECT_EQ(m.metrics().at("a"), -3);
  EXPECT_EQ(m.metrics().at("b"), 2.5);
  EXPECT_EQ(m.metrics().at("c"), 1e-4);
  EXPECT_TRUE(std::isnan(m.metrics().at("d")));
  EXPECT_EQ(m.metrics().at("e"), std::numeric_limits<double>::infinity());
  EXPECT_EQ(m.metrics().at("f"), -std::numeric_limits<double>::infinity());
  EXPECT_EQ(m.metrics().at("g"), 7);
  EXPECT_EQ(m.metrics().at("h"), 0.5);
}

TEST(MetricsParserTest, MetricNamesWithPunctuation) {
  MetricsParser parser;
  const auto m = ParseOk(parser, "caviar: train/loss=1 dev.acc=2 top-5=3 _x=4");
  EXPECT_EQ(m.metrics().size(), 4);
  EXPECT_EQ(m.metrics().at("top-5"), 3);
}

TEST(MetricsParserTest, JsonLine) {
  MetricsParser parser;
  const auto m = ParseOk(parser, R"({"step": 3, "dev_accuracy": 0.91, "loss": 2})");
  EXPECT_EQ(m.step(), 3);
  EXPECT_DOUBLE_EQ(m.metrics().at("dev_accuracy"), 0.91);
  EXPECT_EQ(m.metrics().at("loss"), 2);
  EXPECT_EQ(ParseOk(parser, R"({"step": 4.0, "a": 1})").step(), 4);
}

TEST(MetricsParserTest, JsonNonFiniteAsPythonWritesThem) {
  MetricsParser parser;
  // json.dumps({"loss": float("nan"), ...}) writes bare NaN / Infinity.
  const auto m = ParseOk(
      parser,
      R"({"loss": NaN, "up": Infinity, "down": -Infinity, "s": "inf", "name": 1})");
  EXPECT_TRUE(std::isnan(m.metrics().at("loss")));
  EXPECT_EQ(m.metrics().at("up"), std::numeric_limits<double>::infinity());
  EXPECT_EQ(m.metrics().at("down"), -std::numeric_limits<double>::infinity());
  EXPECT_EQ(m.metrics().at("s"), std::numeric_limits<double>::infinity());
}

TEST(MetricsParserTest, OtherLinesAreIgnored) {
  MetricsParser parser;
  for (absl::string_view line : {"", "epoch 3: loss 0.2", "caviar started", "caviar; a=1",
                                 "[1, 2]", "Caviar: a=1", "# caviar: a=1"}) {
    auto parsed = parser.Parse(line);
    ASSERT_TRUE(parsed.ok()) << line;
    EXPECT_FALSE(parsed->has_value()) << line;
  }
}

TEST(MetricsParserTest, MalformedCaviarLines) {
  MetricsParser parser;
  EXPECT_THAT(ParseError(parser, "caviar: acc=x"),
              HasSubstr("value of \"acc\" is not a number: \"x\""));
  EXPECT_THAT(ParseError(parser, "caviar: acc"), HasSubstr("\"acc\" is not NAME=VALUE"));
  EXPECT_THAT(ParseError(parser, "caviar: acc = 1"), HasSubstr("is not NAME=VALUE"));
  EXPECT_THAT(ParseError(parser, "caviar: 1a=2"), HasSubstr("must start with a letter"));
  EXPECT_THAT(ParseError(parser, "caviar: a$b=2"), HasSubstr("may hold only"));
  EXPECT_THAT(ParseError(parser, "caviar: =2"), HasSubstr("empty metric name"));
  EXPECT_THAT(ParseError(parser, "caviar: a=1 a=2"), HasSubstr("\"a\" given twice"));
  EXPECT_THAT(ParseError(parser, "caviar:"), HasSubstr("no metric"));
  EXPECT_THAT(ParseError(parser, "caviar: step=2"), HasSubstr("no metric"));
  EXPECT_THAT(ParseError(parser, "caviar: step=2.5 a=1"),
              HasSubstr("step must be a non-negative integer, got \"2.5\""));
  EXPECT_THAT(ParseError(parser, "caviar: step=-1 a=1"), HasSubstr("non-negative"));
  EXPECT_THAT(ParseError(parser, "caviar: step=1 step=2 a=1"),
              HasSubstr("step given twice"));
  EXPECT_THAT(ParseError(parser, "caviar: a=0x10"), HasSubstr("not a number"));
  EXPECT_THAT(ParseError(parser, "caviar: a=1,5"), HasSubstr("not a number"));
  EXPECT_THAT(ParseError(parser, "caviar: " + std::string(129, 'a') + "=1"),
              HasSubstr("longer than 128"));
  // Errors change nothing: the next line still gets step 1.
  EXPECT_EQ(ParseOk(parser, "caviar: a=1").step(), 1);
}

TEST(MetricsParserTest, MalformedJsonLines) {
  MetricsParser parser;
  EXPECT_THAT(ParseError(parser, "{\"a\": 1"), HasSubstr("invalid JSON"));
  EXPECT_THAT(ParseError(parser, "{\"a\": \"fast\"}"),
              HasSubstr("value of \"a\" is not a number: \"fast\""));
  EXPECT_THAT(ParseError(parser, "{\"a\": [1]}"), HasSubstr("value of \"a\""));
  EXPECT_THAT(ParseError(parser, "{\"a\": true}"), HasSubstr("value of \"a\""));
  EXPECT_THAT(ParseError(parser, "{\"a\": null}"), HasSubstr("value of \"a\""));
  EXPECT_THAT(ParseError(parser, "{}"), HasSubstr("no metric"));
  EXPECT_THAT(ParseError(parser, "{\"step\": 1.5, \"a\": 1}"), HasSubstr("step"));
  EXPECT_THAT(ParseError(parser, "{\"step\": \"1\", \"a\": 1}"), HasSubstr("step"));
  EXPECT_THAT(ParseError(parser, "{\"bad name\": 1}"), HasSubstr("may hold only"));
  // A string that merely contains NaN is not touched.
  EXPECT_THAT(ParseError(parser, "{\"a\": \"xNaN\"}"), HasSubstr("not a number"));
}

TEST(MetricValueTest, Forms) {
  double v = 0;
  EXPECT_TRUE(ParseMetricValue("1e999", &v));
  EXPECT_EQ(v, std::numeric_limits<double>::infinity());
  EXPECT_TRUE(ParseMetricValue("-1e999", &v));
  EXPECT_EQ(v, -std::numeric_limits<double>::infinity());
  EXPECT_TRUE(ParseMetricValue("1e-999", &v));
  EXPECT_EQ(v, 0);
  EXPECT_TRUE(ParseMetricValue("INFINITY", &v));
  EXPECT_FALSE(ParseMetricValue("", &v));
  EXPECT_FALSE(ParseMetricValue("-", &v));
  EXPECT_FALSE(ParseMetricValue("nan(1)", &v));
  EXPECT_FALSE(ParseMetricValue(" 1", &v));
  EXPECT_FALSE(ParseMetricValue("1 ", &v));
  EXPECT_FALSE(ParseMetricValue("--1", &v));
  EXPECT_FALSE(ParseMetricValue("+-1", &v));
  EXPECT_FALSE(ParseMetricValue("1e", &v));
}

}  // namespace
}  // namespace caviar::worker
