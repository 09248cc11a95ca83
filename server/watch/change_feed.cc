#include "server/watch/change_feed.h"

#include <utility>

namespace caviar::watch {

using caviar::v1::WatchEvent;

Subscription::Subscription(ChangeFeed* feed, std::string study, int64_t trial_id,
                           std::function<void()> wake, size_t queue_limit)
    : feed_(feed),
      study_(std::move(study)),
      trial_id_(trial_id),
      wake_(std::move(wake)),
      queue_limit_(queue_limit) {}

Subscription::~Subscription() { Cancel(); }

Subscription::Batch Subscription::Take() {
  absl::MutexLock lock(&mu_);
  Batch batch;
  batch.lagging = lagging_;
  batch.dropped = dropped_;
  batch.events.assign(std::make_move_iterator(queue_.begin()),
                      std::make_move_iterator(queue_.end()));
  queue_.clear();
  lagging_ = false;
  dropped_ = 0;
  return batch;
}

void Subscription::Reset() {
  absl::MutexLock lock(&mu_);
  queue_.clear();
  lagging_ = false;
  dropped_ = 0;
}

void Subscription::Cancel() {
  ChangeFeed* feed;
  {
    absl::MutexLock lock(&mu_);
    if (cancelled_) return;
    cancelled_ = true;
    queue_.clear();
  }
  // The feed's lock also waits out a wake in progress: none runs after this.
  feed = feed_;
  if (feed != nullptr) feed->Remove(this);
}

bool Subscription::Push(const WatchEvent& event, absl::Time now) {
  absl::MutexLock lock(&mu_);
  if (cancelled_) return false;
  last_push_ = now;
  if (lagging_) {
    ++dropped_;
    return false;  // Already woken for the snapshot it needs.
  }
  if (queue_.size() >= queue_limit_) {
    // A reader this slow gets a snapshot instead of a queue without bound.
    dropped_ += static_cast<int64_t>(queue_.size()) + 1;
    queue_.clear();
    lagging_ = true;
    return true;
  }
  queue_.push_back(event);
  return true;
}

bool Subscription::IdleSince(absl::Time since) {
  absl::MutexLock lock(&mu_);
  return !cancelled_ && last_push_ <= since;
}

ChangeFeed::ChangeFeed(size_t queue_limit) : queue_limit_(queue_limit) {}

ChangeFeed::~ChangeFeed() {
  absl::MutexLock lock(&mu_);
  for (auto& [study, subscription] : by_study_) subscription->feed_ = nullptr;
}

std::shared_ptr<Subscription> ChangeFeed::Subscribe(const std::string& study,
                                                    int64_t trial_id,
                                                    std::function<void()> wake) {
  std::shared_ptr<Subscription> subscription(
      new Subscription(this, study, trial_id, std::move(wake), queue_limit_));
  absl::MutexLock lock(&mu_);
  by_study_.emplace(study, subscription.get());
  return subscription;
}

void ChangeFeed::Remove(Subscription* subscription) {
  absl::MutexLock lock(&mu_);
  auto [begin, end] = by_study_.equal_range(subscription->study());
  for (auto it = begin; it != end; ++it) {
    if (it->second == subscription) {
      by_study_.erase(it);
      break;
    }
  }
  subscription->feed_ = nullptr;
}

bool ChangeFeed::Watched(const std::string& study) const {
  absl::MutexLock lock(&mu_);
  return by_study_.count(study) > 0;
}

int ChangeFeed::subscriptions() const {
  absl::MutexLock lock(&mu_);
  return static_cast<int>(by_study_.size());
}

void ChangeFeed::Publish(const std::string& study, int64_t trial_id,
                         const WatchEvent& event) {
  const absl::Time now = absl::Now();
  absl::MutexLock lock(&mu_);
  auto [begin, end] = by_study_.equal_range(study);
  for (auto it = begin; it != end; ++it) {
    Subscription* s = it->second;
    if (s->trial_id() != 0 && trial_id != 0 && s->trial_id() != trial_id) continue;
    // Under the feed's lock, so Cancel() waits for this wake to end.
    if (s->Push(event, now) && s->wake_) s->wake_();
  }
}

void ChangeFeed::Heartbeat(absl::Time now) {
  WatchEvent heartbeat;
  heartbeat.set_kind(caviar::v1::WATCH_HEARTBEAT);
  heartbeat.mutable_time()->set_seconds(absl::ToUnixSeconds(now));
  absl::MutexLock lock(&mu_);
  for (auto& [study, s] : by_study_) {
    if (!s->IdleSince(now - kHeartbeatInterval)) continue;
    if (s->Push(heartbeat, now) && s->wake_) s->wake_();
  }
}

}  // namespace caviar::watch
