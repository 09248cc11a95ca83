// Figures of the HTTP port on a study of CAVIAR_BENCH_TRIALS (default
// 10,000) trials of 3 steps each, against a real coordinator: fetching
// every trial in pages of 10,000 (with and without curves) and as columns
// (one request), an idle incremental poll, a /changes poll, and a /metrics
// scrape. Median of 5 runs each, printed. Label "long": `ctest -L long -R
// http_fetch_bench`.
#include <algorithm>
#include <cstdlib>

#include "absl/time/clock.h"
#include "tests/http/http_fixture.h"

namespace caviar::testing {
namespace {

class HttpFetchBench : public HttpFixture {
 protected:
  // Median wall time of `runs` calls of `body`, in milliseconds.
  template <typename Body>
  double MedianMs(Body body, int runs = 5) {
    std::vector<double> ms;
    for (int i = 0; i < runs; ++i) {
      const absl::Time start = absl::Now();
      body();
      ms.push_back(absl::ToDoubleMilliseconds(absl::Now() - start));
    }
    std::sort(ms.begin(), ms.end());
    return ms[ms.size() / 2];
  }
};

TEST_F(HttpFetchBench, FetchesAndScrapes) {
  const char* env = std::getenv("CAVIAR_BENCH_TRIALS");
  const int trials = env != nullptr ? std::atoi(env) : 10000;
  ASSERT_TRUE(StartCoordinator()) << startup_error_;
  CreateStudy("bench", trials);
  const absl::Time start = absl::Now();
  int64_t last = 0;
  for (int i = 0; i < trials; ++i) last = RunTrial("bench", 0.0001 * i, /*steps=*/3);
  std::printf("made %d trials (3 steps each) over gRPC in %.1f s\n", trials,
              absl::ToDoubleSeconds(absl::Now() - start));
  // CAVIAR_BENCH_HOLD=SECONDS: keep the coordinator up for a look by hand.
  if (const char* hold = std::getenv("CAVIAR_BENCH_HOLD")) {
    std::printf("HTTP on 127.0.0.1:%d for %s s\n", http_port_, hold);
    std::fflush(stdout);
    std::this_thread::sleep_for(std::chrono::seconds(std::atoi(hold)));
  }

  for (bool curves : {false, true}) {
    size_t bytes = 0;
    const double ms = MedianMs([&] {
      int64_t after = 0;
      size_t seen = 0;
      bytes = 0;
      for (;;) {
        Reply page =
            Get(absl::StrCat("/api/v1/studies/bench/trials?limit=10000&after=", after,
                             curves ? "&measurements=true" : ""));
        ASSERT_EQ(page.status, 200);
        bytes += page.body.size();
        seen += page.json["trials"].size();
        after = page.json["next_after"].get<int64_t>();
        if (!page.json["more"].get<bool>()) break;
      }
      ASSERT_EQ(seen, static_cast<size_t>(trials));
    });
    std::printf("all %d trials%s: %.1f ms, %.1f MB of JSON (parsed by the client too)\n",
                trials, curves ? " with curves" : "", ms, bytes / 1e6);
  }
  {
    size_t bytes = 0;
    const double ms = MedianMs([&] {
      Reply page = Get(absl::StrCat("/api/v1/studies/bench/columns?limit=100000"));
      ASSERT_EQ(page.status, 200);
      ASSERT_EQ(page.json["id"].size(), static_cast<size_t>(trials));
      bytes = page.body.size();
    });
    std::printf(
        "all %d trials as columns: %.1f ms, %.1f MB of JSON (parsed by the client too)\n",
        trials, ms, bytes / 1e6);
  }
  std::printf("idle poll (?after=last): %.2f ms\n",
              MedianMs(
                  [&] {
                    Reply idle =
                        Get(absl::StrCat("/api/v1/studies/bench/trials?after=", last));
                    ASSERT_EQ(idle.status, 200);
                  },
                  21));
  std::printf("changes poll (?after=last): %.2f ms\n",
              MedianMs(
                  [&] {
                    Reply changes =
                        Get(absl::StrCat("/api/v1/studies/bench/changes?after=", last));
                    ASSERT_EQ(changes.status, 200);
                  },
                  21));
  size_t metrics_bytes = 0;
  std::printf("/metrics scrape: %.2f ms", MedianMs(
                                              [&] {
                                                Reply metrics = Get("/metrics");
                                                ASSERT_EQ(metrics.status, 200);
                                                metrics_bytes = metrics.body.size();
                                              },
                                              21));
  std::printf(" (%zu bytes)\n", metrics_bytes);
  // The server's side of it (JSON built and sent), from its own histogram.
  const std::string text = Get("/metrics").body;
  for (const char* route :
       {"/api/v1/studies/{name}/trials", "/api/v1/studies/{name}/columns",
        "/api/v1/studies/{name}/changes"}) {
    auto value = [&](const std::string& series) {
      const std::string key = absl::StrCat(series, "{route=\"", route, "\"} ");
      const size_t at = text.find(key);
      return at == std::string::npos ? 0.0 : std::atof(text.c_str() + at + key.size());
    };
    const double sum = value("caviar_http_request_duration_seconds_sum");
    const double count = value("caviar_http_request_duration_seconds_count");
    std::printf("server side, %s: %.0f requests, %.2f ms on average\n", route, count,
                count > 0 ? 1000 * sum / count : 0);
  }
}

}  // namespace
}  // namespace caviar::testing
