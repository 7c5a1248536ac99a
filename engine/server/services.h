// The acd.v1 gRPC services acdd serves. Each handler checks its request at the edge
// (enum values, sizes), posts the command to the CoreLoop and finishes the RPC from the
// core thread with the core's answer; core Status codes map one to one to gRPC codes.
// Handlers never touch engine state themselves.
//
// Thread rules: handlers run on gRPC threads; everything they capture for the core
// thread is copied or owned by the RPC (request and response live until Finish).
#ifndef ACD_ENGINE_SERVER_SERVICES_H_
#define ACD_ENGINE_SERVER_SERVICES_H_

#include <cstdio>
#include <cstdlib>
#include <functional>
#include <optional>
#include <utility>
#include <string>

#include <google/protobuf/descriptor.h>
#include <grpcpp/support/byte_buffer.h>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "acd/v1/admin.grpc.pb.h"
#include "acd/v1/agent_desk.grpc.pb.h"
#include "acd/v1/gateway.grpc.pb.h"
#include "acd/v1/supervisor.grpc.pb.h"
#include "engine/server/core_loop.h"
#include "routing_rules/rules_loader.h"

namespace acd::server {

// How a unary handler finishes its call. acdd serves its unary methods raw (bytes in and
// out) and parses each request itself: for a request that does not parse, gRPC's typed
// callback handler answers UNIMPLEMENTED with an empty message (gRPC 1.51,
// CallbackUnaryHandler::RunHandler), telling the client the method does not exist. acdd
// answers INVALID_ARGUMENT "<request type> does not parse" instead (ParsedService).
// A copyable handle: call Finish() once, from any thread.
class UnaryReply {
 public:
  // One call's parsed request and its response; the call owns them until it finishes.
  class Messages {
   public:
    virtual ~Messages() = default;
    virtual void SerializeResponse(grpc::ByteBuffer* out) const = 0;
  };

  UnaryReply(grpc::CallbackServerContext* context, Messages* messages, grpc::ByteBuffer* reply)
      : context_(context), reactor_(context->DefaultReactor()), messages_(messages),
        reply_(reply) {}

  grpc::CallbackServerContext* server_context() const { return context_; }
  grpc::ServerUnaryReactor* reactor() const { return reactor_; }

  // Finishes the call with `status`, and with the response if OK. Frees the request and
  // the response: the handler must not touch them afterwards.
  void Finish(const absl::Status& status) const;

 private:
  grpc::CallbackServerContext* context_;
  grpc::ServerUnaryReactor* reactor_;
  Messages* messages_;
  grpc::ByteBuffer* reply_;
};

// A generated callback service (Base) whose methods ServeParsed() re-registers with a raw
// request: it is parsed here, and the typed handler gets it (a unary one with a
// UnaryReply). A request that does not parse is INVALID_ARGUMENT (see UnaryReply).
template <typename Base>
class ParsedService : public Base {
 protected:
  // Serves server-streaming `method` of `service` with `handler`, which gets the parsed
  // request only while it runs (it copies what its stream needs).
  template <typename Self, typename Request, typename Response>
  void ServeParsed(const char* service, const char* method,
                   grpc::ServerWriteReactor<Response>* (Self::*handler)(
                       grpc::CallbackServerContext*, const Request*)) {
    // A stream that ends at once with a status (gRPC's own FinishOnlyReactor does the same).
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
                            const grpc::ByteBuffer* request) -> grpc::ServerWriteReactor<Response>* {
              Request parsed;
              grpc::ByteBuffer bytes(*request);  // Deserialize consumes its buffer
              if (!grpc::SerializationTraits<Request>::Deserialize(&bytes, &parsed).ok()) {
                return new Refused(grpc::Status(
                    grpc::StatusCode::INVALID_ARGUMENT,
                    absl::StrCat(Request::descriptor()->name(), " does not parse")));
              }
              return (self->*handler)(context, &parsed);
            }));
  }

  // Serves `method` of `service` (full name, e.g. "acd.v1.Gateway") with `handler`.
  template <typename Self, typename Request, typename Response>
  void ServeParsed(const char* service, const char* method,
                   grpc::ServerUnaryReactor* (Self::*handler)(UnaryReply, const Request*,
                                                              Response*)) {
    struct Parsed final : UnaryReply::Messages {
      Request request;
      Response response;
      void SerializeResponse(grpc::ByteBuffer* out) const override {
        bool own_buffer = false;
        (void)grpc::SerializationTraits<Response>::Serialize(response, out, &own_buffer);
      }
    };
    Self* self = static_cast<Self*>(this);
    this->MarkMethodRawCallback(
        MethodIndex<Request, Response>(service, method), new grpc::internal::CallbackUnaryHandler<grpc::ByteBuffer, grpc::ByteBuffer>(
                        [self, handler](grpc::CallbackServerContext* context,
                                        const grpc::ByteBuffer* request, grpc::ByteBuffer* reply) {
                          auto* parsed = new Parsed();
                          UnaryReply call(context, parsed, reply);
                          grpc::ByteBuffer bytes(*request);  // Deserialize consumes its buffer
                          if (!grpc::SerializationTraits<Request>::Deserialize(&bytes,
                                                                               &parsed->request)
                                   .ok()) {
                            call.Finish(absl::InvalidArgumentError(
                                absl::StrCat(Request::descriptor()->name(), " does not parse")));
                            return call.reactor();
                          }
                          return (self->*handler)(call, &parsed->request, &parsed->response);
                        }));
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

  grpc::ServerUnaryReactor* EnqueueContact(UnaryReply context,
                                           const v1::EnqueueContactRequest* request,
                                           v1::ContactStatus* response);
  grpc::ServerUnaryReactor* CancelContact(UnaryReply context,
                                          const v1::CancelContactRequest* request,
                                          v1::ContactStatus* response);
  grpc::ServerUnaryReactor* GetContact(UnaryReply context,
                                       const v1::GetContactRequest* request,
                                       v1::ContactStatus* response);
  grpc::ServerWriteReactor<v1::ContactStatus>* WatchContact(
      grpc::CallbackServerContext* context, const v1::WatchContactRequest* request) override;
  grpc::ServerUnaryReactor* RequestCallback(UnaryReply context,
                                            const v1::RequestCallbackRequest* request,
                                            v1::ContactStatus* response);
  grpc::ServerUnaryReactor* TransferContact(UnaryReply context,
                                            const v1::TransferContactRequest* request,
                                            v1::ContactStatus* response);
  grpc::ServerUnaryReactor* ChangePriority(UnaryReply context,
                                           const v1::ChangePriorityRequest* request,
                                           v1::ContactStatus* response);
  grpc::ServerUnaryReactor* EscalateContact(UnaryReply context,
                                            const v1::EscalateContactRequest* request,
                                            v1::ContactStatus* response);

 private:
  CoreLoop& loop_;
  const size_t stream_buffer_;
};

