// Typed access to an algorithm's or pruner's options (a protobuf Struct),
// with errors that name the option: "algorithm.options.rounds: must be an
// integer >= 1, got 0". Reject unknown keys with CheckKnownKeys.
#ifndef CAVIAR_SERVER_SEARCH_OPTIONS_H_
#define CAVIAR_SERVER_SEARCH_OPTIONS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "google/protobuf/struct.pb.h"

namespace caviar::search {

class Options {
 public:
  // `prefix` names the Struct in errors, e.g. "algorithm.options".
  Options(const google::protobuf::Struct& options, std::string prefix)
      : options_(options), prefix_(std::move(prefix)) {}

  absl::Status CheckKnownKeys(const std::vector<std::string>& known) const;

  absl::StatusOr<double> Double(const std::string& key, double default_value,
                                double min, double max) const;
  absl::StatusOr<int64_t> Int(const std::string& key, int64_t default_value,
                              int64_t min, int64_t max) const;
  absl::StatusOr<std::string> String(const std::string& key,
                                     const std::string& default_value,
                                     const std::vector<std::string>& allowed) const;
  absl::StatusOr<bool> Bool(const std::string& key, bool default_value) const;

 private:
  std::string Field(const std::string& key) const { return prefix_ + "." + key; }
  const google::protobuf::Struct& options_;
  std::string prefix_;
};

}  // namespace caviar::search

#endif  // CAVIAR_SERVER_SEARCH_OPTIONS_H_
