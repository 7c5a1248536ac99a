#include "engine/server/services.h"

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "engine/server/api_mapping.h"
#include "spdlog/spdlog.h"

namespace acd::server {
namespace {

using core::Engine;

// Finishes a unary call at once (edge check failed).
grpc::ServerUnaryReactor* FinishNow(grpc::CallbackServerContext* context,
                                    const absl::Status& status) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  reactor->Finish(ToGrpc(status));
  return reactor;
}

// The `what` of RunOnCore: built only when the debug log is on (it is logged only there),
// so a call pays no string for it otherwise.
template <typename... Args>
std::string Describe(const Args&... args) {
  return spdlog::should_log(spdlog::level::debug) ? absl::StrCat(args...) : std::string();
}

// Runs `command` on the core thread and finishes the call with its status. `what` names
// the call and ids for the debug log (never attribute values), from Describe().
grpc::ServerUnaryReactor* RunOnCore(CoreLoop& loop, grpc::CallbackServerContext* context,
                                    std::string what,
                                    std::function<absl::Status(Engine&)> command) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  absl::Status queued = loop.TryPost(
      [reactor, what = std::move(what), command = std::move(command)](Engine& engine, EventFeed&) {
        absl::Status status = command(engine);
        if (!status.ok()) {
          spdlog::debug("{}: {}", what, absl::StatusCodeToString(status.code()));
        }
        reactor->Finish(ToGrpc(status));
      });
  if (!queued.ok()) reactor->Finish(ToGrpc(queued));
  return reactor;
}

absl::Status ReplyContact(const Engine& engine, absl::string_view contact_id,
                          v1::ContactStatus* out) {
  absl::StatusOr<core::ContactStatus> contact = engine.GetContact(contact_id);
  if (!contact.ok()) return contact.status();
  ToProto(*contact, out);
  return absl::OkStatus();
}

// The agent's status; an agent the engine does not know is LOGGED_OUT.
absl::Status ReplyAgent(const Engine& engine, const std::string& agent_id, v1::AgentStatus* out) {
  absl::StatusOr<core::AgentStatus> agent = engine.GetAgent(agent_id);
  if (agent.ok()) {
    ToProto(*agent, out);
  } else {
    out->set_agent_id(agent_id);
    out->set_state(v1::LOGGED_OUT);
  }
  return absl::OkStatus();
}

// Runs `command`; on success replies with the agent's status after it.
grpc::ServerUnaryReactor* AgentCommand(CoreLoop& loop, grpc::CallbackServerContext* context,
                                       absl::string_view method, const std::string& agent_id,
                                       v1::AgentStatus* response,
                                       std::function<absl::Status(Engine&)> command) {
  if (absl::Status s = CheckId(agent_id, "agent_id", loop.limits()); !s.ok()) {
    return FinishNow(context, s);
  }
  return RunOnCore(loop, context, Describe(method, " agent=", agent_id),
                   [agent_id, response, command = std::move(command)](Engine& engine) {
                     absl::Status status = command(engine);
                     if (!status.ok()) return status;
                     return ReplyAgent(engine, agent_id, response);
                   });
}

// Sets an agent's state for AgentDesk.SetState (forced = false) and
// Supervisor.ForceAgentState (forced = true).
grpc::ServerUnaryReactor* SetAgentState(CoreLoop& loop, grpc::CallbackServerContext* context,
                                        const v1::SetStateRequest& request,
                                        v1::AgentStatus* response, bool forced) {
  absl::StatusOr<core::AgentState> state = AgentStateFromProto(request.state(), "state");
  if (!state.ok()) return FinishNow(context, state.status());
  const core::AgentState target = *state;
  if (target != core::AgentState::kReady && target != core::AgentState::kNotReady &&
      target != core::AgentState::kLoggedOut) {
    return FinishNow(context, absl::InvalidArgumentError(absl::StrCat(
                                  "state ", v1::AgentState_Name(request.state()),
                                  " cannot be set; use READY, NOT_READY or LOGGED_OUT")));
  }
  std::string reason = request.reason();
  return AgentCommand(loop, context, forced ? "ForceAgentState" : "SetState", request.agent_id(),
                      response,
                      [agent_id = request.agent_id(), target, reason, forced](Engine& engine) {
                        if (forced) return engine.ForceState(agent_id, target, reason);
                        switch (target) {
                          case core::AgentState::kReady:
                            return engine.SetReady(agent_id);
                          case core::AgentState::kNotReady:
                            return engine.SetNotReady(agent_id, reason);
                          default:
                            return engine.Logout(agent_id);
                        }
                      });
}

}  // namespace

