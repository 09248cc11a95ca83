// libFuzzer target: every handler of the Coordinator on arbitrary request
// protos, in process (no sockets), over a real SqliteStore in a temporary
// directory. The input is a serialized caviar.fuzz.FuzzSession: a sequence of
// calls, with a fake clock moving, lease expiry, and restarts between them.
//
// Beyond crashes and sanitizer reports it checks two contracts of
// coordinator.h and aborts when one breaks:
//   - status codes: with a healthy store, a call fails only with a code the
//     header documents for callers (never INTERNAL, UNKNOWN, ...);
//   - durability: a restart (a new Coordinator over the same file) shows the
//     same studies and trials as before it (modulo the fresh leases of
//     ACTIVE trials), i.e. memory never runs ahead of what is stored.
#include <stdlib.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "common/log.h"
#include "google/protobuf/stubs/logging.h"
#include "google/protobuf/text_format.h"
#include "server/scheduling/coordinator.h"
#include "storage/sqlite_store.h"
#include "tests/fuzz/fuzz_session.pb.h"
#include "tests/fuzz/message_diff.h"
#ifdef CAVIAR_HAVE_TRAINER
#include "worker/trainer_objective.h"
#endif

namespace caviar {
namespace {

constexpr int kMaxCalls = 64;

[[noreturn]] void Fail(const std::string& what) {
  std::fprintf(stderr, "coordinator_fuzzer: %s\n", what.c_str());
  std::abort();
}

void CheckCode(const absl::Status& status, const char* call) {
  switch (status.code()) {
    case absl::StatusCode::kOk:
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kAlreadyExists:
    case absl::StatusCode::kNotFound:
    case absl::StatusCode::kFailedPrecondition:
      return;
    default:
      Fail(std::string(call) + " returned an undocumented status: " + status.ToString());
  }
}

template <typename T>
void Check(const absl::StatusOr<T>& result, const char* call) {
  CheckCode(result.status(), call);
}

// Everything a user can read, with the leases of ACTIVE trials left out
// (a restart gives them fresh ones on purpose).
v1::ListStudiesResponse Snapshot(scheduling::Coordinator& coordinator,
                                 v1::ListTrialsResponse* trials) {
  v1::ListStudiesResponse studies;
  for (auto& study : coordinator.ListStudies()) *studies.add_studies() = study;
  trials->Clear();
  for (const auto& study : studies.studies()) {
    v1::ListTrialsRequest request;
    request.set_study(study.spec().name());
    request.set_include_measurements(true);
    request.set_page_size(10000);
    do {
      auto page = coordinator.ListTrials(request);
      if (!page.ok()) Fail("ListTrials of a listed study: " + page.status().ToString());
      for (auto& trial : *page->mutable_trials()) {
        trial.clear_lease_deadline();
        *trials->add_trials() = trial;
      }
      request.set_page_token(page->next_page_token());
    } while (!request.page_token().empty());
  }
  return studies;
}

void ExpectSame(const google::protobuf::Message& before,
                const google::protobuf::Message& after, const char* what) {
  const std::string diff = fuzz::MessageDiff(before, after);
  if (!diff.empty()) {
    Fail(std::string(what) + " changed across a restart:\n" + diff);
  }
}

class Session {
 public:
  Session() {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "caviar-fuzz-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) Fail("mkdtemp");
    dir_ = pattern;
    Open();
  }
  ~Session() {
    coordinator_.reset();
    store_.reset();
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }

