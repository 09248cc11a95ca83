// The Store conformance suite over the in-memory Store, the second
// implementation of the contract.
#include "storage/memory_store.h"

#include "tests/storage/store_conformance.h"

namespace caviar::storage {
namespace {

INSTANTIATE_TEST_SUITE_P(
    Memory, StoreConformanceTest,
    ::testing::Values(StoreFactory{
        "Memory",
        [](const std::string& path) -> absl::StatusOr<std::unique_ptr<Store>> {
          return std::unique_ptr<Store>(MemoryStore::Open(path));
        },
        /*durable=*/false}),
    StoreFactoryName);

}  // namespace
}  // namespace caviar::storage
