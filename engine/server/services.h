// The acd.v1 gRPC services acdd serves. Each handler checks its request at the edge
// (enum values, sizes), posts the command to the CoreLoop and finishes the RPC from the
// core thread with the core's answer; core Status codes map one to one to gRPC codes.
// Handlers never touch engine state themselves.
//
// Thread rules: handlers run on gRPC threads; everything they capture for the core
// thread is copied or owned by the RPC. A unary handler's response lives until Finish; its
// request only while the handler runs (ParsedService parsed it), so what the command needs
// of it is copied.
#ifndef ACD_ENGINE_SERVER_SERVICES_H_
#define ACD_ENGINE_SERVER_SERVICES_H_

#include <cstdio>
#include <cstdlib>
#include <functional>
#include <optional>
#include <string>
#include <utility>

#include <google/protobuf/descriptor.h>
#include <grpcpp/support/byte_buffer.h>

#include "absl/strings/str_cat.h"
#include "acd/v1/admin.grpc.pb.h"
#include "acd/v1/agent_desk.grpc.pb.h"
#include "acd/v1/gateway.grpc.pb.h"
#include "acd/v1/supervisor.grpc.pb.h"
#include "engine/server/core_loop.h"
#include "routing_rules/rules_loader.h"

namespace acd::server {

// A generated callback service (Base) whose methods ServeParsed() registers again with a
// raw request that acdd parses itself, then hands to the typed handler. For a request that
// does not parse, gRPC's typed callback handlers answer UNIMPLEMENTED with an empty message
// (gRPC 1.51: CallbackUnaryHandler::RunHandler drops the parse status), telling a client
// the method does not exist; acdd answers INVALID_ARGUMENT "<request type> does not parse".
// The parsed request lives only while the handler runs. Responses stay typed: gRPC keeps
// and serializes them as before.
template <typename Base>
class ParsedService : public Base {
 protected:
  // Serves unary `method` of `service` (full name, e.g. "acd.v1.Gateway") with `handler`.
  template <typename Self, typename Request, typename Response>
  void ServeParsed(const char* service, const char* method,
                   grpc::ServerUnaryReactor* (Self::*handler)(grpc::CallbackServerContext*,
                                                              const Request*, Response*)) {
    Self* self = static_cast<Self*>(this);
    this->MarkMethodRawCallback(
        MethodIndex<Request, Response>(service, method),
        new grpc::internal::CallbackUnaryHandler<grpc::ByteBuffer, Response>(
            [self, handler](grpc::CallbackServerContext* context, const grpc::ByteBuffer* raw,
                            Response* response) {
              Request request;
              if (!Parse(*raw, &request)) {
                grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
                reactor->Finish(NotParsed<Request>());
                return reactor;
              }
              return (self->*handler)(context, &request, response);
            }));
  }

  // Serves server-streaming `method` of `service` with `handler`.
  template <typename Self, typename Request, typename Response>
  void ServeParsed(const char* service, const char* method,
                   grpc::ServerWriteReactor<Response>* (Self::*handler)(
                       grpc::CallbackServerContext*, const Request*)) {
    // A stream that ends at once with a status (as gRPC's own FinishOnlyReactor does).
    class Refused final : public grpc::ServerWriteReactor<Response> {
     public:
      explicit Refused(grpc::Status status) { this->Finish(std::move(status)); }
      void OnDone() override { delete this; }
    };
    Self* self = static_cast<Self*>(this);
    this->MarkMethodRawCallback(
        MethodIndex<Request, Response>(service, method),
        new grpc::internal::CallbackServerStreamingHandler<grpc::ByteBuffer, Response>(
            [self, handler](grpc::CallbackServerContext* context,
                            const grpc::ByteBuffer* raw) -> grpc::ServerWriteReactor<Response>* {
              Request request;
              if (!Parse(*raw, &request)) return new Refused(NotParsed<Request>());
              return (self->*handler)(context, &request);
            }));
  }

  // Parses `raw` into `request`; false if it does not parse.
  template <typename Request>
  static bool Parse(const grpc::ByteBuffer& raw, Request* request) {
    grpc::ByteBuffer bytes(raw);  // Deserialize consumes its buffer
    return grpc::SerializationTraits<Request>::Deserialize(&bytes, request).ok();
  }

  // The answer to a request that does not parse.
  template <typename Request>
  static grpc::Status NotParsed() {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                        absl::StrCat(Request::descriptor()->name(), " does not parse"));
  }

 private:
  // The index of `method` in `service`, whose request and response types must be these.
  template <typename Request, typename Response>
  static int MethodIndex(const char* service, const char* method) {
    const google::protobuf::ServiceDescriptor* s =
        google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(service);
    const google::protobuf::MethodDescriptor* m = s ? s->FindMethodByName(method) : nullptr;
    if (m == nullptr || m->input_type() != Request::descriptor() ||
        m->output_type() != Response::descriptor()) {
      std::fprintf(stderr, "ServeParsed: no method %s/%s with these types\n", service, method);
      std::abort();  // a programming error, found at start-up
    }
    return m->index();
  }
};

// For gateways (IVR, chat, email): contacts in, their status out.
class GatewayService final : public ParsedService<v1::Gateway::CallbackService> {
 public:
  GatewayService(CoreLoop& loop, size_t stream_buffer);

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
class AgentDeskService final : public ParsedService<v1::AgentDesk::CallbackService> {
 public:
  AgentDeskService(CoreLoop& loop, size_t stream_buffer);

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
    : public ParsedService<
          v1::Supervisor::WithRawCallbackMethod_WatchEvents<v1::Supervisor::CallbackService>> {
 public:
  // `event_batch`: the most events one WatchEvents message carries.
  SupervisorService(CoreLoop& loop, size_t stream_buffer, size_t event_batch);

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
class AdminService final : public ParsedService<v1::Admin::CallbackService> {
 public:
  AdminService(CoreLoop& loop, RulesOrigin origin);

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