// ---- Gateway ----

GatewayService::GatewayService(CoreLoop& loop, size_t stream_buffer)
    : loop_(loop), stream_buffer_(stream_buffer) {
  constexpr const char* kService = "acd.v1.Gateway";
  ServeParsed(kService, "EnqueueContact", &GatewayService::EnqueueContact);
  ServeParsed(kService, "CancelContact", &GatewayService::CancelContact);
  ServeParsed(kService, "GetContact", &GatewayService::GetContact);
  ServeParsed(kService, "WatchContact", &GatewayService::WatchContact);
  ServeParsed(kService, "RequestCallback", &GatewayService::RequestCallback);
  ServeParsed(kService, "TransferContact", &GatewayService::TransferContact);
  ServeParsed(kService, "ChangePriority", &GatewayService::ChangePriority);
  ServeParsed(kService, "EscalateContact", &GatewayService::EscalateContact);
}

grpc::ServerUnaryReactor* GatewayService::EnqueueContact(grpc::CallbackServerContext* context,
                                                         const v1::EnqueueContactRequest* request,
                                                         v1::ContactStatus* response) {
  absl::StatusOr<core::EnqueueRequest> command = FromProto(*request, loop_.limits());
  if (!command.ok()) return FinishNow(context, command.status());
  return RunOnCore(
      loop_, context,
      Describe("EnqueueContact contact=", request->contact_id(), " queue=", request->queue()),
      [command = *std::move(command), response](Engine& engine) {
        absl::Status status = engine.Enqueue(command);
        if (!status.ok()) return status;
        return ReplyContact(engine, command.contact_id, response);
      });
}

grpc::ServerUnaryReactor* GatewayService::CancelContact(grpc::CallbackServerContext* context,
                                                        const v1::CancelContactRequest* request,
                                                        v1::ContactStatus* response) {
  const core::Limits& limits = loop_.limits();
  if (absl::Status s = CheckId(request->contact_id(), "contact_id", limits); !s.ok()) {
    return FinishNow(context, s);
  }
  return RunOnCore(
      loop_, context, Describe("CancelContact contact=", request->contact_id()),
      [id = request->contact_id(), reason = request->reason(), response](Engine& engine) {
        absl::Status status = engine.Cancel(id, reason);
        if (!status.ok()) return status;
        return ReplyContact(engine, id, response);
      });
}

grpc::ServerUnaryReactor* GatewayService::GetContact(grpc::CallbackServerContext* context,
                                                     const v1::GetContactRequest* request,
                                                     v1::ContactStatus* response) {
  if (absl::Status s = CheckId(request->contact_id(), "contact_id", loop_.limits()); !s.ok()) {
    return FinishNow(context, s);
  }
  return RunOnCore(loop_, context, Describe("GetContact contact=", request->contact_id()),
                   [id = request->contact_id(), response](Engine& engine) {
                     return ReplyContact(engine, id, response);
                   });
}

grpc::ServerUnaryReactor* GatewayService::RequestCallback(grpc::CallbackServerContext* context,
                                                          const v1::RequestCallbackRequest* request,
                                                          v1::ContactStatus* response) {
  if (absl::Status s = CheckId(request->contact_id(), "contact_id", loop_.limits()); !s.ok()) {
    return FinishNow(context, s);
  }
  return RunOnCore(loop_, context, Describe("RequestCallback contact=", request->contact_id()),
                   [id = request->contact_id(), response](Engine& engine) {
                     absl::Status status = engine.RequestCallback(id);
                     if (!status.ok()) return status;
                     return ReplyContact(engine, id, response);
                   });
}

namespace {

// Runs a contact command and replies with the contact's status after it.
grpc::ServerUnaryReactor* ContactCommand(CoreLoop& loop, grpc::CallbackServerContext* context,
                                         absl::string_view method, const std::string& contact_id,
                                         v1::ContactStatus* response,
                                         std::function<absl::Status(Engine&)> command) {
  if (absl::Status s = CheckId(contact_id, "contact_id", loop.limits()); !s.ok()) {
    return FinishNow(context, s);
  }
  return RunOnCore(loop, context, Describe(method, " contact=", contact_id),
                   [contact_id, response, command = std::move(command)](Engine& engine) {
                     absl::Status status = command(engine);
                     if (!status.ok()) return status;
                     return ReplyContact(engine, contact_id, response);
                   });
}

}  // namespace

