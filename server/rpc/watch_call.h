// StudyService.Watch at the RPC edge: a server stream of WatchEvents for
// `caviar watch` (viewer role). The first message is a snapshot from
// Coordinator::WatchSnapshot; then every event the coordinator publishes to
// its ChangeFeed (server/watch/change_feed.h) for this study or trial, as
// the client reads them, one write at a time. A watcher that falls
// kDefaultQueueLimit events behind gets a new snapshot with dropped_events
// set instead. The stream ends OK after the message that shows the study
// ended (or, for a trial, that the trial finished), CANCELLED when the
// client goes away.
//
// Thread-safety: the reactor serializes itself (its own mutex); it never
// calls the Coordinator while holding it, and its wake callback (run under
// the Coordinator's lock) only starts a write.
#ifndef CAVIAR_SERVER_RPC_WATCH_CALL_H_
#define CAVIAR_SERVER_RPC_WATCH_CALL_H_

#include "caviar/v1/service.grpc.pb.h"
#include "grpcpp/support/server_callback.h"
#include "server/rpc/services.h"

namespace caviar::rpc {

grpc::ServerWriteReactor<caviar::v1::WatchEvent>* StartWatch(
    grpc::CallbackServerContext* context, const Edge& edge,
    const caviar::v1::WatchRequest& request);

}  // namespace caviar::rpc

#endif  // CAVIAR_SERVER_RPC_WATCH_CALL_H_
