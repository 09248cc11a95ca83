#include "server/rpc/watch_call.h"

#include <deque>
#include <memory>
#include <optional>

#include "absl/synchronization/mutex.h"
#include "common/metrics/coordinator_metrics.h"
#include "server/rpc/status.h"
#include "server/scheduling/study_runtime.h"

namespace caviar::rpc {
namespace {

using caviar::v1::WatchEvent;

constexpr char kWatchMethod[] = "/caviar.v1.StudyService/Watch";

// Every decision is taken under mu_, every gRPC call (StartWrite, Finish)
// made after it is released: gRPC may run a reaction (OnCancel, OnDone) on
// the calling thread.
class WatchReactor final : public grpc::ServerWriteReactor<WatchEvent> {
 public:
  explicit WatchReactor(const grpc::Status& refused) : edge_(nullptr) { Finish(refused); }

  WatchReactor(const Edge& edge, caviar::v1::WatchRequest request)
      : edge_(&edge), request_(std::move(request)) {
    {
      absl::MutexLock lock(&mu_);
      writing_ = true;  // Wakes wait for the snapshot to be written first.
    }
    Act(Snapshot(0));
  }

  void OnWriteDone(bool ok) override {
    Action action;
    int64_t dropped = 0;
    {
      absl::MutexLock lock(&mu_);
      writing_ = false;
      if (!ok) {
        action = FinishLocked(
            grpc::Status(grpc::StatusCode::CANCELLED, "the watcher went away"));
      } else if (ends_) {
        action = FinishLocked(grpc::Status::OK);
      } else {
        action = NextLocked();
        if (action.snapshot) {
          writing_ = true;  // Held while the snapshot is taken.
          dropped = dropped_;
          dropped_ = 0;
          needs_snapshot_ = false;
        }
      }
    }
    if (action.snapshot) action = Snapshot(dropped);
    Act(std::move(action));
  }

  void OnCancel() override {
    Action action;
    {
      absl::MutexLock lock(&mu_);
      if (!writing_)
        action = FinishLocked(
            grpc::Status(grpc::StatusCode::CANCELLED, "the watcher went away"));
    }
    Act(std::move(action));
  }

  void OnDone() override {
    if (subscription_ != nullptr) subscription_->Cancel();
    delete this;
  }

 private:
  // What to do once mu_ is released.
  struct Action {
    std::optional<grpc::Status> finish;
    bool write = false;     // StartWrite(&current_).
    bool snapshot = false;  // A new snapshot is due (OnWriteDone takes it).
  };

  // Runs on a publishing thread, under the Coordinator's lock.
  void Wake() {
    Action action;
    {
      absl::MutexLock lock(&mu_);
      if (writing_ || finished_) return;  // OnWriteDone takes what came.
      action = NextLocked();
      if (action.snapshot) {
        // Fell behind while idle: say so now; the snapshot follows from
        // OnWriteDone, off the Coordinator's lock.
        WatchEvent notice;
        notice.set_kind(caviar::v1::WATCH_HEARTBEAT);
        action = WriteLocked(std::move(notice));
      }
    }
    Act(std::move(action));
  }

  // A snapshot (the first, or after `dropped` lost events) to write.
  Action Snapshot(int64_t dropped) {
    absl::StatusOr<WatchEvent> snapshot = edge_->coordinator->WatchSnapshot(
        request_, [this] { Wake(); }, &subscription_);
    absl::MutexLock lock(&mu_);
    if (!snapshot.ok()) return FinishLocked(ToGrpcStatus(snapshot.status()));
    snapshot->set_dropped_events(dropped);
    return WriteLocked(*std::move(snapshot));
  }

  // The next queued event to write; or a snapshot due; or nothing.
  Action NextLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (finished_) return {};
    if (outbox_.empty()) {
      watch::Subscription::Batch batch = subscription_->Take();
      for (WatchEvent& e : batch.events) outbox_.push_back(std::move(e));
      if (batch.lagging) {
        needs_snapshot_ = true;
        dropped_ += batch.dropped;
      }
    }
    if (!outbox_.empty()) {
      WatchEvent next = std::move(outbox_.front());
      outbox_.pop_front();
      return WriteLocked(std::move(next));
    }
    Action action;
    action.snapshot = needs_snapshot_;
    return action;
  }

  Action WriteLocked(WatchEvent event) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    current_ = std::move(event);
    ends_ = Ends(current_);
    writing_ = true;
    Action action;
    action.write = true;
    return action;
  }

  Action FinishLocked(const grpc::Status& status) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (finished_) return {};
    finished_ = true;
    Action action;
    action.finish = status;
    return action;
  }

  void Act(Action action) {
    if (action.write) StartWrite(&current_);
    if (action.finish.has_value()) Finish(*action.finish);
  }

  // Whether the watch ends once `event` is written.
  bool Ends(const WatchEvent& event) const {
    if (event.has_study() && event.study().state() != caviar::v1::STUDY_ACTIVE &&
        event.study().state() != caviar::v1::STUDY_STATE_UNSPECIFIED)
      return true;
    if (request_.trial_id() == 0) return false;
    for (const caviar::v1::Trial& t : event.trials()) {
      if (t.id() == request_.trial_id() && scheduling::IsFinal(t.state())) return true;
    }
    return false;
  }

  const Edge* const edge_;
  const caviar::v1::WatchRequest request_;
  std::shared_ptr<watch::Subscription> subscription_;
  absl::Mutex mu_;
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
  bool ends_ ABSL_GUARDED_BY(mu_) = false;
  bool needs_snapshot_ ABSL_GUARDED_BY(mu_) = false;
  int64_t dropped_ ABSL_GUARDED_BY(mu_) = 0;
  std::deque<WatchEvent> outbox_ ABSL_GUARDED_BY(mu_);
  WatchEvent current_;  // The event being written; set only while none is.
};

}  // namespace

grpc::ServerWriteReactor<WatchEvent>* StartWatch(
    grpc::CallbackServerContext* context, const Edge& edge,
    const caviar::v1::WatchRequest& request) {
  const absl::Time start = absl::Now();
  Caller caller;
  grpc::Status status = ToGrpcStatus(edge.auth->Check(*context, Access::kRead, &caller));
  metrics::RecordRpc(kWatchMethod, status.error_code(), absl::Now() - start);
  if (status.ok()) return new WatchReactor(edge, request);
  edge.audit->Refused(kWatchMethod, context->peer(), caller.credential, status);
  return new WatchReactor(status);
}

}  // namespace caviar::rpc