grpc::ServerUnaryReactor* GatewayService::TransferContact(grpc::CallbackServerContext* context,
                                                          const v1::TransferContactRequest* request,
                                                          v1::ContactStatus* response) {
  return ContactCommand(loop_, context, "TransferContact", request->contact_id(), response,
                        [id = request->contact_id(), queue = request->queue()](Engine& engine) {
                          return engine.Transfer(id, queue);
                        });
}

grpc::ServerUnaryReactor* GatewayService::ChangePriority(grpc::CallbackServerContext* context,
                                                         const v1::ChangePriorityRequest* request,
                                                         v1::ContactStatus* response) {
  return ContactCommand(loop_, context, "ChangePriority", request->contact_id(), response,
                        [id = request->contact_id(), priority = request->priority()](
                            Engine& engine) { return engine.ChangePriority(id, priority); });
}

grpc::ServerUnaryReactor* GatewayService::EscalateContact(grpc::CallbackServerContext* context,
                                                          const v1::EscalateContactRequest* request,
                                                          v1::ContactStatus* response) {
  return ContactCommand(
      loop_, context, "EscalateContact", request->contact_id(), response,
      [id = request->contact_id()](Engine& engine) { return engine.Escalate(id); });
}

grpc::ServerWriteReactor<v1::ContactStatus>* GatewayService::WatchContact(
    grpc::CallbackServerContext* context, const v1::WatchContactRequest* request) {
  const std::string client = context->peer();
  auto* stream =
      new ContactStream(loop_.io(), loop_.fan_out(), stream_buffer_, "WatchContact " + client);
  absl::Status edge = CheckId(request->contact_id(), "contact_id", loop_.limits());
  loop_.Post([stream, edge, client, id = request->contact_id()](Engine&, EventFeed& feed) {
    absl::Status status = edge.ok() ? feed.WatchContact(stream, id, client) : edge;
    if (!status.ok()) stream->CutOff(ToGrpc(status));
  });
  return stream;
}

// ---- AgentDesk ----

AgentDeskService::AgentDeskService(CoreLoop& loop, size_t stream_buffer)
    : loop_(loop), stream_buffer_(stream_buffer) {
  constexpr const char* kService = "acd.v1.AgentDesk";
  ServeParsed(kService, "Login", &AgentDeskService::Login);
  ServeParsed(kService, "Logout", &AgentDeskService::Logout);
  ServeParsed(kService, "SetState", &AgentDeskService::SetState);
  ServeParsed(kService, "WatchOffers", &AgentDeskService::WatchOffers);
  ServeParsed(kService, "AcceptOffer", &AgentDeskService::AcceptOffer);
  ServeParsed(kService, "RejectOffer", &AgentDeskService::RejectOffer);
  ServeParsed(kService, "CompleteContact", &AgentDeskService::CompleteContact);
  ServeParsed(kService, "EndWrapUp", &AgentDeskService::EndWrapUp);
}

grpc::ServerUnaryReactor* AgentDeskService::Login(grpc::CallbackServerContext* context,
                                                  const v1::LoginRequest* request,
                                                  v1::AgentStatus* response) {
  absl::StatusOr<core::LoginRequest> command = FromProto(*request, loop_.limits());
  if (!command.ok()) return FinishNow(context, command.status());
  return RunOnCore(loop_, context, Describe("Login agent=", request->agent_id()),
                   [command = *std::move(command), response](Engine& engine) {
                     absl::Status status = engine.Login(command);
                     if (!status.ok()) return status;
                     return ReplyAgent(engine, command.agent_id, response);
                   });
}

grpc::ServerUnaryReactor* AgentDeskService::Logout(grpc::CallbackServerContext* context,
                                                   const v1::AgentRequest* request,
                                                   v1::AgentStatus* response) {
  return AgentCommand(loop_, context, "Logout", request->agent_id(), response,
                      [id = request->agent_id()](Engine& engine) { return engine.Logout(id); });
}

grpc::ServerUnaryReactor* AgentDeskService::SetState(grpc::CallbackServerContext* context,
                                                     const v1::SetStateRequest* request,
                                                     v1::AgentStatus* response) {
  return SetAgentState(loop_, context, *request, response, /*forced=*/false);
}

