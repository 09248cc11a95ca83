// Test helpers for storage tests: a temporary directory, sample messages,
// and a proto equality matcher.
#ifndef CAVIAR_TESTS_STORAGE_STORE_TEST_UTIL_H_
#define CAVIAR_TESTS_STORAGE_STORE_TEST_UTIL_H_

#include <cstdint>
#include <string>

#include "caviar/v1/study.pb.h"
#include "caviar/v1/trial.pb.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/message_differencer.h"
#include "tests/testing/temp_dir.h"

namespace caviar::storage {

// A fresh directory under the test temp dir, removed with its contents.
using caviar::testing::TempDir;

caviar::v1::Study MakeStudy(const std::string& name);
caviar::v1::Trial MakeTrial(int64_t id, const std::string& study,
                            caviar::v1::TrialState state);
caviar::v1::Measurement MakeMeasurement(int64_t step, double accuracy);

MATCHER_P(EqualsProto, expected, "equals " + expected.ShortDebugString()) {
  std::string diff;
  google::protobuf::util::MessageDifferencer differencer;
  differencer.ReportDifferencesToString(&diff);
  if (differencer.Compare(expected, arg)) return true;
  *result_listener << "differs: " << diff;
  return false;
}

}  // namespace caviar::storage

#endif  // CAVIAR_TESTS_STORAGE_STORE_TEST_UTIL_H_
