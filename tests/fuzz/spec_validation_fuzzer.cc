// libFuzzer target: the coordinator's spec validation on arbitrary StudySpec
// protos (the input is a serialized caviar.v1.StudySpec), with the built-in
// trainer's checks as caviar-coordinator runs it. A spec is either valid or
// refused with INVALID_ARGUMENT and a message.
#include <cstdint>
#include <cstdio>
#include <cstdlib>

#include "caviar/v1/study.pb.h"
#include "google/protobuf/stubs/logging.h"
#include "server/scheduling/spec_validation.h"
#ifdef CAVIAR_HAVE_TRAINER
#include "worker/trainer_objective.h"
#endif

// Inputs with invalid UTF-8 in string fields are refused by the parser,
// which logs each one: keep the fuzzer's output readable.
extern "C" int LLVMFuzzerInitialize(int*, char***) {
  google::protobuf::SetLogHandler(nullptr);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  caviar::v1::StudySpec spec;
  if (!spec.ParseFromArray(data, static_cast<int>(size))) return -1;
  caviar::scheduling::ObjectiveValidator trainer;
#ifdef CAVIAR_HAVE_TRAINER
  trainer = caviar::worker::ValidateTrainerSpec;
#endif
  const absl::Status status = caviar::scheduling::ValidateStudySpec(spec, trainer);
  if (!status.ok() && (status.code() != absl::StatusCode::kInvalidArgument ||
                       status.message().empty())) {
    std::fprintf(stderr, "ValidateStudySpec: %s\n", status.ToString().c_str());
    std::abort();
  }
  return 0;
}
