// ChangeFeed: per-subscription bounded queues, lagging instead of growing,
// study and trial filters, heartbeats, cancel.
#include "server/watch/change_feed.h"

#include <atomic>

#include "gtest/gtest.h"

namespace caviar::watch {
namespace {

using caviar::v1::WatchEvent;

WatchEvent Event(caviar::v1::WatchEventKind kind, int64_t trial_id = 0) {
  WatchEvent e;
  e.set_kind(kind);
  e.set_trial_id(trial_id);
  return e;
}

TEST(ChangeFeedTest, DeliversAStudysEventsInOrderAndWakes) {
  ChangeFeed feed;
  std::atomic<int> wakes{0};
  auto a = feed.Subscribe("a", 0, [&] { ++wakes; });
  auto b = feed.Subscribe("b", 0, nullptr);
  EXPECT_TRUE(feed.Watched("a"));
  EXPECT_FALSE(feed.Watched("c"));
  feed.Publish("a", 1, Event(caviar::v1::WATCH_MEASUREMENT, 1));
  feed.Publish("a", 0, Event(caviar::v1::WATCH_STUDY));
  Subscription::Batch batch = a->Take();
  ASSERT_EQ(batch.events.size(), 2u);
  EXPECT_EQ(batch.events[0].kind(), caviar::v1::WATCH_MEASUREMENT);
  EXPECT_EQ(batch.events[1].kind(), caviar::v1::WATCH_STUDY);
  EXPECT_FALSE(batch.lagging);
  EXPECT_EQ(wakes.load(), 2);
  EXPECT_TRUE(b->Take().events.empty());
  EXPECT_TRUE(a->Take().events.empty());
}

TEST(ChangeFeedTest, ATrialWatcherGetsItsTrialAndTheStudyOnly) {
  ChangeFeed feed;
  auto one = feed.Subscribe("a", 7, nullptr);
  feed.Publish("a", 7, Event(caviar::v1::WATCH_MEASUREMENT, 7));
  feed.Publish("a", 8, Event(caviar::v1::WATCH_MEASUREMENT, 8));
  feed.Publish("a", 0, Event(caviar::v1::WATCH_STUDY));
  Subscription::Batch batch = one->Take();
  ASSERT_EQ(batch.events.size(), 2u);
  EXPECT_EQ(batch.events[0].trial_id(), 7);
  EXPECT_EQ(batch.events[1].kind(), caviar::v1::WATCH_STUDY);
}

TEST(ChangeFeedTest, ASlowWatcherIsMarkedLaggingNotGrownAndWritersNeverWait) {
  ChangeFeed feed(/*queue_limit=*/4);
  auto slow = feed.Subscribe("a", 0, nullptr);
  for (int i = 0; i < 1000; ++i)
    feed.Publish("a", 1, Event(caviar::v1::WATCH_MEASUREMENT, 1));
  Subscription::Batch batch = slow->Take();
  EXPECT_TRUE(batch.lagging);
  EXPECT_TRUE(batch.events.empty());  // Thrown away: a snapshot replaces them.
  EXPECT_EQ(batch.dropped, 1000);
  // Caught up (after its snapshot) it queues again.
  feed.Publish("a", 1, Event(caviar::v1::WATCH_MEASUREMENT, 1));
  batch = slow->Take();
  EXPECT_FALSE(batch.lagging);
  EXPECT_EQ(batch.events.size(), 1u);
}

TEST(ChangeFeedTest, ResetForgetsTheQueueAndTheLag) {
  ChangeFeed feed(2);
  auto s = feed.Subscribe("a", 0, nullptr);
  for (int i = 0; i < 5; ++i) feed.Publish("a", 0, Event(caviar::v1::WATCH_STUDY));
  s->Reset();
  Subscription::Batch batch = s->Take();
  EXPECT_FALSE(batch.lagging);
  EXPECT_TRUE(batch.events.empty());
}

TEST(ChangeFeedTest, HeartbeatsGoToIdleWatchersOnly) {
  ChangeFeed feed;
  auto idle = feed.Subscribe("a", 0, nullptr);
  auto busy = feed.Subscribe("b", 0, nullptr);
  const absl::Time now = absl::Now();
  feed.Publish("b", 0, Event(caviar::v1::WATCH_STUDY));
  feed.Heartbeat(now + absl::Seconds(1));
  EXPECT_EQ(idle->Take().events.at(0).kind(), caviar::v1::WATCH_HEARTBEAT);
  EXPECT_EQ(busy->Take().events.size(), 1u);  // Its study event, no heartbeat.
}

TEST(ChangeFeedTest, CancelStopsDeliveriesAndUnsubscribes) {
  ChangeFeed feed;
  std::atomic<int> wakes{0};
  auto s = feed.Subscribe("a", 0, [&] { ++wakes; });
  EXPECT_EQ(feed.subscriptions(), 1);
  s->Cancel();
  s->Cancel();
  EXPECT_EQ(feed.subscriptions(), 0);
  EXPECT_FALSE(feed.Watched("a"));
  feed.Publish("a", 0, Event(caviar::v1::WATCH_STUDY));
  EXPECT_EQ(wakes.load(), 0);
  EXPECT_TRUE(s->Take().events.empty());
}

}  // namespace
}  // namespace caviar::watch
