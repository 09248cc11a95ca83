// The size limits of caviar's gRPC messages, in one place so that no process
// accepts a message it cannot pass on, nor sends one the other side refuses.
//
//   kMaxRequestBytes  the largest request the coordinator takes (its server's
//                     max receive size): a study spec, a report, a
//                     completion. A spec the coordinator stores comes back
//                     to workers inside SuggestTrial replies, so it must stay
//                     well below kMaxReplyBytes.
//   kMaxReplyBytes    the largest reply any caviar process accepts: workers
//                     (SuggestTrial carries the study's spec) and clients
//                     (trial listings with learning curves) set it as their
//                     channel's max receive size; the coordinator must not
//                     send more.
// gRPC's default receive limit is 4 MiB: a process that forgets to set these
// refuses every spec between 4 and 16 MiB that the coordinator accepted.
#ifndef CAVIAR_COMMON_MESSAGE_LIMITS_H_
#define CAVIAR_COMMON_MESSAGE_LIMITS_H_

namespace caviar {

inline constexpr int kMaxRequestBytes = 16 << 20;
inline constexpr int kMaxReplyBytes = 256 << 20;
static_assert(kMaxRequestBytes < kMaxReplyBytes,
              "a stored spec must fit in the reply that hands it to a worker");

}  // namespace caviar

#endif  // CAVIAR_COMMON_MESSAGE_LIMITS_H_
