// acdctl: the ACD engine from a terminal. Talks to acdd over the acd.v1 gRPC API.
//
//   acdctl [--target HOST:PORT] [--json] [--timeout S] COMMAND ...
//     snapshot                         every queue's statistics and every agent
//     watch [--after N]                live wallboard, refreshed from WatchEvents
//     enqueue ID [--queue Q] [--channel C] [--priority P] [--skill S:L]... [--attr K=V]...
//     contact get|cancel|callback|watch|escalate ID
//     contact transfer ID --queue Q | contact priority ID --priority P
//     agent login ID [--skill S:L]... [--capacity CHANNEL:N]...
//     agent ready|not-ready|logout|end-wrap-up|watch ID    (not-ready takes --reason)
//     agent accept|reject|complete ID CONTACT_ID
//     rules [show]                     the rules in force
//     rules check|validate|apply FILE  check locally, validate on the server, put in force
//     health                           grpc.health.v1 check
// --json prints API messages as JSON (one object per line for streams).
#include <google/protobuf/util/json_util.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <future>
#include <iostream>
#include <memory>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "acd/v1/admin.grpc.pb.h"
#include "acd/v1/agent_desk.grpc.pb.h"
#include "acd/v1/gateway.grpc.pb.h"
#include "acd/v1/supervisor.grpc.pb.h"
#include "engine/server/timestamp.h"
#include "routing_rules/rules_loader.h"

