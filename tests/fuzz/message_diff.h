// Differences between two messages, NaN equal to NaN (a NaN metric or
// setting that survives a round trip is the same value), for the fuzz
// targets' invariants.
#ifndef CAVIAR_TESTS_FUZZ_MESSAGE_DIFF_H_
#define CAVIAR_TESTS_FUZZ_MESSAGE_DIFF_H_

#include <string>

#include "google/protobuf/message.h"
#include "google/protobuf/util/field_comparator.h"
#include "google/protobuf/util/message_differencer.h"

namespace caviar::fuzz {

// Empty when `a` and `b` are the same; otherwise what differs.
inline std::string MessageDiff(const google::protobuf::Message& a,
                               const google::protobuf::Message& b) {
  google::protobuf::util::DefaultFieldComparator comparator;
  comparator.set_treat_nan_as_equal(true);
  google::protobuf::util::MessageDifferencer differencer;
  differencer.set_field_comparator(&comparator);
  std::string diff;
  differencer.ReportDifferencesToString(&diff);
  if (differencer.Compare(a, b)) return "";
  return diff.empty() ? "(differ)" : diff;
}

}  // namespace caviar::fuzz

#endif  // CAVIAR_TESTS_FUZZ_MESSAGE_DIFF_H_
