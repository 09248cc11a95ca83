// CoordinatorChannel: the worker's gRPC channel to the coordinator, tuned for
// a long-lived client that must notice a restarted coordinator at once.
//
// - Reconnect backoff: gRPC's default grows from 1 s by 1.6x per failed
//   attempt up to 120 s, so after a minute-long outage workers reconnected
//   8-25 s after the coordinator came back. Here attempts start after
//   kInitialReconnectBackoff and never wait more than kMaxReconnectBackoff
//   (plus gRPC's 20% jitter); one connection attempt per second per worker is
//   nothing for a coordinator, down or up.
// - Connect timeout (gRPC's "min reconnect backoff"): kConnectTimeout, down
//   from 20 s, so an attempt stuck on a host that drops packets is abandoned
//   and retried soon.
// - Max receive size: kMaxReplyBytes (common/message_limits.h), so every
//   spec the coordinator accepted reaches the worker in its SuggestTrial
//   reply (gRPC's default, 4 MiB, silently refused larger ones).
// - No bandwidth-delay probing: messages are small and frequent, probing
//   only adds pings.
//
// Thread-safety: the returned channel is thread-safe.
#ifndef CAVIAR_WORKER_COORDINATOR_CHANNEL_H_
#define CAVIAR_WORKER_COORDINATOR_CHANNEL_H_

#include <memory>
#include <string>

#include "grpcpp/channel.h"
#include "grpcpp/security/credentials.h"
#include "grpcpp/support/channel_arguments.h"

namespace caviar::worker {

inline constexpr int kInitialReconnectBackoffMs = 100;
inline constexpr int kMaxReconnectBackoffMs = 1000;
inline constexpr int kConnectTimeoutMs = 2000;

grpc::ChannelArguments CoordinatorChannelArguments();

std::shared_ptr<grpc::Channel> CoordinatorChannel(
    const std::string& address,
    const std::shared_ptr<grpc::ChannelCredentials>& credentials);

}  // namespace caviar::worker

#endif  // CAVIAR_WORKER_COORDINATOR_CHANNEL_H_
