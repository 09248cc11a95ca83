// SearchSpace: the one place where parameter values map to and from the unit
// interval. Samplers see only points of the unit cube [0, 1]^d; this class
// turns them into typed parameter values on the right scale and back.
//
//   double  LINEAR  u -> min + u (max - min)
//   double  LOG     u -> 10^(log10 min + u (log10 max - log10 min))
//   double  LOG1M   u -> 1 - 10^(log10(1 - min) + u (log10(1 - max) - log10(1 - min)))
//                   (u = 0 at min, u = 1 at max; as much mass in [0.9, 0.99]
//                    as in [0.99, 0.999])
//   integer LINEAR/LOG  the continuous map over [min - 0.5, max + 0.5],
//                       rounded to the nearest integer.
//   discrete / categorical  k equal bins, one per value, in the given order.
//
// Every lookup (a parameter by name, a category or discrete value's bin) is
// O(1) or O(log values), so mapping a point costs O(parameters).
//
// Immutable after Create; safe to share between threads.
#ifndef CAVIAR_SERVER_SEARCH_SPACE_H_
#define CAVIAR_SERVER_SEARCH_SPACE_H_

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "caviar/v1/study.pb.h"
#include "caviar/v1/trial.pb.h"
#include "google/protobuf/map.h"

namespace caviar::search {

using ParameterMap = google::protobuf::Map<std::string, caviar::v1::ParameterValue>;

class SearchSpace {
 public:
  // Validates the parameters; errors are INVALID_ARGUMENT naming the field,
  // e.g. "parameters[1] (learning_rate): LOG scale needs min > 0, got 0".
  // `field_prefix` is prepended to field names ("parameters" by default).
  static absl::StatusOr<SearchSpace> Create(
      const google::protobuf::RepeatedPtrField<caviar::v1::ParameterSpec>& params,
      const std::string& field_prefix = "parameters");

  int size() const { return static_cast<int>(params_.size()); }
  const caviar::v1::ParameterSpec& parameter(int i) const { return params_[i]; }
  // -1 if no parameter has that name. O(1).
  int IndexOf(const std::string& name) const;

  // Number of distinct values of parameter i; 0 if continuous (double).
  int64_t Cardinality(int i) const;
  // Product of cardinalities; 0 if any parameter is continuous or it
  // overflows int64.
  int64_t TotalCardinality() const;

  // u is clamped to [0, 1].
  caviar::v1::ParameterValue FromUnit(int i, double u) const;
  // INVALID_ARGUMENT if the value has the wrong type or is out of range.
  absl::StatusOr<double> ToUnit(int i, const caviar::v1::ParameterValue& v) const;

  // Whole points. `unit` has size() entries.
  ParameterMap FromUnitPoint(absl::Span<const double> unit) const;
  // INVALID_ARGUMENT naming the parameter if one is missing, unknown,
  // mistyped or out of range.
  absl::StatusOr<std::vector<double>> ToUnitPoint(const ParameterMap& params) const;

  // Unit coordinate of the centre of bin `index` of a parameter with finite
  // cardinality (0 <= index < Cardinality(i)).
  double BinCenter(int i, int64_t index) const;
  // Bin index of u for a parameter with finite cardinality.
  int64_t BinIndex(int i, double u) const;

  // Parses "1e-3" / "64" / "adam" into a typed value for parameter i.
  absl::StatusOr<caviar::v1::ParameterValue> ParseValue(int i,
                                                        const std::string& text) const;

 private:
  std::vector<caviar::v1::ParameterSpec> params_;
  std::unordered_map<std::string, int> index_of_;
  // Per parameter: category -> bin (empty for other kinds).
  std::vector<std::unordered_map<std::string, int64_t>> category_bin_;
};

// `text` as an error message may quote it: whole up to 64 bytes, else its
// first 64 bytes, "..." and its size, so that no request echoes a huge
// string back.
std::string EchoForError(const std::string& text);

// "0.001", "64", "adam": a value as a user would write it
// (caviar::FormatParameterValue, common/parameter_value/).
std::string FormatValue(const caviar::v1::ParameterValue& v);

}  // namespace caviar::search

#endif  // CAVIAR_SERVER_SEARCH_SPACE_H_
