// Translation between the core's C++ types and the acd.v1 wire messages, and the edge
// checks that run before a request reaches the core (enum values in range, sizes within
// the configured limits). Pure functions: safe on any thread.
#ifndef ACD_ENGINE_SERVER_API_MAPPING_H_
#define ACD_ENGINE_SERVER_API_MAPPING_H_

#include <grpcpp/support/status.h>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "acd/v1/admin.pb.h"
#include "acd/v1/agent_desk.pb.h"
#include "acd/v1/common.pb.h"
#include "acd/v1/gateway.pb.h"
#include "acd/v1/supervisor.pb.h"
#include "engine/core/config.h"
#include "engine/core/engine.h"
#include "engine/core/event.h"
#include "engine/server/timestamp.h"  // ToProto(absl::Time, Timestamp*) and back

namespace acd::server {

// absl and gRPC share the canonical status codes, so the code maps one to one.
grpc::Status ToGrpc(const absl::Status& status);

// ---- Enums. The wire enums put UNSPECIFIED at 0, so wire = core + 1. ----
v1::Channel ToProto(core::Channel c);
v1::AgentState ToProto(core::AgentState s);
v1::ContactState ToProto(core::ContactState s);
v1::EventType ToProto(core::EventType t);
// INVALID_ARGUMENT naming `field` for UNSPECIFIED or an unknown number.
absl::StatusOr<core::Channel> ChannelFromProto(int channel, absl::string_view field);
absl::StatusOr<core::AgentState> AgentStateFromProto(int state, absl::string_view field);

// ---- Requests (edge-checked against `limits`; the core checks the rest). ----
absl::StatusOr<core::EnqueueRequest> FromProto(const v1::EnqueueContactRequest& request,
                                               const core::Limits& limits);
absl::StatusOr<core::LoginRequest> FromProto(const v1::LoginRequest& request,
                                             const core::Limits& limits);
// INVALID_ARGUMENT unless the id is non-empty and at most limits.max_id_bytes long.
absl::Status CheckId(absl::string_view id, absl::string_view field, const core::Limits& limits);

// ---- Replies. ----
void ToProto(const core::ContactStatus& in, v1::ContactStatus* out);
void ToProto(const core::AgentStatus& in, v1::AgentStatus* out);
// `window` is the statistics window the flat queue counters cover; `clock_speed` the server
// clock's speed (ServerClock::speed).
void ToProto(const core::EngineSnapshot& in, absl::Duration window, double clock_speed,
             v1::Snapshot* out);
// Writes every field an engine event has (not `snapshot`): `out` may be reused.
void ToProto(const core::Event& in, v1::Event* out);
void ToProto(const core::EngineConfig& in, v1::GetRulesResponse* out);

}  // namespace acd::server

#endif  // ACD_ENGINE_SERVER_API_MAPPING_H_