grpc::ServerUnaryReactor* AgentDeskService::AcceptOffer(grpc::CallbackServerContext* context,
                                                        const v1::OfferRequest* request,
                                                        v1::AgentStatus* response) {
  return AgentCommand(loop_, context, "AcceptOffer", request->agent_id(), response,
                      [agent = request->agent_id(), contact = request->contact_id()](
                          Engine& engine) { return engine.Accept(agent, contact); });
}

grpc::ServerUnaryReactor* AgentDeskService::RejectOffer(grpc::CallbackServerContext* context,
                                                        const v1::OfferRequest* request,
                                                        v1::AgentStatus* response) {
  return AgentCommand(loop_, context, "RejectOffer", request->agent_id(), response,
                      [agent = request->agent_id(), contact = request->contact_id()](
                          Engine& engine) { return engine.Reject(agent, contact); });
}

grpc::ServerUnaryReactor* AgentDeskService::CompleteContact(grpc::CallbackServerContext* context,
                                                            const v1::OfferRequest* request,
                                                            v1::AgentStatus* response) {
  return AgentCommand(loop_, context, "CompleteContact", request->agent_id(), response,
                      [agent = request->agent_id(), contact = request->contact_id()](
                          Engine& engine) { return engine.Complete(agent, contact); });
}

grpc::ServerUnaryReactor* AgentDeskService::EndWrapUp(grpc::CallbackServerContext* context,
                                                      const v1::AgentRequest* request,
                                                      v1::AgentStatus* response) {
  return AgentCommand(loop_, context, "EndWrapUp", request->agent_id(), response,
                      [id = request->agent_id()](Engine& engine) { return engine.EndWrapUp(id); });
}

grpc::ServerWriteReactor<v1::AgentUpdate>* AgentDeskService::WatchOffers(
    grpc::CallbackServerContext* context, const v1::AgentRequest* request) {
  const std::string client = context->peer();
  auto* stream =
      new OfferStream(loop_.io(), loop_.fan_out(), stream_buffer_, "WatchOffers " + client);
  absl::Status edge = CheckId(request->agent_id(), "agent_id", loop_.limits());
  loop_.Post([stream, edge, client, id = request->agent_id()](Engine&, EventFeed& feed) {
    absl::Status status = edge.ok() ? feed.WatchOffers(stream, id, client) : edge;
    if (!status.ok()) stream->CutOff(ToGrpc(status));
  });
  return stream;
}

// ---- Supervisor ----

SupervisorService::SupervisorService(CoreLoop& loop, size_t stream_buffer, size_t event_batch)
    : loop_(loop), stream_buffer_(stream_buffer), event_batch_(event_batch) {
  constexpr const char* kService = "acd.v1.Supervisor";
  ServeParsed(kService, "GetSnapshot", &SupervisorService::GetSnapshot);
  ServeParsed(kService, "ForceAgentState", &SupervisorService::ForceAgentState);
}

grpc::ServerUnaryReactor* SupervisorService::GetSnapshot(grpc::CallbackServerContext* context,
                                                         const v1::SnapshotRequest* request,
                                                         v1::Snapshot* response) {
  const double clock_speed = loop_.clock().speed();
  return RunOnCore(loop_, context, "GetSnapshot", [response, clock_speed](Engine& engine) {
    ToProto(engine.Snapshot(), engine.config().stats_window, clock_speed, response);
    return absl::OkStatus();
  });
}

grpc::ServerWriteReactor<grpc::ByteBuffer>* SupervisorService::WatchEvents(
    grpc::CallbackServerContext* context, const grpc::ByteBuffer* request) {
  const std::string client = context->peer();
  auto* stream = new EventStream(loop_.io(), loop_.fan_out(), stream_buffer_,
                                 "WatchEvents " + client, event_batch_);
  v1::WatchEventsRequest parsed;
  const bool valid = Parse(*request, &parsed);
  loop_.Post([stream, client, valid, after = parsed.after_sequence()](Engine&, EventFeed& feed) {
    if (!valid) {
      stream->CutOff(NotParsed<v1::WatchEventsRequest>());
      return;
    }
    absl::Status status = feed.WatchEvents(stream, after, client);
    if (!status.ok()) stream->CutOff(ToGrpc(status));
  });
  return stream;
}