namespace {

using acd::v1::Channel;

struct Options {
  std::string target = "127.0.0.1:50051";
  bool json = false;
  double timeout_seconds = 5;
};

class Failure : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

void SetDeadline(grpc::ClientContext* context, const Options& options) {
  context->set_deadline(
      std::chrono::system_clock::now() +
      std::chrono::milliseconds(static_cast<int64_t>(options.timeout_seconds * 1000)));
}

void Check(const grpc::Status& status) {
  if (!status.ok()) {
    throw Failure(
        absl::StrCat(absl::StatusCodeToString(static_cast<absl::StatusCode>(status.error_code())),
                     ": ", status.error_message()));
  }
}

std::string Json(const google::protobuf::Message& message) {
  std::string out;
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  (void)google::protobuf::util::MessageToJsonString(message, &out, options);
  return out;
}

std::string ChannelName(int c) { return acd::v1::Channel_Name(static_cast<Channel>(c)); }

Channel ParseChannelName(const std::string& name) {
  Channel c;
  if (!acd::v1::Channel_Parse(absl::AsciiStrToUpper(name), &c) ||
      c == acd::v1::CHANNEL_UNSPECIFIED) {
    throw Failure(absl::StrCat("unknown channel '", name, "' (voice, chat, email, callback)"));
  }
  return c;
}

// "name:number" -> (name, number).
std::pair<std::string, int> ParsePair(const std::string& text, const char* what) {
  std::vector<std::string> parts = absl::StrSplit(text, absl::MaxSplits(':', 1));
  int n = 0;
  if (parts.size() != 2 || !absl::SimpleAtoi(parts[1], &n)) {
    throw Failure(absl::StrCat(what, " '", text, "' is not NAME:NUMBER"));
  }
  return {parts[0], n};
}

// ---- Printing ----

std::string AgentStateName(int s) {
  return acd::v1::AgentState_Name(static_cast<acd::v1::AgentState>(s));
}

void PrintContact(const acd::v1::ContactStatus& c, const Options& options) {
  if (options.json) {
    std::cout << Json(c) << std::endl;
    return;
  }
  std::cout << absl::StrFormat("contact %s  queue %s  %s  %s", c.contact_id(), c.queue(),
                               ChannelName(c.channel()), acd::v1::ContactState_Name(c.state()));
  if (c.state() == acd::v1::WAITING) {
    std::cout << absl::StrFormat(
        "  position %d  ewt %s", c.position(),
        c.has_ewt_seconds() ? absl::StrFormat("%.0fs", c.ewt_seconds()) : "unknown");
  }
  if (!c.agent_id().empty()) std::cout << "  agent " << c.agent_id();
  std::cout << absl::StrFormat("  waited %.0fs", c.waited_seconds()) << std::endl;
}

void PrintAgent(const acd::v1::AgentStatus& a, const Options& options) {
  if (options.json) {
    std::cout << Json(a) << std::endl;
    return;
  }
  std::cout << absl::StrFormat("agent %s  %s", a.agent_id(), AgentStateName(a.state()));
  if (!a.reason().empty()) std::cout << "(" << a.reason() << ")";
  for (const acd::v1::WorkItem& w : a.work()) {
    std::cout << absl::StrFormat("  [%s %s %s]", acd::v1::WorkItem::Phase_Name(w.phase()),
                                 w.contact_id(), w.queue());
  }
  std::cout << absl::StrFormat("  handled %d", a.handled()) << std::endl;
}

// The server's clock as of the snapshot (in the local time zone, or TZ's), with its speed
// when acdd runs a faster clock (--clock-speed) for a demo or a load test.
std::string ServerTime(const acd::v1::Snapshot& s) {
  std::string out = absl::FormatTime("%Y-%m-%d %H:%M:%S %Z", acd::server::FromProto(s.time()),
                                     absl::LocalTimeZone());
  if (s.clock_speed() > 0 && s.clock_speed() != 1) {
    absl::StrAppendFormat(&out, " (clock at %gx)", s.clock_speed());
  }
  return out;
}

std::string Wallboard(const acd::v1::Snapshot& s) {
  std::string out =
      absl::StrFormat("ACD wallboard  %s  (event %d)\n\n", ServerTime(s), s.sequence());
  absl::StrAppendFormat(&out, "%-20s %8s %8s %8s %8s %8s %8s %8s %8s\n", "QUEUE", "WAITING",
                        "LONGEST", "OFFERED", "ANSWERED", "SL", "ASA", "ABANDON", "READY");
  for (const acd::v1::QueueStats& q : s.queues()) {
    absl::StrAppendFormat(&out, "%-20s %8d %7.0fs %8d %8d %7.1f%% %7.0fs %7.1f%% %8d%s\n",
                          q.queue(), q.waiting(), q.longest_wait_seconds(), q.offered(),
                          q.answered(), 100 * q.service_level(), q.asa_seconds(),
                          100 * q.abandon_rate(), q.agents_ready(), q.closed() ? "  CLOSED" : "");
  }
  absl::StrAppendFormat(&out,
                        "\nAGENTS  not ready %d  ready %d  reserved %d  busy %d  wrap-up %d\n",
                        s.agents_not_ready(), s.agents_ready(), s.agents_reserved(),
                        s.agents_busy(), s.agents_wrap_up());
  for (const acd::v1::AgentStatus& a : s.agents()) {
    absl::StrAppendFormat(&out, "  %-20s %-10s %-12s handled %d\n", a.agent_id(),
                          AgentStateName(a.state()), a.reason(), a.handled());
  }
  return out;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Failure(absl::StrCat("cannot read ", path));
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// `rules check FILE`: the same loader acdd uses, without a server.
int CheckRulesFile(const std::string& path, const Options& options) {
  std::vector<acd::rules::RuleProblem> problems;
  absl::StatusOr<acd::rules::LoadedRules> loaded = acd::rules::LoadRulesFile(path, &problems);
  if (options.json) {
    std::cout << absl::StrFormat(R"({"valid":%s,"problems":%d})", loaded.ok() ? "true" : "false",
                                 problems.size())
              << std::endl;
  }
  if (!loaded.ok() && problems.empty()) std::cerr << loaded.status().ToString() << std::endl;
  for (const acd::rules::RuleProblem& p : problems) {
    std::cerr << acd::rules::FormatProblem(path, p) << std::endl;
  }
  if (loaded.ok() && !options.json) {
    std::cout << path << ": valid, version '" << loaded->version << "', "
              << loaded->config.queues.size() << " queues, " << loaded->checksum << std::endl;
  }
  return loaded.ok() ? 0 : 1;
}

// ---- Commands ----

class Client {
 public:
  explicit Client(const Options& options)
      : options_(options),
        channel_(grpc::CreateChannel(options.target, grpc::InsecureChannelCredentials())),
        gateway_(acd::v1::Gateway::NewStub(channel_)),
        desk_(acd::v1::AgentDesk::NewStub(channel_)),
        supervisor_(acd::v1::Supervisor::NewStub(channel_)),
        admin_(acd::v1::Admin::NewStub(channel_)) {}

  void Snapshot() {
    grpc::ClientContext context;
    SetDeadline(&context, options_);
    acd::v1::Snapshot snapshot;
    Check(supervisor_->GetSnapshot(&context, acd::v1::SnapshotRequest(), &snapshot));
    std::cout << (options_.json ? Json(snapshot) + "\n" : Wallboard(snapshot)) << std::flush;
  }

  // Redraws the wallboard from a fresh snapshot when events have arrived, at most 4 times
  // a second, and once a second in a quiet spell, so that waits and the clock move on (a
  // reader thread takes the events; this thread draws); with --json prints every event
  // instead.
  void Watch(uint64_t after) {
    grpc::ClientContext context;
    acd::v1::WatchEventsRequest request;
    request.set_after_sequence(after);
    auto reader = supervisor_->WatchEvents(&context, request);
    acd::v1::EventBatch batch;
    if (options_.json) {
      while (reader->Read(&batch)) {
        for (const acd::v1::Event& event : batch.events()) std::cout << Json(event) << std::endl;
      }
      Check(reader->Finish());
      return;
    }
    std::mutex mu;
    acd::v1::Event last;  // guarded by mu
    bool fresh = false;   // guarded by mu: events arrived since the last draw
    std::atomic<bool> ended{false};
    std::thread events([&] {
      while (reader->Read(&batch)) {
        if (batch.events().empty()) continue;
        std::lock_guard<std::mutex> lock(mu);
        last = *batch.events().rbegin();
        fresh = true;
      }
      ended = true;
    });
    std::optional<std::chrono::steady_clock::time_point> drawn;  // the last draw
    while (!ended.load()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(250));
      acd::v1::Event shown;
      bool news = false;
      const auto now = std::chrono::steady_clock::now();
      const bool quiet_second = drawn.has_value() && now - *drawn >= std::chrono::seconds(1);
      {
        std::lock_guard<std::mutex> lock(mu);
        if (!fresh && !quiet_second) continue;
        news = fresh;
        fresh = false;
        shown = last;
      }
      drawn = now;
      acd::v1::Snapshot snapshot;
      if (news && shown.type() == acd::v1::SNAPSHOT) {
        snapshot = shown.snapshot();
      } else {
        grpc::ClientContext snap_context;
        SetDeadline(&snap_context, options_);
        if (!supervisor_->GetSnapshot(&snap_context, acd::v1::SnapshotRequest(), &snapshot).ok()) {
          continue;
        }
      }
      std::cout << "\033[H\033[2J" << Wallboard(snapshot)
                << absl::StrFormat("\nlast event %d %s %s%s %s\n", shown.sequence(),
                                   acd::v1::EventType_Name(shown.type()), shown.contact_id(),
                                   shown.agent_id().empty() ? "" : " agent " + shown.agent_id(),
                                   shown.queue())
                << std::flush;
    }
    events.join();
    Check(reader->Finish());
  }

  void Enqueue(const acd::v1::EnqueueContactRequest& request) {
    grpc::ClientContext context;
    SetDeadline(&context, options_);
    acd::v1::ContactStatus reply;
    Check(gateway_->EnqueueContact(&context, request, &reply));
    PrintContact(reply, options_);
  }

  void Contact(const std::string& action, const std::string& id, const std::string& reason,
               const std::string& queue, int priority) {
    grpc::ClientContext context;
    acd::v1::ContactStatus reply;
    if (action == "watch") {
      acd::v1::WatchContactRequest request;
      request.set_contact_id(id);
      auto reader = gateway_->WatchContact(&context, request);
      while (reader->Read(&reply)) PrintContact(reply, options_);
      Check(reader->Finish());
      return;
    }
    SetDeadline(&context, options_);
    if (action == "get") {
      acd::v1::GetContactRequest request;
      request.set_contact_id(id);
      Check(gateway_->GetContact(&context, request, &reply));
    } else if (action == "transfer") {
      acd::v1::TransferContactRequest request;
      request.set_contact_id(id);
      request.set_queue(queue);
      Check(gateway_->TransferContact(&context, request, &reply));
    } else if (action == "escalate") {
      acd::v1::EscalateContactRequest request;
      request.set_contact_id(id);
      Check(gateway_->EscalateContact(&context, request, &reply));
    } else if (action == "priority") {
      acd::v1::ChangePriorityRequest request;
      request.set_contact_id(id);
      request.set_priority(priority);
      Check(gateway_->ChangePriority(&context, request, &reply));
    } else if (action == "cancel") {
      acd::v1::CancelContactRequest request;
      request.set_contact_id(id);
      request.set_reason(reason);
      Check(gateway_->CancelContact(&context, request, &reply));
    } else {
      acd::v1::RequestCallbackRequest request;
      request.set_contact_id(id);
      Check(gateway_->RequestCallback(&context, request, &reply));
    }
    PrintContact(reply, options_);
  }

  void Login(const acd::v1::LoginRequest& request) {
    grpc::ClientContext context;
    SetDeadline(&context, options_);
    acd::v1::AgentStatus reply;
    Check(desk_->Login(&context, request, &reply));
    PrintAgent(reply, options_);
  }

  void Agent(const std::string& action, const std::string& id, const std::string& contact,
             const std::string& reason) {
    grpc::ClientContext context;
    acd::v1::AgentStatus reply;
    acd::v1::AgentRequest agent;
    agent.set_agent_id(id);
    if (action == "watch") {
      auto reader = desk_->WatchOffers(&context, agent);
      acd::v1::AgentUpdate update;
      while (reader->Read(&update)) {
        if (options_.json) {
          std::cout << Json(update) << std::endl;
        } else if (update.has_offer()) {
          const acd::v1::Offer& o = update.offer();
          std::cout << absl::StrFormat("OFFER %s  queue %s  %s  waited %.0fs  expires in %.0fs",
                                       o.contact_id(), o.queue(), ChannelName(o.channel()),
                                       o.waited_seconds(), o.expires_in_seconds());
          for (const auto& [k, v] : o.attributes()) std::cout << "  " << k << "=" << v;
          std::cout << std::endl;
        } else if (update.has_offer_withdrawn()) {
          std::cout << "WITHDRAWN " << update.offer_withdrawn().contact_id() << " ("
                    << update.offer_withdrawn().reason() << ")" << std::endl;
        } else {
          PrintAgent(update.status(), options_);
        }
      }
      Check(reader->Finish());
      return;
    }
    SetDeadline(&context, options_);
    acd::v1::OfferRequest offer;
    offer.set_agent_id(id);
    offer.set_contact_id(contact);
    acd::v1::SetStateRequest state;
    state.set_agent_id(id);
    state.set_reason(reason);
    if (action == "ready") {
      state.set_state(acd::v1::READY);
      Check(desk_->SetState(&context, state, &reply));
    } else if (action == "not-ready") {
      state.set_state(acd::v1::NOT_READY);
      Check(desk_->SetState(&context, state, &reply));
    } else if (action == "logout") {
      Check(desk_->Logout(&context, agent, &reply));
    } else if (action == "end-wrap-up") {
      Check(desk_->EndWrapUp(&context, agent, &reply));
    } else if (action == "accept") {
      Check(desk_->AcceptOffer(&context, offer, &reply));
    } else if (action == "reject") {
      Check(desk_->RejectOffer(&context, offer, &reply));
    } else {
      Check(desk_->CompleteContact(&context, offer, &reply));
    }
    PrintAgent(reply, options_);
  }

  void Rules() {
    grpc::ClientContext context;
    SetDeadline(&context, options_);
    acd::v1::GetRulesResponse reply;
    Check(admin_->GetRules(&context, acd::v1::GetRulesRequest(), &reply));
    if (options_.json) {
      std::cout << Json(reply) << std::endl;
      return;
    }
    std::cout << "rules: " << reply.source();
    if (!reply.version().empty()) std::cout << "  version '" << reply.version() << "'";
    if (!reply.checksum().empty()) std::cout << "  " << reply.checksum();
    std::cout << "\n";
    for (const acd::v1::QueueSummary& q : reply.queues()) {
      std::cout << absl::StrFormat("queue %-20s strategy %-16s SL %.0f%% in %.0fs  wrap-up %.0fs\n",
                                   q.name(), q.strategy(), 100 * q.service_level_target(),
                                   q.service_level_threshold_seconds(), q.wrap_up_seconds());
    }
    std::cout << std::flush;
  }

  // Admin.ValidateRules (`apply` false) or Admin.ApplyRules with the file's text.
  int SendRules(const std::string& path, bool apply) {
    const std::string text = ReadFile(path);
    grpc::ClientContext context;
    SetDeadline(&context, options_);
    if (!apply) {
      acd::v1::ValidateRulesRequest request;
      request.set_rules_textproto(text);
      acd::v1::ValidateRulesResponse reply;
      Check(admin_->ValidateRules(&context, request, &reply));
      if (options_.json) {
        std::cout << Json(reply) << std::endl;
      } else {
        for (const acd::v1::RuleProblem& p : reply.problems()) {
          std::cout << path << ":" << p.line() << ":" << p.column() << ": " << p.message() << "\n";
        }
        if (reply.valid()) std::cout << path << ": valid (" << reply.checksum() << ")\n";
        std::cout << std::flush;
      }
      return reply.valid() ? 0 : 1;
    }
    acd::v1::ApplyRulesRequest request;
    request.set_rules_textproto(text);
    acd::v1::ApplyRulesResponse reply;
    Check(admin_->ApplyRules(&context, request, &reply));
    std::cout << (options_.json ? Json(reply)
                                : absl::StrCat(path, ": in force from event ", reply.sequence()))
              << std::endl;
    return 0;
  }

  // grpc.health.v1.Health/Check with an empty request; the reply's field 1 is the status.
  int Health() {
    grpc::GenericStub stub(channel_);
    grpc::ClientContext context;
    SetDeadline(&context, options_);
    grpc::ByteBuffer request;
    grpc::Slice empty;
    request = grpc::ByteBuffer(&empty, 1);
    grpc::ByteBuffer response;
    std::promise<grpc::Status> done;
    stub.UnaryCall(&context, "/grpc.health.v1.Health/Check", grpc::StubOptions(), &request,
                   &response, [&done](grpc::Status s) { done.set_value(std::move(s)); });
    grpc::Status status = done.get_future().get();
    Check(status);
    std::vector<grpc::Slice> slices;
    (void)response.Dump(&slices);
    std::string bytes;
    for (const grpc::Slice& s : slices)
      bytes.append(reinterpret_cast<const char*>(s.begin()), s.size());
    const int serving = (bytes.size() == 2 && bytes[0] == 0x08) ? bytes[1] : 0;
    static const char* kNames[] = {"UNKNOWN", "SERVING", "NOT_SERVING", "SERVICE_UNKNOWN"};
    const char* name = serving >= 0 && serving <= 3 ? kNames[serving] : "UNKNOWN";
    std::cout << (options_.json ? absl::StrCat("{\"status\":\"", name, "\"}") : name) << std::endl;
    return serving == 1 ? 0 : 1;
  }

 private:
  const Options& options_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<acd::v1::Gateway::Stub> gateway_;
  std::unique_ptr<acd::v1::AgentDesk::Stub> desk_;
  std::unique_ptr<acd::v1::Supervisor::Stub> supervisor_;
  std::unique_ptr<acd::v1::Admin::Stub> admin_;
};

}  // namespace

