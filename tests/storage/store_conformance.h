// A conformance suite for any Store implementation: the behavior the
// coordinator relies on (keys, status codes, atomicity, ordering,
// persistence across reopen, concurrency, survival of kill -9).
//
// To run it against an implementation, instantiate it with a factory:
//
//   INSTANTIATE_TEST_SUITE_P(
//       Mine, StoreConformanceTest,
//       ::testing::Values(StoreFactory{"mine", [](const std::string& path) {
//         return OpenMyStore(path);  // absl::StatusOr<std::unique_ptr<Store>>
//       }}),
//       StoreFactoryName);
//
// The factory must create the store at `path` if absent and open the same
// data again when called with the same path after the first store is gone
// (including after the process that wrote it was killed).
#ifndef CAVIAR_TESTS_STORAGE_STORE_CONFORMANCE_H_
#define CAVIAR_TESTS_STORAGE_STORE_CONFORMANCE_H_

#include <functional>
#include <memory>
#include <ostream>
#include <string>

#include "absl/status/statusor.h"
#include "gtest/gtest.h"
#include "storage/store.h"
#include "tests/storage/store_test_util.h"

namespace caviar::storage {

struct StoreFactory {
  std::string name;  // Test-name suffix: letters, digits, underscores.
  std::function<absl::StatusOr<std::unique_ptr<Store>>(const std::string&)> open;
  // Survives its process (kill -9). Stores that live in memory are not
  // asked to.
  bool durable = true;
};

// So GoogleTest names the factory in failure messages.
inline void PrintTo(const StoreFactory& factory, std::ostream* os) {
  *os << factory.name;
}

inline std::string StoreFactoryName(const ::testing::TestParamInfo<StoreFactory>& info) {
  return info.param.name;
}

class StoreConformanceTest : public ::testing::TestWithParam<StoreFactory> {
 protected:
  // Opens (or reopens) the store of this test; fails the test on error.
  std::unique_ptr<Store> Open();
  // The database path used by Open().
  const std::string& path() const { return path_; }

  TempDir dir_;
  std::string path_ = dir_.path() + "/caviar.db";
};

}  // namespace caviar::storage

#endif  // CAVIAR_TESTS_STORAGE_STORE_CONFORMANCE_H_
