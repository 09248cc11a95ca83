// caviar::FormatParameterValue: values as users write them, unchanged from
// what search::FormatValue printed.
#include "common/parameter_value/parameter_value.h"

#include "gtest/gtest.h"

namespace caviar {
namespace {

TEST(FormatParameterValueTest, ShortestExactText) {
  caviar::v1::ParameterValue v;
  v.set_double_value(0.001);
  EXPECT_EQ(FormatParameterValue(v), "0.001");
  v.set_double_value(0.1 + 0.2);
  EXPECT_EQ(FormatParameterValue(v), "0.30000000000000004");
  v.set_double_value(1e-5);
  EXPECT_EQ(FormatParameterValue(v), "1e-05");
  v.set_int_value(64);
  EXPECT_EQ(FormatParameterValue(v), "64");
  v.set_string_value("adam");
  EXPECT_EQ(FormatParameterValue(v), "adam");
  EXPECT_EQ(FormatParameterValue(caviar::v1::ParameterValue()), "");
}

}  // namespace
}  // namespace caviar
