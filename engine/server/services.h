// The acd.v1 gRPC services acdd serves. Each handler checks its request at the edge
// (enum values, sizes), posts the command to the CoreLoop and finishes the RPC from the
// core thread with the core's answer; core Status codes map one to one to gRPC codes.
// Handlers never touch engine state themselves.
//
// Thread rules: handlers run on gRPC threads; everything they capture for the core
// thread is copied or owned by the RPC (request and response live until Finish).
#ifndef ACD_ENGINE_SERVER_SERVICES_H_
#define ACD_ENGINE_SERVER_SERVICES_H_

#include <functional>
#include <optional>
#include <string>

#include "acd/v1/admin.grpc.pb.h"
#include "acd/v1/agent_desk.grpc.pb.h"
#include "acd/v1/gateway.grpc.pb.h"
#include "acd/v1/supervisor.grpc.pb.h"
#include "engine/server/core_loop.h"
#include "routing_rules/rules_loader.h"

namespace acd::server {

// For gateways (IVR, chat, email): contacts in, their status out.
class GatewayService final : public v1::Gateway::CallbackService {
 public:
  GatewayService(CoreLoop& loop, size_t stream_buffer)
      : loop_(loop), stream_buffer_(stream_buffer) {}

  grpc::ServerUnaryReactor* EnqueueContact(grpc::CallbackServerContext* context,
                                           const v1::EnqueueContactRequest* request,
                                           v1::ContactStatus* response) override;
  grpc::ServerUnaryReactor* CancelContact(grpc::CallbackServerContext* context,
                                          const v1::CancelContactRequest* request,
                                          v1::ContactStatus* response) override;
  grpc::ServerUnaryReactor* GetContact(grpc::CallbackServerContext* context,
                                       const v1::GetContactRequest* request,
                                       v1::ContactStatus* response) override;
  grpc::ServerWriteReactor<v1::ContactStatus>* WatchContact(
      grpc::CallbackServerContext* context, const v1::WatchContactRequest* request) override;
  grpc::ServerUnaryReactor* RequestCallback(grpc::CallbackServerContext* context,
                                            const v1::RequestCallbackRequest* request,
                                            v1::ContactStatus* response) override;
  grpc::ServerUnaryReactor* TransferContact(grpc::CallbackServerContext* context,
                                            const v1::TransferContactRequest* request,
                                            v1::ContactStatus* response) override;
  grpc::ServerUnaryReactor* ChangePriority(grpc::CallbackServerContext* context,
                                           const v1::ChangePriorityRequest* request,
                                           v1::ContactStatus* response) override;
  grpc::ServerUnaryReactor* EscalateContact(grpc::CallbackServerContext* context,
                                            const v1::EscalateContactRequest* request,
                                            v1::ContactStatus* response) override;

 private:
  CoreLoop& loop_;
  const size_t stream_buffer_;
};

// For PSR desktops: presence, offers, accept/reject/complete.
class AgentDeskService final : public v1::AgentDesk::CallbackService {
 public:
  AgentDeskService(CoreLoop& loop, size_t stream_buffer)
      : loop_(loop), stream_buffer_(stream_buffer) {}

  grpc::ServerUnaryReactor* Login(grpc::CallbackServerContext* context,
                                  const v1::LoginRequest* request,
                                  v1::AgentStatus* response) override;
  grpc::ServerUnaryReactor* Logout(grpc::CallbackServerContext* context,
                                   const v1::AgentRequest* request,
                                   v1::AgentStatus* response) override;
  grpc::ServerUnaryReactor* SetState(grpc::CallbackServerContext* context,
                                     const v1::SetStateRequest* request,
                                     v1::AgentStatus* response) override;
  grpc::ServerWriteReactor<v1::AgentUpdate>* WatchOffers(grpc::CallbackServerContext* context,
                                                         const v1::AgentRequest* request) override;
  grpc::ServerUnaryReactor* AcceptOffer(grpc::CallbackServerContext* context,
                                        const v1::OfferRequest* request,
                                        v1::AgentStatus* response) override;
  grpc::ServerUnaryReactor* RejectOffer(grpc::CallbackServerContext* context,
                                        const v1::OfferRequest* request,
                                        v1::AgentStatus* response) override;
  grpc::ServerUnaryReactor* CompleteContact(grpc::CallbackServerContext* context,
                                            const v1::OfferRequest* request,
                                            v1::AgentStatus* response) override;
  grpc::ServerUnaryReactor* EndWrapUp(grpc::CallbackServerContext* context,
                                      const v1::AgentRequest* request,
                                      v1::AgentStatus* response) override;

