// SHA-256 of checkpoint bytes, written "sha256:<64 lowercase hex digits>":
// the integrity check of checkpoints between worker and coordinator (a
// chunk lost, duplicated or reordered, a file damaged on disk). OpenSSL's
// libcrypto does the hashing (libssl-dev: a dependency of libgrpc-dev, so
// always there where caviar builds).
//
// Thread-safety: a Sha256 object is used by one thread at a time; the free
// function is thread-safe.
#ifndef CAVIAR_COMMON_DIGEST_SHA256_H_
#define CAVIAR_COMMON_DIGEST_SHA256_H_

#include <memory>
#include <string>
#include <string_view>

namespace caviar {

// Incremental SHA-256.
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;

  void Update(std::string_view bytes);
  // "sha256:<hex>"; the object starts over afterwards.
  std::string Finish();

 private:
  struct State;
  std::unique_ptr<State> state_;
};

// "sha256:<hex>" of `bytes`.
std::string Sha256Digest(std::string_view bytes);

// True for a string of the form "sha256:" + 64 lowercase hex digits.
bool IsSha256Digest(std::string_view digest);

}  // namespace caviar

#endif  // CAVIAR_COMMON_DIGEST_SHA256_H_
