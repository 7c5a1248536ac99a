// The acd.v1 gRPC services acdd serves. Each handler checks its request at the edge
// (enum values, sizes), posts the command to the CoreLoop and finishes the RPC from the
// core thread with the core's answer; core Status codes map one to one to gRPC codes.
// Handlers never touch engine state themselves.
//
// Thread rules: handlers run on gRPC threads; everything they capture for the core
// thread is copied or owned by the RPC (request and response live until Finish).
#ifndef ACD_ENGINE_SERVER_SERVICES_H_
#define ACD_ENGINE_SERVER_SERVICES_H_

#include <string>

#include "acd/v1/admin.grpc.pb.h"
#include "acd/v1/agent_desk.grpc.pb.h"
#include "acd/v1/gateway.grpc.pb.h"
#include "acd/v1/supervisor.grpc.pb.h"
#include "engine/server/core_loop.h"

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

// For wallboards and supervisors.
class SupervisorService final : public v1::Supervisor::CallbackService {
 public:
  SupervisorService(CoreLoop& loop, size_t stream_buffer)
      : loop_(loop), stream_buffer_(stream_buffer) {}

  grpc::ServerUnaryReactor* GetSnapshot(grpc::CallbackServerContext* context,
                                        const v1::SnapshotRequest* request,
                                        v1::Snapshot* response) override;
  grpc::ServerWriteReactor<v1::Event>* WatchEvents(grpc::CallbackServerContext* context,
                                                   const v1::WatchEventsRequest* request) override;
  grpc::ServerUnaryReactor* ForceAgentState(grpc::CallbackServerContext* context,
                                            const v1::SetStateRequest* request,
                                            v1::AgentStatus* response) override;

 private:
  CoreLoop& loop_;
  const size_t stream_buffer_;
};

// The rules in force. Validate/Apply arrive with the routing-rules work.
class AdminService final : public v1::Admin::CallbackService {
 public:
  AdminService(CoreLoop& loop, std::string source) : loop_(loop), source_(std::move(source)) {}

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
  const std::string source_;
};

}  // namespace acd::server

#endif  // ACD_ENGINE_SERVER_SERVICES_H_
