// ThreadTeam runs every task exactly once per loop, whether helpers are
// spinning, asleep, or more numerous than the cores.
#include "worker/trainer/thread_team.h"

#include <atomic>
#include <chrono>
#include <set>
#include <thread>
#include <vector>

#include "gtest/gtest.h"

namespace caviar::trainer {
namespace {

TEST(ThreadTeamTest, EveryTaskRunsExactlyOncePerLoop) {
  for (int threads : {1, 2, 3, 8}) {
    ThreadTeam team(threads);
    EXPECT_EQ(team.threads(), threads);
    std::vector<std::atomic<int>> hits(37);
    for (int loop = 0; loop < 2000; ++loop) {
      const int tasks = 1 + loop % 37;
      team.Run(tasks, [&](int i) { hits[i].fetch_add(1); });
      for (int i = 0; i < 37; ++i) {
        // Task i ran in every loop with more than i tasks so far.
        int expected = 0;
        for (int l = 0; l <= loop; ++l) expected += (1 + l % 37) > i;
        ASSERT_EQ(hits[i].load(), expected) << "threads " << threads << " loop " << loop;
      }
    }
  }
}

TEST(ThreadTeamTest, HelpersShareTheWorkAndWakeFromSleep) {
  ThreadTeam team(2);
  for (int round = 0; round < 3; ++round) {
    // Longer than the helpers' spin: they are asleep when the loop starts.
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    std::mutex mu;
    std::set<std::thread::id> ids;
    std::atomic<int> sum{0};
    team.Run(64, [&](int i) {
      {
        std::lock_guard<std::mutex> lock(mu);
        ids.insert(std::this_thread::get_id());
      }
      sum.fetch_add(i);
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    });
    EXPECT_EQ(sum.load(), 64 * 63 / 2);
    // 64 ms of sleeping tasks: the woken helper takes some of them.
    EXPECT_EQ(ids.size(), 2u) << "round " << round;
  }
}

TEST(ThreadTeamTest, CallerFinishesAloneWhenHelpersAreBusyElsewhere) {
  // More helpers than cores, each loop tiny: the caller must never wait for
  // a helper that has not taken a task.
  ThreadTeam team(16);
  std::atomic<int64_t> total{0};
  for (int loop = 0; loop < 20000; ++loop) {
    team.Run(3, [&](int i) { total.fetch_add(i + 1); });
  }
  EXPECT_EQ(total.load(), 20000 * 6);
}

}  // namespace
}  // namespace caviar::trainer
