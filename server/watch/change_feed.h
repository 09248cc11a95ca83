// ChangeFeed: fans the coordinator's committed changes out to the watchers
// of StudyService.Watch (`caviar watch`), in process.
//
// The coordinator publishes an event after the change it describes is
// committed to the Store (so a watcher never sees a change that a crash
// could take back), while it still holds its own lock (so a subscription
// taken under that lock together with a snapshot misses nothing and repeats
// nothing).
//
// Bounded memory, writers never wait: each subscription queues at most
// `queue_limit` events (kDefaultQueueLimit = 256). When a watcher reads so
// slowly that its queue is full, the feed throws its queue away and marks it
// lagging instead of growing or blocking; the watcher then takes a new
// snapshot (WatchEvent.dropped_events counts what it missed). Publish costs
// one map lookup when nobody watches the study.
//
// Thread-safety: every method may be called from any thread. A
// subscription's `wake` callback runs on the publishing thread with the
// feed's lock held (so Cancel waits for a wake under way) and, from Publish,
// the coordinator's too; it may call Take (which takes only the
// subscription's lock), must be quick, and must not call back into the feed
// or the coordinator.
#ifndef CAVIAR_SERVER_WATCH_CHANGE_FEED_H_
#define CAVIAR_SERVER_WATCH_CHANGE_FEED_H_

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "caviar/v1/service.pb.h"

namespace caviar::watch {

inline constexpr size_t kDefaultQueueLimit = 256;
// A subscription that got nothing for this long gets a WATCH_HEARTBEAT.
inline constexpr absl::Duration kHeartbeatInterval = absl::Seconds(2);

class ChangeFeed;

// One watcher's queue. Hold it as a shared_ptr; Cancel() (or its own or the
// feed's destruction) stops deliveries.
class Subscription {
 public:
  // What a watcher gets next: the queued events (oldest first), or, when it
  // fell behind, `lagging` with the number of events it lost (its queue is
  // empty then: take a new snapshot). Clears the queue and the flag.
  struct Batch {
    std::vector<caviar::v1::WatchEvent> events;
    bool lagging = false;
    int64_t dropped = 0;
  };
  Batch Take();
  ~Subscription();  // Cancels.
  // Throws away what is queued and the lagging flag (a fresh snapshot was
  // just taken under the publisher's lock).
  void Reset();
  // No more deliveries or wakes; idempotent.
  void Cancel();

  const std::string& study() const { return study_; }
  int64_t trial_id() const { return trial_id_; }

 private:
  friend class ChangeFeed;
  Subscription(ChangeFeed* feed, std::string study, int64_t trial_id,
               std::function<void()> wake, size_t queue_limit);
  // Queues `event`; false when nothing needs a wake (cancelled).
  bool Push(const caviar::v1::WatchEvent& event, absl::Time now);
  bool IdleSince(absl::Time since);

  ChangeFeed* feed_;  // Guarded by the feed's mutex; null once cancelled.
  const std::string study_;
  const int64_t trial_id_;
  const std::function<void()> wake_;
  const size_t queue_limit_;
  absl::Mutex mu_;
  std::deque<caviar::v1::WatchEvent> queue_ ABSL_GUARDED_BY(mu_);
  bool lagging_ ABSL_GUARDED_BY(mu_) = false;
  int64_t dropped_ ABSL_GUARDED_BY(mu_) = 0;
  bool cancelled_ ABSL_GUARDED_BY(mu_) = false;
  absl::Time last_push_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
};

class ChangeFeed {
 public:
  explicit ChangeFeed(size_t queue_limit = kDefaultQueueLimit);
  ~ChangeFeed();
  ChangeFeed(const ChangeFeed&) = delete;
  ChangeFeed& operator=(const ChangeFeed&) = delete;

  // Events of `study` (all of them; with trial_id != 0, the study's own
  // events and that trial's) from now on. `wake` is called after events
  // were queued.
  std::shared_ptr<Subscription> Subscribe(const std::string& study, int64_t trial_id,
                                          std::function<void()> wake);
  // Whether anyone watches `study` (publishers skip building events if not).
  bool Watched(const std::string& study) const;
  // Queues `event` (a change of `study`; trial_id 0 = of the study itself)
  // for every matching subscription and wakes them.
  void Publish(const std::string& study, int64_t trial_id,
               const caviar::v1::WatchEvent& event);
  // A WATCH_HEARTBEAT to every subscription that got nothing for
  // kHeartbeatInterval (the server calls this every second).
  void Heartbeat(absl::Time now);
  int subscriptions() const;

 private:
  friend class Subscription;
  void Remove(Subscription* subscription);

  const size_t queue_limit_;
  mutable absl::Mutex mu_;
  std::multimap<std::string, Subscription*> by_study_ ABSL_GUARDED_BY(mu_);
};

}  // namespace caviar::watch

#endif  // CAVIAR_SERVER_WATCH_CHANGE_FEED_H_