int main(int argc, char** argv) {
  Options options;
  CLI::App app{"acdctl: talk to the ACD engine (acdd) from a terminal"};
  app.require_subcommand(1);
  app.add_option("--target", options.target, "acdd address HOST:PORT")->capture_default_str();
  app.add_flag("--json", options.json, "print API messages as JSON");
  app.add_option("--timeout", options.timeout_seconds, "deadline for each call, in seconds")
      ->capture_default_str();

  app.add_subcommand("snapshot", "every queue's statistics and every agent's state");
  uint64_t after = 0;
  CLI::App* watch = app.add_subcommand("watch", "live wallboard from WatchEvents");
  watch->add_option("--after", after, "resume after this event sequence (0: snapshot first)");

  acd::v1::EnqueueContactRequest enqueue_request;
  std::string enqueue_id, enqueue_queue = "general", enqueue_channel = "voice";
  std::string language, preferred;
  int priority = 0;
  std::vector<std::string> requirements, attributes;
  CLI::App* enqueue = app.add_subcommand("enqueue", "put a contact in a queue");
  enqueue->add_option("contact_id", enqueue_id, "the contact's id")->required();
  enqueue->add_option("--queue", enqueue_queue)->capture_default_str();
  enqueue->add_option("--channel", enqueue_channel, "voice, chat, email, callback")
      ->capture_default_str();
  CLI::Option* priority_option = enqueue->add_option("--priority", priority);
  enqueue->add_option("--skill", requirements, "requirement SKILL:MIN_LEVEL (repeatable)");
  enqueue->add_option("--language", language);
  enqueue->add_option("--preferred-agent", preferred);
  enqueue->add_option("--attr", attributes, "attribute KEY=VALUE (repeatable)");

  std::string contact_action, contact_id, cancel_reason = "CALLER_HANGUP", target_queue;
  int new_priority = 0;
  CLI::App* contact = app.add_subcommand(
      "contact", "get, cancel, callback, watch, transfer, escalate or reprioritise a contact");
  contact->add_option("action", contact_action)
      ->required()
      ->check(CLI::IsMember(
          {"get", "cancel", "callback", "watch", "transfer", "escalate", "priority"}));
  contact->add_option("contact_id", contact_id)->required();
  contact->add_option("--reason", cancel_reason, "cancel reason")->capture_default_str();
  contact->add_option("--queue", target_queue, "transfer: the queue to move to");
  contact->add_option("--priority", new_priority, "priority: the new priority (0..100)");

  std::string agent_action, agent_id, offer_contact, reason;
  std::vector<std::string> skills, capacities;
  CLI::App* agent = app.add_subcommand("agent", "agent desk commands");
  agent->add_option("action", agent_action)
      ->required()
      ->check(CLI::IsMember({"login", "ready", "not-ready", "logout", "end-wrap-up", "accept",
                             "reject", "complete", "watch"}));
  agent->add_option("agent_id", agent_id)->required();
  agent->add_option("contact_id", offer_contact, "for accept, reject, complete");
  agent->add_option("--skill", skills, "login: SKILL:LEVEL (repeatable)");
  agent->add_option("--capacity", capacities, "login: CHANNEL:MAX (repeatable)");
  agent->add_option("--reason", reason, "not-ready reason code (BREAK, LUNCH, ...)");

  std::string rules_action = "show", rules_file;
  CLI::App* rules = app.add_subcommand(
      "rules",
      "show: the rules in force; check FILE: validate locally (no server); validate FILE: "
      "validate on the server; apply FILE: put FILE in force");
  rules->add_option("action", rules_action)
      ->check(CLI::IsMember({"show", "check", "validate", "apply"}))
      ->capture_default_str();
  rules->add_option("file", rules_file, "rules file (textproto of acd.v1.RoutingRules)");
  app.add_subcommand("health", "grpc.health.v1 check; exit 0 when SERVING");
  CLI11_PARSE(app, argc, argv);

  try {
    Client client(options);
    if (app.got_subcommand("snapshot")) client.Snapshot();
    if (app.got_subcommand("watch")) client.Watch(after);
    if (app.got_subcommand("enqueue")) {
      enqueue_request.set_contact_id(enqueue_id);
      enqueue_request.set_queue(enqueue_queue);
      enqueue_request.set_channel(ParseChannelName(enqueue_channel));
      if (priority_option->count() > 0) {
        enqueue_request.set_priority(priority);
      }
      for (const std::string& r : requirements) {
        auto [skill, level] = ParsePair(r, "--skill");
        acd::v1::SkillRequirement* req = enqueue_request.add_requirements();
        req->set_skill(skill);
        req->set_min_level(level);
      }
      enqueue_request.set_language(language);
      enqueue_request.set_preferred_agent_id(preferred);
      for (const std::string& a : attributes) {
        std::vector<std::string> kv = absl::StrSplit(a, absl::MaxSplits('=', 1));
        if (kv.size() != 2) throw Failure(absl::StrCat("--attr '", a, "' is not KEY=VALUE"));
        (*enqueue_request.mutable_attributes())[kv[0]] = kv[1];
      }
      client.Enqueue(enqueue_request);
    }
    if (app.got_subcommand("contact"))
      client.Contact(contact_action, contact_id, cancel_reason, target_queue, new_priority);
    if (app.got_subcommand("agent")) {
      if (agent_action == "login") {
        acd::v1::LoginRequest login;
        login.set_agent_id(agent_id);
        for (const std::string& s : skills) {
          auto [skill, level] = ParsePair(s, "--skill");
          acd::v1::AgentSkill* out = login.add_skills();
          out->set_skill(skill);
          out->set_level(level);
        }
        for (const std::string& c : capacities) {
          auto [channel, max] = ParsePair(c, "--capacity");
          acd::v1::ChannelCapacity* out = login.add_capacities();
          out->set_channel(ParseChannelName(channel));
          out->set_max(max);
        }
        client.Login(login);
      } else {
        const bool needs_contact =
            agent_action == "accept" || agent_action == "reject" || agent_action == "complete";
        if (needs_contact && offer_contact.empty()) {
          throw Failure(absl::StrCat("agent ", agent_action, " needs AGENT_ID CONTACT_ID"));
        }
        client.Agent(agent_action, agent_id, offer_contact, reason);
      }
    }
    if (app.got_subcommand("rules")) {
      if (rules_action == "show") {
        client.Rules();
      } else if (rules_file.empty()) {
        throw Failure(absl::StrCat("rules ", rules_action, " needs a FILE"));
      } else if (rules_action == "check") {
        return CheckRulesFile(rules_file, options);
      } else {
        return client.SendRules(rules_file, rules_action == "apply");
      }
    }
    if (app.got_subcommand("health")) return client.Health();
  } catch (const Failure& failure) {
    std::cerr << "acdctl: " << failure.what() << std::endl;
    return 1;
  }
  return 0;
}