 private:
  CoreLoop& loop_;
  const size_t stream_buffer_;
};

// For wallboards and supervisors. WatchEvents is served raw (ByteBuffer in and out): its
// batches are written from events encoded once for all subscribers (EncodedEvent), and
// its request is parsed here.
class SupervisorService final
    : public v1::Supervisor::WithRawCallbackMethod_WatchEvents<v1::Supervisor::CallbackService> {
 public:
  // `event_batch`: the most events one WatchEvents message carries.
  SupervisorService(CoreLoop& loop, size_t stream_buffer, size_t event_batch)
      : loop_(loop), stream_buffer_(stream_buffer), event_batch_(event_batch) {}

  grpc::ServerUnaryReactor* GetSnapshot(grpc::CallbackServerContext* context,
                                        const v1::SnapshotRequest* request,
                                        v1::Snapshot* response) override;
  // A WatchEventsRequest in, a stream of EventBatch out; INVALID_ARGUMENT if the request
  // does not parse.
  grpc::ServerWriteReactor<grpc::ByteBuffer>* WatchEvents(
      grpc::CallbackServerContext* context, const grpc::ByteBuffer* request) override;
  grpc::ServerUnaryReactor* ForceAgentState(grpc::CallbackServerContext* context,
                                            const v1::SetStateRequest* request,
                                            v1::AgentStatus* response) override;

 private:
  CoreLoop& loop_;
  const size_t stream_buffer_;
  const size_t event_batch_;
};

// Where the rules in force came from, for GetRules.
struct RulesOrigin {
  std::string source = "built-in default";  // a file path, or "Admin.ApplyRules"
  std::string version;
  std::string checksum;
  std::optional<v1::RoutingRules> rules;  // as written, when loaded from text
};

// The rules in force: validate, apply (also used for SIGHUP reloads) and describe them.
// Parsing runs on the calling thread; only Engine::ApplyConfig runs on the core thread.
class AdminService final : public v1::Admin::CallbackService {
 public:
  AdminService(CoreLoop& loop, RulesOrigin origin) : loop_(loop), origin_(std::move(origin)) {}

  // Any thread. Puts `rules` (from `source`) in force on the core thread and calls `done`
  // there with the engine's answer and the last event's sequence. Returns UNAVAILABLE
  // without calling `done` if the core's command queue is full.
  using AppliedCallback = std::function<void(absl::Status status, uint64_t sequence)>;
  [[nodiscard]] absl::Status Apply(rules::LoadedRules rules, std::string source,
                                   AppliedCallback done);

  grpc::ServerUnaryReactor* ValidateRules(grpc::CallbackServerContext* context,
                                          const v1::ValidateRulesRequest* request,
                                          v1::ValidateRulesResponse* response) override;
  grpc::ServerUnaryReactor* ApplyRules(grpc::CallbackServerContext* context,
                                       const v1::ApplyRulesRequest* request,
                                       v1::ApplyRulesResponse* response) override;
  grpc::ServerUnaryReactor* GetRules(grpc::CallbackServerContext* context,
                                     const v1::GetRulesRequest* request,
                                     v1::GetRulesResponse* response) override;

 private:
  CoreLoop& loop_;
  RulesOrigin origin_;  // core thread only
};

}  // namespace acd::server

#endif  // ACD_ENGINE_SERVER_SERVICES_H_