// For PSR desktops: presence, offers, accept/reject/complete.
class AgentDeskService final : public ParsedService<v1::AgentDesk::CallbackService> {
 public:
  AgentDeskService(CoreLoop& loop, size_t stream_buffer);

  grpc::ServerUnaryReactor* Login(UnaryReply context,
                                  const v1::LoginRequest* request,
                                  v1::AgentStatus* response);
  grpc::ServerUnaryReactor* Logout(UnaryReply context,
                                   const v1::AgentRequest* request,
                                   v1::AgentStatus* response);
  grpc::ServerUnaryReactor* SetState(UnaryReply context,
                                     const v1::SetStateRequest* request,
                                     v1::AgentStatus* response);
  grpc::ServerWriteReactor<v1::AgentUpdate>* WatchOffers(grpc::CallbackServerContext* context,
                                                         const v1::AgentRequest* request) override;
  grpc::ServerUnaryReactor* AcceptOffer(UnaryReply context,
                                        const v1::OfferRequest* request,
                                        v1::AgentStatus* response);
  grpc::ServerUnaryReactor* RejectOffer(UnaryReply context,
                                        const v1::OfferRequest* request,
                                        v1::AgentStatus* response);
  grpc::ServerUnaryReactor* CompleteContact(UnaryReply context,
                                            const v1::OfferRequest* request,
                                            v1::AgentStatus* response);
  grpc::ServerUnaryReactor* EndWrapUp(UnaryReply context,
                                      const v1::AgentRequest* request,
                                      v1::AgentStatus* response);

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

  grpc::ServerUnaryReactor* GetSnapshot(UnaryReply context,
                                        const v1::SnapshotRequest* request,
                                        v1::Snapshot* response);
  // A WatchEventsRequest in, a stream of EventBatch out; INVALID_ARGUMENT if the request
  // does not parse.
  grpc::ServerWriteReactor<grpc::ByteBuffer>* WatchEvents(
      grpc::CallbackServerContext* context, const grpc::ByteBuffer* request) override;
  grpc::ServerUnaryReactor* ForceAgentState(UnaryReply context,
                                            const v1::SetStateRequest* request,
                                            v1::AgentStatus* response);

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

  grpc::ServerUnaryReactor* ValidateRules(UnaryReply context,
                                          const v1::ValidateRulesRequest* request,
                                          v1::ValidateRulesResponse* response);
  grpc::ServerUnaryReactor* ApplyRules(UnaryReply context,
                                       const v1::ApplyRulesRequest* request,
                                       v1::ApplyRulesResponse* response);
  grpc::ServerUnaryReactor* GetRules(UnaryReply context,
                                     const v1::GetRulesRequest* request,
                                     v1::GetRulesResponse* response);

 private:
  CoreLoop& loop_;
  RulesOrigin origin_;  // core thread only
};

}  // namespace acd::server

#endif  // ACD_ENGINE_SERVER_SERVICES_H_
