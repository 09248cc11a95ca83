#include "storage/trial_row.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/storage/store_test_util.h"

namespace caviar::storage {
namespace {

caviar::v1::Trial Parse(const std::string& wire) {
  caviar::v1::Trial trial;
  EXPECT_TRUE(trial.ParseFromString(wire));
  return trial;
}

TEST(TrialRowTest, DropsOnlyTheMeasurements) {
  for (int curve : {0, 1, 3, 200}) {
    SCOPED_TRACE(curve);
    caviar::v1::Trial trial = MakeTrial(123456789, "study", caviar::v1::SUCCEEDED);
    for (int step = 1; step <= curve; ++step) {
      *trial.add_measurements() = MakeMeasurement(step, 0.001 * step);
    }
    *trial.mutable_final_measurement() = MakeMeasurement(curve, 0.5);
    trial.set_objective_value(0.5);
    trial.set_failure_reason(std::string(300, 'r'));  // Multi-byte length.
    trial.set_retest_of(-1);                          // Ten-byte varint.
    caviar::v1::Trial expected = trial;
    expected.clear_measurements();

    std::string row = "stale bytes from the previous row";
    SerializeTrialRow(trial, &row);
    EXPECT_THAT(Parse(row), EqualsProto(expected));
    EXPECT_EQ(row.size(), expected.ByteSizeLong());
  }
}

}  // namespace
}  // namespace caviar::storage
