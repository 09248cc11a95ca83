#include "server/http/metrics_page.h"

#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <map>

#include "absl/time/clock.h"
#include "common/metrics/metrics.h"

namespace caviar::http {
namespace {

using metrics::AppendHeader;
using metrics::AppendSample;

int64_t FileBytes(const std::string& path) {
  struct stat info;
  return ::stat(path.c_str(), &info) == 0 ? static_cast<int64_t>(info.st_size) : 0;
}

int64_t ResidentBytes() {
  std::ifstream statm("/proc/self/statm");
  int64_t pages_total = 0, pages_resident = 0;
  if (!(statm >> pages_total >> pages_resident)) return 0;
  return pages_resident * ::sysconf(_SC_PAGESIZE);
}

double CpuSeconds() {
  struct rusage usage;
  if (::getrusage(RUSAGE_SELF, &usage) != 0) return 0;
  auto seconds = [](const timeval& t) { return t.tv_sec + t.tv_usec / 1e6; };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

// When this process started: set while the program loads, before main.
const double kStartTime = absl::ToDoubleSeconds(absl::Now() - absl::UnixEpoch());

}  // namespace

std::string RenderMetricsPage(scheduling::Coordinator& coordinator,
                              const std::string& database_path) {
  std::string out = metrics::Registry::Default().Render();

  const std::vector<caviar::v1::Study> studies = coordinator.ListStudies();
  std::map<std::string, int> by_state;
  for (int s = caviar::v1::StudyState_MIN; s <= caviar::v1::StudyState_MAX; ++s) {
    if (s == caviar::v1::STUDY_STATE_UNSPECIFIED || !caviar::v1::StudyState_IsValid(s))
      continue;
    by_state[caviar::v1::StudyState_Name(s)] = 0;
  }
  for (const auto& study : studies)
    ++by_state[caviar::v1::StudyState_Name(study.state())];
  AppendHeader(&out, "caviar_studies", "Studies by state.", "gauge");
  for (const auto& [state, count] : by_state)
    AppendSample(&out, "caviar_studies", {"state"}, {state}, count);

  AppendHeader(&out, "caviar_trials", "Trials by state, per study.", "gauge");
  for (const auto& study : studies) {
    const std::string& name = study.spec().name();
    const std::pair<const char*, int32_t> counts[] = {
        {"PENDING", study.pending_trials()},     {"ACTIVE", study.active_trials()},
        {"SUCCEEDED", study.succeeded_trials()}, {"FAILED", study.failed_trials()},
        {"STOPPED", study.stopped_trials()},
    };
    for (const auto& [state, count] : counts)
      AppendSample(&out, "caviar_trials", {"study", "state"}, {name, state}, count);
  }

  if (!database_path.empty()) {
    AppendHeader(&out, "caviar_database_bytes",
                 "Size of the SQLite database file plus its write-ahead log.", "gauge");
    AppendSample(&out, "caviar_database_bytes", {}, {},
                 static_cast<double>(FileBytes(database_path) +
                                     FileBytes(database_path + "-wal")));
  }
  AppendHeader(&out, "process_resident_memory_bytes", "Resident memory size in bytes.",
               "gauge");
  AppendSample(&out, "process_resident_memory_bytes", {}, {},
               static_cast<double>(ResidentBytes()));
  AppendHeader(&out, "process_cpu_seconds_total",
               "Total user and system CPU time spent in seconds.", "counter");
  AppendSample(&out, "process_cpu_seconds_total", {}, {}, CpuSeconds());
  AppendHeader(&out, "process_start_time_seconds",
               "Start time of the process since unix epoch in seconds.", "gauge");
  AppendSample(&out, "process_start_time_seconds", {}, {}, kStartTime);
  return out;
}

}  // namespace caviar::http