  void Run(const fuzz::FuzzCall& call) {
    auto& c = *coordinator_;
    switch (call.call_case()) {
      case fuzz::FuzzCall::kCreateStudy:
        return Check(c.CreateStudy(call.create_study().spec()), "CreateStudy");
      case fuzz::FuzzCall::kGetStudy:
        return Check(c.GetStudy(call.get_study().name()), "GetStudy");
      case fuzz::FuzzCall::kListStudies:
        c.ListStudies();
        return;
      case fuzz::FuzzCall::kStopStudy:
        return Check(c.StopStudy(call.stop_study().name(), call.stop_study().reason()),
                     "StopStudy");
      case fuzz::FuzzCall::kListTrials:
        return Check(c.ListTrials(call.list_trials()), "ListTrials");
      case fuzz::FuzzCall::kGetTrial:
        return Check(c.GetTrial(call.get_trial().id()), "GetTrial");
      case fuzz::FuzzCall::kBestTrials:
        return Check(c.BestTrials(call.best_trials().study(), call.best_trials().top()),
                     "BestTrials");
      case fuzz::FuzzCall::kRefineStudy:
        return Check(c.RefineStudy(call.refine_study()), "RefineStudy");
      case fuzz::FuzzCall::kEnqueueTrials:
        return Check(c.EnqueueTrials(call.enqueue_trials()), "EnqueueTrials");
      case fuzz::FuzzCall::kRetestTrials:
        return Check(c.RetestTrials(call.retest_trials()), "RetestTrials");
      case fuzz::FuzzCall::kGetImportance:
        return Check(c.GetImportance(call.get_importance().study()), "GetImportance");
      case fuzz::FuzzCall::kNudgeTrial:
        return Check(c.NudgeTrial(call.nudge_trial()), "NudgeTrial");
      case fuzz::FuzzCall::kSuggestTrial:
        return Check(c.SuggestTrial(call.suggest_trial()), "SuggestTrial");
      case fuzz::FuzzCall::kReportProgress:
        return Check(c.ReportProgress(call.report_progress()), "ReportProgress");
      case fuzz::FuzzCall::kCompleteTrial:
        return Check(c.CompleteTrial(call.complete_trial()), "CompleteTrial");
      case fuzz::FuzzCall::kLeaseHolder:
        return Check(c.LeaseHolder(call.lease_holder()), "LeaseHolder");
      case fuzz::FuzzCall::kAdvanceSeconds:
        // At most a day per step: leases are seconds to hours.
        clock_.Advance(absl::Seconds(call.advance_seconds() % 86400));
        return;
      case fuzz::FuzzCall::kExpireLeases:
        return Check(c.ExpireLeases(), "ExpireLeases");
      case fuzz::FuzzCall::kRestart:
        return Restart();
      case fuzz::FuzzCall::CALL_NOT_SET:
        return;
    }
  }

 private:
  void Open() {
    auto store = storage::SqliteStore::Open(dir_ + "/caviar.db");
    if (!store.ok()) Fail("SqliteStore::Open: " + store.status().ToString());
    store_ = *std::move(store);
    scheduling::CoordinatorOptions options;
#ifdef CAVIAR_HAVE_TRAINER
    options.objective_validator = worker::ValidateTrainerSpec;
#endif
    auto coordinator = scheduling::Coordinator::Create(store_.get(), &clock_, options);
    if (!coordinator.ok()) Fail("Coordinator::Create: " + coordinator.status().ToString());
    coordinator_ = *std::move(coordinator);
  }

  void Restart() {
    v1::ListTrialsResponse trials_before, trials_after;
    const v1::ListStudiesResponse before = Snapshot(*coordinator_, &trials_before);
    coordinator_.reset();
    store_.reset();
    Open();
    const v1::ListStudiesResponse after = Snapshot(*coordinator_, &trials_after);
    ExpectSame(before, after, "ListStudies");
    ExpectSame(trials_before, trials_after, "ListTrials");
  }

  std::string dir_;
  FakeClock clock_;
  std::unique_ptr<storage::Store> store_;
  std::unique_ptr<scheduling::Coordinator> coordinator_;
};

}  // namespace
}  // namespace caviar

// Inputs with invalid UTF-8 in string fields are refused by the parser,
// which logs each one: keep the fuzzer's output readable.
extern "C" int LLVMFuzzerInitialize(int*, char***) {
  google::protobuf::SetLogHandler(nullptr);
  caviar::SetLogLevel(caviar::LogLevel::kError);  // No line per study created.
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  caviar::fuzz::FuzzSession session;
  if (!session.ParseFromArray(data, static_cast<int>(size))) return -1;
  if (session.calls_size() > caviar::kMaxCalls) return -1;
  if (getenv("CAVIAR_FUZZ_PRINT") != nullptr) {
    std::string text;
    google::protobuf::TextFormat::PrintToString(session, &text);
    std::fprintf(stderr, "%s\n", text.c_str());
  }
  caviar::Session s;
  for (const auto& call : session.calls()) s.Run(call);
  return 0;
}
