// Process-wide settings every gRPC program of ours (acdd, and the benchmark's echo server
// and load client, so that they measure the same gRPC runtime) applies first in main().
#ifndef ACD_ENGINE_SERVER_GRPC_PROCESS_H_
#define ACD_ENGINE_SERVER_GRPC_PROCESS_H_

#include "absl/synchronization/mutex.h"

namespace acd::server {

// Debian 12 builds Abseil without NDEBUG, so every absl::Mutex (gRPC 1.51 locks them on
// each call, and so do our stream queues) records lock order in a global deadlock graph
// guarded by one process-wide spin lock: about 4% of acdd's CPU under unary load, and a
// point where all gRPC threads meet. Release builds of Abseil do not do this; neither do
// we. (Tests keep the default, so a lock-order cycle still aborts there.)
inline void ConfigureGrpcProcess() {
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
}

}  // namespace acd::server

#endif  // ACD_ENGINE_SERVER_GRPC_PROCESS_H_