grpc::ServerUnaryReactor* SupervisorService::ForceAgentState(grpc::CallbackServerContext* context,
                                                             const v1::SetStateRequest* request,
                                                             v1::AgentStatus* response) {
  return SetAgentState(loop_, context, *request, response, /*forced=*/true);
}

// ---- Admin ----

AdminService::AdminService(CoreLoop& loop, RulesOrigin origin)
    : loop_(loop), origin_(std::move(origin)) {
  constexpr const char* kService = "acd.v1.Admin";
  ServeParsed(kService, "ValidateRules", &AdminService::ValidateRules);
  ServeParsed(kService, "ApplyRules", &AdminService::ApplyRules);
  ServeParsed(kService, "GetRules", &AdminService::GetRules);
}

absl::Status AdminService::Apply(rules::LoadedRules rules, std::string source,
                                 AppliedCallback done) {
  return loop_.TryPost([this, rules = std::move(rules), source = std::move(source),
                        done = std::move(done)](Engine& engine, EventFeed&) mutable {
    absl::Status status = engine.ApplyConfig(rules.config);
    if (status.ok()) {
      origin_.source = std::move(source);
      origin_.version = rules.version;
      origin_.checksum = rules.checksum;
      origin_.rules = std::move(rules.proto);
    }
    done(status, engine.last_sequence());
  });
}

grpc::ServerUnaryReactor* AdminService::ValidateRules(grpc::CallbackServerContext* context,
                                                      const v1::ValidateRulesRequest* request,
                                                      v1::ValidateRulesResponse* response) {
  std::vector<rules::RuleProblem> problems;
  absl::StatusOr<rules::LoadedRules> loaded =
      rules::ParseRules(request->rules_textproto(), "<ValidateRules>", &problems);
  response->set_valid(loaded.ok());
  if (loaded.ok()) {
    response->set_version(loaded->version);
    response->set_checksum(loaded->checksum);
  } else if (problems.empty()) {
    problems.push_back({0, 0, std::string(loaded.status().message())});
  }
  for (const rules::RuleProblem& p : problems) {
    v1::RuleProblem* out = response->add_problems();
    out->set_line(p.line);
    out->set_column(p.column);
    out->set_message(p.message);
  }
  return FinishNow(context, absl::OkStatus());
}

grpc::ServerUnaryReactor* AdminService::ApplyRules(grpc::CallbackServerContext* context,
                                                   const v1::ApplyRulesRequest* request,
                                                   v1::ApplyRulesResponse* response) {
  absl::StatusOr<rules::LoadedRules> loaded =
      rules::ParseRules(request->rules_textproto(), "<ApplyRules>");
  if (!loaded.ok()) return FinishNow(context, loaded.status());
  response->set_version(loaded->version);
  response->set_checksum(loaded->checksum);
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  // Every apply is logged with who asked (the peer address), the version and checksum;
  // spdlog stamps when.
  const std::string version = loaded->version;
  const std::string checksum = loaded->checksum;
  const std::string peer = context->peer();
  absl::Status queued = Apply(
      *std::move(loaded), "Admin.ApplyRules",
      [reactor, response, version, checksum, peer](absl::Status status, uint64_t sequence) {
        if (status.ok()) {
          response->set_sequence(sequence);
          spdlog::info("rules applied via Admin.ApplyRules from {} (version '{}', {}) at event {}",
                       peer, version, checksum, sequence);
        } else {
          spdlog::warn("Admin.ApplyRules from {} (version '{}', {}) refused: {}", peer, version,
                       checksum, absl::StatusCodeToString(status.code()));
        }
        reactor->Finish(ToGrpc(status));
      });
  if (!queued.ok()) reactor->Finish(ToGrpc(queued));
  return reactor;
}

grpc::ServerUnaryReactor* AdminService::GetRules(grpc::CallbackServerContext* context,
                                                 const v1::GetRulesRequest* request,
                                                 v1::GetRulesResponse* response) {
  return RunOnCore(loop_, context, "GetRules", [this, response](Engine& engine) {
    ToProto(engine.config(), response);
    response->set_source(origin_.source);
    response->set_version(origin_.version);
    response->set_checksum(origin_.checksum);
    if (origin_.rules.has_value()) *response->mutable_rules() = *origin_.rules;
    return absl::OkStatus();
  });
}

}  // namespace acd::server
